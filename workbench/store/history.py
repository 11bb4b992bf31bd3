"""The history of takes: a SQLite index (``<out>/history.sqlite``) rebuilt from sidecars on demand.

Sidecars are the source of truth; the database is an index plus the user's ratings, favourites, notes
and tags, which are mirrored into the sidecars so that ``rebuild`` loses nothing. WAL mode, a busy
timeout and one short transaction per call keep concurrent writers (the UI and a batch render) safe; a
lock on ``<out>/.history.lock`` makes each sidecar update (read, change, write, index) one step, so two
clients rating the same take at once both land.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.core.errors import HistoryError, ProvenanceError
from workbench.core.locks import file_lock
from workbench.core.music import key_name, key_parts, key_rank
from workbench.store.naming import sidecar_path_for
from workbench.store.sidecar import read_sidecar, write_sidecar

DB_NAME = "history.sqlite"
LOCK_NAME = ".history.lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS takes (
    id INTEGER PRIMARY KEY,
    sidecar TEXT NOT NULL UNIQUE,
    audio TEXT NOT NULL,
    prompt TEXT NOT NULL,
    library TEXT,
    entry_id TEXT,
    model TEXT NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    duration_s REAL NOT NULL,
    created TEXT NOT NULL,
    codes_sha256 TEXT NOT NULL,
    rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    favorite INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    cost TEXT NOT NULL DEFAULT '{}',
    bpm REAL,
    key TEXT
);
CREATE INDEX IF NOT EXISTS takes_created ON takes(created);
"""

COLUMNS = ("id", "sidecar", "audio", "prompt", "library", "entry_id", "model", "seed", "params", "duration_s",
           "created", "codes_sha256", "rating", "favorite", "notes", "tags", "cost", "bpm", "key")
#: Columns added after the first release, with their definitions: a database made before them gains them on open
#: (empty until ``rebuild`` reads them from the sidecars).
_ADDED = {"cost": "TEXT NOT NULL DEFAULT '{}'", "bpm": "REAL", "key": "TEXT"}
# measured keys are spelled one way (workbench.core.music.key_name): their rank, C major first
_KEY_RANK = "CASE key " + " ".join(f"WHEN '{name}' THEN {key_rank(name)}" for name in
                                   (key_name(tonic, minor) for tonic in range(12) for minor in (False, True))) + " END"
#: The orders :meth:`History.search` lists takes in (takes without a measured tempo or key come last; keys from C
#: major up, as :func:`workbench.core.music.key_rank` sorts them).
SORTS = {"newest": "created DESC, id DESC", "oldest": "created, id", "bpm": "bpm IS NULL, bpm, id",
         "key": f"key IS NULL, {_KEY_RANK}, id"}


def clean_tags(tags: Any) -> list[str]:
    """Tags as stored: lowercased, trimmed, each once, in the order given; a ``HistoryError`` for a bad one."""
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        raise HistoryError(f"tags must be a list of words, got {tags!r}")
    cleaned: list[str] = []
    for tag in tags:
        text = str(tag).strip().lower()
        if not text or len(text) > 40 or "," in text or not text.isprintable():
            raise HistoryError(f"tag {tag!r}: a tag is 1 to 40 printable characters without commas")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


