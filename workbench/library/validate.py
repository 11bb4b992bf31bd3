"""Validation of prompt-file text: every problem reported at once, each with its file line.

Longer than 300 lines: one checker for every key of a prompt file and its own form (ids, texts, templates, seeds,
settings, drafts' paths), each problem reported with the line it stands on. The rules of what conditions a take
(drafts, chords, style, decoder) are :mod:`workbench.core.conditions`'; this module reports their problems.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.core.conditions import Conditions
from workbench.core.decoders import check_decoder
from workbench.core.errors import FieldError, FieldErrors, ParamsError
from workbench.core.fields import FIELDS, conditions_from_fields
from workbench.core.music import with_tempo_and_key
from workbench.core.params import MAX_PROMPT_CHARS, GenerationParams, field_names, validate_seed
from workbench.core.slugs import is_slug, slugify
from workbench.library.music import MUSIC_KEYS, check_music, entry_segments
from workbench.library.output import OUTPUT_KEYS, check_output
from workbench.library.templates import MAX_ID, check_slots, expand
from workbench.library.text import bad_chars, key_lines, one_line, text_problem, type_name
from workbench.models.registry import default_params

#: Longest prompt text, in characters.
MAX_TEXT = MAX_PROMPT_CHARS  # the same limit as prompts typed anywhere else
#: A file's own ``max_matrix`` may raise the caller's limit up to this ceiling, never beyond.
MATRIX_CEILING = 4096
_LIBRARY_KEYS = ("name", "description", "model", "seeds", "max_matrix", "defaults", "decoder", *OUTPUT_KEYS)
ENTRY_KEYS = tuple(dict.fromkeys(("id", "text", "template", "slots", "tags", "seeds", "model", "notes", *FIELDS,
                                   *MUSIC_KEYS, *OUTPUT_KEYS)))


class _Checker:
    """Collects every problem of one file, each as ``FILE:LINE: [entry] key: message``."""

    def __init__(self, text: str, source: Path, max_matrix: int) -> None:
        self.source, self.limit = source, max_matrix
        self.lines = key_lines(text)
        self.problems: list[str] = []
        self.folder = source.parent
        self.ids: dict[str, int] = {}  # every id claimed so far -> line of its entry

    def claim(self, path: tuple[Any, ...], prompt_id: str, label: str) -> None:
        if prompt_id in self.ids:
            self.add((*path, "id"), f"{prompt_id!r} is used twice (also at line {self.ids[prompt_id]})", label)
        self.ids.setdefault(prompt_id, self.line(path))

    def line(self, path: tuple[Any, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def add(self, path: tuple[Any, ...], message: str, label: str | None = None) -> None:
        key = ".".join(str(p) for p in (path[2:] if label else path))
        where = f"{self.source}:{self.line(path)}: " + (f"[{label}] " if label else "")
        self.problems.append(where + (f"{key}: " if key else "") + message)

    def unknown(self, path: tuple[Any, ...], table: dict[str, Any], allowed: Sequence[str],
                label: str | None = None) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(allowed)}"
                self.add((*path, key), f"unknown key; {hint}", label)

    def seeds(self, path: tuple[Any, ...], value: Any, label: str | None) -> tuple[int, ...] | None:
        if not isinstance(value, list) or not value:
            self.add(path, f"must be a non-empty list of seeds such as [1, 2], got {type_name(value)}", label)
            return None
        seeds = []
        for item in value:
            try:
                seeds.append(validate_seed(item))
            except (ParamsError, ValueError) as error:  # validate_seed lets int("¹") escape as ValueError
                message = str(error) if isinstance(error, ParamsError) else f"{item!r} is not a whole number"
                self.add(path, message, label)
        duplicates = sorted({s for s in seeds if seeds.count(s) > 1})
        if duplicates:
            self.add(path, f"repeats seed(s) {', '.join(map(str, duplicates))}", label)
        return tuple(seeds)

    def params(self, path: tuple[Any, ...], table: dict[str, Any], label: str | None) -> dict[str, Any]:
        good = {}
        for name in field_names():
            if name in table:
                try:
                    GenerationParams(**{name: table[name]})
                    good[name] = table[name]
                except (ParamsError, ValueError, TypeError, ArithmeticError) as error:
                    self.add((*path, name), str(error), label)
        return good

    def draft(self, path: tuple[Any, ...], value: Any, label: str) -> Path | None:
        if not isinstance(value, str) or not value.strip() or bad_chars(value):
            self.add(path, f"must be a path relative to the prompt file's folder, got {value!r}", label)
            return None
        if Path(value).is_absolute() or value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", value):
            self.add(path, f"{value!r} is absolute; give a path relative to the prompt file's folder", label)
            return None
        try:
            root = self.folder.resolve()
            target = (root / value).resolve()
            if not target.is_relative_to(root):
                self.add(path, f"{value!r} leads outside the library folder {root}; keep drafts inside it", label)
            elif not target.is_file():
                self.add(path, f"{value!r} not found (looked for {target})", label)
            else:
                return target
        except (OSError, ValueError, RuntimeError) as error:
            self.add(path, f"{value!r} cannot be resolved: {error}", label)
        return None

    def library(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check the top level and ``[library]``; return its settings (invalid ones left out)."""
        self.unknown((), data, ("library", "prompt"))
        table = data.get("library", {})
        if not isinstance(table, dict):
            self.add(("library",), f"must be a table, got {type_name(table)}")
            table = {}
        self.unknown(("library",), table, _LIBRARY_KEYS)
        stem = slugify(self.source.stem)[:MAX_ID].strip("-")
        name = table.get("name", stem)
        if not is_slug(name) or len(name) > MAX_ID:
            self.add(("library", "name"), f"{name!r} is not a slug such as 'synthwave' (a-z, 0-9, single hyphens, "
                     f"at most {MAX_ID} characters)" + ("" if "name" in table else "; set [library] name"))
        out: dict[str, Any] = {"name": name, "description": table.get("description", ""), "model": table.get("model"),
                               "seeds": None, "defaults": {}, "limit": self.limit,
                               "output": {key: table[key] for key in OUTPUT_KEYS if key in table}}
        for key, message in check_output(out["output"])[1]:
            self.add(("library", key), message)
        if not isinstance(out["description"], str):
            self.add(("library", "description"), f"must be a string, got {type_name(out['description'])}")
        if out["model"] is not None and not (isinstance(out["model"], str) and out["model"].strip()
                                             and not bad_chars(out["model"])):
            self.add(("library", "model"), f"must be a model name such as 'small', got {out['model']!r}")
        if "seeds" in table:
            out["seeds"] = self.seeds(("library", "seeds"), table["seeds"], None)
        out["decoder"] = None
        if "decoder" in table:
            try:
                out["decoder"] = check_decoder(table["decoder"])
            except ParamsError as error:
                self.add(("library", "decoder"), str(error).removeprefix("decoder "))
        if "max_matrix" in table:
            limit = table["max_matrix"]
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MATRIX_CEILING:
                self.add(("library", "max_matrix"), f"must be a whole number in [1, {MATRIX_CEILING}], got {limit!r}")
            else:
                out["limit"] = limit
        defaults = table.get("defaults", {})
        if not isinstance(defaults, dict):
            self.add(("library", "defaults"), f"must be a table of generation parameters, got {type_name(defaults)}")
        else:
            self.unknown(("library", "defaults"), defaults, field_names())
            out["defaults"] = self.params(("library", "defaults"), defaults, None)
        return out

    def entry(self, index: int, raw: Any, lib: dict[str, Any]) -> list[dict[str, Any]]:
        """Check one ``[[prompt]]`` entry; return its ``Prompt`` field dicts, or none if it has problems."""
        path = ("prompt", index)
        if not isinstance(raw, dict):
            self.add(path, f"each [[prompt]] must be a table, got {type_name(raw)}", f"#{index + 1}")
            return []
        entry_id = raw.get("id")
        label = entry_id if is_slug(entry_id) and len(entry_id) <= MAX_ID else f"#{index + 1}"
        before = len(self.problems)

        def bad(key: str | None, message: str) -> None:
            self.add((*path, *key.split(".")) if key else path, message, label)

        self.unknown(path, raw, ENTRY_KEYS + field_names(), label)
        self.entry_id(raw, label, bad)
        text, template = self.entry_text(raw, bad)
        tags = self.tags(raw.get("tags", []), bad)
        seeds = self.seeds((*path, "seeds"), raw["seeds"], label) if "seeds" in raw else lib["seeds"]
        overrides = self.params(path, raw, label)
        model = raw.get("model", lib["model"])
        if "model" in raw and not (isinstance(model, str) and model.strip() and not bad_chars(model)):
            bad("model", f"must be a model name such as 'small', got {model!r}")
        if not isinstance(raw.get("notes", ""), str):
            bad("notes", f"must be a string, got {type_name(raw['notes'])}")
        music, problems = check_music(raw)
        output, wrong = check_output(raw, lib["output"])
        for key, message in problems + [(k, m) for k, m in wrong if k in raw]:
            bad(key, message)
        conditions = self.conditions(path, raw, lib, music, label, {key for key, _ in problems}, bad)
        slots: dict[str, list[str]] = {}
        if label == entry_id:
            self.claim(path, entry_id, label)
        if isinstance(template, str) and text is None and not text_problem(template):
            slots, problems = check_slots(template, raw.get("slots"), lib["limit"])
            for key, message in problems:
                bad(key, message)
        if len(self.problems) > before or conditions is None:
            return []
        try:
            params = default_params(model).replace(**{**lib["defaults"], **overrides})
            conditions.check_length(params.duration_s)
        except FieldError as error:
            return bad(error.field, error.detail()) or []
        except ParamsError as error:
            return bad(None, str(error)) or []

        def say(words: str) -> str:  # tempo and key added to the text the one canonical way
            return with_tempo_and_key(words, music.get("bpm"), music.get("key"))

        base = dict(library=lib["name"], source=self.source, id=entry_id, text=say(text or ""), tags=tuple(tags),
                    seeds=seeds, params=params, overrides={**lib["defaults"], **overrides}, model=model,
                    notes=raw.get("notes", ""), line=self.line(path), template_id=None, slot_values={}, **music,
                    **output, conditions=conditions)
        if template is None:
            return [base]
        return self.expansions(path, base, template, slots, say, label, bad)

    def entry_id(self, raw: dict[str, Any], label: str, bad: Callable[[str | None, str], None]) -> None:
        entry_id = raw.get("id")
        if entry_id is None:
            bad("id", "missing; every prompt needs an id such as 'night-drive'")
        elif label != entry_id:
            suggestion = slugify(str(entry_id))[:MAX_ID].strip("-") or "night-drive"
            bad("id", f"{entry_id!r} is not a slug such as {suggestion!r} (a-z, 0-9, single hyphens, "
                f"at most {MAX_ID} characters)")

    @staticmethod
    def entry_text(raw: dict[str, Any], bad: Callable[[str | None, str], None]) -> tuple[Any, Any]:
        """The entry's ``text`` and ``template`` (one of them), their problems reported."""
        text, template = raw.get("text"), raw.get("template")
        if text is None and template is None:
            bad("text", "missing; give text = \"...\" (or a template with slots)")
        elif text is not None and template is not None:
            bad("template", "give either text or template, not both")
        for key in ("text", "template"):
            if raw.get(key) is not None:
                problem = text_problem(raw[key])
                if problem:
                    bad(key, problem)
        if "slots" in raw and template is None:
            bad("slots", "slots need a template")
        return text, template

    @staticmethod
    def tags(value: Any, bad: Callable[[str | None, str], None]) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() and not bad_chars(t) for t in value):
            bad("tags", f"must be a list of non-empty one-line strings, got {value!r}")
            return []
        return list(dict.fromkeys(t.strip().lower() for t in value))

    def conditions(self, path: tuple[Any, ...], raw: dict[str, Any], lib: dict[str, Any], music: dict[str, Any],
                   label: str, reported: set[str], bad: Callable[[str | None, str], None]) -> Conditions | None:
        """The entry's :class:`Conditions` (its drafts' files inside the library folder), or None after reporting
        its problems (a value ``check_music`` already reported is not reported twice)."""
        files = {key: self.draft((*path, key), raw[key], label) for key in ("melody", "continue_from", "style")
                 if key in raw}
        segments, problem = entry_segments(raw.get("segments"))
        if problem:
            bad("segments", problem)
        fields = {key: raw[key] for key in FIELDS if key in raw}
        fields.update({key: found or self.folder / "(missing)" for key, found in files.items()},  # reported above
                      segments=segments, decoder=raw.get("decoder", lib["decoder"]),
                      **{key: music[key] for key in ("bpm", "time_signature") if key in music})
        try:
            return conditions_from_fields(**fields)
        except FieldErrors as error:
            for one in error.errors:
                if one.field in reported:
                    continue
                inherited = (" (the library's decoder; set decoder = \"encodec\" here)"
                             if one.field == "decoder" and "decoder" not in raw else "")
                bad(one.field, one.detail() + inherited)
            return None

    def expansions(self, path: tuple[Any, ...], base: dict[str, Any], template: str, slots: dict[str, list[str]],
                   say: Callable[[str], str], label: str, bad: Callable[[str | None, str], None]
                   ) -> list[dict[str, Any]]:
        """A template entry's prompts, one per combination of its slots' values."""
        prompts = []
        for expanded_id, expanded_text, values in expand(base["id"], template, slots):
            expanded_text = say(expanded_text)
            too_long = f"is longer than {MAX_ID} characters; shorten the id or slot values"
            problem = text_problem(expanded_text) or (too_long if len(expanded_id) > MAX_ID else None)
            if problem:
                bad("template", f"expansion {expanded_id!r} {problem}")
                continue
            self.claim(path, expanded_id, label)
            prompts.append({**base, "id": expanded_id, "text": expanded_text, "template_id": base["id"],
                            "slot_values": values})
        return prompts


