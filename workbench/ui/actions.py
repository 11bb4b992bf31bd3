"""What a click on a take card does (see :mod:`workbench.ui.card`): rate, ♥, reuse the seed, use as melody, extend,
retake, loop, reproduce — the same handler for every deck of cards, so a take acts the same wherever it appears.

Each deck's ``act`` event gives :meth:`CardActions.act` the takes it shows; the handler answers with the deck redrawn,
a note under it, and the changes a hand-off makes elsewhere (Create's prompt and draft, the model, History's take
panel, the tab shown). What can be done and with which defaults is :mod:`workbench.render.followups`' to say.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.render.followups import extend_seconds, melody_model_for, unavailable
from workbench.render.loops import write_loop
from workbench.render.reproduce import reproduce
from workbench.render.stems import split_take
from workbench.store.measured import measure_take, versus
from workbench.store.sidecar import read_sidecar
from workbench.ui.card import ACTION_LABELS, cards_html, file_url
from workbench.ui.context import App, Run, go_to, inputs_shown, model_name, relay
from workbench.ui.errors import ui_errors

#: The outputs a hand-off can change, in the order :meth:`CardActions.act` yields them after ``(deck, note)``.
TARGETS = ("prompt", "seed", "draft_mode", "melody", "continue_from", "prompt_seconds", "draft_box", "model", "tabs",
           "history_take", "history_deck", "retake_box", "repaint_box", "nav")


class CardActions:
    """The handler behind every deck's card clicks; ``targets`` holds the components of :data:`TARGETS`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.targets = SimpleNamespace()

    def outputs(self, deck: Any, note: Any) -> list[Any]:
        """The outputs of a deck's ``act`` event: the deck, its note, then :data:`TARGETS`."""
        return [deck, note, *(getattr(self.targets, name) for name in TARGETS)]

    def wire(self, deck: Any, note: Any, settings: SimpleNamespace, stops: Any, concurrency: int) -> None:
        """Connect a deck's card clicks."""
        deck.act(self.act, [settings.model, settings.folder, stops], self.outputs(deck, note),
                 api_visibility="private", concurrency_id="model", concurrency_limit=concurrency)

    @ui_errors
    def act(self, model: str | None, folder: str | None, stops: dict[str, int] | None, evt: gr.EventData,
            progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Do what the card's control asked (``evt``: ``take``, ``action``, ``value``, and the deck's ``shown`` takes
        and contact ``sheet``, to draw it again)."""
        take, action = str(getattr(evt, "take", "") or ""), str(getattr(evt, "action", "") or "")
        value = str(getattr(evt, "value", "") or "")
        shown = [int(t) for t in getattr(evt, "shown", None) or [] if str(t).isdigit()]
        sheet = str(getattr(evt, "sheet", "") or "") or None
        row = self.app.history.get(take)
        record = read_sidecar(self.app.out / row["sidecar"])
        why = unavailable(record, stems_model=self.app.stems_model).get(action)
        if why:
            raise gr.Error(f"{ACTION_LABELS[action][0]}: {why}")
        shown = shown or [row["id"]]
        keep = gr.skip()
        if action in ("rate", "favorite"):
            if action == "rate":
                stars = int(value)
                changed = self.app.history.update_user(row["id"], rating=None if row["rating"] == stars else stars)
            else:
                changed = self.app.history.update_user(row["id"], favorite=not row["favorite"])
            marks = f"{'★' * (changed['rating'] or 0) or 'no rating'}{' · ♥' if changed['favorite'] else ''}"
            yield cards_html(self.app, shown, sheet=sheet), f"take #{row['id']}: {marks} — saved", *self._targets()
        elif action == "seed":
            yield keep, f"take #{row['id']}: its prompt and seed {row['seed']} are in Create", *self._targets(
                prompt=row["prompt"], seed=str(row["seed"]), **go_to("create"))
        elif action == "melody":
            now = model_name(model, folder)
            wanted = melody_model_for(now)
            switched = f"; the model is now {wanted} (it follows a melody)" if wanted != now else ""
            modes, _segments = inputs_shown(wanted, "")
            yield keep, f"take #{row['id']} is Create's melody{switched}", *self._targets(
                prompt=row["prompt"], draft_mode=gr.Radio(choices=modes, value="melody"),
                melody=str(self.app.out / row["audio"]),
                draft_box=gr.Accordion(open=True), model=wanted if wanted != now else gr.skip(),
                **go_to("create"))
        elif action == "extend":
            seconds = extend_seconds(record)
            codes = self.app.out / row["sidecar"]
            modes, _segments = inputs_shown(model, folder)
            if "continuation" not in modes:
                raise gr.Error(f"the model {model_name(model, folder)} cannot continue a take: choose a MusicGen model "
                               "in Settings")
            yield keep, f"take #{row['id']} is Create's draft to continue, from its last {seconds:g} s", \
                *self._targets(prompt=row["prompt"], draft_mode=gr.Radio(choices=modes, value="continuation"),
                               continue_from=str(codes.parent / record["codes"]["file"]), prompt_seconds=seconds,
                               draft_box=gr.Accordion(open=True), **go_to("create"))
        elif action in ("retake", "repaint"):
            what = "where to retake from" if action == "retake" else "the window to repaint"
            yield keep, f"take #{row['id']} is open in History: choose {what}", *self._targets(
                history_take=str(row["id"]), history_deck=cards_html(self.app, [row["id"]]),
                **{f"{action}_box": gr.Accordion(open=True)}, **go_to("history"))
        elif action == "loop":
            path, cut = write_loop(self.app.out / row["sidecar"])
            yield keep, loop_note(self.app, row["id"], path, cut), *self._targets()
        elif action == "stems":
            yield keep, f"take #{row['id']}: splitting it into stems with {html.escape(self.app.stems_model)}…", \
                *self._targets()
            split = split_take(self.app.out / row["sidecar"], model=self.app.stems_model, force=True)
            yield keep, stems_note(self.app, row["id"], split), *self._targets()
        elif action == "analyze":
            _found, written = measure_take(self.app.out / row["sidecar"], self.app.history)
            said = f"take #{row['id']}: {html.escape(versus(written).text())}"
            yield cards_html(self.app, shown, sheet=sheet), said, *self._targets()
        elif action == "reproduce":
            yield from self._reproduce(row, stops, progress)
        else:
            raise gr.Error(f"unknown card action {action!r}")

    def _reproduce(self, row: dict[str, Any], stops: dict[str, int] | None, progress: Any) -> Iterator[tuple[Any, ...]]:
        run = Run.start(stops, "history")
        unchanged = self._targets()

        def work(emit: Any) -> Any:
            return reproduce(self.app.out / row["sidecar"], engine=self.app.cache.peek(), should_stop=run.should_stop,
                             progress=lambda done, total: emit("progress", (done, total)))

        def said(report: Any) -> tuple[Any, ...]:
            head = "✅ identical" if report.identical else "❌ mismatch"
            notes = "".join(f"<br>· {html.escape(w)}" for w in report.warnings)
            return gr.skip(), f"take #{row['id']}: {head} — {html.escape(report.message)}{notes}", *unchanged

        yield gr.skip(), f"take #{row['id']}: rendering it again with {html.escape(row['model'])}…", *unchanged
        yield from relay(work, progress, desc="reproducing", job=run, outputs=2 + len(TARGETS), result=said,
                         stopped=(gr.skip(), f"take #{row['id']}: stopped before the end.", *unchanged))

    @staticmethod
    def _targets(**changes: Any) -> tuple[Any, ...]:
        unknown = set(changes) - set(TARGETS)
        if unknown:
            raise ValueError(f"unknown targets: {sorted(unknown)}")
        return tuple(changes.get(name, gr.skip()) for name in TARGETS)


def loop_note(app: App, take_id: int, path: Any, cut: Any) -> str:
    """What a written loop is, with a player and its file."""
    source = {"given": "as given", "chords": "the chords' tempo", "prompt file": "the prompt file's tempo",
              "prompt": "the tempo the prompt states", "measured": "measured when it was written",
              "estimated": "estimated from the audio"}.get(cut.bpm_source, cut.bpm_source)
    return (f"take #{take_id}: <b>{cut.bars}-bar loop</b>, {cut.audio.shape[-1] / cut.sample_rate:.3f} s at "
            f"{cut.bpm:.2f} BPM ({source}) from {cut.start_s:.3f} s "
            f'<audio controls src="{file_url(path)}" style="width:100%;height:36px"></audio>'
            f'<a href="{file_url(path)}" download>download the loop</a> ({html.escape(app.rel(path))})')


def stems_note(app: App, take_id: int, split: Any) -> str:
    """The stems written: a player and a link each, and how well they sum back to the take."""
    players = "".join(f'<div><b>{html.escape(name)}</b> <audio controls src="{file_url(path)}" '
                      f'style="width:100%;height:32px"></audio></div>' for name, path in split.paths.items())
    return (f"take #{take_id}: {len(split.paths)} stems by {html.escape(split.model)} beside the take; they sum back "
            f"to it within {split.max_abs_error:.1e} (what the separator's own stems missed, {split.residual_db:.1f} "
            f"dB of the take, is shared among them){players}")


__all__ = ["CardActions", "TARGETS", "loop_note", "stems_note"]
