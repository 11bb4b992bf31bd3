"""A long-running process's model: one engine in memory at a time, loaded on first use (for the UI, servers).

The cache is an object its owner creates (``build_ui`` makes one per app), never a module global, so
two apps in one process (tests) do not share or fight over a model by accident.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any


class EngineCache:
    """Holds at most one loaded :class:`~workbench.engine.Engine`.

    ``get(name)`` returns the engine for ``name``, loading it on first use; asking for another model
    releases the previous one first (its memory is freed before the new weights load), so switching
    models in a UI never holds two models at once. Thread-safe: concurrent callers wait for one load.

    Args:
        loader: ``loader(name, device=..., dtype=...) -> Engine``; default :func:`workbench.engine.load_engine`.
        device: Device for every load (default: the best available).
        dtype: Dtype for every load (default: the engine's choice).
        low_memory: Load engines in low-memory mode (passed to the loader as ``low_memory=True``).
    """

    def __init__(self, loader: Callable[..., Any] | None = None, *, device: str | None = None,
                 dtype: str | None = None, low_memory: bool = False) -> None:
        self._loader = loader
        self._options = {"low_memory": True} if low_memory else {}
        self._device = device
        self._dtype = dtype
        self._lock = threading.Lock()
        self._name: str | None = None
        self._engine: Any = None

    @property
    def loaded(self) -> str | None:
        """Name of the model in memory, or None."""
        return self._name

    def peek(self) -> Any:
        """The engine in memory (or None), without loading anything."""
        return self._engine

    def get(self, name: str) -> Any:
        """The engine for ``name``; loads it (releasing any other model) when it is not the one in memory.

        Raises:
            ModelNotFoundError: unknown name, or a Hub model that is neither cached nor downloadable.
        """
        key = name.strip() if isinstance(name, str) else name
        with self._lock:
            if self._engine is not None and self._name == key:
                return self._engine
            self._release_locked()
            from workbench.models.hub import preflight
            from workbench.models.registry import resolve

            preflight(resolve(key))  # fail in seconds, before any weights are touched
            loader = self._loader
            if loader is None:
                from workbench.engine.load import load_engine as loader
            self._engine = loader(key, device=self._device, dtype=self._dtype, **self._options)
            self._name = key
            return self._engine

    def release(self) -> None:
        """Drop the model in memory (if any) and return its memory to the system."""
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        if self._engine is None:
            return
        self._engine, self._name = None, None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