def check(text: str, source: Path, max_matrix: int) -> tuple[dict[str, Any] | None, list[str], int]:
    """Validate prompt-file text.

    Args:
        text: The file's text.
        source: The file as given (named in problems; drafts resolve against its folder).
        max_matrix: Most expansions per template unless the file sets its own ``max_matrix``.

    Returns:
        ``(library, problems, name_line)``: ``library`` holds the ``Library`` fields with ``prompts`` as
        a list of ``Prompt`` field dicts, or is None when ``problems`` (one line each) is not empty;
        ``name_line`` is the line of ``[library] name`` (or 1).
    """
    if isinstance(max_matrix, bool) or not isinstance(max_matrix, int) or max_matrix < 1:
        raise ValueError(f"max_matrix must be a whole number >= 1, got {max_matrix!r}")
    checker = _Checker(text, source, max_matrix)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"line (\d+)", str(error))
        line = int(found.group(1)) if found else text.count("\n") + 1
        return None, [one_line(f"{source}:{line}: invalid TOML: {error}")], 1
    except RecursionError:
        return None, [f"{source}:1: invalid TOML: nested too deeply"], 1
    lib = checker.library(data)
    entries = data.get("prompt", [])
    if not isinstance(entries, list):
        checker.add(("prompt",), f"must be [[prompt]] tables, got {type_name(entries)}")
        entries = []
    elif not entries:
        checker.add(("prompt",), "the file has no [[prompt]] entries")
    prompts = [p for index, raw in enumerate(entries) for p in checker.entry(index, raw, lib)]
    name_line = checker.line(("library", "name"))
    if checker.problems:
        return None, [one_line(p) for p in checker.problems], name_line
    library = {"name": lib["name"], "description": lib["description"], "source": source, "model": lib["model"],
               "seeds": lib["seeds"], "defaults": dict(lib["defaults"]), "prompts": prompts}
    return library, [], name_line
