"""One take, one card: the same player, spectrogram, facts, rating, ♥ and actions wherever a take appears (Create,
Compare, Library, Batch, History, retakes).

:class:`TakeCards` is a ``gr.HTML`` that shows a list of takes as cards; a click on a card's control fires its
``act`` event with ``{take, action, value}`` (see :mod:`workbench.ui.actions`, which does what was asked). The cards
are built from the history (the one index of every take) and the take's sidecar, and they offer only the actions
:mod:`workbench.render.followups` says can work on that take.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import gradio as gr

from workbench.core.errors import WorkbenchError
from workbench.render.followups import ACTIONS, unavailable
from workbench.store.contact import take_spectrogram
from workbench.store.measured import versus
from workbench.store.sidecar import read_sidecar
from workbench.ui.context import App, fmt

#: What each card action is called on its button, and what it does (the button's tooltip).
ACTION_LABELS = {
    "seed": ("Reuse seed", "Put this prompt and seed in Create"),
    "melody": ("Use as melody", "Follow this take's melody in Create (switches to a melody model if needed)"),
    "extend": ("Extend", "Continue this take in Create, from its last seconds"),
    "retake": ("Retake from…", "Keep its start and render the rest anew (History)"),
    "repaint": ("Repaint…", "Render a window of it anew, keeping every code around it (History)"),
    "loop": ("Make loop", "Cut a seamless loop at the prompt's tempo (else the measured one)"),
    "stems": ("Stems", "Split it into drums, bass, other and vocals (Demucs), beside the take"),
    "analyze": ("Tempo & key", "Measure its tempo and key"),
    "reproduce": ("Reproduce", "Render it again from its sidecar and compare the codes"),
}

#: Delegated clicks: any element with ``data-act`` inside a card fires ``act``, with the takes the deck shows and its
#: contact sheet (so that the deck can be drawn again as it was).
CARD_JS = """
element.addEventListener('click', (event) => {
  const control = event.target.closest('[data-act]');
  if (!control || !element.contains(control) || control.disabled) return;
  event.preventDefault();
  const shown = [...element.querySelectorAll('.wb-card')].map((card) => card.dataset.take);
  const sheet = element.querySelector('[data-sheet]');
  trigger('act', {take: control.dataset.take, action: control.dataset.act, value: control.dataset.value || '',
                  shown: shown, sheet: sheet ? sheet.dataset.sheet : ''});
});
"""

CARD_CSS = """
.wb-cards {display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 12px}
.wb-card {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
          background: var(--block-background-fill); display: flex; flex-direction: column; gap: 6px; min-width: 0}
.wb-card header {display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px}
.wb-card header b {font-size: 1.05rem}
.wb-card .muted {opacity: .7; font-size: .85rem}
.wb-card audio {width: 100%; height: 40px}
.wb-card img {width: 100%; height: 72px; object-fit: fill; border-radius: 6px; display: block}
.wb-card .prompt {font-size: .9rem; margin: 0; overflow: hidden; text-overflow: ellipsis; display: -webkit-box;
                  -webkit-line-clamp: 2; -webkit-box-orient: vertical}
