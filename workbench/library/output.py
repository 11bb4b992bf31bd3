"""The output fields of a prompt file: ``format``, ``bit_depth``, ``bitrate`` and ``quality``, in ``[library]``
(for every entry) or in one ``[[prompt]]`` (for it alone, replacing the library's as a set), checked together
as the file they will write."""

from __future__ import annotations

from typing import Any

from workbench.core.errors import AudioFileError
from workbench.core.formats import format_ext, make_encoding

OUTPUT_KEYS = ("format", "bit_depth", "bitrate", "quality")


def check_output(raw: dict[str, Any], inherited: dict[str, Any] | None = None
                 ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``({"format": ext, "encoding": ...}, problems)`` for a table's output keys, else for ``inherited`` (the
    library's raw values: an entry that sets any output key replaces them as a set, so ``format = "flac"`` in an
    entry never inherits the library's MP3 bitrate); problems are ``(key, message)`` pairs."""
    values = {key: raw[key] for key in OUTPUT_KEYS if key in raw} or dict(inherited or {})
    if not values:
        return {}, []
    problems: list[tuple[str, str]] = []
    ext = ".wav"
    if "format" in values:
        try:
            ext = format_ext(values["format"]) if isinstance(values["format"], str) else format_ext("?")
        except AudioFileError:
            return {}, [("format", f"must be one of wav, flac, mp3, ogg, opus, got {values['format']!r}")]
    for key in ("bitrate", "quality"):
        value = values.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append((key, f"must be a whole number, got {value!r}"))
    depth = values.get("bit_depth")
    if depth is not None and str(depth) not in ("16", "24", "float"):
        problems.append(("bit_depth", f"must be 16, 24 or \"float\", got {depth!r}"))
    if problems:
        return {}, problems
    try:
        encoding = make_encoding(ext, None if depth is None else str(depth), values.get("bitrate"),
                                 values.get("quality"))
    except AudioFileError as error:
        said = str(error)
        key = "bit_depth" if said.startswith("bit depth") else "bitrate" if said.startswith("a bitrate") else "quality"
        return {}, [(key, said)]
    return {"format": ext, "encoding": encoding}, []


__all__ = ["OUTPUT_KEYS", "check_output"]
