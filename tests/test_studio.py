"""The browser studio's handlers (issue 27), called as the page calls them: take cards everywhere, what a card's click
does, Stop and keep, errors in the app's words, true status and defaults that fit the take."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine.resident import EngineCache  # noqa: E402
from workbench.render.reproduce import reproduce  # noqa: E402
from workbench.ui.app import build_ui  # noqa: E402

# model, folder, duration, guidance, temperature, top-k, top-p, loudness
SAMPLING = ("tiny", "", 1.0, 3.0, 1.0, 250, 1.0, "off")
FILE = """
[library]
name = "studio"
seeds = [2]
[library.defaults]
duration_s = 1.0

[[prompt]]
id = "calm"
text = "calm ambient pads, 60 BPM"
"""


def noop(*_args: Any, **_kwargs: Any) -> None:
    return None


@pytest.fixture(scope="module")
def demo(tiny, tiny_melody, tmp_path_factory):
    from workbench.engine.load import load_engine

    engines = {"tiny": tiny, "tiny-melody": tiny_melody}
    folder = tmp_path_factory.mktemp("studio")
    (folder / "prompts").mkdir()
    (folder / "prompts" / "studio.toml").write_text(FILE)
    return build_ui(model="tiny", out=folder / "out", prompts=folder / "prompts", preview_streaming=False,
                    cache=EngineCache(loader=lambda name, **kw: engines.get(name) or load_engine(name, **kw)),
                    stems_model="demucs_unittest")


def generate(demo, text: str, seed: str = "7", *, duration: float = 1.0, model: str = "tiny",
             stops: dict | None = None, **options: Any) -> list[tuple]:
    sampling = (model, "", duration, *SAMPLING[3:])
    return list(demo.handlers.generate(text, seed, options.pop("mode", "none"), options.pop("melody", None), None,
                                       None, options.pop("cont", None), options.pop("prompt_seconds", None), True,
                                       *sampling, {} if stops is None else stops, progress=noop, **options))


def act(demo, take: int, action: str, value: str = "", model: str = "tiny", shown: list | None = None) -> list:
    event = gr.EventData(None, {"take": str(take), "action": action, "value": value,
                                "shown": [str(t) for t in (shown or [take])], "sheet": ""})
    return list(demo.handlers.act(model, "", {}, event, progress=noop))


def card_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<article class="wb-card" data-take="(\d+)"', html)]


def test_a_new_run_clears_the_last_and_its_take_is_a_card(demo, tiny):
    outputs = generate(demo, "studio card, 80 BPM")
    first, last = outputs[0], outputs[-1]
    assert first[0] is None and "Rendering…" in first[1] and first[2] == "" and first[4] is None  # nothing old stays
    preview, card, note, seed, files, facts, keep_box, stopped = last
    assert card_ids(card) == [facts["take_id"]] and seed == "7" and stopped is None
    out = demo.workbench.out.resolve()
    sources = re.findall(r'<audio controls preload="metadata" src="/gradio_api/file=([^"]+)"', card)
    assert [Path(s) for s in sources] == [out / facts["audio"]]  # the player plays the take itself
    assert f'data-act="rate" data-take="{facts["take_id"]}"' in card and "take #" in note
    expected = tiny.generate("studio card, 80 BPM", GenerationParams(duration_s=1.0), [7])[0].codes_sha256
    assert facts["codes_sha256"] == expected


def test_stars_and_heart_are_saved_on_click_and_every_deck_redraws_what_it_showed(demo):
    a = generate(demo, "studio rating a", "1")[-1][5]["take_id"]
    b = generate(demo, "studio rating b", "2")[-1][5]["take_id"]
    card, note, *_targets = act(demo, b, "rate", "4", shown=[a, b])[-1]
    assert card_ids(card) == [a, b] and demo.workbench.history.get(b)["rating"] == 4 and "★★★★" in note
    act(demo, b, "favorite")
    assert demo.workbench.history.get(b)["favorite"] is True
    act(demo, b, "rate", "4")  # the same star again clears it
    row = demo.workbench.history.get(b)
    assert row["rating"] is None and row["favorite"] is True
    sidecar = json.loads((demo.workbench.out / row["sidecar"]).read_text())
    assert sidecar["user"]["favorite"] is True  # the same everywhere: the sidecar holds it


def test_use_as_melody_switches_to_a_melody_model_and_extend_fits_a_short_take(demo):
    facts = generate(demo, "studio hand-off", "3")[-1][5]
    take = facts["take_id"]
    _card, note, prompt, _seed, mode, melody, _cont, _secs, _box, model, tabs, *_rest = act(demo, take, "melody")[-1]
    assert model == "tiny-melody" and "the model is now tiny-melody" in note and prompt == "studio hand-off"
    assert mode.value == "melody" and "melody" in [value for _label, value in mode.choices]  # a choice it now has
    assert Path(melody) == demo.workbench.out / facts["audio"] and tabs.selected == "create"
    *_, cont, seconds, _box, model, tabs, _take, _deck, _retake, _repaint, nav = act(demo, take, "extend")[-1]
    assert nav == "create"  # the phone's section selector follows the tab
    assert seconds == 1.0 and Path(cont).name.endswith(".codes.npz")  # no longer than the 1 s take
    # and Create renders with those defaults
    last = generate(demo, "studio hand-off, extended", "4", mode="continuation", cont=cont, prompt_seconds=seconds)
    record = json.loads((demo.workbench.out / last[-1][5]["sidecar"]).read_text())
    assert record["draft"]["continuation"]["prompt_seconds"] == 1.0


def test_make_loop_takes_the_prompt_s_tempo_and_as_many_bars_as_fit(demo):
    take = generate(demo, "studio loop, 240 BPM", "5", duration=3.0)[-1][5]["take_id"]
    _card, note, *_ = act(demo, take, "loop")[-1]
    assert "at 240.00 BPM (the tempo the prompt states)" in note and "<audio" in note
    bars = int(re.search(r"(\d+)-bar loop", note).group(1))
    assert bars in (1, 2) and bars * 4 * 60 / 240 + 0.1 <= 3.0


def test_stems_and_actions_a_take_cannot_use_are_disabled_with_why(demo):
    take = generate(demo, "studio stems", "6")[-1][5]["take_id"]
    _card, note, *_ = act(demo, take, "stems")[-1]
    assert note.count("<audio") == 4 and "demucs_unittest" in note
    card = demo.handlers.browse_history("studio stems")[1]
    assert re.search(r'data-act="analyze"[^>]*disabled title="measured when it was written', card)
    with pytest.raises(gr.Error, match="Tempo & key: measured when it was written"):
        act(demo, take, "analyze")


def test_stop_keeps_what_was_rendered_as_a_take_that_reproduces(demo, tiny):
    stops: dict[str, int] = {}
    outputs = []
    for update in demo.handlers.generate("studio stop and keep", "8", "none", None, None, None, None, None, True,
                                         "tiny", "", 4.0, *SAMPLING[3:], stops, progress=noop):
        outputs.append(update)
        if isinstance(update[0], tuple) and not stops:  # the first preview arrived: something was heard
            stops["generate"] = 1  # what the Stop button does
    *_, keep_box, stopped = outputs[-1]
    assert keep_box.visible is True and stopped is not None and "Stopped at" in outputs[-1][2]
    card, note, seed, files, facts, keep_box, stopped = demo.handlers.keep(stopped)
    assert 0 < facts["duration_s"] < 4.0 and "kept from a stop at" in note and card_ids(card) == [facts["take_id"]]
    report = reproduce(demo.workbench.out / facts["sidecar"], engine=tiny)
    assert report.identical, report.message


def test_errors_speak_the_app_s_words_with_no_flags_or_temp_paths(demo, tmp_path):
    upload = tmp_path / "gradio" / ("0a" * 20) / "fake.wav"
    upload.parent.mkdir(parents=True)
    upload.write_text("not audio")
    said = []
    for options in ({"mode": "continuation", "cont": str(upload)},
                    {"mode": "continuation", "cont": str(upload), "prompt_seconds": -1.0},
                    {"model": "no-such-model"}):
        with pytest.raises(gr.Error) as error:
            generate(demo, "studio errors", **options)
        said.append(error.value.message)
    assert "fake.wav" in said[0] and "“Prompt seconds”" in said[1] and "“tiny”" in said[2], said
    assert not any(re.search(r"--[a-z]|/gradio/[0-9a-f]{16,}", message) for message in said), said


def test_batch_renders_the_upload_instead_of_the_chosen_file(demo, tmp_path):
    mini = tmp_path / "mini.toml"
    mini.write_text('[library]\nname = "mini"\nseeds = [3]\n[library.defaults]\nduration_s = 1.0\n'
                    '[[prompt]]\nid = "one"\ntext = "studio batch, one entry"\n')
    *_, (table, summary, names, cards) = demo.handlers.batch("studio.toml", str(mini), "", "mini", 4, "", "tiny", "",
                                                              "off", {}, progress=noop)
    assert [row[1:] for row in table] == [["mini/one", 3, "done", "mini/one/s3.wav"]]  # exactly its jobs
    assert names == "mini" and len(card_ids(cards)) == 1


def test_library_renders_give_cards_and_its_errors_are_one_line(demo):
    *_, (rows, summary) = demo.handlers.library_render(["studio.toml"], None, ["studio/calm"], "", "", "tiny", "",
                                                       "off", {}, progress=noop)
    assert [row[:3] for row in rows] == [["studio/calm", 2, "done"]]
    with pytest.raises(gr.Error, match="seed"):  # a library error, refused in one line (not a raw exception)
        list(demo.handlers.library_render(["studio.toml"], None, ["studio/calm"], "1-x", "", "tiny", "", "off", {},
                                          progress=noop))


def test_true_status_and_blank_boxes(demo, tiny):
    demo.workbench.cache.get("tiny")
    assert demo.handlers.model_status() == "Model in memory: **tiny** (cpu, float32)"
    with pytest.raises(gr.Error, match="“Duration \\(s\\)” must be in"):  # refused, never silently changed
        generate(demo, "studio zero", duration=0.0)
    from workbench.ui.settings import family_defaults

    *sliders, family = family_defaults("tiny-magnet", "", "musicgen")
    assert sliders == [10.0, 3.0, 0, 0.9] and family == "magnet"  # MAGNeT's own sampling, as in the CLI
    assert all(value is gr.skip() or value == gr.skip() for value in family_defaults("tiny", "", "musicgen")[:4])


def test_the_settings_summary_is_in_the_page_as_it_opens(demo):
    """The page opens with the summary of the starting settings (no load event writes it: one could land after a
    change and show stale settings), numbers as a musician types them; a change is summed up the same way."""
    from workbench.ui.settings import summary

    shown = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "gen-summary")
    assert shown.value == "⚙ **tiny** · 8 s · guidance 3 · temperature 1 · top-k 250 · top-p 1 · peak-safe"
    assert summary("tiny", "", 1.5, 3.0, 0.95, 0, 0.9, "-14") == ("⚙ **tiny** · 1.5 s · guidance 3 · temperature "
                                                                  "0.95 · top-k 0 · top-p 0.9 · -14 LUFS")
    assert "· – s ·" in summary("tiny", "", None, 3.0, 1.0, 250, 1.0, "off")  # blank: shown blank


def test_fill_from_the_library_says_what_it_changed(demo, monkeypatch):
    told = []
    monkeypatch.setattr(gr, "Info", told.append)
    prompt, duration, *_rest, seed = demo.handlers.fill_from("studio/calm", 8.0, 3.0, 1.0, 250, 1.0)
    assert (prompt, duration, seed) == ("calm ambient pads, 60 BPM", 1.0, "2")
    assert told == ["studio/calm: prompt, seed 2; settings changed: duration 8 → 1"]


def test_stems_of_every_take_sum_back_to_it(demo):
    take = generate(demo, "studio sums", "9")[-1][5]
    folder = (demo.workbench.out / take["audio"]).parent
    stems = sorted(folder.glob(Path(take["audio"]).stem + ".stem-*.wav"))
    assert not stems  # none until asked
    act(demo, take["take_id"], "stems")
    import soundfile as sf

    parts = [sf.read(path, dtype="float32")[0] for path in sorted(folder.glob(Path(take["audio"]).stem +
                                                                                 ".stem-*.wav"))]
    mix = sf.read(demo.workbench.out / take["audio"], dtype="float32")[0]
    assert len(parts) == 4 and np.max(np.abs(np.sum(parts, axis=0) - mix)) < 1e-4
