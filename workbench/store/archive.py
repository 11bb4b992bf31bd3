"""Takes to share: export a selection as one zip, import it into another output folder with its history.

The zip holds each take's files under ``takes/`` at their paths relative to the output folder (audio,
sidecar, codes and companions), a ``manifest.csv`` for people and spreadsheets, and
``workbench-export.json`` for the importer (schema :data:`SCHEMA`, version :data:`VERSION`, each take's
files and hashes). Ratings, favourites, notes and tags travel in the sidecars, so the imported rows are
the exported ones. Import checks every audio file against its recorded hash before writing anything of a
take, refuses paths that leave the folder, skips takes already there with the same codes, and refuses a
take whose files exist with other codes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from workbench import __version__
from workbench.core.atomic import write_bytes, write_with
from workbench.core.errors import HistoryError, ProvenanceError
from workbench.store.history import History
from workbench.store.sidecar import now_iso, read_sidecar
from workbench.store.trash import take_files

SCHEMA, VERSION = "musicgen-workbench.export", 1
INDEX, MANIFEST, FOLDER = "workbench-export.json", "manifest.csv", "takes"
CSV_COLUMNS = ("id", "audio", "sidecar", "prompt", "model", "seed", "duration_s", "created", "rating", "favorite",
               "notes", "tags", "codes_sha256")


@dataclass
class ImportSummary:
    """What an import did: ids of the takes indexed, and takes skipped because they were already there."""

    imported: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def export_takes(history: History, rows: list[dict[str, Any]], path: str | Path, *, force: bool = False) -> int:
    """Write the takes of ``rows`` (from :meth:`History.search`) as one zip at ``path``; returns its size in bytes.

    Raises:
        HistoryError: no takes, or a take whose files are gone (``history --rebuild`` drops such rows).
    """
    if not rows:
        raise HistoryError("no takes match; nothing to export")
    root, entries, table = history.root.resolve(), [], io.StringIO()
    writer = csv.writer(table)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        files = take_files(history.root, row)
        if not any(path.name == Path(row["sidecar"]).name for path in files):
            raise HistoryError(f"take {row['id']}: its sidecar {row['sidecar']} is gone; run 'workbench history "
                               "--rebuild'")
        rels = []
        for file in files:
            try:
                rels.append(file.resolve().relative_to(root).as_posix())
            except ValueError:
                raise HistoryError(f"take {row['id']}: {file} is outside {history.root}; only takes inside the "
                                   "output folder can be exported") from None
        entries.append({"id": row["id"], "sidecar": row["sidecar"], "audio": row["audio"], "files": rels,
                        "codes_sha256": row["codes_sha256"]})
        writer.writerow([row["id"], row["audio"], row["sidecar"], row["prompt"], row["model"], row["seed"],
                         row["duration_s"], row["created"], row["rating"] or "", int(row["favorite"]), row["notes"],
                         ";".join(row["tags"]), row["codes_sha256"]])
    index = {"schema": SCHEMA, "version": VERSION, "created": now_iso(), "workbench_version": __version__,
             "takes": entries}

    def write(temp: Path) -> None:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(INDEX, json.dumps(index, indent=2))
            archive.writestr(MANIFEST, table.getvalue())
            for entry in entries:
                for rel in entry["files"]:
                    archive.write(history.root / rel, f"{FOLDER}/{rel}")

    write_with(path, write, force=force)
    return Path(path).stat().st_size


def _safe(rel: str, where: Path) -> PurePosixPath:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in rel:
        raise HistoryError(f"{where}: unsafe path {rel!r} in the export; nothing imported")
    return path


def read_index(archive: zipfile.ZipFile, where: Path) -> list[dict[str, Any]]:
    """The take entries of an export zip, after checking its schema and paths."""
    try:
        index = json.loads(archive.read(INDEX))
    except KeyError:
        raise HistoryError(f"{where}: not a workbench export (no {INDEX} inside)") from None
    except ValueError as error:
        raise HistoryError(f"{where}: {INDEX} is not readable JSON ({error})") from None
    if not isinstance(index, dict) or index.get("schema") != SCHEMA or index.get("version") != VERSION:
        found = f"{index.get('schema')!r} version {index.get('version')!r}" if isinstance(index, dict) else "?"
        raise HistoryError(f"{where}: an export of another schema ({found}); this workbench reads {SCHEMA!r} "
                           f"version {VERSION}")
    takes = index.get("takes")
    if not isinstance(takes, list) or not all(isinstance(t, dict) and isinstance(t.get("files"), list)
                                              and isinstance(t.get("sidecar"), str) for t in takes):
        raise HistoryError(f"{where}: {INDEX} lists no takes in the expected form")
    for take in takes:
        for rel in [take["sidecar"], *take["files"]]:
            _safe(rel, where)
    return takes


def import_takes(path: str | Path, history: History) -> ImportSummary:
    """Read an export zip into ``history``'s output folder: files written, rows indexed with their ratings,
    favourites, notes and tags.

    Raises:
        HistoryError: not an export, another schema, an unsafe path, a damaged file, or a clash with a different
            take already in the folder (nothing of that take, nor of the takes after it, is written).
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise HistoryError(f"{path}: not a readable zip ({error})") from None
    summary = ImportSummary()
    with archive:
        for take in read_index(archive, path):
            data = {rel: _member(archive, rel, path) for rel in take["files"]}
            if take["sidecar"] not in data:
                raise HistoryError(f"{path}: take {take.get('id')} lists no file for its sidecar {take['sidecar']}")
            try:
                record = _check(json.loads(data[take["sidecar"]]), take, data, path)
            except ValueError:
                raise HistoryError(f"{path}: {take['sidecar']} is not readable JSON; nothing of that take "
                                   "imported") from None
            target = history.root / take["sidecar"]
            if target.exists():
                if _codes_of(target) == record["codes_sha256"]:
                    summary.skipped.append(take["sidecar"])
                    continue
                raise HistoryError(f"{path}: {target} exists with other codes; import into another folder")
            with history.locked():
                for rel, payload in data.items():
                    (history.root / rel).parent.mkdir(parents=True, exist_ok=True)
                    write_bytes(history.root / rel, payload, force=True)
                try:
                    summary.imported.append(history.index(target, read_sidecar(target)))
                except ProvenanceError as error:  # the strict reader refuses it: leave nothing of it behind
                    for rel in data:
                        (history.root / rel).unlink(missing_ok=True)
                    raise HistoryError(f"{path}: {error}; nothing of that take imported") from None
    return summary


