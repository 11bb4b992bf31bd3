"""What ``workbench models`` lists: every model name, where it points, and whether it is ready offline."""

from __future__ import annotations

from workbench.models.hub import cached_snapshot
from workbench.models.registry import BUILTIN, MODELS


def model_table() -> list[dict[str, str]]:
    """Rows for ``workbench models``: every short and built-in name, where it points, and if it is cached."""
    rows = []
    for name, (description, _) in BUILTIN.items():
        rows.append({"name": name, "source": "built in (random weights)", "status": "ready offline",
                     "notes": description})
    for name, repo in MODELS.items():
        cached = cached_snapshot(repo) is not None
        rows.append({"name": name, "source": repo, "status": "cached" if cached else "download on first use",
                     "notes": "melody conditioning" if "melody" in name else "text to music"})
    return rows

