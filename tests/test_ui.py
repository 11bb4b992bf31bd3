"""Handler-level tests of the browser workbench: handlers called directly with the built-in tiny models."""

from __future__ import annotations

import json
import re
import runpy
import sys
import wave
import weakref
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from workbench.core.errors import ModelNotFoundError  # noqa: E402
from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine.resident import EngineCache  # noqa: E402
from workbench.store.naming import output_subfolder  # noqa: E402
from workbench.ui.app import build_ui, launch_options  # noqa: E402
from workbench.ui.uploads import check_upload, keep_draft  # noqa: E402

# model, folder, duration, guidance, temperature, top-k, top-p, loudness
SAMPLING = ("tiny", "", 1.0, 3.0, 1.0, 250, 1.0, "off")
LIBRARY = """
[library]
name = "demo"
seeds = [1]
[library.defaults]
duration_s = 1.0

[[prompt]]
id = "calm"
text = "calm ambient pads, slow, 60 BPM"
tags = ["calm"]

[[prompt]]
id = "grid"
template = "{mood} synth, {bpm} BPM"
tags = ["matrix"]
[prompt.slots]
mood = ["dark", "bright"]
bpm = [90, 120]
"""


def noop(*_args, **_kwargs):
    return None


@pytest.fixture(scope="module")
def cache(tiny, tiny_melody):
    engines = {"tiny": tiny, "tiny-melody": tiny_melody}
    return EngineCache(loader=lambda name, **_: engines[name])


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prompts")
    (folder / "demo.toml").write_text(LIBRARY, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prompts, cache):
    """The app, built once for the module: its tests keep to their own prompts and count what they add."""
    return build_ui(model="tiny", out=tmp_path_factory.mktemp("ui") / "out", prompts=prompts, cache=cache,
                    preview_streaming=False)


@pytest.fixture(scope="module")
def h(demo):
    return demo.handlers


@pytest.fixture()
def fresh(tmp_path, prompts, cache):
    """An app of its own (an empty history) for a test about the whole history (prune)."""
    return build_ui(model="tiny", out=tmp_path / "out", prompts=prompts, cache=cache, preview_streaming=False)


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def generate(h, text="warm noise, 90 BPM", seed="7", *, mode="none", melody=None, cont=None, duration=1.0,
             model="tiny", stops=None, progress=noop, prompt_seconds=0.5):
    sampling = (model, "", duration, *SAMPLING[3:])
    return list(h.generate(text, seed, mode, melody, 0.0, None, cont, prompt_seconds, True, *sampling,
                           {} if stops is None else stops, progress=progress))


def final(outputs):
    """The last thing a generator handler yields (heartbeats come before it)."""
    return list(outputs)[-1]


def facts_of(outputs):
    """The written take's facts: the sixth of Generate's outputs ``(preview, card, note, seed, files, facts, keep box,
    stopped)`` in its last yield."""
    return outputs[-1][5]


def act(demo, take, action, value="", *, model="tiny", shown=None, sheet=""):
    """A click on a take card's control, as the page sends it."""
    event = gr.EventData(None, {"take": str(take), "action": action, "value": value,
                                "shown": [str(t) for t in (shown or [take])], "sheet": sheet})
    return list(demo.handlers.act(model, "", {}, event, progress=noop))


def card_ids(html):
    return [int(found) for found in re.findall(r'<article class="wb-card" data-take="(\d+)"', html)]


def card_files(html, tag):
    """The files a deck's ``<audio>`` or ``<img>`` elements show, in order."""
    return [Path(found) for found in re.findall(rf'<{tag} [^>]*src="/gradio_api/file=([^"]+)"', html)]


def sine(path: Path, seconds: float = 2.0, rate: int = 32000) -> Path:
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    return path


def test_generate_writes_the_take_and_matches_the_engine(h, demo, tiny):
    outputs = generate(h, seed="7")
    preview, card, note, used_seed, files, facts, keep_box, stopped = outputs[-1]
    out = demo.workbench.out
    [audio], [image] = card_files(card, "audio"), card_files(card, "img")  # the take's card: player, spectrogram
    assert audio.is_file() and audio.resolve().is_relative_to(out.resolve()) and image.is_file()
    assert card_ids(card) == [facts["take_id"]] and used_seed == "7" and "seed 7" in note
    assert keep_box.visible is False and stopped is None  # a finished take: nothing to keep or discard
    assert sorted(Path(f).suffix for f in files) == [".json", ".npz", ".wav"]
    sidecar = json.loads((out / facts["sidecar"]).read_text())
    assert sidecar["seed"] == 7 and sidecar["prompt"]["text"] == "warm noise, 90 BPM"
    expected = tiny.generate("warm noise, 90 BPM", GenerationParams(duration_s=1.0), [7])[0].codes_sha256
    assert facts["codes_sha256"] == sidecar["codes_sha256"] == expected
    assert demo.workbench.history.get(facts["take_id"])["seed"] == 7