def _member(archive: zipfile.ZipFile, rel: str, where: Path) -> bytes:
    try:
        return archive.read(f"{FOLDER}/{rel}")
    except KeyError:
        raise HistoryError(f"{where}: {FOLDER}/{rel} is listed but missing; nothing of that take imported") from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:  # CRC errors are BadZipFile
        raise HistoryError(f"{where}: {FOLDER}/{rel} is damaged ({error}); nothing of that take imported") from None


def _check(record: Any, take: dict[str, Any], data: dict[str, bytes], where: Path) -> dict[str, Any]:
    """The take's sidecar record, after checking that its audio is the recorded audio."""
    if not isinstance(record, dict) or "audio" not in record or "codes_sha256" not in record:
        raise HistoryError(f"{where}: {take['sidecar']} is not a take sidecar")
    audio = (PurePosixPath(take["sidecar"]).parent / str(record["audio"].get("file"))).as_posix()
    if audio not in data or hashlib.sha256(data[audio]).hexdigest() != record.get("audio_sha256"):
        raise HistoryError(f"{where}: {audio} does not match the hash its sidecar records; nothing of that take "
                           "imported")
    return record


def _codes_of(sidecar: Path) -> str | None:
    try:
        return read_sidecar(sidecar)["codes_sha256"]
    except ProvenanceError:
        return None


__all__ = ["export_takes", "import_takes", "read_index", "ImportSummary", "SCHEMA", "VERSION"]
