"""Slugs, ``{slot}`` prompt templates and their expansion into a matrix of prompts."""

from __future__ import annotations

import itertools
import math
import re
import string
from collections.abc import Mapping
from typing import Any

from workbench.core.slugs import slugify

#: Longest prompt id (also after template expansion), in characters.
MAX_ID = 64

_SLOT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def placeholders(template: str) -> list[str]:
    """Slot names a template uses, in order of first use (``{{`` and ``}}`` are literal braces).

    Args:
        template: Text such as ``"{mood} synthwave, {bpm} BPM"``.

    Returns:
        The distinct slot names, e.g. ``["mood", "bpm"]``.

    Raises:
        ValueError: Unbalanced braces, or a placeholder that is not a plain name (``{}``, ``{0}``,
            ``{a.b}``, ``{a:>4}``, ``{a!r}``).
    """
    names: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not _SLOT_NAME.fullmatch(name) or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain slot name such as {{mood}}")
        if name not in names:
            names.append(name)
    return names


def slot_text(value: Any) -> str:
    """The text a slot value puts into a template: strings as-is, numbers without a needless ``.0``.

    Raises:
        ValueError: The value is not a string or a finite number.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    raise ValueError(f"slot values must be strings or finite numbers, got {value!r}")


def check_slots(template: str, slots: Any, limit: int) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Validate a template and its slots table.

    Args:
        template: The template text.
        slots: The raw ``slots`` table from the prompt file.
        limit: Most expansions allowed.

    Returns:
        ``(slots, problems)``: the slot values as text, in declaration order, and a list of
        ``(key, message)`` problems where key is ``"template"``, ``"slots"`` or ``"slots.<name>"``.
        The slots are only usable when there are no problems.
    """
    problems: list[tuple[str, str]] = []
    try:
        used = placeholders(template)
    except ValueError as error:
        return {}, [("template", f"invalid template: {error}")]
    if not isinstance(slots, Mapping):
        got = "nothing" if slots is None else type(slots).__name__
        return {}, [("slots", f"a template needs a [prompt.slots] table of value lists, got {got}")]
    clean: dict[str, list[str]] = {}
    for name, values in slots.items():
        key = f"slots.{name}"
        if not isinstance(values, list) or not values:
            problems.append((key, "must be a non-empty list of strings or numbers"))
            continue
        texts: list[str] = []
        for value in values:
            try:
                text = slot_text(value)
            except ValueError as error:
                problems.append((key, str(error)))
                continue
            if not slugify(text):
                problems.append((key, f"value {text!r} has no letters or digits to put in an id"))
            texts.append(text)
        clean[name] = texts
        if name not in used:
            problems.append((key, f"slot {name!r} is not used in the template; add {{{name}}} or remove it"))
    for name in used:
        if name not in slots:
            problems.append(("template", f"placeholder {{{name}}} has no slot; add {name} = [...] to [prompt.slots]"))
    if not used and not problems:
        problems.append(("template", "has no {slot} placeholders; use text = ... for a single prompt"))
    size = math.prod(len(v) for v in slots.values() if isinstance(v, list))
    if size > limit:
        problems.append(("slots", f"the matrix has {size} combinations, more than the limit of {limit}"))
    return clean, problems


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with every ``{slot}`` replaced by ``values[slot]`` (braces ``{{ }}`` unescaped)."""
    parts = string.Formatter().parse(template)
    return "".join(literal + (values[name] if name is not None else "") for literal, name, _, _ in parts)


def expand(template_id: str, template: str, slots: Mapping[str, list[str]]) -> list[tuple[str, str, dict[str, str]]]:
    """Every combination of slot values, as ``(id, text, slot_values)``.

    Ids are ``<template_id>-<slug(v1)>-<slug(v2)>...`` in slot declaration order; the last slot varies
    fastest. Ids and order depend only on the inputs, so they are stable between runs and machines.

    Args:
        template_id: The template entry's id.
        template: Template text (already checked with ``check_slots``).
        slots: Slot name -> values as text, in declaration order.
    """
    names = list(slots)
    expansions = []
    for combo in itertools.product(*(slots[name] for name in names)):
        values = dict(zip(names, combo))
        expansion_id = "-".join([template_id, *(slugify(value) for value in combo)])
        expansions.append((expansion_id, fill(template, values), values))
    return expansions
