"""Picking prompts out of loaded libraries (ids, templates, tags) and one summary row per library."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from workbench.library.prompts import Library, Prompt, file_error, id_hint
from workbench.library.text import one_line

__all__ = ["select", "summarize"]


def select(libraries: Iterable[Library], *, only: Sequence[str] = (), tags: Sequence[str] = ()) -> list[Prompt]:
    """Pick prompts from libraries, in library and file order.

    Args:
        libraries: Loaded libraries.
        only: Prompt ids, or template ids meaning all their expansions; empty means every prompt.
            An id present in several libraries selects it in each.
        tags: Keep prompts having any of these tags (case-insensitive); empty means no tag filter.

    Returns:
        The matching prompts (possibly none when ``tags`` match nothing).

    Raises:
        PromptFileError: An id in ``only`` matches no prompt or template; the message lists close matches.
    """
    prompts = [prompt for library in libraries for prompt in library.prompts]
    only = [only] if isinstance(only, str) else list(only)
    tags = [tags] if isinstance(tags, str) else list(tags)
    if only:
        known = {p.id for p in prompts} | {p.template_id for p in prompts if p.template_id}
        unknown = [name for name in only if name not in known]
        if unknown:
            hints = [f"{name!r}: {id_hint(name, prompts)}" for name in unknown]
            raise file_error("selection", [one_line(f"unknown prompt id {hint}") for hint in hints])
        wanted = set(only)
        prompts = [p for p in prompts if p.id in wanted or p.template_id in wanted]
    if tags:
        wanted_tags = {tag.strip().lower() for tag in tags}
        prompts = [p for p in prompts if wanted_tags.intersection(p.tags)]
    return prompts


def summarize(libraries: Iterable[Library]) -> list[dict[str, Any]]:
    """One row per library for ``workbench list``.

    Returns:
        Dicts with ``name``, ``file`` (str), ``entries`` (prompts after expansion), ``templates``
        (number of template matrices), ``tags`` (sorted unique list) and ``description``.
    """
    return [{"name": lib.name, "file": str(lib.source), "entries": len(lib.prompts),
             "templates": len({p.template_id for p in lib.prompts if p.template_id}),
             "tags": sorted({tag for p in lib.prompts for tag in p.tags}), "description": lib.description}
            for lib in libraries]
