"""MusicGen Workbench: prompt, condition, batch-render and reproduce MusicGen takes.

The package is a library first; :mod:`workbench.cli` and :mod:`workbench.ui` are thin shells over it.
Layers, top to bottom (``docs/architecture.md``; import-linter enforces them): ``cli`` / ``ui`` →
``render`` → ``store`` | ``drafts`` | ``library`` → ``engine`` | ``analysis`` → ``codec`` → ``models`` → ``core``.

The names below are the public API. They load lazily so that ``import workbench`` stays fast and never
imports torch, gradio or typer.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

#: Public name -> the module that defines it.
_API = {
    "load_engine": "workbench.engine.load",
    "Engine": "workbench.engine.protocol",
    "available_models": "workbench.models.registry",
    "GenerationParams": "workbench.core.params",
    "Conditions": "workbench.core.conditions",
    "parse_seeds": "workbench.core.params",
    "Take": "workbench.core.take",
    "WorkbenchError": "workbench.core.errors",
    "render_prompt": "workbench.render.prompt",
    "render_seeds": "workbench.render.prompt",
    "render_library": "workbench.render.batch",
    "reproduce": "workbench.render.reproduce",
    "load_library": "workbench.library.prompts",
    "prepare_draft": "workbench.drafts.prepare",
    "History": "workbench.store.history",
    "load_codec": "workbench.codec.load",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
