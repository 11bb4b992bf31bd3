"""Curating the takes of an output folder: ``edit``, ``delete``, ``prune``, ``export``, ``import`` and
``import-prompts`` (the trash itself is listed, restored and emptied by ``workbench history``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console

OUT = Annotated[Path, typer.Option("--out", help="Output folder.")]


def edit(
    take: Annotated[str, typer.Argument(help="Take id (see 'workbench history') or its audio/sidecar path.")],
    notes: Annotated[Optional[str], typer.Option(help="Replace the notes ('' clears them).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Add a tag (repeatable).")] = None,
    untag: Annotated[Optional[list[str]], typer.Option("--untag", help="Remove a tag (repeatable).")] = None,
    out: OUT = Path("outputs"),
) -> None:
    """Edit a take's notes and tags (stored in the history and mirrored into its sidecar)."""
    from workbench.core.errors import HistoryError
    from workbench.store.history import History, clean_tags

    if notes is None and not tag and not untag:
        raise HistoryError("say what to change: --notes TEXT, --tag TAG or --untag TAG")
    store = History(out)
    changes: dict = {} if notes is None else {"notes": notes}
    if tag or untag:
        gone, tags = set(clean_tags(untag or [])), store.get(take)["tags"]
        missing = sorted(gone - set(tags))
        if missing:
            raise HistoryError(f"take {take} has no tag {missing[0]!r}")
        changes["tags"] = [t for t in [*tags, *clean_tags(tag or [])] if t not in gone]
    row = store.update_user(take, **changes)
    console.print(f"take {row['id']} ({row['audio']}): tags {', '.join(row['tags']) or '-'}; notes "
                  f"{row['notes']!r}", markup=False)


def delete(
    takes: Annotated[list[str], typer.Argument(help="Take ids or audio/sidecar paths.")],
    out: OUT = Path("outputs"),
) -> None:
    """Move takes to the trash (<out>/.trash): 'workbench history --restore' brings one back."""
    from workbench.store.history import History
    from workbench.store.trash import Trash

    trash = Trash(History(out))
    for take in takes:
        item = trash.delete(take)
        console.print(f"take {item.take_id} ({item.audio}) -> trash as {item.name} ({len(item.files)} files)",
                      markup=False)


def prune(
    below_rating: Annotated[Optional[int], typer.Option(help="Rated takes with fewer stars than this.")] = None,
    older_than: Annotated[Optional[str], typer.Option(help="Takes made longer ago than this: 30d, 12h, 2w.")] = None,
    unrated: Annotated[bool, typer.Option("--unrated", help="Unrated takes too (with --below-rating), or only "
                                          "unrated ones (without it).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Move them to the trash (without it: only list them).")] = False,
    out: OUT = Path("outputs"),
) -> None:
    """List the takes a rule selects (every condition holds; favourites never), and with --yes trash them."""
    from workbench.store.history import History
    from workbench.store.trash import Trash, parse_age, prune_candidates

    store = History(out)
    rows = prune_candidates(store, below_rating=below_rating, unrated=unrated,
                            older_than=parse_age(older_than) if older_than else None)
    for row in rows:
        console.print(f"{row['id']:>5}  {'★' * (row['rating'] or 0):<5}  {row['created'][:19]}  {row['audio']}",
                      markup=False)
    if not yes:
        console.print(f"{len(rows)} takes would go to the trash; run again with --yes to move them")
        return
    trash = Trash(store)
    for row in rows:
        trash.delete(row["id"])
    console.print(f"{len(rows)} takes moved to {trash.folder} ('workbench history --trash' lists them)")


def export(
    archive: Annotated[Path, typer.Argument(help="The zip to write.")],
    search: Annotated[Optional[str], typer.Option(help="Text in prompt, library, entry, notes or tags.")] = None,
    favorites: Annotated[bool, typer.Option("--favorites", help="Only favourites.")] = False,
    min_rating: Annotated[Optional[int], typer.Option(help="At least this many stars.")] = None,
    tag: Annotated[Optional[str], typer.Option(help="Only takes with this tag.")] = None,
    take: Annotated[Optional[list[str]], typer.Option("--take", help="This take (repeatable; instead of the "
                                                      "filters).")] = None,
    out: OUT = Path("outputs"),
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite the zip.")] = False,
) -> None:
    """Write takes (audio, sidecars, codes, a manifest.csv) as one zip that 'workbench import' reads back."""
    from workbench.store.archive import export_takes
    from workbench.store.history import History

    store = History(out)
    rows = ([store.get(t) for t in take] if take else
            store.search(search, favorites=favorites, min_rating=min_rating, tag=tag, limit=1_000_000_000))
    size = export_takes(store, rows, archive, force=force)
    console.print(f"wrote {archive}: {len(rows)} takes, {size / 1e6:.1f} MB")


def import_(
    archive: Annotated[Path, typer.Argument(help="A zip written by 'workbench export'.")],
    out: OUT = Path("outputs"),
) -> None:
    """Read an exported zip into an output folder: files and history rows (ratings, notes, tags) as they were."""
    from workbench.store.archive import import_takes
    from workbench.store.history import History

    summary = import_takes(archive, History(out))
    console.print(f"imported {len(summary.imported)} takes into {out}"
                  + (f"; {len(summary.skipped)} already there" if summary.skipped else ""))


def import_prompts(
    source: Annotated[Path, typer.Argument(help="A .csv (header row of prompt-file keys) or .jsonl file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The prompt file to write (.toml).")],
    name: Annotated[Optional[str], typer.Option(help="Library name (default: from the file name).")] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Replace the prompt file.")] = False,
) -> None:
    """Turn prompts from CSV or JSON Lines into a prompt file, validated like every other."""
    from workbench.library.importer import import_prompts as run

    count = run(source, output, name=name, force=force)
    console.print(f"wrote {output}: {count} prompts")
