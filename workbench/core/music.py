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
#: How far two tempi may differ and still count as the same (a fraction of the first): a measured tempo against
#: the one asked for, a ``--bpm 110`` filter.
BPM_TOLERANCE = 0.02
#: What a chord becomes in a chroma of one pitch class per frame.
VOICINGS = ("root", "arpeggio")
#: Symbols read as a rest (no chord).
RESTS = ("N.C.", "NC", "N.C", "-")
_BEAT_UNITS = (1, 2, 4, 8, 16)
_KEY = re.compile(r"^\s*([A-Ga-g])\s*([#b♯♭]?)\s*(major|minor|maj|min|m)?\s*$", re.IGNORECASE)
_SAYS_BPM = re.compile(r"(\d+(?:\.\d+)?)\s*bpm\b", re.IGNORECASE)
_SAYS_KEY = re.compile(r"\b[A-G][#b♯♭]?\s*(major|minor)\b", re.IGNORECASE)
# a key a text asks for: the note in capitals ("A minor", "Bb major"), so that "a minor change" is not one
_ASKS_KEY = re.compile(r"\b([A-G])([#b♯♭]?)\s*((?i:major|minor))\b")
_NATURALS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
#: Key names by tonic pitch class (0 = C) as usually spelled: flats for Db Eb Ab Bb major, sharps for C# G# minor.
MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

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


def same_tempo(asked: float, measured: float) -> bool:
    """Whether ``measured`` is within :data:`BPM_TOLERANCE` of ``asked``."""
    return abs(measured - asked) <= BPM_TOLERANCE * asked


def parse_bpm_range(text: Any, name: str = "bpm range") -> tuple[float, float]:
    """A tempo range ``"100-120"`` (inclusive), or one tempo ``"110"`` meaning within :data:`BPM_TOLERANCE` of it."""
    low, dash, high = str(text).strip().partition("-")
    try:
        bounds = (float(low), float(high)) if dash else (float(low) * (1 - BPM_TOLERANCE),
                                                         float(low) * (1 + BPM_TOLERANCE))
    except ValueError:
        bounds = (math.nan, math.nan)
    if not all(math.isfinite(b) and b > 0 for b in bounds) or bounds[0] > bounds[1]:
        raise DraftError(f"{name} {text!r} must be a tempo range like 100-120 or one tempo like 110 (beats per "
                         "minute)")
    return bounds


def beats_per_bar(signature: Any) -> int:
    """The beats per bar of a time signature such as ``"4/4"``, ``"3/4"``, ``"6/8"``."""
    parts = str(signature).strip().split("/")
    if (not isinstance(signature, str) or len(parts) != 2 or not all(p.strip().isdigit() for p in parts)
            or not 1 <= int(parts[0]) <= 32 or int(parts[1]) not in _BEAT_UNITS):
        raise DraftError(f"time signature {signature!r} must look like 4/4, 3/4 or 6/8")
    return int(parts[0])


def canonical_key(key: Any) -> str:
    """A key such as ``"Am"``, ``"a minor"``, ``"F# maj"`` as ``"A minor"`` / ``"F# major"``."""
    match = _KEY.match(key) if isinstance(key, str) else None
    if not match:
        raise DraftError(f"key {key!r} must be a note and a mode, e.g. 'A minor', 'F# major' or 'Am'")
    note, accidental, mode = match.groups()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    minor = mode is not None and mode.lower() in ("minor", "min") or mode == "m"
    return f"{note.upper()}{accidental} {'minor' if minor else 'major'}"


def key_name(tonic: int, minor: bool) -> str:
    """The key with tonic pitch class ``tonic`` (0 = C ... 11 = B), e.g. ``(9, True)`` -> ``"A minor"``."""
    return f"{(MINOR_NAMES if minor else MAJOR_NAMES)[tonic % 12]} {'minor' if minor else 'major'}"


def key_parts(key: Any) -> tuple[int, bool]:
    """``(tonic pitch class, minor)`` of a key in any spelling :func:`canonical_key` reads (``"Bb major"`` and
    ``"A# major"`` alike give ``(10, False)``)."""
    note, mode = canonical_key(key).split(" ")
    return (_NATURALS[note[0]] + {"#": 1, "b": -1}.get(note[1:], 0)) % 12, mode == "minor"


def key_rank(key: Any) -> int:
    """Where a key sorts: by tonic from C up, the major before the minor (``"C major"`` 0, ``"C minor"`` 1 ...
    ``"B minor"`` 23)."""
    tonic, minor = key_parts(key)
    return tonic * 2 + int(minor)


def relative_key(key: Any) -> str:
    """The relative major of a minor key and the relative minor of a major one (``"A minor"`` <-> ``"C major"``)."""
    tonic, minor = key_parts(key)
    return key_name(tonic + 3, False) if minor else key_name(tonic + 9, True)


def said_tempo_and_key(text: str) -> tuple[float | None, str | None]:
    """The tempo (``"110 BPM"``, within the accepted range) and the key (``"A minor"``, ``"Bb major"``: the note in
    capitals) a prompt's text asks for, each None when it says none."""
    bpm_match, key_match = _SAYS_BPM.search(text), _ASKS_KEY.search(text)
    bpm = float(bpm_match.group(1)) if bpm_match else None
    key = canonical_key(f"{key_match.group(1)}{key_match.group(2)} {key_match.group(3)}") if key_match else None
    return (bpm if bpm is not None and MIN_BPM <= bpm <= MAX_BPM else None), key


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
