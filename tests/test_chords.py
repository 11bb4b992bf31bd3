"""Chord drafts: a progression and a tempo become the exact chroma a melody model follows, end to end."""

import json
import math

import numpy as np
import pytest

from workbench.core.conditions import ChordsInput as ChordDraft
from workbench.core.errors import DraftError, ModelCapabilityError
from workbench.core.fields import conditions_from_fields as conditions
from workbench.core.music import parse_progression
from workbench.core.params import GenerationParams
from workbench.drafts.chords import chord_chroma, chord_pitches, load_chords
from workbench.drafts.prepare import prepare_draft
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import reproduce
from workbench.store.sidecar import read_sidecar

A, C, D, E, F, G = 9, 0, 2, 4, 5, 7
RATE = 32000 / 4096  # MusicGen-Melody's chroma frames per second


def frame_times(frames):
    return np.arange(frames) / RATE


def test_root_voicing_plays_each_chord_for_its_beats_and_repeats_the_progression():
    draft = ChordDraft("Am F C G", bpm=120, beats_per_chord=4)  # 2 s per chord, 8 s per round
    times = frame_times(200)
    expected = [[A, F, C, G][int(t // 2.0) % 4] for t in times]
    assert chord_pitches(draft, 200).tolist() == expected


def test_the_default_chord_lasts_one_bar_of_the_time_signature():
    waltz = chord_pitches(ChordDraft("C G", bpm=90, time_signature="3/4"), 100)  # 3 beats of 2/3 s
    assert waltz.tolist() == [[C, G][int(t // 2.0) % 2] for t in frame_times(100)]


def test_arpeggio_cycles_the_chord_tones_one_per_beat():
    pitches = chord_pitches(ChordDraft("Am Dm", bpm=60, beats_per_chord=4, voicing="arpeggio"), 64)
    am, dm = [A, C, E], [D, F, A]
    expected = [(am if t < 4 or 8 <= t < 12 else dm)[int(t) % 4 % 3] for t in frame_times(64)]
    assert pitches.tolist() == expected


def test_a_slash_chord_keeps_its_root_and_a_rest_holds_the_previous_pitch():
    assert parse_progression("C/E N.C. G7")[0][0] == C
    assert parse_progression("C/E N.C. G7")[1] is None
    chroma = chord_chroma(ChordDraft("C/E N.C. G7", bpm=60, beats_per_chord=1), 3.0)
    pitches = chroma.argmax(1)
    assert chroma.shape == (1 + 96000 // 4096, 12) and np.all(chroma.sum(1) == 1)
    assert pitches.tolist() == [[C, C, G][min(int(t), 2)] for t in frame_times(len(chroma))]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chords": "Am H7 C"}, "unknown chord 'H7' at position 2"),
    ({"chords": "  | "}, "progression is empty"),
    ({"chords": "N.C. N.C."}, "only rests"),
    ({"bpm": 0}, "bpm must be between 20 and 400 beats per minute"),
    ({"bpm": 5000}, "bpm must be between 20 and 400 beats per minute"),
    ({"bpm": math.nan}, "bpm must be between"),
    ({"time_signature": "4/5"}, "time_signature: '4/5' must look like 4/4"),
    ({"time_signature": "four"}, "time_signature: 'four'"),
    ({"voicing": "cluster"}, "voicing must be one of root, arpeggio, got 'cluster'"),
    ({"beats_per_chord": 0}, "beats_per_chord must be beats in (0, 64]"),
])
def test_bad_chord_drafts_are_one_line_errors(kwargs, message):
    options = {"chords": "Am F", "bpm": 100, **kwargs}
    with pytest.raises(DraftError, match=message.replace("(", r"\(").replace("[", r"\[")) as info:
        load_chords(ChordDraft(**options), 2.0)
    assert "\n" not in str(info.value)


def test_prepare_checks_the_model_and_the_options(tiny, tiny_melody):
    with pytest.raises(ModelCapabilityError, match="following chords needs a melody model"):
        prepare_draft(tiny, conditions(chords="Am", bpm=100), duration_s=1.0)
    with pytest.raises(DraftError, match="chords needs bpm"):
        conditions(chords="Am")
    with pytest.raises(DraftError, match="chords cannot go with melody"):
        conditions(chords="Am", bpm=100, melody="any.mid")


def test_a_chord_take_follows_its_chroma_records_it_and_reproduces(tmp_path, tiny_melody):
    params = GenerationParams(duration_s=2.0)
    chords = conditions(chords="Am F C G", bpm=120, beats_per_chord=2)
    draft = prepare_draft(tiny_melody, chords, duration_s=2.0, record_base=tmp_path)
    assert np.array_equal(draft.melody.chroma, chord_chroma(ChordDraft("Am F C G", 120, 2), 2.0))
    [item] = render_prompt(tiny_melody, "lofi piano", params, [3], [tmp_path / "chords.wav"], conditions=chords)
    record = read_sidecar(item.sidecar)["draft"]["chords"]
    assert {k: record[k] for k in ("kind", "chords", "bpm", "beats_per_chord", "voicing", "frames")} == {
        "kind": "chords", "chords": "Am F C G", "bpm": 120.0, "beats_per_chord": 2.0, "voicing": "root",
        "frames": 16}
    assert reproduce(item.sidecar, engine=tiny_melody).identical
    # the chords condition the take: another progression, same seed, other codes; the same one, same codes
    other = prepare_draft(tiny_melody, conditions(chords="C G", bpm=120, beats_per_chord=2), duration_s=2.0)
    same = prepare_draft(tiny_melody, conditions(chords="Am | F | C | G", bpm=120, beats_per_chord=2), duration_s=2.0)
    [a] = tiny_melody.generate("lofi piano", params, seeds=[3], **other.generate_kwargs())
    [b] = tiny_melody.generate("lofi piano", params, seeds=[3], **same.generate_kwargs())
    assert a.codes_sha256 != item.take.codes_sha256 and b.codes_sha256 == item.take.codes_sha256


def test_reproduce_refuses_chords_whose_chroma_changed(tmp_path, tiny_melody):
    params = GenerationParams(duration_s=1.0)
    [item] = render_prompt(tiny_melody, "pads", params, [1], [tmp_path / "c.wav"],
                           conditions=conditions(chords="Am F", bpm=100))
    record = json.loads(item.sidecar.read_text())
    record["draft"]["chords"]["chroma_sha256"] = "0" * 64  # what a changed chord parser would leave behind
    item.sidecar.write_text(json.dumps(record))
    with pytest.raises(DraftError, match="now give another chroma"):
        reproduce(item.sidecar, engine=tiny_melody)


PROMPT_FILE = """
[library]
name = "chordy"

[[prompt]]
id = "drive"
text = "synthwave night drive"
bpm = 110
key = "am"
chords = "Am | F | C | G"
beats_per_chord = 2
voicing = "arpeggio"

[[prompt]]
id = "said"
text = "lofi beat at 80 bpm in C major"
bpm = 80
key = "C"
"""


def test_prompt_files_say_tempo_and_key_once_and_carry_the_chords(tmp_path):
    from workbench.library.prompts import parse_library

    drive, said = parse_library(PROMPT_FILE, source=tmp_path / "chordy.toml").prompts
    assert drive.text == "synthwave night drive, 110 BPM, in A minor"
    chords = drive.conditions.chords
    assert (chords.chords, chords.bpm, chords.beats_per_chord, chords.voicing) == ("Am F C G", 110.0, 2.0, "arpeggio")
    assert drive.bpm == 110.0
    assert said.text == "lofi beat at 80 bpm in C major" and said.conditions.chords is None  # it already said both


@pytest.mark.parametrize(("body", "line", "message"), [
    ('bpm = 0', 5, "bpm: must be between 20 and 400 beats per minute, got 0"),
    ('key = "H"', 5, "key: 'H' must be a note and a mode"),
    ('chords = "Am H7"\nbpm = 90', 5, "chords: unknown chord 'H7' at position 2"),
    ('chords = "Am"', 5, "chords: needs bpm"),
    ('chords = "Am"\nbpm = 90\nmelody = "m.mid"', 5, "chords: cannot go with melody: a take follows one melody"),
    ('voicing = "arpeggio"', 5, "voicing: only applies with chords"),
    ('chords = "Am"\nbpm = 90\nvoicing = "cluster"', 7, "voicing: must be one of root, arpeggio"),
    ('time_signature = "4/5"', 5, "time_signature: time signature '4/5' must look like 4/4"),
])
def test_bad_musical_fields_name_their_file_line_and_key(tmp_path, body, line, message):
    from workbench.core.errors import PromptFileError
    from workbench.library.prompts import parse_library

    (tmp_path / "m.mid").write_bytes(b"MThd")
    text = f'[[prompt]]\nid = "x"\ntext = "pads"\n\n{body}\n'
    with pytest.raises(PromptFileError) as info:
        parse_library(text, source=tmp_path / "bad.toml")
    assert f"bad.toml:{line}: [x] {message}" in str(info.value)


def test_a_prompt_file_with_chords_renders_and_reproduces(tmp_path, tiny_melody):
    from workbench.render.batch import render_library

    (tmp_path / "chordy.toml").write_text(PROMPT_FILE, encoding="utf-8")
    result = render_library(tmp_path / "chordy.toml", tiny_melody, out_dir=tmp_path / "out", seeds=[1],
                            duration_s=1.0)
    assert result.ok and len(result.done) == 2
    drive = next(item for item in result.done if "drive" in str(item.sidecar))
    record = read_sidecar(drive.sidecar)
    assert record["draft"]["chords"]["voicing"] == "arpeggio" and "melody_adherence" in record["extra"]
    assert reproduce(drive.sidecar, engine=tiny_melody).identical
