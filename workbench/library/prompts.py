"""Prompt library files (TOML) -> validated, frozen ``Prompt`` records (selection: :mod:`.selection`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.conditions import TEXT_ONLY, Conditions
from workbench.core.errors import PromptFileError
from workbench.core.params import GenerationParams
from workbench.core.slugs import is_slug, slugify
from workbench.library.templates import MAX_ID
from workbench.library.text import one_line
from workbench.library.validate import MATRIX_CEILING, MAX_TEXT, check

__all__ = ["Library", "Prompt", "is_slug", "load_libraries", "load_library", "parse_library", "slugify",
           "MAX_ID", "MAX_TEXT", "MATRIX_CEILING"]


@dataclass(frozen=True)
class Prompt:
    """One ready-to-render prompt: a plain entry or one expansion of a template matrix.

    Attributes:
        library: Name of the library it came from.
        source: The prompt file, as given to the loader.
        id: Slug, unique within its library.
        text: The text prompt sent to MusicGen.
        tags: Lowercased tags.
        seeds: Seeds to render (entry's, else the library's), or None for the caller's choice.
        params: ``GenerationParams()`` with library defaults and then entry overrides applied.
        overrides: Just the generation parameters the file set (defaults + entry), for display.
        model: Model name (entry's, else the library's), or None.
        conditions: What conditions its takes besides the text and ``params`` (drafts, chords, segments, style,
            decoder: see :class:`workbench.core.conditions.Conditions`); draft files are absolute paths.
        notes: Free text.
        bpm: Tempo, beats per minute (said in ``text`` unless the text already said one), or None.
        key: Key as ``"A minor"`` (said in ``text`` likewise), or None.
        time_signature: Time signature such as ``"4/4"``, or None.
        loop_bars: Also write each take's seamless loop of this many bars (``NAME.loop.wav``), or None.
        format: The audio extension its takes are written as (``".mp3"``), or None for the caller's choice;
            with ``encoding`` (a bit depth or an :class:`~workbench.core.audio.Encoding`; see
            :mod:`workbench.library.output`).
        line: 1-based line of the entry's ``[[prompt]]`` header in the file.
        template_id: Id of the template entry this expands, or None.
        slot_values: Slot name -> value text for template expansions (empty otherwise).
    """

    library: str
    source: Path
    id: str
    text: str
    tags: tuple[str, ...]
    seeds: tuple[int, ...] | None
    params: GenerationParams
    overrides: dict[str, Any] = field(compare=False)
    model: str | None = None
    conditions: Conditions = TEXT_ONLY
    notes: str = ""
    line: int = 1
    template_id: str | None = None
    slot_values: dict[str, str] = field(default_factory=dict, compare=False)
    bpm: float | None = None
    key: str | None = None
    time_signature: str | None = None
    loop_bars: int | None = None
    format: str | None = None
    encoding: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Library:
    """A validated prompt file.

    Attributes:
        name: Slug naming the library (``[library] name``, else the file stem).
        description: Free text, possibly empty.
        source: The prompt file, as given to the loader.
        model: Default model name for its prompts, or None.
        seeds: Default seeds for its prompts, or None.
        defaults: Generation parameters from ``[library.defaults]``.
        prompts: Every prompt in file order, template matrices expanded in place.
    """

    name: str
    description: str
    source: Path
    model: str | None
    seeds: tuple[int, ...] | None
    defaults: dict[str, Any] = field(compare=False)
    prompts: tuple[Prompt, ...] = ()

    def get(self, id: str) -> Prompt:  # noqa: A002 - the natural name
        """The prompt with this id.

        Raises:
            PromptFileError: No such id; the message lists close matches (or a template's expansions).
        """
        for prompt in self.prompts:
            if prompt.id == id:
                return prompt
        raise PromptFileError(one_line(f"{self.source}: no prompt {id!r} in library {self.name!r}; "
                                       f"{id_hint(id, self.prompts)}"))


def id_hint(id: str, prompts: Sequence[Prompt]) -> str:
    expansions = [p.id for p in prompts if p.template_id == id]
    if expansions:
        more = ", ..." if len(expansions) > 4 else ""
        return f"{id!r} is a template; its prompts are {', '.join(expansions[:4])}{more}"
    close = difflib.get_close_matches(str(id), list(dict.fromkeys(p.id for p in prompts)), n=3, cutoff=0.5)
    return f"did you mean {', '.join(close)}?" if close else f"{len(prompts)} prompts, see `workbench list`"


def file_error(where: str, problems: list[str]) -> PromptFileError:
    problems = [one_line(p) for p in problems]
    if len(problems) == 1:
        return PromptFileError(problems[0], problems)
    return PromptFileError(one_line(f"{where}: {len(problems)} problems (first: {problems[0]})"), problems)


def _parse(text: str, source: Path, max_matrix: int) -> tuple[Library | None, list[str], int]:
    fields, problems, name_line = check(text, source, max_matrix)
    if fields is None:
        return None, problems, name_line
    prompts = tuple(Prompt(**prompt) for prompt in fields.pop("prompts"))
    return Library(**fields, prompts=prompts), [], name_line


def parse_library(text: str, *, source: Path, max_matrix: int = 64) -> Library:
    """Parse and validate prompt-file text (the pure core of ``load_library``).

    Args:
        text: TOML text in the prompt-file format (see ``prompts/README.md``).
        source: Where the text came from: named in every problem; draft paths (``melody``,
            ``continue_from``) resolve against ``source.parent`` and must stay inside it.
        max_matrix: Most prompts one template may expand to, unless the file sets ``max_matrix``
            (capped at ``MATRIX_CEILING``).

    Returns:
        The library, with template matrices expanded.

    Raises:
        PromptFileError: Anything wrong; ``problems`` lists every problem, one
            ``FILE:LINE: [entry id] key: problem`` line each.
        ValueError: ``max_matrix`` is not a whole number >= 1 (a caller mistake, not a file problem).
    """
    source = Path(source)
    library, problems, _ = _parse(text, source, max_matrix)
    if library is None:
        raise file_error(str(source), problems)
    return library


def _load(path: Path, max_matrix: int) -> tuple[Library | None, list[str], int]:
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [one_line(f"{path}: cannot read the prompt file ({error.strerror or error})")], 1
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, [f"{path}:{line}: not UTF-8 text (byte {data[error.start]:#04x}); save the file as UTF-8"], 1
    return _parse(text, path, max_matrix)


def load_library(path: str | Path, *, max_matrix: int = 64) -> Library:
    """Read and validate one prompt file.

    Args:
        path: A ``.toml`` prompt file. Drafts it names are resolved against its folder.
        max_matrix: Most prompts one template may expand to (see ``parse_library``).

    Returns:
        The library; ``Library.source`` and ``Prompt.source`` are ``path`` as given.

    Raises:
        PromptFileError: The file is unreadable, not UTF-8, or invalid; ``problems`` lists every problem.
    """
    library, problems, _ = _load(Path(path), max_matrix)
    if library is None:
        raise file_error(str(path), problems)
    return library


def load_libraries(paths: Iterable[str | Path], *, max_matrix: int = 64) -> list[Library]:
    """Load several prompt files and folders, reporting the problems of all of them at once.

    Args:
        paths: Files, or folders meaning their ``*.toml`` files (sorted by name, not recursive). A file
            reached twice is loaded once.
        max_matrix: Most prompts one template may expand to (see ``parse_library``).

    Returns:
        The libraries in the order given.

    Raises:
        PromptFileError: Any file invalid, a path missing, a folder without prompt files, or two
            libraries with the same name; ``problems`` holds every problem found.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.toml") if p.is_file())
            files.extend(found)
            if not found:
                problems.append(one_line(f"{path}: no *.toml prompt files in this folder"))
        elif path.exists():
            files.append(path)
        else:
            problems.append(one_line(f"{path}: no such file or folder"))
    libraries: list[Library] = []
    seen: set[Path] = set()
    names: dict[str, Path] = {}
    for path in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        library, found, name_line = _load(path, max_matrix)
        problems.extend(found)
        if library is None:
            continue
        if library.name in names:
            problems.append(one_line(f"{path}:{name_line}: library.name: {library.name!r} is also the name of "
                                      f"{names[library.name]}; give one of them another [library] name"))
        names.setdefault(library.name, path)
        libraries.append(library)
    if problems:
        raise file_error("prompt files", problems)
    return libraries
