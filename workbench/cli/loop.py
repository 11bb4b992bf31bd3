"""``workbench loop``: cut a seamless, bar-aligned loop from a take."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from workbench.cli.options import console

if TYPE_CHECKING:
    from workbench.render.loops import Loop


def loop(
    take: Annotated[Path, typer.Argument(help="A take's audio file or sidecar (.json).")],
    bars: Annotated[Optional[int], typer.Option("--bars", help="Whole bars in the loop (default: the most of 1, 2, "
                                                "4, 8... that fit the take).")] = None,
    bpm: Annotated[Optional[float], typer.Option(
        help="Tempo (default: the take's chords, prompt file or prompt ('80 BPM'), else estimated from the audio).")
        ] = None,
    time_signature: Annotated[Optional[str], typer.Option(help="e.g. 4/4 (default: recorded, else 4/4).")] = None,
) -> None:
    """Write TAKE.loop.wav: exactly N bars from a beat, its tail crossfaded into its head (+ TAKE.loop.json)."""
    from workbench.render.loops import write_loop

    path, cut = write_loop(take, bars=bars, bpm=bpm, time_signature=time_signature)
    report(path, cut)


def report(path: Path, cut: Loop) -> None:
    """The one-line summary of a written loop."""
    bars = f"{cut.bars} bar{'s' if cut.bars != 1 else ''}"
    console.print(f"wrote {path} ({bars}, {cut.audio.shape[-1] / cut.sample_rate:.3f} s at {cut.bpm:.2f} BPM "
                  f"{cut.bpm_source}, from {cut.start_s:.3f} s)")
