"""The ``workbench`` app: every command registered here, explicitly, and ``main`` turning errors into one line.

Every known error (``WorkbenchError``, bad command-line values) prints one line to stderr and exits 1;
an unexpected one prints one line naming it and exits 1 too; ``--debug`` shows the traceback instead.
"""

import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from workbench import __version__
from workbench.cli import (
    analysis,
    branch,
    curate,
    generate,
    history,
    library,
    loop,
    models,
    render,
    repaint,
    serve,
    tokens,
    transcribe,
)
from workbench.cli.options import console
from workbench.core.errors import WorkbenchError

#: (command name, function), in the order ``workbench --help`` lists them.
COMMANDS: list[tuple[str, Callable[..., Any]]] = [
    ("generate", generate.generate), ("seeds", generate.seeds), ("reproduce", history.reproduce),
    ("models", models.models), ("list", library.list_libraries), ("render", render.render),
    ("history", history.history), ("rate", history.rate), ("favorite", history.favorite), ("serve", serve.serve),
    ("tokenize", tokens.tokenize), ("detokenize", tokens.detokenize), ("codec-report", tokens.codec_report),
    ("loop", loop.loop), ("branch", branch.branch), ("repaint", repaint.repaint), ("edit", curate.edit),
    ("delete", curate.delete),
    ("prune", curate.prune), ("export", curate.export), ("import", curate.import_),
    ("import-prompts", curate.import_prompts), ("transcribe", transcribe.transcribe), ("stems", analysis.stems),
    ("analyze", analysis.analyze),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"musicgen-workbench {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """MusicGen Workbench."""


def build_app() -> typer.Typer:
    """The typer app with every command of :data:`COMMANDS`."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                      help="MusicGen Workbench: prompt, condition, batch-render and reproduce MusicGen takes.")
    app.callback()(_root)
    for name, command in COMMANDS:
        app.command(name)(command)
    return app


app = build_app()


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)  # one line, never wrapped


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the app, turning known errors into one line on stderr and exit code 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # the app's choice: no library chatter
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


if __name__ == "__main__":  # run as `python -m workbench.cli.app`: use the importable module's app
    from workbench.cli.app import main as _main

    _main()
