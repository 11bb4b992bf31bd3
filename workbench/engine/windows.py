"""The passes of a take longer than one window, and which text conditions each (segments).

A pass decodes ``new`` frames continuing from ``context`` frames already made. The first pass carries in at
most half a window of an audio prompt (all of it stays in the take); later passes carry in ``window - stride``
frames. Segments cut a pass at each segment's start, so its text takes over exactly there; the pass after a
cut carries in as much of what was made as a later pass would (less only when less exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.core.segments import Segments


@dataclass(frozen=True)
class Pass:
    """One decoding pass: frames carried in, new frames, where its new frames start (in generated frames, the
    prompt not counted), and the index of the segment whose text conditions it (-1: the take's own text)."""

    context: int
    new: int
    start: int
    segment: int = -1


def plan_passes(window: int, stride: int, prompt_frames: int, frames: int, cuts: Sequence[int] = ()) -> list[Pass]:
    """The passes that make ``frames`` new frames; ``cuts`` are segment starts in frames (sorted, distinct)."""
    passes: list[Pass] = []
    context, made = min(prompt_frames, window // 2), 0
    inner = [cut for cut in cuts if 0 < cut < frames]
    while made < frames:
        limit = next((cut for cut in inner if cut > made), frames)
        new = min(limit - made, window - context)
        segment = sum(1 for cut in cuts if cut <= made) - 1
        passes.append(Pass(context, new, made, segment))
        made += new
        context = min(window - stride, prompt_frames + made)
    return passes


def segment_cuts(segments: Segments, frame_rate: int) -> list[int]:
    """Each segment's start, in frames."""
    return [round(start * frame_rate) for start, _ in segments]


def pass_texts(texts: list[str], segments: Segments, segment: int) -> list[str]:
    """The batch's texts for a pass conditioned by ``segment`` (-1: the takes' own texts)."""
    return list(texts) if segment < 0 else [segments[segment][1]] * len(texts)


__all__ = ["Pass", "plan_passes", "pass_texts", "segment_cuts"]
