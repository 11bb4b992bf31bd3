"""What conditions a take (``workbench.core.conditions``): one value, every field of it reaching the grouping key, the
render key, the sidecar and the take; prompt-file entries that differ only in their drafts never share one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from workbench.core.conditions import Conditions
from workbench.core.errors import FieldError
from workbench.core.fields import FIELDS, conditions_from_fields, flag_name
from workbench.core.params import GenerationParams
from workbench.render.prompt import render_prompt
from workbench.store.sidecar import conditions_key, read_sidecar

RATE = 32000
PARAMS = GenerationParams(duration_s=1.0)
#: Rows rendered shorter: MultiBand Diffusion's cost grows with the audio, and a quarter second shows its change.
SHORT = {"decoder": GenerationParams(duration_s=0.25)}


def notes_wav(path: Path, pitches: list[int], note_s: float = 0.5) -> Path:
    """Sine notes (MIDI pitches), each ``note_s`` long."""
    t = np.arange(int(note_s * RATE)) / RATE
    audio = np.concatenate([0.3 * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) for p in pitches])
    sf.write(path, audio.astype(np.float32), RATE)
    return path


def two_track_midi(path: Path) -> Path:
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    for name, pitches in (("low", [48, 50, 52, 53]), ("high", [79, 77, 76, 74])):
        track = pretty_midi.Instrument(program=0, name=name)
        track.notes += [pretty_midi.Note(velocity=100, pitch=p, start=i * 0.5, end=i * 0.5 + 0.5)
                        for i, p in enumerate(pitches)]
        midi.instruments.append(track)
    midi.write(str(path))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("drafts")
    codes = {}
    for seed in (1, 2):  # token files to continue (tiny's random EnCodec hears little difference between sines)
        [item] = render_prompt(tiny, "a draft", GenerationParams(duration_s=2.0), [seed], [folder / f"d{seed}.wav"])
        codes[f"codes{seed}"] = item.path.with_name(item.record["codes"]["file"])
    for seed in (1, 2):  # style references (tiny-style's random conditioner tells noise apart, not sines)
        noise = np.random.default_rng(seed).standard_normal(2 * RATE).astype(np.float32) * 0.2
        sf.write(folder / f"noise{seed}.wav", noise, RATE)
    return {**codes, "noise1": folder / "noise1.wav", "noise2": folder / "noise2.wav",
            "scale": notes_wav(folder / "scale.wav", [60, 62, 64, 65, 67, 69, 71, 72]),
            "other": notes_wav(folder / "other.wav", [71, 69, 66, 62, 61, 57, 55, 54]),
            "midi": two_track_midi(folder / "two.mid")}


@pytest.fixture(scope="module")
def style_engine():
    pytest.importorskip("audiocraft")
    from workbench.engine.load import load_engine

    return load_engine("tiny-style")


def variants(files: dict[str, Path]) -> dict[str, tuple[str, dict, dict]]:
    """For every field of ``conditions_from_fields``: (model, fields, the same with that field changed)."""
    melody = {"melody": files["scale"], "melody_start": 0.0}
    chords = {"chords": "Am F C G", "bpm": 120}
    cont = {"continue_from": files["codes1"], "prompt_seconds": 1.0}
    return {
        "segments": ("tiny", {"segments": [(0.5, "full drums")]}, {"segments": [(0.5, "harp solo")]}),
        "melody": ("tiny-melody", melody, {**melody, "melody": files["other"]}),
        "melody_start": ("tiny-melody", melody, {**melody, "melody_start": 1.5}),
        "melody_end": ("tiny-melody", {**melody, "melody_end": 4.0}, {**melody, "melody_end": 1.5}),
        # Demucs' offline test model (random weights) keeps other sounds than the audio as it is
        "melody_stem": ("tiny-melody", {"melody": files["scale"]}, {"melody": files["scale"],
                                                                    "melody_stem": "demucs:demucs_unittest"}),
        "midi_track": ("tiny-melody", {"melody": files["midi"], "midi_track": "low"},
                       {"melody": files["midi"], "midi_track": "high"}),
        "chords": ("tiny-melody", chords, {**chords, "chords": "C G Am F"}),
        "bpm": ("tiny-melody", {**chords, "beats_per_chord": 1}, {**chords, "beats_per_chord": 1, "bpm": 200}),
        "beats_per_chord": ("tiny-melody", chords, {**chords, "beats_per_chord": 1}),
        # one bar per chord: 4 beats or 3 (at 240 BPM, 1 s or 0.75 s)
        "time_signature": ("tiny-melody", {**chords, "bpm": 240}, {**chords, "bpm": 240, "time_signature": "3/4"}),
        "voicing": ("tiny-melody", chords, {**chords, "voicing": "arpeggio"}),
        "continue_from": ("tiny", cont, {**cont, "continue_from": files["codes2"]}),
        "prompt_seconds": ("tiny", cont, {**cont, "prompt_seconds": 2.0}),
        "include_prompt": ("tiny", cont, {**cont, "include_prompt": False}),
        "style": ("tiny-style", {"style": files["noise1"]}, {"style": files["noise2"]}),
        "decoder": ("tiny", {}, {"decoder": "mbd"}),
    }


def test_every_field_changes_the_group_the_key_the_sidecar_and_the_take(files, tiny, tiny_melody, style_engine,
                                                                        tmp_path):
    table = variants(files)
    assert set(table) == set(FIELDS)  # a new field needs a row here: then it cannot be forgotten anywhere
    engines = {"tiny": tiny, "tiny-melody": tiny_melody, "tiny-style": style_engine}
    for field, (model, before, after) in table.items():
        a, b = conditions_from_fields(**before), conditions_from_fields(**after)
        assert a != b and hash(a) != hash(b), field  # jobs group by the whole value
        params = SHORT.get(field, PARAMS)
        keys = {conditions_key(model, "pads", params, 1, c) for c in (a, b)}
        assert len(keys) == 2, field
        takes = []
        for name, conditions in (("a", a), ("b", b)):
            [item] = render_prompt(engines[model], "pads", params, [1], [tmp_path / field / f"{name}.wav"],
                                   conditions=conditions)
            record = read_sidecar(item.sidecar)
            assert record["render_key"] == conditions_key(model, "pads", params, 1, conditions), field
            takes.append((item.take.codes_sha256, record["audio_sha256"]))
        assert takes[0][0] != takes[1][0] or takes[0][1] != takes[1][1], f"{field} did not change the take"


def test_field_errors_speak_each_surface():
    with pytest.raises(FieldError) as info:
        conditions_from_fields(melody="m.wav", melody_start=2.0, melody_end=1.0)
    error = info.value
    assert str(error) == "melody_end must be after melody_start (2 s), got 1"
    assert error.say(flag_name) == "--melody-end must be after --melody-start (2 s), got 1"
    for fields, words in [({"voicing": "arpeggio"}, "voicing only applies with chords"),
                          ({"prompt_seconds": 3.0}, "prompt_seconds only applies with continue_from"),
                          ({"chords": "Am", "bpm": 90, "melody": "m.wav"}, "chords cannot go with melody"),
                          ({"style": "s.wav", "chords": "Am", "bpm": 90}, "style takes the text and the style clip "
                                                                          "alone, not chords"),
                          ({"continue_from": "c.wav", "decoder": "mbd"}, "not continuations (continue_from)"),
                          ({"segments": [(2.0, "a"), (1.0, "b")]}, "segment 2 starts at 1 s, not after segment 1")]:
        with pytest.raises(FieldError, match=words.replace("(", r"\(").replace(")", r"\)")):
            conditions_from_fields(**fields)
    with pytest.raises(TypeError, match="unknown condition field"):
        conditions_from_fields(tempo=120)
    assert Conditions() == conditions_from_fields() and not Conditions().drafted


FILE = """
[library]
name = "drafts"
model = "tiny-melody"
seeds = [1, 2]

