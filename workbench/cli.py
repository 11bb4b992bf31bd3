"""The ``workbench`` command line: a thin typer shell over the library.

Every known error (``WorkbenchError``, bad command-line values) prints one line to stderr and exits 1;
an unexpected one prints one line naming it and exits 1 too; ``--debug`` shows the traceback instead.
"""

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import __version__
from .cli_support import (DraftOpts, GenOpts, console, err_console, load, progress_bar, resolve_draft,
                          with_options)
from .errors import WorkbenchError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="MusicGen Workbench: prompt, condition, batch-render and reproduce MusicGen takes.")


def _version(value: bool) -> None:
    if value:
        console.print(f"musicgen-workbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """MusicGen Workbench."""


@app.command()
@with_options(gen=GenOpts, draft=DraftOpts)
def generate(
    text: Annotated[str, typer.Argument(help="What the music should be, e.g. '80s synthwave, 110 BPM'.")],
    gen: GenOpts,
    draft: DraftOpts,
    seed: Annotated[Optional[str], typer.Option(help="Sampling seed (default: a fresh one, shown).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Audio file (.wav or .flac).")] = None,
) -> None:
    """Render one take of TEXT to a file (+ a JSON provenance sidecar and a token file)."""
    from .params import random_seed, validate_seed, validate_text
    from .writer import adhoc_path, check_outputs

    validate_text(text)  # every cheap check before torch is imported and the model loaded
    params, seed_value = gen.params(), validate_seed(seed) if seed is not None else random_seed()
    path = output or adhoc_path(gen.out, text, seed_value, ".wav")
    check_outputs([path], force=gen.force, subtype=gen.format)
    from .render import render_prompt

    engine = load(gen)
    with progress_bar(f"seed {seed_value}") as progress:
        [item] = render_prompt(engine, text, params, [seed_value], [path], progress=progress,
                               draft=resolve_draft(engine, draft, params, path.parent), **gen.write_options())
    gen.report(item)


@app.command()
@with_options(gen=GenOpts, draft=DraftOpts)
def seeds(
    text: Annotated[str, typer.Argument(help="The prompt.")],
    gen: GenOpts,
    draft: DraftOpts,
    seed_list: Annotated[str, typer.Option("--seeds", help="Seeds, e.g. '1-4' or '3,7,11'.")] = "1-4",
    folder: Annotated[Optional[Path], typer.Option("--dir", help="Folder for the takes and index.html.")] = None,
) -> None:
    """Render TEXT with several seeds in one batched pass, side by side, with an HTML contact sheet."""
    from .params import parse_seeds, validate_text
    from .writer import adhoc_folder, check_outputs

    validate_text(text)
    params, seed_values = gen.params(), parse_seeds(seed_list)
    folder = folder or adhoc_folder(gen.out, text)
    check_outputs([folder / f"s{seed}.wav" for seed in seed_values], force=gen.force, subtype=gen.format)
    from .render import render_seeds

    engine = load(gen)
    with progress_bar(f"{len(seed_values)} seeds") as progress:
        rendered, index = render_seeds(engine, text, params, seed_values, folder, progress=progress,
                                       draft=resolve_draft(engine, draft, params, folder), **gen.write_options())
    for item in rendered:
        gen.report(item)
    console.print(f"contact sheet: {index}")


@app.command()
def reproduce(
    sidecar: Annotated[Path, typer.Argument(help="A take's .json sidecar.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Also write the re-rendered take.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Load this model instead of the recorded one.")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda, mps...")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output.")] = False,
) -> None:
    """Re-render a take from its sidecar alone; exit 0 if the codes are identical, 1 if not."""
    from .reproduce import reproduce as run
    from .writer import save_take

    with console.status("re-rendering"):
        report = run(sidecar, model=model, device=device)
    for warning in report.warnings:
        err_console.print(f"warning: {warning}")
    if output is not None and report.take is not None:
        save_take(report.take, output, force=force)
        console.print(f"wrote {output}")
    console.print(report.message)
    raise typer.Exit(0 if report.identical else 1)


@app.command()
def models() -> None:
    """List model names: built-in offline models and Hub checkpoints (and whether they are cached)."""
    from rich.table import Table

    from .hub import model_table

    table = Table("name", "source", "status", "notes")
    for column in table.columns[:3]:
        column.no_wrap = True
    for row in model_table():
        table.add_row(row["name"], row["source"], row["status"], row["notes"])
    console.print(table)


def _register_more() -> None:
    from . import cli_library  # noqa: F401  (commands register themselves on import)
    from . import cli_serve  # noqa: F401
    from . import cli_tokens  # noqa: F401


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)  # one line, never wrapped


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the app, turning known errors into one line on stderr and exit code 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # the app's choice: no library chatter
    _register_more()
    if not [arg for arg in args if arg != "--debug"]:
        args.append("--help")  # what no_args_is_help does, without its exception in non-standalone mode
    try:
        code = app(args=args, prog_name="workbench", standalone_mode=False)
    except WorkbenchError as error:
        if debug:
            raise
        _fail(str(error).splitlines()[0] if str(error) else type(error).__name__)
        sys.exit(1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.TyperException as error:  # bad command-line values (typer's public base of its usage errors)
        if debug:
            raise
        _fail(" ".join(error.format_message().split()))
        sys.exit(1)
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    except Exception as error:  # noqa: BLE001 - the last resort: one line, the traceback on request
        if debug:
            raise
        detail = " ".join(str(error).split())[:300]
        _fail(f"unexpected {type(error).__name__}{': ' + detail if detail else ''} "
              "(a bug: rerun with --debug for the traceback and report it)")
        sys.exit(1)
    # typer returns exit codes (typer.Exit, and 130 for Ctrl-C) instead of raising in this mode
    if code == 130:
        _fail("interrupted; finished takes are kept and temp files removed: a re-run resumes where it stopped")
    if isinstance(code, int) and code:
        sys.exit(code)
    return None


if __name__ == "__main__":  # run as `python -m workbench.cli`: use the importable module's app
    from workbench.cli import main as _main

    _main()
