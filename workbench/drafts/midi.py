"""MIDI melody drafts: the dominant note per chroma frame, on MusicGen-Melody's chroma grid."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DraftError
from workbench.drafts.checks import DRAFT_FORMATS, window_bounds
from workbench.drafts.grid import CHROMA_HOP, CHROMA_RATE, CHROMA_SAMPLE_RATE, hold, one_hot


def _instruments(path: Path, midi: Any, track: str | int | None) -> list[Any]:
    """The instruments to take notes from: ``track`` (index or name), or all pitched ones."""
    if not any(inst.notes for inst in midi.instruments):
        raise DraftError(f"melody draft {path}: the MIDI file has no notes")
    if not any(inst.notes for inst in midi.instruments if not inst.is_drum):
        raise DraftError(f"melody draft {path}: the MIDI file has only drum notes; a melody needs pitched notes")
    if track is None:
        return [inst for inst in midi.instruments if not inst.is_drum]
    listing = ", ".join(f"{i}: {inst.name or '(unnamed)'}{' (drums)' if inst.is_drum else ''}"
                        for i, inst in enumerate(midi.instruments))
    name = str(track).strip()
    if isinstance(track, bool) or not isinstance(track, (int, str)):
        chosen = []
    elif name.isdigit():
        chosen = [midi.instruments[int(name)]] if int(name) < len(midi.instruments) else []
    else:
        chosen = [inst for inst in midi.instruments if inst.name.strip().lower() == name.lower()]
    if not chosen:
        raise DraftError(f"melody draft {path}: no MIDI track {track!r}; tracks: {listing}")
    if all(inst.is_drum for inst in chosen):
        raise DraftError(f"melody draft {path}: MIDI track {track!r} is a drum track; tracks: {listing}")
    return [inst for inst in chosen if not inst.is_drum]


def midi_chroma(path: Path, start_s: float, end_s: float | None, track: str | int | None, max_s: float
                ) -> tuple[np.ndarray, float, float]:
    """One-hot chroma of the dominant note per frame (see :func:`load_melody`)."""
    import pretty_midi

    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as error:  # noqa: BLE001 - mido/pretty_midi raise many types on corrupt files
        raise DraftError(f"melody draft {path}: not a readable MIDI file ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'corrupt'}); {DRAFT_FORMATS}") from None
    instruments = _instruments(path, midi, track)
    start, end = window_bounds(path, midi.get_end_time(), start_s, end_s, max_s)
    return notes_chroma(path, [n for inst in instruments for n in inst.notes], start, end), start, end


def notes_chroma(path: Path, notes: Iterable[Any], start: float, end: float) -> np.ndarray:
    """One-hot chroma of the dominant note per frame of ``start``..``end`` (notes have ``start``, ``end``, ``pitch``
    and ``velocity``, seconds; ``path`` names the draft in errors)."""
    frames = 1 + round((end - start) * CHROMA_SAMPLE_RATE) // CHROMA_HOP
    centres = start + np.arange(frames) / CHROMA_RATE
    half = 0.5 / CHROMA_RATE
    best = np.zeros(frames)  # velocity x seconds of overlap with the frame's span
    best_pitch = np.full(frames, -1)
    for note in notes:
        lo = max(0, math.floor((note.start - start - half) * CHROMA_RATE))
        hi = min(frames, math.ceil((note.end - start + half) * CHROMA_RATE) + 1)
        if lo >= hi:
            continue
        t = centres[lo:hi]
        score = note.velocity * np.clip(np.minimum(note.end, t + half) - np.maximum(note.start, t - half), 0, None)
        tie = np.isclose(score, best[lo:hi], rtol=0, atol=1e-9)
        wins = (score > 0) & ((score > best[lo:hi] + 1e-9) | (tie & (note.pitch > best_pitch[lo:hi])))
        best[lo:hi] = np.where(wins, score, best[lo:hi])
        best_pitch[lo:hi] = np.where(wins, note.pitch, best_pitch[lo:hi])
    if np.all(best_pitch < 0):
        raise DraftError(f"melody draft {path}: no notes sound between {start:g} and {end:g} s")
    return one_hot(hold(np.where(best_pitch >= 0, best_pitch % 12, -1)))


__all__ = ["midi_chroma", "notes_chroma"]
