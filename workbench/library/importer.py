"""Prompts from a spreadsheet or a data pipeline: CSV or JSON Lines -> a prompt file (TOML), validated.

A CSV needs a header row; its columns are prompt-file keys (``text`` required, ``id``, ``tags``, ``seeds``,
``notes``, ``model``, the generation parameters such as ``duration_s``, ``bpm``, ``key``, ``chords``...).
Empty cells are left out; ``tags`` and ``seeds`` are lists separated by ``;`` or ``,``. A JSON Lines file has
one object per line with the same keys and JSON values. A missing id is made from the text (``-2``, ``-3``
for repeats). The written file is validated by the same loader as every prompt file before it is kept, so
a bad value is reported by entry and key, and nothing is written.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import tomlkit

from workbench.core.atomic import write_bytes
from workbench.core.errors import PromptFileError
from workbench.core.params import field_names
from workbench.core.slugs import slugify
from workbench.library.prompts import parse_library
from workbench.library.templates import MAX_ID
from workbench.library.validate import ENTRY_KEYS

_INTS = {"top_k", "beats_per_chord", "bitrate", "quality"}
_FLOATS = {"duration_s", "guidance_scale", "temperature", "top_p", "extend_stride_s", "melody_start", "melody_end",
           "prompt_seconds", "bpm"}
_LISTS = {"tags", "seeds"}
_BOOLS = {"include_prompt"}
#: Keys an imported row may have (templates and slots are for hand-written files).
KEYS = tuple(key for key in (*ENTRY_KEYS, *field_names()) if key not in ("template", "slots"))


def _cell(key: str, value: str, where: str) -> Any:
    """A CSV cell as the prompt file's value for ``key``."""
    try:
        if key in _INTS:
            return int(value)
        if key in _FLOATS:
            return float(value)
    except ValueError:
        raise PromptFileError(f"{where}: {key}: {value!r} is not a number") from None
    if key in _LISTS:
        items = [item.strip() for item in value.replace(";", ",").split(",") if item.strip()]
        if key == "seeds":
            if not all(item.isascii() and item.isdigit() for item in items):
                raise PromptFileError(f"{where}: seeds: {value!r} is not a list of whole numbers such as 1;2;3")
            return [int(item) for item in items]
        return items
    if key in _BOOLS:
        if value.strip().lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise PromptFileError(f"{where}: {key}: {value!r} is not true or false")
        return value.strip().lower() in ("true", "yes", "1")
    return value


def read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, entry) for every row of a CSV or JSON Lines file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise PromptFileError(f"{path}: cannot read it ({error})") from None
    rows: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        unknown = [name for name in reader.fieldnames or [] if name not in KEYS]
        if not reader.fieldnames or "text" not in reader.fieldnames or unknown:
            raise PromptFileError(f"{path}: the header needs a 'text' column and only prompt-file keys "
                                  f"({', '.join(KEYS)})" + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        for number, row in enumerate(reader, start=2):
            where = f"{path}:{number}"
            if None in row:
                raise PromptFileError(f"{where}: more cells than the header has columns")
            rows.append((where, {k: _cell(k, v, where) for k, v in row.items() if v is not None and v.strip()}))
    elif path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                entry = json.loads(line)
            except ValueError as error:
                raise PromptFileError(f"{where}: not JSON ({error.args[0].split(':')[0]})") from None
            if not isinstance(entry, dict):
                raise PromptFileError(f"{where}: each line must be one JSON object such as {{\"text\": \"...\"}}")
            unknown = sorted(set(entry) - set(KEYS))
            if unknown:
                raise PromptFileError(f"{where}: unknown key(s) {', '.join(unknown)}; prompt-file keys: "
                                      f"{', '.join(KEYS)}")
            rows.append((where, entry))
    else:
        raise PromptFileError(f"{path}: import reads .csv or .jsonl files, not {path.suffix or 'no extension'}")
    if not rows:
        raise PromptFileError(f"{path}: no prompts in it")
    return rows


def prompts_to_toml(rows: list[tuple[str, dict[str, Any]]], name: str) -> str:
    """The prompt file holding ``rows`` (ids made from the text where missing)."""
    document = tomlkit.document()
    document["library"] = {"name": name}
    entries, taken = tomlkit.aot(), set()
    for where, row in rows:
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise PromptFileError(f"{where}: text: missing; every prompt needs its text")
        base = str(row.get("id") or slugify(row["text"])[: MAX_ID - 4].strip("-") or "prompt")
        entry_id, count = base, 1
        while "id" not in row and entry_id in taken:
            count += 1
            entry_id = f"{base}-{count}"
        taken.add(entry_id)
        entries.append(tomlkit.item({"id": entry_id, **{k: v for k, v in row.items() if k != "id"}}))
    document["prompt"] = entries
    return tomlkit.dumps(document)


def import_prompts(source: str | Path, output: str | Path, *, name: str | None = None, force: bool = False) -> int:
    """Write the prompts of a CSV / JSON Lines file as the prompt file ``output``; returns how many.

    Raises:
        PromptFileError: an unreadable row, a bad value (by entry and key, as for any prompt file), or
            ``output`` exists without ``force``. Nothing is written then.
    """
    source, output = Path(source), Path(output)
    if output.suffix != ".toml":
        raise PromptFileError(f"{output}: a prompt file ends in .toml")
    if output.exists() and not force:
        raise PromptFileError(f"{output} exists; pass --force to replace it")
    text = prompts_to_toml(read_rows(source), name or slugify(output.stem)[:MAX_ID].strip("-") or "imported")
    try:  # the checks every prompt file gets, before anything is kept; problems named by entry and key
        library = parse_library(text, source=output)
    except PromptFileError as error:
        raise PromptFileError(re.sub(rf"{re.escape(str(output))}:\d+: ", f"{source}: ", str(error))) from None
    write_bytes(output, text.encode(), force=True)
    return len(library.prompts)


__all__ = ["import_prompts", "prompts_to_toml", "read_rows", "KEYS"]
