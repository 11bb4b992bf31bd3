"""``workbench branch``: retakes of a take from a point, side by side with it."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console, progress_bar


def branch(
    sidecar: Annotated[Path, typer.Argument(help="The take's .json sidecar.")],
    at: Annotated[float, typer.Option("--at", help="Branch point, seconds: the take's codes before it are kept.")],
    seed_list: Annotated[str, typer.Option("--seeds", "--seed", help="Seeds of the retakes, e.g. 5 or 5-8.")] = "1",
    duration: Annotated[Optional[float], typer.Option(
        "--duration", "-d", help="Length of each retake, kept part included (default: the take's).")] = None,
    text: Annotated[Optional[str], typer.Option(help="Another prompt for the new part (default: the take's).")
                    ] = None,
    folder: Annotated[Optional[Path], typer.Option("--dir", help="Folder for the retakes and index.html.")] = None,
    device: Annotated[Optional[str], typer.Option(help="Device instead of the recorded one.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing retakes.")] = False,
) -> None:
    """Keep the first --at seconds of a take exactly and render the rest anew, one retake per seed (+ a contact
    sheet with the take first); each retake's sidecar names its parent and reproduces."""
    from workbench.core.params import parse_seeds, validate_text
    from workbench.render.branch import render_branch

    seeds = parse_seeds(seed_list)
    if text is not None:
        validate_text(text)
    with progress_bar(f"{len(seeds)} retake{'s' if len(seeds) != 1 else ''}") as progress:
        rendered, index = render_branch(sidecar, at_s=at, seeds=seeds, duration_s=duration, text=text,
                                        folder=folder, device=device, force=force, progress=progress)
    for item in rendered:
        console.print(f"wrote {item.path} (seed {item.take.seed}, {item.take.duration_s:.2f} s, the first {at:g} s "
                      f"kept) + {item.sidecar.name}")
    console.print(f"contact sheet: {index}")
