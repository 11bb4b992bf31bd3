"""CLI commands over prompt libraries and the take history: list, render, history, rate, favorite."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli import app
from .cli_support import GenOpts, console, err_console, with_options
from .errors import PromptFileError

LibraryPaths = Annotated[Optional[list[Path]], typer.Argument(help="Prompt files or folders (default: prompts/).")]


def _libraries(paths: Optional[list[Path]]) -> list:
    from .library import load_libraries

    try:
        return load_libraries(paths or [Path("prompts")])
    except PromptFileError as error:
        for problem in error.problems:  # every problem, one line each, then the usual one-line summary
            err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        raise


@app.command("list")
def list_libraries(paths: LibraryPaths = None) -> None:
    """Show prompt libraries with their entries, tags and counts."""
    from rich.table import Table

    from .library import summarize

    libraries = _libraries(paths)
    table = Table("library", "file", "entries", "templates", "tags", "description")
    for row in summarize(libraries):
        table.add_row(row["name"], row["file"], str(row["entries"]), str(row["templates"]),
                      ", ".join(row["tags"]), row["description"])
    console.print(table)
    for library in libraries:
        console.print(f"[bold]{library.name}[/]: " + ", ".join(p.id for p in library.prompts))


@app.command()
@with_options(gen=GenOpts)
def render(
    paths: LibraryPaths,
    gen: GenOpts,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="Entry or template ids.")] = None,
    tags: Annotated[Optional[list[str]], typer.Option("--tags", help="Keep entries with any of these tags.")] = None,
    seed_list: Annotated[Optional[str], typer.Option("--seeds", help="Override the files' seeds, e.g. 1-4.")] = None,
    batch_size: Annotated[int, typer.Option(help="Takes per batched pass.")] = 4,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; load no model.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Render on Ray (local instance unless --ray-address).")] = False,
    ray_address: Annotated[Optional[str], typer.Option(help="Ray cluster address, e.g. auto or ray://head:10001.")
                           ] = None,
    ray_workers: Annotated[Optional[int], typer.Option(help="Model actors (default: one per GPU, else 1).")] = None,
    ray_cpus: Annotated[int, typer.Option(help="CPUs per actor on CPU-only clusters.")] = 1,
    ray_write_on: Annotated[str, typer.Option(help="'driver' or 'workers' (shared output folder).")] = "driver",
) -> None:
    """Render prompt files (entry x seed), resumably, into OUT/<library>/<entry>/s<seed>.wav."""
    from .cli_render import run_render

    runner = None
    if ray or ray_address:
        from .distributed import RayRunner

        runner = RayRunner(address=ray_address, workers=ray_workers, cpus_per_worker=ray_cpus, device=gen.device,
                           write_on=ray_write_on)
    ok = run_render(_libraries(paths), gen, only=only or [], tags=tags or [], seed_list=seed_list,
                    batch_size=batch_size, dry_run=dry_run, runner=runner)
    raise typer.Exit(0 if ok else 1)


@app.command()
def history(
    search: Annotated[Optional[str], typer.Option(help="Text in prompt, library, entry or notes.")] = None,
    favorites: Annotated[bool, typer.Option("--favorites", help="Only favourites.")] = False,
    min_rating: Annotated[Optional[int], typer.Option(help="At least this many stars.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Only takes of this model.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Recreate the database from the sidecars.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("outputs"),
    limit: Annotated[int, typer.Option(help="Most rows shown.")] = 50,
) -> None:
    """List the takes in the output folder's history (newest first)."""
    from rich.table import Table

    from .history import History

    store = History(out)
    if rebuild:
        count, problems = store.rebuild()
        for problem in problems:
            err_console.print(f"skipped: {problem}", markup=False)
        console.print(f"rebuilt {store.path}: {count} takes")
    table = Table("id", "created", "rating", "fav", "model", "seed", "dur", "prompt", "file")
    table.columns[7].no_wrap = True
    for row in store.search(search, favorites=favorites, min_rating=min_rating, model=model, limit=limit):
        table.add_row(str(row["id"]), row["created"][:19], "★" * (row["rating"] or 0), "♥" if row["favorite"] else "",
                      row["model"], str(row["seed"]), f"{row['duration_s']:.1f}", row["prompt"][:60], row["audio"])
    console.print(table)


@app.command()
def rate(
    take: Annotated[str, typer.Argument(help="Take id (see 'workbench history') or its audio/sidecar path.")],
    stars: Annotated[int, typer.Option("--stars", help="1 to 5.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("outputs"),
) -> None:
    """Rate a take 1-5 stars (stored in the history and mirrored into its sidecar)."""
    from .history import History

    row = History(out).update_user(take, rating=stars)
    console.print(f"take {row['id']} ({row['audio']}): {'★' * row['rating']}")


@app.command()
def favorite(
    take: Annotated[str, typer.Argument(help="Take id or path.")],
    off: Annotated[bool, typer.Option("--off", help="Remove the favourite mark.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("outputs"),
) -> None:
    """Mark a take as a favourite (or --off to unmark)."""
    from .history import History

    row = History(out).update_user(take, favorite=not off)
    console.print(f"take {row['id']} ({row['audio']}): {'favourite' if row['favorite'] else 'not a favourite'}")