def test_generate_previews_audio_before_the_take(h):
    outputs = generate(h, seed="3", duration=2.5)
    assert outputs[0][0] is None  # the last preview cleared first
    previews = [o[0] for o in outputs[1:-1] if isinstance(o[0], tuple)]  # heartbeats leave the player unchanged
    assert len(previews) >= 2  # one every ~2 s of audio, then the rest
    rate, so_far = previews[-1]
    assert rate == 32000 and so_far.dtype == np.int16 and so_far.shape[0] == 80000  # the whole take at the end
    assert previews[0][1].shape[0] < so_far.shape[0]


def test_streaming_preview_yields_wav_chunks(tmp_path, prompts, cache):
    h = build_ui(model="tiny", out=tmp_path / "o", prompts=prompts, cache=cache, preview_streaming=True).handlers
    outputs = generate(h, seed="3", duration=2.5)
    frames = 0
    for chunk in (o[0] for o in outputs[1:-1] if isinstance(o[0], bytes)):  # heartbeats leave it unchanged
        with wave.open(BytesIO(chunk)) as reader:
            assert reader.getframerate() == 32000 and reader.getsampwidth() == 2
            frames += reader.getnframes()
    assert frames == 80000


def test_blank_seed_draws_one_and_shows_it(h, demo):
    *_, (_, _, _, used_seed, _, facts, _, _) = generate(h, seed="")
    assert used_seed.isdigit() and int(used_seed) == facts["seed"]


@pytest.mark.parametrize("text, seed, duration, message", [
    ("", "1", 1.0, "prompt is empty"),
    ("ok", "abc", 1.0, "seed must be"),
    ("ok", "1", 0.0, "“Duration \\(s\\)” must be in \\(0, 300\\] seconds"),  # the field as the page names it
])
def test_bad_input_is_one_gradio_error_line(h, text, seed, duration, message):
    with pytest.raises(gr.Error, match=message):
        generate(h, text, seed, duration=duration)


def test_unknown_model_is_refused_quickly(h):
    with pytest.raises(gr.Error, match="unknown model"):
        generate(h, model="no-such-model")


def test_stop_cancels_and_writes_nothing(h, demo):
    from workbench.ui.context import stop_handler

    stops = {}

    def progress(*_args, **_kwargs):
        stop_handler("generate")(stops)  # the Generate tab's Stop button, pressed during the first step

    before = files_under(demo.workbench.out)
    outputs = generate(h, "stopped tune", seed="5", stops=stops, progress=progress)
    card, note, _seed, _files, _facts, keep_box, stopped = outputs[-1][1:]
    assert "Stopped" in note and card_ids(card) == [] and keep_box.visible is (stopped is not None)
    assert files_under(demo.workbench.out) == before  # a Stop writes nothing until "Keep" is pressed
    card, note, _seed, files, facts, keep_box, stopped = demo.handlers.generate.__self__.discard()
    assert card_ids(card) == [] and note == "Discarded." and (files, facts, stopped) == (None, None, None)
    assert keep_box.visible is False and files_under(demo.workbench.out) == before
    with pytest.raises(gr.Error, match="nothing to keep"):
        h.keep(stopped)


def test_stop_belongs_to_its_tab_and_to_jobs_already_running(h, demo):
    from workbench.ui.context import stop_handler

    stops = {}
    presses = []

    def press_compare_stop(*_args, **_kwargs):  # another tab's Stop, pressed while Generate runs
        if not presses:
            presses.append(stop_handler("compare")(stops))

    before = set((demo.workbench.out / "takes").glob("*.wav"))
    outputs = generate(h, seed="6", stops=stops, progress=press_compare_stop)
    assert facts_of(outputs)["seed"] == 6  # Generate went on: the Stop was Compare's
    stop_handler("generate")(stops)  # pressed before the next job starts: that job is not stopped
    assert facts_of(generate(h, seed="8", stops=stops))["seed"] == 8
    assert len(set((demo.workbench.out / "takes").glob("*.wav")) - before) == 2


