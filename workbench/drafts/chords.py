"""Chord drafts: a chord progression and a tempo as the exact chroma a melody model is conditioned on.

MusicGen-Melody's chroma holds one pitch class per frame, so a chord becomes either its root
(``voicing="root"``) or its tones one after the other, one per beat (``voicing="arpeggio"``). Chord symbols
are parsed by ``pychord``; ``N.C.`` is a rest (frames hold the previous chord's last pitch class, like the
silent frames of audio and MIDI drafts). The progression repeats until the take ends.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from workbench.core.conditions import ChordsInput
from workbench.core.errors import DraftError
from workbench.core.music import parse_progression
from workbench.drafts.grid import CHROMA_HOP, CHROMA_RATE, CHROMA_SAMPLE_RATE, hold, one_hot
from workbench.drafts.melody import Melody


def chord_pitches(draft: ChordsInput, frames: int) -> np.ndarray:
    """The pitch class of each chroma frame (frame ``i`` centred ``i / CHROMA_RATE`` s into the take).

    The beat at a frame is ``floor(t * bpm / 60)``; its chord is ``floor(beat / beats_per_chord)`` modulo
    the progression's length; ``root`` takes the chord's root, ``arpeggio`` its tone number
    ``beat within the chord`` modulo its tone count. Rest frames are -1 (filled by :func:`chord_chroma`).
    """
    chords = parse_progression(draft.chords)
    times = np.arange(frames) / CHROMA_RATE
    beats = np.floor(times * draft.bpm / 60.0 + 1e-9)
    chord_number = np.floor(beats / draft.beats + 1e-9)
    chord_index = chord_number.astype(np.int64) % len(chords)
    beat_in_chord = np.floor(beats - chord_number * draft.beats + 1e-9).astype(np.int64)
    pitch = np.full(frames, -1, dtype=np.int64)
    for i, (index, beat) in enumerate(zip(chord_index, beat_in_chord, strict=True)):
        tones = chords[index]
        if tones is not None:
            pitch[i] = tones[0] if draft.voicing == "root" else tones[beat % len(tones)]
    return pitch


def chord_chroma(draft: ChordsInput, duration_s: float) -> np.ndarray:
    """One-hot chroma ``[frames, 12]`` of a take of ``duration_s`` seconds (``1 + round(d * 32000) // 4096``
    frames, the grid of MIDI drafts); rests hold the previous pitch class (leading rests take the first)."""
    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
        raise DraftError(f"a chord draft needs the take's duration in seconds, got {duration_s!r}")
    frames = 1 + round(duration_s * CHROMA_SAMPLE_RATE) // CHROMA_HOP
    return one_hot(hold(chord_pitches(draft, frames)))


def chroma_sha256(chroma: np.ndarray) -> str:
    """Hash of a chroma array (float32 bytes, C order) recorded in the sidecar."""
    return hashlib.sha256(np.ascontiguousarray(chroma, dtype=np.float32).tobytes()).hexdigest()


def load_chords(draft: ChordsInput, duration_s: float) -> Melody:
    """A chord draft as MusicGen-Melody conditioning (a :class:`Melody` whose record says ``kind: chords``)."""
    chroma = chord_chroma(draft, duration_s)
    chroma.setflags(write=False)
    record: dict[str, Any] = {"kind": "chords", "chords": draft.chords,
                              "bpm": draft.bpm, "beats_per_chord": draft.beats,
                              "time_signature": draft.time_signature, "voicing": draft.voicing,
                              "duration_s": float(duration_s), "frames": int(len(chroma)),
                              "chroma_sha256": chroma_sha256(chroma)}
    return Melody(chroma=chroma, frame_rate=CHROMA_RATE, record=record)


def chords_from_record(record: dict[str, Any]) -> Melody:
    """Rebuild a chord draft from its sidecar record; the chroma must hash as recorded.

    Raises:
        DraftError: the record is incomplete, or the same chords now give another chroma (a changed chord
            parser), naming both hashes.
    """
    try:
        draft = ChordsInput(record["chords"], record["bpm"], record["beats_per_chord"], record["time_signature"],
                            record["voicing"])
        melody = load_chords(draft, record["duration_s"])
    except (KeyError, TypeError) as error:
        raise DraftError(f"sidecar field 'draft.chords' is incomplete ({error})") from None
    if melody.record["chroma_sha256"] != record.get("chroma_sha256"):
        raise DraftError(f"the chords {record['chords']!r} now give another chroma (sha256 "
                         f"{melody.record['chroma_sha256'][:12]} instead of {str(record.get('chroma_sha256'))[:12]}):"
                         " the chord parser changed since the take was made")
    return melody

