"""``workbench stems`` and ``workbench analyze``: a take's stems, and its tempo and key measured again."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console


def stems(
    take: Annotated[Path, typer.Argument(help="A take's sidecar (.json) or audio file.")],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="Demucs model: htdemucs (default), htdemucs_ft, htdemucs_6s, mdx_extra...; "
        "demucs_unittest: Demucs' offline test model (random weights).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing stems.")] = False,
) -> None:
    """Split a take into stems with Demucs (drums, bass, other, vocals): TAKE.stem-drums.wav and so on beside it,
    each with a sidecar naming the take and the model; the stems sum back to the take."""
    from workbench.render.stems import split_take

    split = split_take(take, **({"model": model} if model else {}), force=force)
    for path in split.paths.values():
        console.print(f"wrote {path}", markup=False)
    console.print(f"{split.model}: the separator's own stems missed the take by {split.residual_db:.1f} dB (each "
                  f"stem took a quarter of that); the written stems sum back to the take within "
                  f"{split.max_abs_error:.1e} per sample", markup=False)


def analyze(
    takes: Annotated[list[Path], typer.Argument(help="Takes' sidecars (.json) or audio files.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder whose history indexes the takes.")
                   ] = Path("outputs"),
) -> None:
    """Measure the tempo and key of existing takes (those written before they were measured, or again) and write
    them into their sidecars and the history; prints them against what each prompt asked."""
    from workbench.store.history import DB_NAME, History
    from workbench.store.measured import measure_take, versus

    history = History(out) if (out / DB_NAME).is_file() else None
    for take in takes:
        _, record = measure_take(take, history)
        console.print(f"{take}: {versus(record).text()}", markup=False)
