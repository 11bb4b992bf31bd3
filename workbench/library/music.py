"""The musical facts of a prompt-file entry (``bpm``, ``key``, ``time_signature``, ``loop_bars``), checked one problem
per key, and the form of its segments."""

from __future__ import annotations

from typing import Any

from workbench.core.errors import DraftError
from workbench.core.music import MAX_BARS, beats_per_bar, canonical_key, check_bpm

#: The entry's musical facts: what the music is (tempo, key, metre) and its loop; they also go into the text.
MUSIC_KEYS = ("bpm", "key", "time_signature", "loop_bars")


def check_music(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The entry's musical facts (normalised) and their problems as ``(key, message)`` pairs."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    checks = {"bpm": lambda v: check_bpm(v, "bpm"), "key": canonical_key,
              "time_signature": lambda v: (beats_per_bar(v), v.strip())[1]}
    for key, check in checks.items():
        if key in raw:
            try:
                values[key] = check(raw[key])
            except DraftError as error:
                problems.append((key, str(error).removeprefix(f"{key} ")))
    if "loop_bars" in raw:
        bars = raw["loop_bars"]
        if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
            problems.append(("loop_bars", f"must be a whole number of bars from 1 to {MAX_BARS}, got {bars!r}"))
        else:
            values["loop_bars"] = bars
    return values, problems


def entry_segments(value: Any) -> tuple[list[tuple[Any, Any]], str | None]:
    """An entry's ``[[prompt.segments]]`` (``at`` seconds and ``text`` each) as ``(start, text)`` pairs, or a
    problem with their form (their values are checked with the rest of the take's conditions)."""
    if value is None:
        return [], None
    if not isinstance(value, list) or not all(isinstance(t, dict) and set(t) == {"at", "text"} for t in value):
        return [], 'must be [[prompt.segments]] tables, each with at = SECONDS and text = "..."'
    return [(table["at"], table["text"]) for table in value], None
