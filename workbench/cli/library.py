"""``workbench list``: prompt libraries with their entries, tags and counts (and the loader ``render`` shares)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console, err_console
from workbench.core.errors import PromptFileError

LibraryPaths = Annotated[Optional[list[Path]], typer.Argument(help="Prompt files or folders (default: prompts/).")]


def read_libraries(paths: Optional[list[Path]]) -> list:
    from workbench.library.prompts import load_libraries

    try:
        return load_libraries(paths or [Path("prompts")])
    except PromptFileError as error:
        for problem in error.problems:  # every problem, one line each, then the usual one-line summary
            err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
        raise


def list_libraries(paths: LibraryPaths = None) -> None:
    """Show prompt libraries with their entries, tags and counts."""
    from rich.table import Table

    from workbench.library.selection import summarize

    libraries = read_libraries(paths)
    table = Table("library", "file", "entries", "templates", "tags", "description")
    for row in summarize(libraries):
        table.add_row(row["name"], row["file"], str(row["entries"]), str(row["templates"]),
                      ", ".join(row["tags"]), row["description"])
    console.print(table)
    for library in libraries:
        console.print(f"[bold]{library.name}[/]: " + ", ".join(p.id for p in library.prompts))


