"""``workbench history``, ``rate``, ``favorite`` and ``reproduce``: the takes in an output folder."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console, err_console, progress_bar


def history(
    search: Annotated[Optional[str], typer.Option(help="Text in prompt, library, entry or notes.")] = None,
    favorites: Annotated[bool, typer.Option("--favorites", help="Only favourites.")] = False,
    min_rating: Annotated[Optional[int], typer.Option(help="At least this many stars.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Only takes of this model.")] = None,
    tag: Annotated[Optional[str], typer.Option(help="Only takes with this tag.")] = None,
    bpm: Annotated[Optional[str], typer.Option(help="Only takes whose measured tempo is in this range (100-120) or "
                                               "within 2 % of this tempo (110).")] = None,
    key: Annotated[Optional[str], typer.Option(help="Only takes whose measured key is this one ('A minor', 'Am', "
                                               "'Bb major').")] = None,
    sort: Annotated[str, typer.Option(help="Order: newest (default), oldest, bpm or key (the measured tempo or "
                                      "key; unmeasured takes last).")] = "newest",
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Recreate the database from the sidecars.")] = False,
    trash: Annotated[bool, typer.Option("--trash", help="List the deleted takes instead.")] = False,
    restore: Annotated[Optional[str], typer.Option(help="Bring a deleted take back (its trash name or old id).")
                       ] = None,
    empty_trash: Annotated[bool, typer.Option("--empty-trash", help="Remove the deleted takes for good.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("outputs"),
    limit: Annotated[int, typer.Option(help="Most rows shown.")] = 50,
) -> None:
    """List the takes in the output folder's history (newest first) with their measured tempo and key (⚑ where they
    differ from what the prompt asked); --trash, --restore and --empty-trash manage the takes 'workbench delete'
    and 'workbench prune' moved to <out>/.trash."""
    from rich.table import Table

    from workbench.core.music import parse_bpm_range
    from workbench.store.history import History
    from workbench.store.measured import FLAG, versus_row
    from workbench.store.trash import Trash

    store = History(out)
    if trash or restore or empty_trash:
        bin_ = Trash(store)
        if restore:
            console.print(f"restored {restore} as take {bin_.restore(restore)}", markup=False)
        if empty_trash:
            count, freed = bin_.empty()
            console.print(f"emptied {bin_.folder}: {count} takes, {freed / 1e6:.1f} MB freed", markup=False)
        if trash:
            listing = Table("name", "old id", "deleted", "files", "prompt", "file")
            for item in bin_.items():
                listing.add_row(item.name, str(item.take_id), item.deleted[:19], str(len(item.files)),
                                item.prompt[:50], item.audio)
            console.print(listing)
        return
    if rebuild:
        count, problems = store.rebuild()
        for problem in problems:
            err_console.print(f"skipped: {problem}", markup=False)
        console.print(f"rebuilt {store.path}: {count} takes")
    table = Table("id", "created", "rating", "fav", "model", "seed", "dur", "bpm", "key", "cost", "prompt", "file")
    table.columns[10].no_wrap = True
    bpm_range = parse_bpm_range(bpm, "--bpm") if bpm is not None else None
    for row in store.search(search, favorites=favorites, min_rating=min_rating, model=model, tag=tag, bpm=bpm_range,
                            key=key, sort=sort, limit=limit):
        cost = row["cost"]
        spent = f"{cost['wall_s']:.1f} s, RTF {cost['realtime_factor']:.2f}" if cost.get("realtime_factor") else ""
        measured = versus_row(row)
        tempo = ("" if measured.bpm is None else f"{measured.bpm:.1f}") + (f" {FLAG}" if measured.bpm_off else "")
        tonality = (measured.key or "") + (f" {FLAG}" if measured.key_off else "")
        table.add_row(str(row["id"]), row["created"][:19], "★" * (row["rating"] or 0), "♥" if row["favorite"] else "",
                      row["model"], str(row["seed"]), f"{row['duration_s']:.1f}", tempo, tonality, spent,
                      row["prompt"][:60], row["audio"])
    console.print(table)


def rate(
    take: Annotated[str, typer.Argument(help="Take id (see 'workbench history') or its audio/sidecar path.")],
    stars: Annotated[int, typer.Option("--stars", help="1 to 5.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("outputs"),
) -> None:
    """Rate a take 1-5 stars (stored in the history and mirrored into its sidecar)."""
    from workbench.store.history import History

    row = History(out).update_user(take, rating=stars)
    console.print(f"take {row['id']} ({row['audio']}): {'★' * row['rating']}")


def favorite(
    take: Annotated[str, typer.Argument(help="Take id or path.")],
    off: Annotated[bool, typer.Option("--off", help="Remove the favourite mark.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("outputs"),
) -> None:
    """Mark a take as a favourite (or --off to unmark)."""
    from workbench.store.history import History

    row = History(out).update_user(take, favorite=not off)
    console.print(f"take {row['id']} ({row['audio']}): {'favourite' if row['favorite'] else 'not a favourite'}")



def reproduce(
    sidecar: Annotated[Path, typer.Argument(help="A take's .json sidecar.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Also write the re-rendered take.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Load this model instead of the recorded one.")] = None,
    device: Annotated[Optional[str], typer.Option(help="Device instead of the recorded one (cpu, cuda, mps...).")
                      ] = None,
    dtype: Annotated[Optional[str], typer.Option(help="Dtype instead of the recorded one (float32, float16...).")
                     ] = None,
    kernels: Annotated[Optional[str], typer.Option(help="CPU kernels instead of the recorded ones (torch, "
                                                   "onednn-packed).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output.")] = False,
) -> None:
    """Re-render a take from its sidecar alone (its recorded model, device, dtype and kernels); exit 0 if the
    codes are identical, 1 if not."""
    from workbench.render.reproduce import reproduce as run
    from workbench.store.takes import save_take

    with progress_bar("re-rendering") as progress:
        report = run(sidecar, model=model, device=device, dtype=dtype, kernels=kernels, progress=progress)
    for warning in report.warnings:
        err_console.print(f"warning: {warning}")
    if output is not None and report.take is not None:
        save_take(report.take, output, force=force)
        console.print(f"wrote {output}")
    console.print(report.message)
    raise typer.Exit(0 if report.identical else 1)

