"""``workbench models``: every model name, where it points and whether it is ready offline."""

from workbench.cli.options import console


def models() -> None:
    """List model names: built-in offline models and Hub checkpoints (whether they are cached, what they take)."""
    from rich.table import Table

    from workbench.models.catalog import model_table

    table = Table("name", "source", "status", "inputs", "notes")
    for column in table.columns[:3]:
        column.no_wrap = True
    for row in model_table():
        table.add_row(row["name"], row["source"], row["status"], row["inputs"], row["notes"])
    console.print(table)