def test_reproduce_can_be_stopped(h, demo):
    from workbench.ui.context import stop_handler

    take = str(facts_of(generate(h, seed="9"))["take_id"])
    stops = {}
    stopped = final(h.reproduce(take, stops, progress=lambda *a, **k: stop_handler("history")(stops)))
    assert "stopped" in stopped
    assert "identical" in final(h.reproduce(take, stops, progress=noop))


def test_progress_reaches_the_page_first_at_once_then_at_most_every_fifth_of_a_second_and_at_the_end(monkeypatch):
    # every step's progress kept a busy browser drawing until it lagged the render by tens of seconds, and a Stop
    # pressed there arrived after the take had ended (tests/test_ui_browser.py's stop-and-keep, under load)
    import threading
    from types import SimpleNamespace

    from workbench.ui import context

    clock = [100.0]
    monkeypatch.setattr(context, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    shown = []

    def work(emit):
        for done in range(1, 101):
            clock[0] += 0.01  # the job's clock: 100 steps take 1 s
            emit("progress", (done, 100))
        return "made"

    events = list(context.run_in_background(work, lambda p, **_: shown.append(p), desc="take",
                                            cancel=threading.Event()))
    assert events[-1] == ("result", "made")
    assert shown[0] == (1, 100) and shown[-1] == (100, 100) and shown == sorted(shown)
    assert len(shown) <= 2 + 1.0 / context.PROGRESS_EVERY_S  # the first, one per 0.2 s of the job's second, the last


def test_progress_held_back_goes_out_at_the_next_heartbeat():
    import threading

    from workbench.ui.context import run_in_background

    second = threading.Event()

    def work(emit):
        emit("progress", (1, 10))
        emit("progress", (2, 10))  # within 0.2 s of the first: held back, and no later step comes to send it
        return second.wait(timeout=60)

    def progress(value, **_):
        if value == (2, 10):
            second.set()

    assert list(run_in_background(work, progress, desc="take", cancel=threading.Event()))[-1] == ("result", True)


def test_melody_draft_scores_adherence_and_reproduces(h, demo, tmp_path):
    melody = sine(tmp_path / "hum.wav")
    *_, last = generate(h, seed="4", mode="melody", melody=str(melody), model="tiny-melody")
    facts = last[5]
    assert facts["adherence"] is not None and f"melody adherence {facts['adherence']:.3f}" in last[1]  # its card
    kept = list((demo.workbench.out / "drafts").glob("*-hum.wav"))
    assert len(kept) == 1  # the upload is kept under the output folder, so the take reproduces later
    sidecar = json.loads((demo.workbench.out / facts["sidecar"]).read_text())
    assert sidecar["draft"]["melody"]["file"] == "../drafts/" + kept[0].name
    assert "identical" in final(h.reproduce(str(facts["take_id"]), progress=noop))


def test_melody_on_a_text_model_says_which_models_can(h, tmp_path):
    with pytest.raises(gr.Error, match="melody model"):
        generate(h, mode="melody", melody=str(sine(tmp_path / "hum.wav")))


def test_uploads_over_the_limits_are_refused(tmp_path, prompts, cache):
    melody = str(sine(tmp_path / "long.wav", seconds=2.0))
    short = build_ui(model="tiny", out=tmp_path / "o", prompts=prompts, cache=cache, max_upload_s=1.0).handlers
    with pytest.raises(gr.Error, match="min limit"):
        generate(short, mode="melody", melody=melody, model="tiny-melody")
    small = build_ui(model="tiny", out=tmp_path / "o", prompts=prompts, cache=cache, max_upload_mb=0.01).handlers
    with pytest.raises(gr.Error, match="MB limit"):
        generate(small, mode="melody", melody=melody, model="tiny-melody")


def test_compare_renders_a_grid_and_saves_ratings(h, demo, tiny):
    takes, status, files = final(h.compare("glassy arps, 120 BPM", "1-4", *SAMPLING, {}, progress=noop))
    assert [t["seed"] for t in takes] == [1, 2, 3, 4] and "one batched pass" in status
    assert all(Path(f).is_file() for f in files) and files[-1].endswith("index.html")
    alone = tiny.generate("glassy arps, 120 BPM", GenerationParams(duration_s=1.0), [3])[0]
    assert takes[2]["codes_sha256"] == alone.codes_sha256  # a take does not depend on its batch
    deck = demo.handlers.compare.__self__.cards(takes)
    ids = [t["take_id"] for t in takes]
    assert card_ids(deck) == ids and f'data-sheet="{takes[0]["contact_sheet"]}"' in deck  # a card each, the sheet
    assert len(card_files(deck, "audio")) == len(card_files(deck, "img")) == 4  # a player and a spectrogram each
    assert all(path.is_file() for path in card_files(deck, "audio") + card_files(deck, "img"))
    redrawn, note, *_ = act(demo, ids[1], "rate", "4", shown=ids, sheet=takes[0]["contact_sheet"])[-1]
    act(demo, ids[1], "favorite", shown=ids)
    assert card_ids(redrawn) == ids and "data-sheet=" in redrawn and "★★★★" in note  # the deck stays as it was
    row = demo.workbench.history.get(takes[1]["take_id"])
    assert row["rating"] == 4 and row["favorite"] is True
    assert json.loads((demo.workbench.out / takes[1]["sidecar"]).read_text())["user"]["rating"] == 4


def test_compare_refuses_more_seeds_than_the_grid(h):
    with pytest.raises(gr.Error, match="at most 8"):
        final(h.compare("x", "1-9", *SAMPLING, {}, progress=noop))


def test_extend_a_compared_take_as_a_continuation(h, demo):
    takes, _, _ = final(h.compare("dusty drums", "1-2", *SAMPLING, {}, progress=noop))
    _deck, _note, prompt, _seed, mode, _melody, codes, seconds, _box, _model, tabs, *_ = act(
        demo, takes[0]["take_id"], "extend")[-1]
    assert prompt == "dusty drums" and mode.value == "continuation" and tabs.selected == "create"
    assert Path(codes) == demo.workbench.out / takes[0]["codes"]
    *_, last = generate(h, prompt, "9", mode="continuation", cont=codes, prompt_seconds=seconds)
    assert last[5]["duration_s"] == pytest.approx(seconds + 1.0)  # the prompt's seconds, then 1 s of new audio


def test_a_compared_take_opens_in_the_history_retake_controls(h, demo):
    takes, _, _ = final(h.compare("retake me", "1-2", *SAMPLING, {}, progress=noop))
    take = takes[1]["take_id"]
    h.edit(str(take), "a keeper", "drums")
    *_, tabs, take_id, deck, box, _repaint, nav = act(demo, take, "retake")[-1]
    assert nav == "history"  # the phone's section selector follows the tab
    assert take_id == str(take) and card_ids(deck) == [take] and "seed 2" in deck
    assert card_files(deck, "audio") == [(demo.workbench.out / takes[1]["audio"]).resolve()]
    assert box.open is True and tabs.selected == "history"
    history = demo.handlers.history.__self__
    assert history.fields(take_id) == (0, False, "a keeper", "drums")  # its notes, not the last take's
    assert history.fields("") == history.fields("999999") == (0, False, "", "")
    [change] = [fn for fn in demo.fns.values() if getattr(fn.fn, "__func__", None) is type(history).fields]
    assert [(demo.blocks[block].elem_id, event) for block, event in change.targets] == [("hist-take", "change")]
    assert [box.elem_id for box in change.outputs][2:] == ["hist-notes", "hist-tags"]  # filled whatever set the id
    with pytest.raises(gr.Error, match="no take"):
        act(demo, 999999, "retake")


def test_history_search_rate_and_reproduce(h, demo):
    take = str(facts_of(generate(h, "history test tune", "11"))["take_id"])
    rows = h.history("history test", False, 0, "")
    assert [r[0] for r in rows] == [int(take)] and rows[0][3] == "11"
    assert "★★★" in h.rate(take, 3, False)
    assert h.history("history test", False, 3, "")[0][5] == "★★★"
    assert h.history("history test", False, 4, "") == [] and h.history("history test", True, 0, "") == []
    with pytest.raises(gr.Error, match="rating must be 1 to 5"):
        h.rate(take, 7, False)
    assert "identical" in final(h.reproduce(take, progress=noop))
    with pytest.raises(gr.Error, match=r"no take '999' in the history \(see the History tab\)") as error:
        final(h.reproduce("999", progress=noop))
    assert "sqlite" not in error.value.message and "workbench history" not in error.value.message


def test_generate_writes_the_chosen_file_format(h, demo, tiny):
    sampling = ("tiny", "", 1.0, *SAMPLING[3:])
    *_, last = h.generate("format tune", "4", "none", None, 0.0, None, None, 0.5, True, *sampling, {},
                          audio_format="mp3-192", progress=noop)
    facts = last[5]
    audio = demo.workbench.out / facts["audio"]
    assert audio.suffix == ".mp3" and audio.is_file() and card_files(last[1], "audio") == [audio.resolve()]
    record = json.loads((demo.workbench.out / facts["sidecar"]).read_text())["audio"]
    assert (record["format"], record["bitrate_kbps"]) == ("MP3", 192)
    [reference] = tiny.generate("format tune", GenerationParams(duration_s=1.0), seeds=[4])
    assert facts["codes_sha256"] == reference.codes_sha256
    with pytest.raises(gr.Error, match="file format must be one of wav, wav-24"):
        final(h.generate("format tune", "4", "none", None, 0.0, None, None, 0.5, True, *sampling, {},
                         audio_format="aiff", progress=noop))


def test_generate_with_segments_shows_the_timeline(h, demo, tiny):
    sampling = ("tiny", "", 1.0, *SAMPLING[3:])
    *_, last = h.generate("segment tune", "6", "none", None, 0.0, None, None, 0.5, True, *sampling, {},
                          segments="0.5: the drop\n", progress=noop)
    assert "timeline: 0–0.5 s segment tune · 0.5–1 s the drop" in last[2]
    [reference] = tiny.generate("segment tune", GenerationParams(duration_s=1.0), seeds=[6],
                                segments=[(0.5, "the drop")])
    assert last[5]["codes_sha256"] == reference.codes_sha256
    with pytest.raises(gr.Error, match="not before the take's end"):
        final(h.generate("segment tune", "6", "none", None, 0.0, None, None, 0.5, True, *sampling, {},
                         segments="3: too late", progress=noop))


def test_prune_lists_first_then_trashes_and_keeps_favourites(fresh):
    h, demo = fresh.handlers, fresh
    takes = [str(facts_of(generate(h, "prune tune", seed))["take_id"]) for seed in ("31", "32", "33")]
    h.rate(takes[0], 1, False)
    h.rate(takes[1], 1, True)  # a favourite: never pruned
    listed, _ = h.prune(2, "", False)
    assert listed.startswith("**1 takes** would go to the trash") and f"#{takes[0]} ★ " in listed
    assert demo.workbench.history.count() == 3
    said, trash = h.prune(3, "", True, confirm=True)  # below 3 stars, unrated too
    assert said == "2 takes moved to the trash" and len(trash.choices) == 2
    assert [r["id"] for r in demo.workbench.history.search()] == [int(takes[1])]
    with pytest.raises(gr.Error, match="“older than” must be a whole number and a unit"):  # the field's label
        h.prune(0, "soon", False)


def test_history_curation_notes_trash_export_import(h, demo, tmp_path):
    takes = [str(facts_of(generate(h, "curated tune", seed))["take_id"]) for seed in ("21", "22")]
    assert "tags: keeper, drums" in h.edit(takes[0], "crisp hats", "Keeper, drums,")
    assert demo.workbench.history.get(takes[0])["notes"] == "crisp hats"
    with pytest.raises(gr.Error, match="tag"):
        h.edit(takes[0], "", "a" * 41)
    zipped, message = h.export("curated", False, 0, "")
    assert "exported 2 takes" in message and Path(zipped).parent == demo.workbench.out / "exports"
    said, trash = h.delete(takes[1])
    assert "moved to the trash" in said and len(trash.choices) == 1
    assert [r[0] for r in h.history("curated", False, 0, "")] == [int(takes[0])]
    with pytest.raises(gr.Error, match="already in the trash"):
        h.delete(takes[1])
    said, trash = h.restore(trash.choices[0][1])
    assert said == f"take #{takes[1]} restored" and trash.choices == []
    h.delete(takes[1])
    assert h.empty_trash()[0].startswith("trash emptied: 1 takes")
    other = build_ui(model="tiny", out=tmp_path / "other", prompts=demo.workbench.prompts, preview_streaming=False)
    assert other.handlers.import_zip(zipped) == "imported 2 takes"
    imported = other.workbench.history.get(demo.workbench.history.get(takes[0])["audio"])
    assert (imported["tags"], imported["notes"]) == (["keeper", "drums"], "crisp hats")
    with pytest.raises(gr.Error, match="upload a zip"):
        other.handlers.import_zip(None)


def test_prompts_imported_from_a_sheet_show_in_the_library(h, demo, tmp_path):
    sheet = tmp_path / "night set.csv"
    sheet.write_text("text,tags,bpm\nwarm pads,ambient,70\ndry drums,,\n")
    message, uploads = h.import_sheet(str(sheet), [])
    assert message.startswith("2 prompts imported into `imported/night-set.toml`")
    rows, _, _ = h.library_browse([], uploads, [], "")
    assert [(r[0], r[1]) for r in rows] == [("night-set/warm-pads", "ambient"), ("night-set/dry-drums", "")]
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt\nx\n")
    with pytest.raises(gr.Error, match="the header needs a 'text' column"):
        h.import_sheet(str(bad), [])


def test_library_browse_filter_expand_and_render(h, demo, monkeypatch):
    rows, _, selection = h.library_browse(["demo.toml"], None, [], "")
    assert [r[0] for r in rows] == ["demo/calm", "demo/grid-dark-90", "demo/grid-dark-120", "demo/grid-bright-90",
                                    "demo/grid-bright-120"]
    assert rows[0][1:4] == ["calm", "duration 1", "1"]  # its tags, the settings its file sets, its seeds
    assert len(h.library_browse(["demo.toml"], None, ["matrix"], "")[0]) == 4
    assert [r[0] for r in h.library_browse(["demo.toml"], None, [], "dark")[0]] == ["demo/grid-dark-90",
                                                                                     "demo/grid-dark-120"]
    library = demo.handlers.library_browse.__self__
    event = gr.SelectData(None, {"index": [1, 0], "value": "demo/grid-dark-90", "row_value": rows[1]})
    details, expansion, chosen, clicked, box = library.details(["demo.toml"], None, [], event)
    assert "template **grid** → 4 prompts" in details and clicked == "demo/grid-dark-90" and box.open is True
    assert expansion.value["headers"] == ["id", "mood", "bpm", "text"] and len(expansion.value["data"]) == 4
    outputs = list(h.library_render(["demo.toml"], None, ["demo/calm", *chosen], "", "", "tiny", "", "off", {},
                                    progress=noop))
    assert outputs[0] == ([], "Rendering…")  # the last results cleared first
    results, status = outputs[-1]
    assert [r[2] for r in results] == ["done", "done"] and "2 rendered" in status
    assert (demo.workbench.out / "demo" / "calm" / "s1.wav").is_file()
    deck = library.cards(results)  # a card for each render, playable
    assert len(card_ids(deck)) == 2 and card_files(deck, "audio")[0] == (demo.workbench.out / results[0][3]).resolve()
    again, status = final(h.library_render(["demo.toml"], None, ["demo/calm"], "", "", "tiny", "", "off", {},
                                           progress=noop))
    assert again[0][2] == "skipped (done earlier)" and "1 done earlier" in status
    assert card_ids(library.cards(again)) == card_ids(deck)[:1]  # a take done earlier still shows as its card
    monkeypatch.setattr(gr, "Info", noop)
    assert h.fill_from("demo/calm", 1.0, 3.0, 1.0, 250, 1.0) == ("calm ambient pads, slow, 60 BPM", 1.0, 3.0, 1.0, 250,
                                                                 1.0, "1")


def test_batch_renders_a_file_live_and_resumes(h, demo):
    before = demo.workbench.history.count()
    first = list(h.batch("demo.toml", None, "1", "runs/a", 4, "", "tiny", "", "off", {}, progress=noop))
    table, summary, library, cards = first[-1]
    assert len(first) >= 3 and library == "demo"  # planned, then one update per finished take
    assert card_ids(first[0][3]) == [] and first[0][:3] == ([], "Planning…", "")  # the last run's cards cleared
    assert [row[3] for row in table] == ["done"] * 5 and "5 rendered" in summary
    assert all((demo.workbench.out / "runs" / "a" / row[4]).is_file() for row in table)  # relative to runs/a
    assert len(card_ids(cards)) == 5 and all(path.is_file() for path in card_files(cards, "audio"))
    assert demo.workbench.history.count() == before + 5  # results land in the History
    again = list(h.batch("demo.toml", None, "1", "runs/a", 4, "", "tiny", "", "off", {}, progress=noop))[-1]
    assert [row[3] for row in again[0]] == ["skipped (done earlier)"] * 5
    with pytest.raises(gr.Error, match="sub-folder"):
        list(h.batch("demo.toml", None, "1", "../escape", 4, "", "tiny", "", "off", {}, progress=noop))


def test_tokenize_shows_tokens_bitrate_reconstruction_and_quality(h, demo, tmp_path):
    cleared, (image, facts, recon, token_file, quality) = h.tokenize(str(sine(tmp_path / "a.wav", 1.0)), "", "tiny",
                                                                     "", progress=noop)
    assert cleared == (None, "Tokenizing…", None, None, None)  # the last result goes before the new one comes
    out = demo.workbench.out.resolve()
    for path in (image, recon, token_file):
        assert Path(path).is_file() and Path(path).resolve().is_relative_to(out / "tokens")
    assert token_file.endswith(".codes.npz") and recon.endswith(".recon.wav")
    assert "4 codebooks × 50 frames" in facts and "kbps" in facts and "SNR" in facts
    assert quality["num_codebooks"] == 4 and quality["num_frames"] == 50 and quality["bitrate_kbps"] == 2.2
    assert {"snr_db", "stft_distance", "mel_distance"} <= set(quality)


def test_tokenize_keeps_the_last_standalone_codec(h, tmp_path, monkeypatch):
    import workbench.ui.tokenize as tab

    loads = []
    real = tab.load_codec
    monkeypatch.setattr(tab, "load_codec", lambda name, **kw: loads.append(name) or real(name, **kw))
    wav = str(sine(tmp_path / "a.wav", 0.5))
    first = final(h.tokenize(wav, "tiny", "tiny", "", progress=noop))[4]
    second = final(h.tokenize(wav, "tiny", "tiny", "", progress=noop))[4]
    final(h.tokenize(wav, "tiny-melody", "tiny", "", progress=noop))
    assert loads == ["tiny", "tiny-melody"]  # loaded once per codec, not per click
    assert first["num_frames"] == second["num_frames"] == 25


def test_engine_cache_holds_one_model_and_releases_the_old_one():
    loads = []

    class Fake:
        def __init__(self, name):
            self.name = name

    def loader(name, **_):
        loads.append(name)
        return Fake(name)

    cache = EngineCache(loader=loader)
    first = cache.get("tiny")
    assert cache.get("tiny") is first and loads == ["tiny"]
    gone = weakref.ref(first)
    del first
    cache.get("tiny-melody")
    assert gone() is None and cache.loaded == "tiny-melody" and loads == ["tiny", "tiny-melody"]
    with pytest.raises(ModelNotFoundError):
        cache.get("no-such-model")
    assert cache.loaded is None  # the failed load released the old model first
    cache.release()


def test_upload_helpers(tmp_path):
    wav = sine(tmp_path / "a.wav", 1.0)
    assert check_upload(wav) == wav
    with pytest.raises(Exception, match="empty"):
        check_upload(tmp_path.joinpath("e.wav").write_bytes(b"") or tmp_path / "e.wav")
    out = tmp_path / "out"
    kept = keep_draft(wav, out)
    assert kept.parent == out / "drafts" and keep_draft(wav, out) == kept and keep_draft(kept, out) == kept
    assert output_subfolder(out, "runs/a") == out / "runs" / "a" and output_subfolder(out, "") == out
    for bad in ("../x", "/etc", "a/../../b", "a b"):
        with pytest.raises(Exception, match="sub-folder"):
            output_subfolder(out, bad)


def test_public_endpoints_are_the_named_actions(demo):
    public = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert public == {"generate", "keep", "compare", "library_render", "batch", "tokenize", "history", "rate",
                      "reproduce", "loop", "retake", "repaint", "stems", "analyze", "edit", "delete", "restore",
                      "export", "import", "transcribe"}
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"\*\*API\.\*\* Each tab's main action is an endpoint for `gradio_client`: (.+?) \(the app's",
                       readme)
    assert listed and set(re.findall(r"`([a-z_]+)`", listed.group(1))) == public  # the README lists them all


