"""Slugs: ASCII lowercase letters and digits joined by single hyphens (prompt ids, library names, file names)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugify(text: str) -> str:
    """Turn any text into a slug: ASCII lowercase letters and digits joined by single hyphens.

    Accents are dropped (``"Café"`` -> ``"cafe"``); every other run of non-alphanumerics becomes one
    hyphen and hyphens at either end are stripped, so ``"Dark / Moody!"`` -> ``"dark-moody"``.

    Args:
        text: Any text.

    Returns:
        The slug, possibly empty (e.g. for ``"!!!"``); the result is always ``""`` or ``is_slug``.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def is_slug(text: Any) -> bool:
    """Whether ``text`` is a non-empty slug like ``night-drive`` (``^[a-z0-9]+(-[a-z0-9]+)*$``).

    Args:
        text: The value to test; anything that is not a ``str`` is not a slug.

    Returns:
        True for a slug. Length is not checked here (prompt ids add a limit of ``MAX_ID``).
    """
    return isinstance(text, str) and _SLUG.fullmatch(text) is not None



def slug(text: str, *, limit: int = 40, fallback: str = "take") -> str:
    """``slugify(text)`` cut to ``limit`` characters (never ending in a hyphen), or ``fallback`` when empty."""
    return slugify(text)[:limit].rstrip("-") or fallback
