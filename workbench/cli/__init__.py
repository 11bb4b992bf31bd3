"""The ``workbench`` command line: a thin typer shell over the library, one module per command group.

:mod:`.app` registers every command explicitly; :mod:`.options` holds the option groups shared by commands.
"""


def main(argv: list[str] | None = None) -> object:
    """The ``workbench`` console script (see :func:`workbench.cli.app.main`)."""
    from workbench.cli.app import main as run

    return run(argv)
