"""Drafts transcribed to notes (Basic Pitch's bundled ONNX model, offline) and separated with Demucs (its own
offline test model): the notes, the melody line, the MIDI file and piano roll, conditioning, reproduce, errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from PIL import Image

from workbench.core.errors import DraftError
from workbench.core.params import GenerationParams
from workbench.drafts.melody import load_melody
from workbench.drafts.transcribe import Note, melody_line, transcribe_file

pytest.importorskip("basic_pitch", reason="Basic Pitch: pip install --no-deps -r requirements-nodeps.txt")

RATE = 44100
ARPEGGIO = [60, 64, 67, 72]  # C4 E4 G4 C5, half a second each
NOTE_S = 0.5


def tone(pitch: int, seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02)
    return amplitude * fade * np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t)


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``lead``: the arpeggio alone; ``mix``: the arpeggio over a held, louder A2 bass, stereo (the bass is the
    lowest voice: the melody line must not follow it; the audio chroma does, on some frames)."""
    folder = tmp_path_factory.mktemp("transcribe")
    lead = np.concatenate([tone(p, NOTE_S) for p in ARPEGGIO])
    mix = lead + tone(45, len(lead) / RATE, 0.45)
    sf.write(folder / "lead.wav", lead.astype(np.float32), RATE)
    sf.write(folder / "mix.wav", np.stack([mix, mix], axis=1).astype(np.float32), RATE)
    sf.write(folder / "silence.wav", np.zeros(2 * RATE, dtype=np.float32), RATE)
    return {"lead": folder / "lead.wav", "mix": folder / "mix.wav", "silence": folder / "silence.wav"}


def test_basic_pitch_hears_the_arpeggio_note_exactly(drafts):
    notes = transcribe_file(drafts["lead"])
    assert [n.pitch for n in notes.notes] == ARPEGGIO
    starts = np.array([n.start for n in notes.notes])
    assert np.abs(starts - np.arange(4) * NOTE_S).max() < 0.05  # onsets within 50 ms
    assert [n.pitch for n in notes.melody] == ARPEGGIO and notes.duration_s == pytest.approx(2.0)
    assert notes.transcriber.startswith("basic-pitch 0.4.0")


def test_the_melody_line_is_the_highest_voice(drafts):
    notes = transcribe_file(drafts["mix"])
    assert 45 in {n.pitch for n in notes.notes}  # the bass is heard ...
    long_melody = [n.pitch for n in notes.melody if n.end - n.start > 0.2]
    assert long_melody == ARPEGGIO  # ... but it is never the melody while the arpeggio sounds


def test_melody_line_rule():
    chord = [Note(0.0, 2.0, 48, 80), Note(0.0, 2.0, 55, 80)]
    lead = [Note(0.5, 1.0, 72, 60), Note(1.0, 1.5, 71, 60)]
    assert melody_line(chord + lead) == (Note(0.0, 0.5, 55, 80), Note(0.5, 1.0, 72, 60), Note(1.0, 1.5, 71, 60),
                                         Note(1.5, 2.0, 55, 80))
    assert melody_line([Note(0, 1, 60, 50), Note(0, 1, 60, 90)]) == (Note(0, 1, 60, 90),)  # louder wins a tie
    assert melody_line([Note(0, 1, 60, 50), Note(2, 3, 62, 50)]) == (Note(0, 1, 60, 50), Note(2, 3, 62, 50))
    assert melody_line([]) == ()


def test_the_transcribe_stem_conditions_on_the_melody_tracks_exact_chroma(drafts, tmp_path):
    melody = load_melody(drafts["mix"], stem="transcribe")
    notes = transcribe_file(drafts["mix"])
    midi_path = notes.write_midi(tmp_path / "mix.mid")
    from_midi = load_melody(midi_path, track="melody", end_s=melody.record["end_s"])
    assert np.array_equal(melody.chroma, from_midi.chroma[:len(melody.chroma)])
    assert list(melody.chroma.argmax(axis=1)) == [0] * 4 + [4] * 4 + [7] * 4 + [0] * 4  # C E G C, 4 frames each
    record = melody.record["transcription"]
    assert record == notes.record() and record["melody_notes"] == len(notes.melody)
    # the audio chroma of the same mix follows the bass on some frames; the notes do not
    assert not np.array_equal(load_melody(drafts["mix"]).chroma, melody.chroma)


