"""Prompt-file text for validation messages: where each key sits (tomllib gives no line numbers), and values
described or escaped so that every message stays on one line."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from workbench.core.params import MAX_PROMPT_CHARS

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""


_KEY_LINE = re.compile(rf"\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")


_HEADER_LINE = re.compile(r"\s*(\[\[?)\s*([^\[\]]*?)\s*\]\]?\s*(?:#.*)?$")


def key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map key paths such as ``("prompt", 2, "seeds")`` to the 1-based line first defining them.

    tomllib reports no positions, so this scans the text: table headers set the context (each
    ``[[prompt]]`` starts the next entry index) and ``key =`` lines add keys to it. Multi-line strings are
    skipped. A heuristic, good for error messages; lookups fall back to the enclosing table.
    """
    lines: dict[tuple[Any, ...], int] = {}
    context: tuple[Any, ...] = ()
    entry, in_string = -1, ""
    for number, line in enumerate(text.split("\n"), 1):
        if in_string:
            in_string = "" if line.count(in_string) % 2 else in_string
            continue
        header, key = _HEADER_LINE.match(line), _KEY_LINE.match(line)
        if header:
            path = tuple(p.strip().strip("\"'") for p in re.findall(_KEY_PART, header.group(2)))
            if path == ("prompt",) and header.group(1) == "[[":
                entry += 1
                context = path = ("prompt", entry)
            elif path[:1] == ("prompt",) and entry >= 0:
                path = ("prompt", entry, *path[1:])
            context = path
        elif key:
            path = context + tuple(p.strip().strip("\"'") for p in re.findall(_KEY_PART, key.group(1)))
            rest = line[key.end():]
            in_string = next((q for q in ('"""', "'''") if rest.count(q) % 2), "")
        else:
            continue
        for size in range(1, len(path) + 1):
            lines.setdefault(path[:size], number)
    return lines



def one_line(text: str) -> str:
    """``text`` with every unprintable character (newlines included) escaped, so it stays one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def bad_chars(text: str) -> str | None:
    """A description of the first control or line-break character in ``text``, else None."""
    for index, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs"):
            return f"has a control character {char!r} at position {index}; keep it on one line"
    return None


def finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def type_name(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)



def text_problem(text: Any) -> str | None:
    """What is wrong with a prompt text (not a string, empty, too long, control characters), or None."""
    if not isinstance(text, str):
        return f"must be a string, got {type_name(text)}"
    if not text.strip():
        return "is empty; describe the music (genre, instruments, mood, tempo)"
    if len(text) > MAX_PROMPT_CHARS:
        return f"has {len(text)} characters, more than {MAX_PROMPT_CHARS}"
    return bad_chars(text)
