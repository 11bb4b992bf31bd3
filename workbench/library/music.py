"""The musical fields of a prompt-file entry: ``bpm``, ``key``, ``time_signature``, ``chords``,
``beats_per_chord``, ``voicing``, ``loop_bars`` and ``melody_stem``, checked one problem per key; and its segments."""

from __future__ import annotations

from typing import Any

from workbench.core.errors import DraftError, ParamsError
from workbench.core.music import (
    MAX_BARS,
    VOICINGS,
    beats_per_bar,
    canonical_key,
    check_bpm,
    parse_progression,
    progression_text,
)
from workbench.core.segments import Segments, check_segments
from workbench.core.stems import STEMS, parse_stem
from workbench.library.text import finite_number

MUSIC_KEYS = ("bpm", "key", "time_signature", "chords", "beats_per_chord", "voicing", "loop_bars", "melody_stem")


def check_music(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The entry's musical fields (normalised) and its problems as ``(key, message)`` pairs."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    checks = {"bpm": lambda v: check_bpm(v, "bpm"), "key": canonical_key,
              "time_signature": lambda v: (beats_per_bar(v), v.strip())[1],
              "chords": lambda v: (parse_progression(v), progression_text(v))[1]}
    for key, check in checks.items():
        if key in raw:
            try:
                values[key] = check(raw[key])
            except DraftError as error:
                problems.append((key, str(error).removeprefix(f"{key} ")))
    if "beats_per_chord" in raw:
        number = finite_number(raw["beats_per_chord"])
        if number is None or not 0 < number <= 64:
            problems.append(("beats_per_chord", f"must be beats in (0, 64], got {raw['beats_per_chord']!r}"))
        else:
            values["beats_per_chord"] = number
    if "loop_bars" in raw:
        bars = raw["loop_bars"]
        if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
            problems.append(("loop_bars", f"must be a whole number of bars from 1 to {MAX_BARS}, got {bars!r}"))
        else:
            values["loop_bars"] = bars
    if "voicing" in raw:
        if raw["voicing"] in VOICINGS:
            values["voicing"] = raw["voicing"]
        else:
            problems.append(("voicing", f"must be one of {', '.join(VOICINGS)}, got {raw['voicing']!r}"))
    if "melody_stem" in raw:
        value = raw["melody_stem"]
        try:
            parse_stem("", value if isinstance(value, str) else repr(value))
            values["melody_stem"] = value.strip()
        except DraftError:
            problems.append(("melody_stem", f"must be one of {', '.join(STEMS)} or 'demucs:NAME', got {value!r}"))
        if "melody" not in raw:
            problems.append(("melody_stem", "only applies with melody = \"...\""))
    for key in ("beats_per_chord", "voicing"):
        if key in raw and "chords" not in raw:
            problems.append((key, "only applies with chords = \"...\""))
    if "chords" in raw and "bpm" not in raw:
        problems.append(("chords", "needs bpm = ... (the tempo the chords change at)"))
    if "chords" in raw and "melody" in raw:
        problems.append(("chords", "give melody or chords, not both: a take follows one melody"))
    return values, problems


def entry_segments(value: Any, duration_s: float) -> tuple[Segments, str | None]:
    """An entry's ``[[prompt.segments]]`` (``at`` seconds and ``text`` each) as checked segments, or a problem."""
    if value is None:
        return (), None
    if not isinstance(value, list) or not all(isinstance(t, dict) and set(t) == {"at", "text"} for t in value):
        return (), 'must be [[prompt.segments]] tables, each with at = SECONDS and text = "..."'
    try:
        return check_segments([(table["at"], table["text"]) for table in value], duration_s), None
    except ParamsError as error:
        return (), str(error)