def test_launch_options_are_safe_by_default(tmp_path, capsys):
    options = launch_options(out=tmp_path)
    assert options["server_name"] == "127.0.0.1" and options["allowed_paths"] == [str(tmp_path.resolve())]
    assert options["max_file_size"] == "50mb" and options["auth"] is None
    assert capsys.readouterr().err == ""
    launch_options(out=tmp_path, share=True)
    assert "WARNING" in capsys.readouterr().err
    launch_options(out=tmp_path, host="0.0.0.0")
    assert "beyond this machine" in capsys.readouterr().err
    assert launch_options(out=tmp_path, host="0.0.0.0", auth="ann:pw")["auth"] == ("ann", "pw")
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="user:password"):
        launch_options(out=tmp_path, auth="nopassword")


class FakeBlocks:
    def __init__(self, calls):
        self.calls = calls

    def queue(self, **kwargs):
        self.calls["queue"] = kwargs
        return self

    def launch(self, **kwargs):
        self.calls["launch"] = kwargs


def test_app_py_and_workbench_serve_launch_the_same_app(tmp_path, monkeypatch):
    import workbench.ui
    from workbench.cli.app import main

    calls = {}
    monkeypatch.setattr(workbench.ui, "build_ui", lambda **kw: calls.setdefault("build", kw) and FakeBlocks(calls))
    monkeypatch.setattr(sys, "argv", ["app.py", "--model", "tiny", "--out", str(tmp_path), "--max-queue", "3"])
    runpy.run_path(str(Path(__file__).parents[1] / "app.py"), run_name="__main__")  # ``workbench serve ...``
    assert calls["build"]["model"] == "tiny" and calls["queue"] == {"default_concurrency_limit": 1, "max_size": 3}
    assert calls["launch"]["server_name"] == "127.0.0.1" and calls["launch"]["server_port"] == 7860
    served = {}
    monkeypatch.setattr(workbench.ui, "build_ui", lambda **kw: served.setdefault("build", kw) and FakeBlocks(served))
    main(["serve", "--model", "tiny", "--out", str(tmp_path), "--concurrency", "2"])
    assert served["build"]["concurrency"] == 2 and served["queue"]["default_concurrency_limit"] == 2
    assert served["launch"]["allowed_paths"] == [str(tmp_path.resolve())]


