"""Music notation values: chord symbols (parsed by ``pychord``), tempo, time signature and key.

Shared by chord drafts (which turn them into chroma) and prompt files (which validate them and add tempo
and key to the text in one canonical way).
"""

from __future__ import annotations

import math
import re
from typing import Any

from workbench.core.errors import DraftError

#: Tempo range accepted, beats per minute.
MIN_BPM, MAX_BPM = 20.0, 400.0
#: What a chord becomes in a chroma of one pitch class per frame.
VOICINGS = ("root", "arpeggio")
#: Symbols read as a rest (no chord).
RESTS = ("N.C.", "NC", "N.C", "-")
_BEAT_UNITS = (1, 2, 4, 8, 16)
_KEY = re.compile(r"^\s*([A-Ga-g])\s*([#b♯♭]?)\s*(major|minor|maj|min|m)?\s*$", re.IGNORECASE)
_SAYS_BPM = re.compile(r"\d\s*bpm\b", re.IGNORECASE)
_STATED_BPM = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d+)?)\s*bpm\b", re.IGNORECASE)
_SAYS_KEY = re.compile(r"\b[A-G][#b♯♭]?\s*(major|minor)\b", re.IGNORECASE)

#: The time signature music has when nobody says otherwise.
COMMON_TIME = "4/4"
#: Most bars a loop may have.
MAX_BARS = 64


def check_bpm(value: Any, name: str = "bpm") -> float:
    """A tempo in beats per minute within [:data:`MIN_BPM`, :data:`MAX_BPM`]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and MIN_BPM <= value <= MAX_BPM):
        raise DraftError(f"{name} must be between {MIN_BPM:g} and {MAX_BPM:g} beats per minute, got {value!r}")
    return float(value)


def beats_per_bar(signature: Any) -> int:
    """The beats per bar of a time signature such as ``"4/4"``, ``"3/4"``, ``"6/8"``."""
    parts = str(signature).strip().split("/")
    if (not isinstance(signature, str) or len(parts) != 2 or not all(p.strip().isdigit() for p in parts)
            or not 1 <= int(parts[0]) <= 32 or int(parts[1]) not in _BEAT_UNITS):
        raise DraftError(f"time signature {signature!r} must look like 4/4, 3/4 or 6/8")
    return int(parts[0])


def stated_bpm(text: str) -> float | None:
    """The tempo a prompt's words state ("lofi, 80 BPM" -> 80.0), when it states one within range; else None."""
    found = _STATED_BPM.search(text or "")
    if not found:
        return None
    bpm = float(found.group(1))
    return bpm if MIN_BPM <= bpm <= MAX_BPM else None


def canonical_key(key: Any) -> str:
    """A key such as ``"Am"``, ``"a minor"``, ``"F# maj"`` as ``"A minor"`` / ``"F# major"``."""
    match = _KEY.match(key) if isinstance(key, str) else None
    if not match:
        raise DraftError(f"key {key!r} must be a note and a mode, e.g. 'A minor', 'F# major' or 'Am'")
    note, accidental, mode = match.groups()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    minor = mode is not None and mode.lower() in ("minor", "min") or mode == "m"
    return f"{note.upper()}{accidental} {'minor' if minor else 'major'}"


def with_tempo_and_key(text: str, bpm: float | None, key: str | None) -> str:
    """``text`` with ``", 110 BPM"`` and ``", in A minor"`` appended where it does not already say a tempo
    (a number before "BPM") or a key (a note before "major"/"minor")."""
    if bpm is not None and not _SAYS_BPM.search(text):
        text = f"{text}, {bpm:g} BPM"
    if key is not None and not _SAYS_KEY.search(text):
        text = f"{text}, in {canonical_key(key)}"
    return text


def parse_progression(text: Any) -> list[list[int] | None]:
    """Chord symbols (separated by spaces, commas or bars) to pitch-class lists, root first; None for a rest.

    Raises:
        DraftError: ``unknown chord 'H7' at position 3`` (1-based), an empty progression, or only rests.
    """
    from pychord import Chord

    if not isinstance(text, str):
        raise DraftError(f"chords must be text like 'Am F C G', got {text!r}")
    symbols = text.replace("|", " ").replace(",", " ").split()
    if not symbols:
        raise DraftError("the chord progression is empty; give chords like 'Am F C G'")
    chords: list[list[int] | None] = []
    for position, symbol in enumerate(symbols, start=1):
        if symbol.upper() in RESTS:
            chords.append(None)
            continue
        try:
            chord = Chord(symbol)
        except (ValueError, KeyError, IndexError):
            raise DraftError(f"unknown chord {symbol!r} at position {position}") from None
        tones = [value % 12 for value in chord.components(visible=False)]
        root = tones[1] if chord.on else tones[0]  # a slash chord lists its bass first: root first here
        chords.append([root, *(t for t in tones if t != root)])
    if all(chord is None for chord in chords):
        raise DraftError("the chord progression has only rests (N.C.); give at least one chord")
    return chords


def progression_text(text: str) -> str:
    """A progression written one canonical way (single spaces, no bars or commas)."""
    return " ".join(text.replace("|", " ").replace(",", " ").split())
