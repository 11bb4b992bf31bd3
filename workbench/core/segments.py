"""Prompts that change over time: a take's segments, each ``(start seconds, text)``.

The take's own text conditions it until the first segment starts; from each segment's start its text does.
Generation cuts a pass at every segment start and continues from the codes made so far, so the music stays
continuous while the conditioning changes (see :meth:`workbench.engine.Engine.generate`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from workbench.core.errors import ParamsError
from workbench.core.params import validate_text

#: Segments as stored on a take and in its sidecar: ``((start_s, text), ...)``, sorted, starts distinct.
Segments = tuple[tuple[float, str], ...]


def parse_segment(spec: str) -> tuple[float, str]:
    """``"16:full drums, the drop"`` -> ``(16.0, "full drums, the drop")``."""
    start, sep, text = str(spec).partition(":")
    try:
        seconds = float(start)
    except ValueError:
        seconds = math.nan
    if not sep or not math.isfinite(seconds):
        raise ParamsError(f"segment {spec!r} must be SECONDS:TEXT, e.g. '16:full drums, the drop'")
    return seconds, text


def check_segments(segments: Iterable[Any] | None, duration_s: float) -> Segments:
    """Segments as ``((start_s, text), ...)`` after checking them against a take of ``duration_s`` seconds.

    Accepts pairs or ``{"start_s": ..., "text": ...}`` records (a sidecar's). Raises ``ParamsError`` for a start
    that is negative, not before the end, or not after the one before it (segments are given in time order and
    may not overlap), and for a bad text.
    """
    if not segments:
        return ()
    checked: list[tuple[float, str]] = []
    for index, item in enumerate(segments, start=1):
        try:
            start, text = (item["start_s"], item["text"]) if isinstance(item, dict) else item
        except (KeyError, TypeError, ValueError):
            raise ParamsError(f"segment {index} must be (start seconds, text), got {item!r}") from None
        if isinstance(start, bool) or not isinstance(start, (int, float)) or not math.isfinite(start) or start < 0:
            raise ParamsError(f"segment {index} starts at {start!r}; a start is seconds >= 0")
        if start >= duration_s:
            raise ParamsError(f"segment {index} starts at {start:g} s, not before the take's end ({duration_s:g} s)")
        if checked and start <= checked[-1][0]:
            raise ParamsError(f"segment {index} starts at {start:g} s, not after segment {index - 1} "
                              f"({checked[-1][0]:g} s): give segments in time order, one start each")
        try:
            checked.append((float(start), validate_text(text)))
        except ParamsError as error:
            raise ParamsError(f"segment {index}: {error}") from None
    return tuple(checked)


def keyed_text(text: str, segments: Segments) -> str:
    """The text a render key hashes: the take's own, plus its segments when it has any (so keys of takes
    without segments are what they always were)."""
    return text if not segments else text + " || " + json.dumps(segment_records(segments))


def parse_segment_lines(text: str | None) -> list[tuple[float, str]]:
    """Segments typed one per line (``16: full drums``); blank lines skipped."""
    return [parse_segment(line) for line in (text or "").splitlines() if line.strip()]


def timeline(text: str, segments: Segments, duration_s: float) -> str:
    """``0-16 s soft intro · 16-40 s the drop``: which text conditions which stretch of a take."""
    spans = ([(0.0, text)] if not segments or segments[0][0] > 0 else []) + list(segments)
    ends = [start for start, _ in spans[1:]] + [duration_s]
    return " · ".join(f"{start:g}–{end:g} s {words}" for (start, words), end in zip(spans, ends))


def segment_records(segments: Segments) -> list[dict[str, Any]]:
    """What a sidecar stores: ``[{"start_s": 16.0, "text": "..."}, ...]``."""
    return [{"start_s": start, "text": text} for start, text in segments]


__all__ = ["Segments", "check_segments", "keyed_text", "parse_segment", "parse_segment_lines", "segment_records",
           "timeline"]