def test_cli_writes_midi_and_piano_roll_and_refuses_bad_input(drafts, cli, tmp_path):
    done = cli("transcribe", str(drafts["mix"]), "-o", "notes/mix.mid")
    assert done.returncode == 0, done.stderr
    assert "track 'melody'" in done.stdout and "--midi-track melody" in done.stdout
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "notes" / "mix.mid"))
    assert [i.name for i in midi.instruments] == ["notes", "melody"]
    assert [n.pitch for n in midi.instruments[1].notes if n.end - n.start > 0.2] == ARPEGGIO
    with Image.open(tmp_path / "notes" / "mix.png") as image:
        assert image.size[0] == 200 and image.size[1] > 100  # 2 s at 100 px/s; pitch rows C2..C5
    again = cli("transcribe", str(drafts["mix"]), "-o", "notes/mix.mid")
    assert again.returncode == 1 and again.stderr.strip() == (
        f"error: {Path('notes/mix.mid')} exists already; pass --force to overwrite it")
    for args, message in [((str(drafts["silence"]),), "the audio is silent"),
                          (("notes/mix.mid",), "a MIDI file holds notes already"),
                          ((str(drafts["mix"]), "--stem", "vocals"), "unknown stem 'vocals'"),
                          (("nowhere.wav",), "no such file")]:
        failed = cli("transcribe", *args)
        assert failed.returncode == 1 and message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_without_basic_pitch_the_error_says_how_to_install(drafts, monkeypatch):
    monkeypatch.setitem(sys.modules, "basic_pitch", None)  # import basic_pitch -> ImportError
    with pytest.raises(DraftError, match=r"pip install --no-deps -r requirements-nodeps.txt"):
        load_melody(drafts["lead"], stem="transcribe")


def test_demucs_keeps_vocals_and_other(drafts):
    """Demucs' own offline test model (random weights) through its loader: the kept audio is exactly its
    vocals + other sources, and the melody record names the stem."""
    pytest.importorskip("demucs")
    import torch
    from demucs.apply import apply_model

    from workbench.drafts.separate import keep_melody_stems, load_demucs

    audio = sf.read(drafts["mix"], dtype="float32")[0].T
    kept, rate = keep_melody_stems(audio, RATE, "demucs_unittest")
    model = load_demucs("demucs_unittest")  # the same random weights in every process (a forked, seeded RNG)
    sources = apply_model(model, torch.from_numpy(audio)[None], shifts=0, progress=False)[0]
    expected = sources[model.sources.index("vocals")] + sources[model.sources.index("other")]
    assert rate == 44100 and kept.shape == (2, audio.shape[1])
    assert np.allclose(kept, expected.numpy(), atol=1e-6)
    melody = load_melody(drafts["mix"], stem="demucs:demucs_unittest+transcribe")
    assert melody.record["stem"] == "demucs:demucs_unittest+transcribe" and "transcription" in melody.record
    with pytest.raises(DraftError, match="Demucs model 'no-such-model' could not be loaded"):
        load_melody(drafts["mix"], stem="demucs:no-such-model")


def test_a_transcribed_take_records_the_notes_and_reproduces(drafts, tmp_path, tiny_melody):
    from workbench.drafts.prepare import prepare_draft
    from workbench.render.prompt import render_prompt
    from workbench.render.reproduce import reproduce
    from workbench.store.sidecar import read_sidecar

    params = GenerationParams(duration_s=2.0)
    draft = prepare_draft(tiny_melody, melody=drafts["mix"], melody_stem="transcribe", duration_s=2.0,
                          record_base=tmp_path)
    [item] = render_prompt(tiny_melody, "lofi piano", params, [5], [tmp_path / "notes.wav"], draft=draft)
    record = read_sidecar(item.sidecar)["draft"]["melody"]
    assert record["stem"] == "transcribe" and record["transcription"]["transcriber"].startswith("basic-pitch")
    assert reproduce(item.sidecar, engine=tiny_melody).identical
    plain = prepare_draft(tiny_melody, melody=drafts["mix"], duration_s=2.0)
    [other] = tiny_melody.generate("lofi piano", params, seeds=[5], **plain.generate_kwargs())
    assert other.codes_sha256 != item.take.codes_sha256  # the notes, not the audio chroma, conditioned it


def test_prompt_files_take_melody_stem_and_check_it(drafts, tmp_path, tiny_melody):
    from workbench.core.errors import PromptFileError
    from workbench.library.prompts import parse_library
    from workbench.render.batch import render_library
    from workbench.store.sidecar import read_sidecar

    good = '[[prompt]]\nid = "x"\ntext = "pads"\nmelody = "mix.wav"\nmelody_stem = "demucs+transcribe"\n'
    [prompt] = parse_library(good, source=drafts["mix"].parent / "ok.toml").prompts
    assert prompt.conditions.melody.stem == "demucs+transcribe"
    (drafts["mix"].parent / "notes.toml").write_text(good.replace("demucs+transcribe", "transcribe"))
    result = render_library(drafts["mix"].parent / "notes.toml", tiny_melody, out_dir=tmp_path, seeds=[1],
                            duration_s=1.0)
    [item] = result.done
    assert read_sidecar(item.sidecar)["draft"]["melody"]["stem"] == "transcribe"
    for body, message in [('melody = "mix.wav"\nmelody_stem = "vocals"', "melody_stem: must be one of"),
                          ('melody_stem = "harmonic"', 'melody_stem: only applies with melody')]:
        with pytest.raises(PromptFileError, match=message):
            parse_library(f'[[prompt]]\nid = "x"\ntext = "pads"\n{body}\n', source=drafts["mix"].parent / "b.toml")