def test_an_unexpected_ui_error_is_one_line_and_the_traceback_is_logged(caplog):
    import logging

    from workbench.ui.errors import ui_errors

    @ui_errors
    def handler():
        raise KeyError("missing-widget")

    @ui_errors
    def streaming():
        yield 1
        raise ZeroDivisionError("division by zero")

    with caplog.at_level(logging.ERROR, logger="workbench"), pytest.raises(gr.Error) as shown:
        handler()
    assert "unexpected KeyError" in str(shown.value) and "server's log" in str(shown.value)
    assert caplog.records[-1].exc_info[0] is KeyError  # the traceback went to the log
    with pytest.raises(gr.Error, match="unexpected ZeroDivisionError"):
        list(streaming())
    with pytest.raises(gr.Error) as known:  # a known error stays its own line, not logged as a bug
        ui_errors(lambda: GenerationParams(duration_s=-1))()
    assert known.value.message == "“Duration (s)” must be in (0, 300] seconds, got -1"  # the field as labelled


def test_transcribe_panel_shows_the_notes_and_the_stem_conditions_the_take(h, demo, tmp_path):
    """The melody box's "Transcribe to notes" (piano roll + MIDI) and "Melody audio" choice (the notes' chroma)."""
    pytest.importorskip("basic_pitch")
    import pretty_midi

    melody = sine(tmp_path / "hum.wav")  # A4 for 2 s
    image, midi, summary = h.transcribe(str(melody), 0.0, None, "none")
    assert image.visible is True and midi.visible is True  # shown once there are notes
    written = {path.suffix: path for path in (demo.workbench.out / "transcriptions").iterdir()}
    assert Path(image.value["orig_name"]).name == written[".png"].name
    assert Path(midi.value["orig_name"]).name == written[".mid"].name
    notes = pretty_midi.PrettyMIDI(str(written[".mid"])).instruments[1].notes
    assert [n.pitch for n in notes] == [69] and "in the melody line" in summary
    sampling = ("tiny-melody", "", 1.0, *SAMPLING[3:])
    *_, last = list(h.generate("warm noise", "4", "melody", str(melody), 0.0, None, None, 0.5, True, *sampling, {},
                               "", 100, None, "4/4", "root", "wav", "", "transcribe", progress=noop))
    sidecar = json.loads((demo.workbench.out / last[5]["sidecar"]).read_text())
    assert sidecar["draft"]["melody"]["stem"] == "transcribe" and "transcription" in sidecar["draft"]["melody"]
    with pytest.raises(gr.Error, match="choose a melody audio file"):
        h.transcribe(None, 0.0, None, "none")