[library.defaults]
duration_s = 1.0

[[prompt]]
id = "am"
text = "pads"
bpm = 120
chords = "Am F C G"

[[prompt]]
id = "c"
text = "pads"
bpm = 120
chords = "C G Am F"

[[prompt]]
id = "arp"
text = "pads"
bpm = 120
chords = "Am F C G"
voicing = "arpeggio"

[[prompt]]
id = "early"
text = "pads"
melody = "scale.wav"
melody_end = 2.0

[[prompt]]
id = "late"
text = "pads"
melody = "scale.wav"
melody_start = 2.0
"""


def test_entries_that_differ_only_in_their_drafts_each_get_their_own(files, tiny_melody, tmp_path):
    from workbench.library.prompts import load_library
    from workbench.render.batch import plan_jobs, render_jobs

    (tmp_path / "scale.wav").write_bytes(files["scale"].read_bytes())
    (tmp_path / "drafts.toml").write_text(FILE)
    prompts = load_library(tmp_path / "drafts.toml").prompts
    out = tmp_path / "out"
    result = render_jobs(plan_jobs(prompts, out), out, load=lambda _name: tiny_melody, batch_size=8)
    assert result.ok and len(result.done) == 10
    for prompt in prompts:  # each entry rendered from a file of its own gives the same takes
        alone = tmp_path / prompt.id
        alone.mkdir()
        (alone / "scale.wav").write_bytes(files["scale"].read_bytes())
        entry = FILE.split("[[prompt]]")
        own = entry[0] + "[[prompt]]" + next(part for part in entry[1:] if f'id = "{prompt.id}"' in part)
        (alone / "one.toml").write_text(own)
        single = render_jobs(plan_jobs(load_library(alone / "one.toml").prompts, alone / "out"), alone / "out",
                             load=lambda _name: tiny_melody)
        for take in single.done:
            batched = out / "drafts" / prompt.id / take.path.name
            record, batched_record = read_sidecar(take.sidecar), read_sidecar(batched.with_suffix(".json"))
            assert batched_record["codes_sha256"] == record["codes_sha256"], (prompt.id, take.path.name)
            assert batched_record["draft"]["identity"] == record["draft"]["identity"] == \
                prompt.conditions.identity(1.0)
            assert batched_record["render_key"] == record["render_key"]
    codes = {read_sidecar(item.sidecar)["codes_sha256"] for item in result.done}
    assert len(codes) == 10  # no two entries shared a draft
    again = render_jobs(plan_jobs(prompts, out), out, load=lambda _name: tiny_melody)
    assert not again.done and len(again.skipped) == 10  # the keys match the sidecars: nothing renders twice


def test_render_applies_every_sampling_flag(tiny, tmp_path, monkeypatch, capsys):
    from workbench.cli.app import main

    monkeypatch.setattr("workbench.engine.load.load_engine", lambda name, **_: tiny)
    (tmp_path / "lib.toml").write_text('[[prompt]]\nid = "a"\ntext = "pads"\nmodel = "tiny"\nduration_s = 1.0\n'
                                       'temperature = 0.9\n')
    flags = ["--temperature", "0.3", "--top-k", "5", "--top-p", "0.8", "--guidance", "2", "--stride", "12",
             "--duration", "0.5"]
    assert main(["render", str(tmp_path / "lib.toml"), "--out", str(tmp_path / "out"), "--seeds", "1", *flags]) \
        is None, capsys.readouterr().err  # exit status 0
    params = read_sidecar(tmp_path / "out" / "lib" / "a" / "s1.json")["params"]
    assert params == {"duration_s": 0.5, "guidance_scale": 2.0, "temperature": 0.3, "top_k": 5, "top_p": 0.8,
                      "extend_stride_s": 12.0}
    [alone] = tiny.generate("pads", GenerationParams(**params), [1])
    assert read_sidecar(tmp_path / "out" / "lib" / "a" / "s1.json")["codes_sha256"] == alone.codes_sha256


def test_magnet_gets_its_own_sampling_defaults_unless_given():
    from workbench.models.registry import default_params

    assert default_params("magnet-small") == GenerationParams(temperature=3.0, top_k=0, top_p=0.9,
                                                              guidance_scale=10.0)
    assert default_params("tiny-magnet") == default_params("facebook/magnet-medium-30secs")
    assert default_params("small") == default_params(None) == GenerationParams()


def test_mbd_on_a_continuation_is_refused_before_anything_loads(tmp_path, monkeypatch, capsys):
    from workbench.cli.app import main

    def never(*_args, **_kwargs):
        raise AssertionError("a model was loaded before the options were checked")

    monkeypatch.setattr("workbench.engine.load.load_engine", never)
    monkeypatch.setattr("workbench.render.decoders.load_decoder", never)
    notes_wav(tmp_path / "d.wav", [60, 62, 64, 65])
    with pytest.raises(SystemExit) as done:
        main(["generate", "x", "--model", "tiny", "--decoder", "mbd", "--continue-from", str(tmp_path / "d.wav"),
              "-o", str(tmp_path / "x.wav")])
    assert done.value.code == 1
    assert capsys.readouterr().err.strip() == ("error: --decoder mbd decodes takes rendered from text, a melody or "
                                               "chords, not continuations (--continue-from)")


def test_an_option_given_without_its_draft_is_refused_not_ignored(tmp_path, monkeypatch, capsys):
    from workbench.cli.app import main

    monkeypatch.setattr("workbench.engine.load.load_engine", lambda *_a, **_k: pytest.fail("loaded"))
    for args, line in [(["--prompt-seconds", "2"], "--prompt-seconds only applies with --continue-from"),
                       (["--voicing", "arpeggio"], "--voicing only applies with --chords"),
                       (["--melody-stem", "harmonic"], "--melody-stem only applies with --melody"),
                       (["--bpm", "90"], "--bpm only applies with --chords or --loop-bars"),
                       (["--no-include-prompt"], "--include-prompt only applies with --continue-from")]:
        with pytest.raises(SystemExit):
            main(["generate", "x", "--model", "tiny", *args, "-o", str(tmp_path / "x.wav")])
        assert capsys.readouterr().err.strip() == f"error: {line}"
    with pytest.raises(SystemExit):
        main(["seeds", "x", "--model", "tiny", "--bpm", "90", "--dir", str(tmp_path / "s")])
    assert capsys.readouterr().err.strip() == "error: --bpm only applies with --chords"


def test_names_made_within_one_second_never_collide_and_imports_never_overwrite(tmp_path, monkeypatch):
    from workbench.library.importer import import_prompts
    from workbench.store import naming

    monkeypatch.setattr(naming, "_stamp", lambda: "20261205-120000")
    first = naming.export_path(tmp_path)
    first.parent.mkdir(parents=True)
    first.write_bytes(b"zip")
    assert naming.export_path(tmp_path) == tmp_path / "exports" / "takes-20261205-120000-2.zip"
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("id,text\na,soft pads\n")
    target = naming.imported_prompts_path(tmp_path, sheet)
    target.parent.mkdir(parents=True)
    import_prompts(sheet, target)
    before = target.read_bytes()
    again = naming.imported_prompts_path(tmp_path, sheet)
    assert again == tmp_path / "imported" / "sheet-2.toml"
    import_prompts(sheet, again)
    assert target.read_bytes() == before and again.is_file()  # the earlier import is untouched
