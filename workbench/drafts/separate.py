"""Demucs source separation for melody drafts: keep what carries the melody (vocals + other), drop drums and bass,
as audiocraft's ``ChromaStemConditioner`` does before it extracts chroma (the model is loaded and run by
:mod:`workbench.analysis.separate`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.analysis.separate import DEFAULT_MODEL, separate
from workbench.analysis.separate import load_demucs as _load
from workbench.core.errors import DraftError, ModelNotFoundError

#: The sources kept.
KEEP = ("vocals", "other")


def load_demucs(name: str = DEFAULT_MODEL) -> Any:
    """:func:`workbench.analysis.separate.load_demucs`, its one-line failure as a :class:`DraftError` (``--melody-stem
    demucs:NAME`` picks ``name``, e.g. ``demucs:demucs_unittest``, Demucs' own offline test model).

    Raises:
        DraftError: Demucs is not installed, or the model cannot be loaded.
    """
    try:
        return _load(name)
    except ModelNotFoundError as error:
        raise DraftError(f"stem 'demucs': {error}") from None


def keep_melody_stems(audio: np.ndarray, sample_rate: int, model_name: str = DEFAULT_MODEL
                      ) -> tuple[np.ndarray, int]:
    """Separate ``[channels, samples]`` audio with Demucs and return vocals + other, ``[channels', samples']`` at the
    model's rate (deterministic: no random time shifts)."""
    model = load_demucs(model_name)
    if not any(name in model.sources for name in KEEP):
        raise DraftError(f"Demucs model {model_name!r} has no {' or '.join(KEEP)} source (it has {model.sources})")
    sources, rate = separate(audio, sample_rate, model)
    return np.sum([sources[name] for name in KEEP if name in sources], axis=0), rate


__all__ = ["DEFAULT_MODEL", "KEEP", "keep_melody_stems", "load_demucs"]