class History:
    """The take index of one output folder.

    Args:
        root: The output folder; the database is ``root/history.sqlite`` and paths are stored relative to it.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.path = self.root / DB_NAME
        with self._connect() as db:
            db.executescript(_SCHEMA)
            have = {row[1] for row in db.execute("PRAGMA table_info(takes)")}
            for column, definition in _ADDED.items():
                if column not in have:
                    db.execute(f"ALTER TABLE takes ADD COLUMN {column} {definition}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise HistoryError(f"cannot open the history database {self.path}: {error}") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        except sqlite3.DatabaseError as error:
            raise HistoryError(f"history database {self.path}: {error}; run 'workbench history --rebuild'") from None
        finally:
            db.close()

    def _rel(self, path: str | Path) -> str:
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """The folder's record lock: sidecar read-modify-writes, index updates and trash moves, one at a time
        (not re-entrant: inside it, index with :meth:`index`, not :meth:`add`)."""
        return file_lock(self.root / LOCK_NAME)

    def add(self, sidecar: str | Path, record: dict[str, Any], *, take_id: int | None = None) -> int:
        """Index (or re-index) the take described by ``record``, whose sidecar is at ``sidecar``; ``take_id`` asks
        for that id (a restored take gets its old one back when no other take has it)."""
        with self.locked():
            return self.index(Path(sidecar), record, take_id)

    def index(self, sidecar: Path, record: dict[str, Any], take_id: int | None = None) -> int:
        """:meth:`add` for a caller that holds :meth:`locked`."""
        user = record.get("user") or {}
        prompt = record["prompt"]
        measured = record.get("analysis") or {}
        row = (self._rel(sidecar), self._rel(sidecar.parent / record["audio"]["file"]), prompt["text"],
               prompt.get("library"), prompt.get("entry_id"), record["model"]["name"], int(record["seed"]),
               json.dumps(record["params"], sort_keys=True), float(record.get("duration_s") or 0.0),
               record["created"], record["codes_sha256"], user.get("rating"), int(bool(user.get("favorite"))),
               str(user.get("notes") or ""), json.dumps(list(user.get("tags") or [])),
               json.dumps(record.get("cost") or {}, sort_keys=True), measured.get("bpm"), measured.get("key"))
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            if take_id is not None and not db.execute("SELECT 1 FROM takes WHERE id = ? OR sidecar = ?",
                                                      (take_id, row[0])).fetchone():
                db.execute("INSERT INTO takes (id, sidecar, audio, prompt, model, seed, params, duration_s, created, "
                           "codes_sha256) VALUES (?, ?, '', '', '', 0, '{}', 0, '', '')", (take_id, row[0]))
            db.execute(
                "INSERT INTO takes (sidecar, audio, prompt, library, entry_id, model, seed, params, duration_s, "
                "created, codes_sha256, rating, favorite, notes, tags, cost, bpm, key) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(sidecar) DO UPDATE SET audio=excluded.audio, prompt=excluded.prompt, "
                "library=excluded.library, entry_id=excluded.entry_id, model=excluded.model, seed=excluded.seed, "
                "params=excluded.params, duration_s=excluded.duration_s, created=excluded.created, "
                "codes_sha256=excluded.codes_sha256, rating=excluded.rating, favorite=excluded.favorite, "
                "notes=excluded.notes, tags=excluded.tags, cost=excluded.cost, bpm=excluded.bpm, key=excluded.key", row)
            take_id = db.execute("SELECT id FROM takes WHERE sidecar = ?", (row[0],)).fetchone()[0]
            db.execute("COMMIT")
        return int(take_id)

    def search(self, text: str | None = None, *, favorites: bool = False, min_rating: int | None = None,
               model: str | None = None, tag: str | None = None, bpm: tuple[float, float] | None = None,
               key: str | None = None, sort: str = "newest", limit: int = 200) -> list[dict[str, Any]]:
        """Takes matching every given filter, in the order ``sort`` (one of :data:`SORTS`; ``text`` matches prompt,
        library, entry, notes and tags; ``tag`` is one whole tag; ``bpm`` a measured tempo range, inclusive; ``key``
        the measured key in any spelling: ``"A minor"``, ``"Am"``, ``"Bb major"``)."""
        if sort not in SORTS:
            raise HistoryError(f"sort {sort!r}: use one of {', '.join(SORTS)}")
        clauses, args = [], []
        if bpm is not None:
            clauses.append("bpm BETWEEN ? AND ?")
            args += [float(bpm[0]), float(bpm[1])]
        if key:
            clauses.append("key = ?")
            args.append(key_name(*key_parts(key)))
        if text:
            clauses.append("(prompt LIKE ? OR library LIKE ? OR entry_id LIKE ? OR notes LIKE ? OR tags LIKE ?)")
            args += [f"%{text}%"] * 5
        if tag:
            clauses.append("EXISTS (SELECT 1 FROM json_each(takes.tags) WHERE json_each.value = ?)")
            args.append(tag.strip().lower())
        if favorites:
            clauses.append("favorite = 1")
        if min_rating is not None:
            clauses.append("rating >= ?")
            args.append(int(min_rating))
        if model:
            clauses.append("model = ?")
            args.append(model)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM takes {where} ORDER BY {SORTS[sort]} LIMIT ?",
                              (*args, int(limit))).fetchall()
        return [self._row(r) for r in rows]

    def _row(self, row: sqlite3.Row) -> dict[str, Any]:
        out = dict(row)
        out["params"] = json.loads(out["params"])
        out["tags"] = json.loads(out["tags"])
        out["cost"] = json.loads(out.get("cost") or "{}")
        out["favorite"] = bool(out["favorite"])
        return out

    def get(self, take: str | int | Path) -> dict[str, Any]:
        """One take by id, or by the path of its audio file or sidecar."""
        with self._connect() as db:
            if isinstance(take, int) or (isinstance(take, str) and take.isdigit()):
                row = db.execute("SELECT * FROM takes WHERE id = ?", (int(take),)).fetchone()
            else:
                row = None
                # a path as typed (relative to the working folder) or relative to the output folder
                for path in (Path(take), self.root / take):
                    sidecar = path if path.suffix == ".json" else sidecar_path_for(path)
                    row = row or db.execute("SELECT * FROM takes WHERE sidecar = ? OR audio = ?",
                                            (self._rel(sidecar), self._rel(path))).fetchone()
        if row is None:
            raise HistoryError(f"no take {take!r} in {self.path}; see 'workbench history'")
        return self._row(row)

    def update_user(self, take: str | int | Path, **changes: Any) -> dict[str, Any]:
        """Set ``rating`` (1-5 or None), ``favorite``, ``notes`` or ``tags``; mirrored into the sidecar."""
        if "rating" in changes and changes["rating"] is not None:
            rating = changes["rating"]
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
                raise HistoryError(f"rating must be 1 to 5 stars, got {rating!r}")
        unknown = set(changes) - {"rating", "favorite", "notes", "tags"}
        if unknown:
            raise HistoryError(f"unknown field(s) {', '.join(sorted(unknown))}")
        if "notes" in changes and not isinstance(changes["notes"], str):
            raise HistoryError(f"notes must be text, got {type(changes['notes']).__name__}")
        if "tags" in changes:
            changes["tags"] = clean_tags(changes["tags"])
        row = self.get(take)
        sidecar = self.root / row["sidecar"] if not os.path.isabs(row["sidecar"]) else Path(row["sidecar"])
        with self.locked():  # read, change and write as one step: a concurrent update is never lost
            try:
                record = read_sidecar(sidecar)
            except ProvenanceError as error:
                raise HistoryError(f"cannot update take {row['id']}: {error}") from None
            user = {"rating": None, "favorite": False, "notes": "", "tags": [], **(record.get("user") or {}),
                    **changes}
            user["favorite"] = bool(user["favorite"])
            record["user"] = user
            write_sidecar(sidecar, record)
            self.index(sidecar, record)
        return self.get(row["id"])

    def rebuild(self) -> tuple[int, list[str]]:
        """Recreate the index from every sidecar under the root (each take still indexed keeps its id). Returns
        (takes indexed, problems)."""
        problems: list[str] = []
        records = []
        for sidecar in sorted(self.root.rglob("*.json")):
            if any(part.startswith(".") for part in sidecar.relative_to(self.root).parts):
                continue  # the trash, temp files and other hidden things are not takes
            try:
                records.append((sidecar, read_sidecar(sidecar)))
            except ProvenanceError as error:
                if "not a workbench take sidecar" not in str(error):
                    problems.append(str(error))
        with self.locked():
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                try:  # a take keeps its id across a rebuild (ids are how people name takes)
                    ids = dict(db.execute("SELECT sidecar, id FROM takes").fetchall())
                except sqlite3.DatabaseError:
                    ids = {}
                db.execute("DELETE FROM takes")
                db.execute("COMMIT")
            known = [(s, r) for s, r in records if self._rel(s) in ids]
            for sidecar, record in known + [(s, r) for s, r in records if self._rel(s) not in ids]:
                self.index(sidecar, record, ids.get(self._rel(sidecar)))
        return len(records), problems

    def remove(self, take_id: int) -> None:
        """Drop one take's row (its files are the caller's: see :mod:`workbench.store.trash`)."""
        with self._connect() as db:
            db.execute("DELETE FROM takes WHERE id = ?", (int(take_id),))

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM takes").fetchone()[0])
