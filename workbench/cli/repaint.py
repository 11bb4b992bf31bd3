"""``workbench repaint``: a window of a take sampled anew by MAGNeT, one repaint per seed, side by side with it."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console, progress_bar


def repaint(
    sidecar: Annotated[Path, typer.Argument(help="The take's .json sidecar (a mono take).")],
    start: Annotated[float, typer.Option("--from", help="Window start, seconds of the take.")],
    end: Annotated[float, typer.Option("--to", help="Window end, seconds (at most one MAGNeT segment after --from).")],
    seed_list: Annotated[str, typer.Option("--seeds", "--seed", help="Seeds of the repaints, e.g. 5 or 1-4.")] = "1",
    text: Annotated[Optional[str], typer.Option(help="What the window should sound like (default: the take's "
                                                     "prompt).")] = None,
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="The MAGNeT that repaints (default: magnet-small; tiny-magnet-50hz for built-in takes)."
    )] = None,
    folder: Annotated[Optional[Path], typer.Option("--dir", help="Folder for the repaints and index.html.")] = None,
    device: Annotated[Optional[str], typer.Option(help="Device instead of the take's recorded one.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing repaints.")] = False,
) -> None:
    """Keep a take's codes outside --from..--to exactly and sample the window anew with MAGNeT (both sides as
    context), one repaint per seed (+ a contact sheet with the take first); each repaint's sidecar names its parent
    and reproduces."""
    from workbench.core.params import parse_seeds, validate_text
    from workbench.drafts.repaint import seam_summary
    from workbench.render.repaint import render_repaint

    seeds = parse_seeds(seed_list)
    if text is not None:
        validate_text(text)
    with progress_bar(f"{len(seeds)} repaint{'s' if len(seeds) != 1 else ''}") as progress:
        rendered, index = render_repaint(sidecar, from_s=start, to_s=end, seeds=seeds, text=text, model=model,
                                         folder=folder, device=device, force=force, progress=progress)
    for item in rendered:
        repainted = item.record["draft"]["repaint"]
        console.print(f"wrote {item.path} (seed {item.take.seed}, {start:g}-{end:g} s repainted by "
                      f"{repainted['model']}; {seam_summary(item.take.extra['seams'])}) + {item.sidecar.name}")
    console.print(f"contact sheet: {index}")
