"""MusicGen Workbench: prompt, condition, batch-render and reproduce MusicGen takes.

The package is a library first; ``workbench.cli`` and ``workbench.ui`` are thin shells over it.
Heavy modules (torch, transformers) load lazily so that ``import workbench`` and ``workbench --help``
stay fast; gradio and typer are never imported here.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_engine": "workbench.engine",
    "Engine": "workbench.engine",
    "available_models": "workbench.models",
    "GenerationParams": "workbench.params",
    "parse_seeds": "workbench.params",
    "Take": "workbench.take",
    "WorkbenchError": "workbench.errors",
    "render_library": "workbench.batch",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
