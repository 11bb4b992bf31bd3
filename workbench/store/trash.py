"""Deleting takes without losing them: the trash of an output folder, and pruning by a rule.

Deleting a take moves its files (audio, sidecar, codes, spectrogram, loop and the loop's record) into
``<out>/.trash/<stamp>-take<id>/`` with the same paths relative to the output folder, writes a ``trash.json``
there (the take's row, its files, when it was deleted) and drops the row from the history. ``restore`` moves
the files back and indexes the take again (its old id when still free; ratings, notes and tags live in the
sidecar, so they come back too). ``empty`` removes the trash for good. Hidden folders are never indexed, so
``history --rebuild`` leaves the trash alone.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workbench.core.atomic import write_bytes
from workbench.core.errors import HistoryError, ProvenanceError
from workbench.store.contact import show_card
from workbench.store.history import History
from workbench.store.naming import CODES, LOOP, LOOP_SIDECAR, SIDECAR, SPECTROGRAM, STEM, companion, stem_paths_of
from workbench.store.sidecar import read_sidecar

TRASH = ".trash"
MANIFEST = "trash.json"


@dataclass(frozen=True)
class TrashItem:
    """One deleted take in the trash."""

    name: str
    take_id: int
    prompt: str
    audio: str
    deleted: str
    files: tuple[str, ...]


def take_files(root: Path, row: dict[str, Any]) -> list[Path]:
    """The files of the take ``row`` describes that exist: audio, sidecar, codes and their companions (its loop,
    its stems)."""
    audio = _abs(root, row["audio"])
    found = [audio, _abs(root, row["sidecar"])]
    found += [companion(audio, suffix) for suffix in (CODES, SPECTROGRAM, LOOP, LOOP_SIDECAR, SIDECAR)]
    found += stem_paths_of(audio)
    try:
        record = read_sidecar(found[1])
        found.append(found[1].parent / record["codes"]["file"])
    except (ProvenanceError, KeyError, TypeError):
        pass
    unique = dict.fromkeys(path for path in found if path.is_file())
    return list(unique)


def _abs(root: Path, path: str) -> Path:
    return Path(path) if os.path.isabs(path) else root / path


class Trash:
    """The trash of one output folder (``<out>/.trash``)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.root = history.root
        self.folder = history.root / TRASH

    def delete(self, take: str | int | Path) -> TrashItem:
        """Move one take (id or path) to the trash and drop its row.

        Raises:
            HistoryError: no such take; it names the trash item when the take was deleted already.
        """
        try:
            row = self.history.get(take)
        except HistoryError:
            gone = [item for item in self.items() if str(item.take_id) == str(take) or item.audio == str(take)]
            if gone:
                raise HistoryError(f"take {take} is already in the trash ({gone[-1].name}, deleted "
                                   f"{gone[-1].deleted[:19]}); 'workbench history --restore {gone[-1].name}' "
                                   "brings it back") from None
            raise
        with self.history.locked():  # the folder's one record lock, shared with History
            files = take_files(self.root, row)
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
            item = TrashItem(f"{stamp}-take{row['id']}", int(row["id"]), row["prompt"], row["audio"],
                             datetime.now(UTC).isoformat(timespec="seconds"),
                             tuple(self._rel(path) for path in files))
            target = self.folder / item.name
            target.mkdir(parents=True)
            manifest = {"name": item.name, "take_id": item.take_id, "prompt": item.prompt, "audio": item.audio,
                        "deleted": item.deleted, "files": list(item.files), "row": row}
            write_bytes(target / MANIFEST, json.dumps(manifest, indent=2, default=str).encode())
            for rel in item.files:  # each move is one rename: a crash leaves every file whole, here or there
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.root / rel, target / rel)
            self.history.remove(item.take_id)
            show_card(_abs(self.root, row["audio"]), False)  # its seeds' contact sheet no longer shows it
        return item

    def _rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            raise HistoryError(f"{path} is outside {self.root}; only takes inside the output folder can be "
                               "deleted") from None

    def items(self) -> list[TrashItem]:
        """What the trash holds, oldest first."""
        found = []
        for manifest in sorted(self.folder.glob(f"*/{MANIFEST}")):
            try:
                data = json.loads(manifest.read_text())
                found.append(TrashItem(data["name"], int(data["take_id"]), data["prompt"], data["audio"],
                                       data["deleted"], tuple(data["files"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a half-written item: its files stay where they are
        return found

    def find(self, which: str) -> TrashItem:
        """A trash item by its name or by the id its take had."""
        items = self.items()
        matches = [item for item in items if which in (item.name, str(item.take_id), f"take{item.take_id}")]
        if not matches:
            listed = ", ".join(item.name for item in items[-5:]) or "the trash is empty"
            raise HistoryError(f"nothing named {which!r} in {self.folder} ({listed}); see 'workbench history --trash'")
        return matches[-1]

    def restore(self, which: str) -> int:
        """Move a deleted take back and index it again; returns its id (the old one unless another take has it).

        Raises:
            HistoryError: no such item, or a file of it exists again where it would go back.
        """
        item = self.find(which)
        source = self.folder / item.name
        sidecars = [rel for rel in item.files
                    if rel.endswith(SIDECAR) and not rel.endswith(LOOP_SIDECAR) and STEM not in Path(rel).name]
        if not sidecars:
            raise HistoryError(f"{item.name} holds no sidecar (its files were gone when it was deleted); "
                               "'workbench history --empty-trash' removes it")
        with self.history.locked():
            clashes = [rel for rel in item.files if (self.root / rel).exists()]
            if clashes:
                raise HistoryError(f"cannot restore {item.name}: {clashes[0]} exists again; move it away first")
            for rel in item.files:
                (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(source / rel, self.root / rel)
            sidecar = self.root / sidecars[0]
            take_id = self.history.index(sidecar, read_sidecar(sidecar), item.take_id)
            show_card(_abs(self.root, item.audio), True)
            shutil.rmtree(source)
        return take_id

    def empty(self) -> tuple[int, int]:
        """Remove everything in the trash for good; returns (takes, bytes freed)."""
        items, freed = self.items(), 0
        for item in items:
            folder = self.folder / item.name
            freed += sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
            shutil.rmtree(folder)
        return len(items), freed


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w`` or ``90m`` as a time span; a ``HistoryError`` names anything else."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in units or not value.isdigit():
        raise HistoryError(f"--older-than must be a whole number and a unit such as 30d, 12h, 2w or 90m, got {text!r}")
    return timedelta(**{units[unit]: int(value)})


def prune_candidates(history: History, *, below_rating: int | None = None, older_than: timedelta | None = None,
                     unrated: bool = False, now: datetime | None = None) -> list[dict[str, Any]]:
    """The takes a prune rule selects (every given condition holds; favourites never).

    ``below_rating`` selects rated takes with fewer stars (and unrated ones too with ``unrated``); ``older_than``
    selects takes created longer ago. At least one condition is required.
    """
    if below_rating is None and older_than is None and not unrated:
        raise HistoryError("say which takes to prune: --below-rating N, --older-than AGE and/or --unrated")
    if below_rating is not None and not 1 <= below_rating <= 6:
        raise HistoryError(f"--below-rating must be 1 to 6 (below 6 is every rated take), got {below_rating}")
    now = now or datetime.now(UTC)
    chosen = []
    for row in history.search(limit=1_000_000_000):
        if row["favorite"]:
            continue
        rating = row["rating"]
        if below_rating is not None and not ((rating is not None and rating < below_rating)
                                             or (rating is None and unrated)):
            continue
        if below_rating is None and unrated and rating is not None:
            continue
        created = datetime.fromisoformat(row["created"])
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        if older_than is not None and created > now - older_than:
            continue
        chosen.append(row)
    return chosen


__all__ = ["Trash", "TrashItem", "parse_age", "prune_candidates", "take_files", "TRASH"]