.wb-card .facts {font-size: .85rem; margin: 0}
.wb-card .facts.off {color: #d9480f}
.wb-card .marks {display: flex; align-items: center; gap: 2px; margin-left: auto}
.wb-card .marks button {background: none; border: none; cursor: pointer; font-size: 1.15rem; padding: 0 2px;
                        color: var(--body-text-color-subdued); line-height: 1}
.wb-card .marks button.on {color: #f5a623}
.wb-card .marks button.heart.on {color: #e0245e}
.wb-card nav {display: flex; flex-wrap: wrap; gap: 6px}
.wb-card nav button {border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 3px 8px;
                     background: var(--button-secondary-background-fill); cursor: pointer; font-size: .82rem}
.wb-card nav button:disabled {opacity: .45; cursor: not-allowed}
.wb-card .files {font-size: .8rem}
.wb-card .files a {margin-right: 10px}
.wb-empty {opacity: .7; font-size: .95rem; padding: 8px 0}
"""


def file_url(path: str | Path) -> str:
    """The URL the app serves a file under the output folder at (``launch_options`` allows that folder)."""
    return "/gradio_api/file=" + html.escape(str(Path(path).resolve()), quote=True)


def card_facts(app: App, take: int | str) -> dict[str, Any]:
    """What a card shows of a take (by history id or path): its history row, sidecar facts and file paths."""
    row = app.history.get(take)
    sidecar = app.out / row["sidecar"]
    record = read_sidecar(sidecar)
    audio = sidecar.parent / record["audio"]["file"]
    extra = record.get("extra") or {}
    measured = versus(record)
    said = any(value is not None for value in (measured.asked_bpm, measured.asked_key, measured.bpm, measured.key))
    return {**row, "sidecar_path": sidecar, "audio_path": audio, "codes_path": sidecar.parent / record["codes"]["file"],
            "image_path": take_spectrogram(sidecar, record), "loudness_lufs": record["audio"].get("loudness_lufs"),
            "peak_dbfs": record["audio"].get("peak_dbfs"), "adherence": extra.get("melody_adherence"),
            "decoder": (extra.get("decoder") or {}).get("source"), "measured": measured.text() if said else "",
            "flagged": measured.flagged, "unavailable": unavailable(record, stems_model=app.stems_model)}


def _card(facts: dict[str, Any], label: str | None) -> str:
    take = facts["id"]
    esc = html.escape

    def control(action: str, text: str, title: str, value: str = "", classes: str = "", disabled: str = "") -> str:
        off = f" disabled title=\"{esc(disabled)}\"" if disabled else f" title=\"{esc(title)}\""
        return (f'<button type="button" class="{classes}" data-act="{action}" data-take="{take}" '
                f'data-value="{esc(value)}"{off}>{esc(text)}</button>')

    rating = facts["rating"] or 0
    stars = "".join(control("rate", "★", f"rate {n} star{'s' * (n > 1)}", str(n), "on" if n <= rating else "")
                    for n in range(1, 6))
    heart = control("favorite", "♥", "favourite (click again to unmark)", "", "heart on" if facts["favorite"] else
                    "heart")
    why = facts["unavailable"]
    actions = "".join(control(action, ACTION_LABELS[action][0], ACTION_LABELS[action][1], disabled=why.get(action, ""))
                      for action in ACTIONS)
    details = [f"{facts['duration_s']:.2f} s", f"{fmt(facts['loudness_lufs'])} LUFS",
               f"peak {fmt(facts['peak_dbfs'])} dBFS", esc(facts["model"])]
    if facts.get("adherence") is not None:
        details.append(f"melody adherence {facts['adherence']:.3f}")
    if facts.get("decoder"):
        details.append(f"decoded by MBD ({esc(facts['decoder'])})")
    tempo_key = (f'<p class="facts{" off" if facts["flagged"] else ""}">{esc(facts["measured"])}</p>'
                 if facts["measured"] else "")
    heading = esc(label) if label else f"seed {facts['seed']}"
    files = " ".join(f'<a href="{file_url(facts[key])}" download>{name}</a>'
                     for key, name in (("audio_path", "audio"), ("sidecar_path", "sidecar"), ("codes_path", "codes")))
    return (f'<article class="wb-card" data-take="{take}" aria-label="take {take}">'
            f'<header><b>{heading}</b><span class="muted">take #{take}</span>'
            f'<span class="marks" aria-label="rating">{stars}{heart}</span></header>'
            f'<audio controls preload="metadata" src="{file_url(facts["audio_path"])}"></audio>'
            f'<img src="{file_url(facts["image_path"])}" alt="spectrogram of take {take}" loading="lazy">'
            f'<p class="prompt" title="{esc(facts["prompt"])}">{esc(facts["prompt"])}</p>'
            f'<p class="facts">{" · ".join(details)}</p>{tempo_key}'
            f'<nav aria-label="actions on take {take}">{actions}</nav>'
            f'<div class="files">download: {files}</div></article>')


def cards_html(app: App, takes: list[Any], *, empty: str = "No take yet.", labels: dict[Any, str] | None = None,
               sheet: str | Path | None = None) -> str:
    """The cards of ``takes`` (history ids or paths), as ordered; ``empty`` when there are none; ``labels`` replace a
    card's heading (``seed N``) by take; ``sheet``: a contact sheet to link above them."""
    header = contact_link(app, sheet) if sheet else ""
    cards = []
    for take in takes:
        try:
            facts = card_facts(app, take)
        except WorkbenchError:
            continue  # deleted or moved since it was listed: it has no card any more
        cards.append(_card(facts, (labels or {}).get(take)))
    if not cards:
        return f'{header}<p class="wb-empty">{html.escape(empty)}</p>'
    return f'{header}<div class="wb-cards">{"".join(cards)}</div>'


def contact_link(app: App, sheet: str | Path) -> str:
    """A link that opens a contact sheet of the output folder in a new tab (relative paths: to the output folder;
    anything outside it is not linked)."""
    path = Path(sheet) if Path(sheet).is_absolute() else app.out / sheet
    if not path.is_file() or not path.resolve().is_relative_to(app.out.resolve()):
        return ""
    rel = html.escape(app.rel(path), quote=True)
    return (f'<p class="files" data-sheet="{rel}"><a href="{file_url(path)}" target="_blank" rel="noopener">'
            f'Open the contact sheet</a> <span class="muted">({rel})</span></p>')


class TakeCards:
    """A deck of take cards: ``build`` places it; its ``act`` event reports clicks (see module docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def build(self, *, elem_id: str, empty: str = "No take yet.", label: str = "Takes") -> gr.HTML:
        return gr.HTML(f'<p class="wb-empty">{html.escape(empty)}</p>', label=label, elem_id=elem_id,
                       elem_classes=["wb-deck"], js_on_load=CARD_JS, css_template=CARD_CSS, padding=False)


__all__ = ["ACTION_LABELS", "TakeCards", "card_facts", "cards_html", "contact_link", "file_url"]
