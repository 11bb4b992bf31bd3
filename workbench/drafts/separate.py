"""Demucs source separation for melody drafts: keep what carries the melody (vocals + other), drop drums and bass,
as audiocraft's ``ChromaStemConditioner`` does before it extracts chroma."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.audio import resample, to_channels
from workbench.core.errors import DraftError

#: The Demucs model ``--melody-stem demucs`` uses (the one audiocraft uses); ``demucs:NAME`` picks another, e.g.
#: ``demucs:demucs_unittest``, Demucs' own offline test model (random weights, built by its loader).
DEFAULT_MODEL = "htdemucs"
#: The sources kept.
KEEP = ("vocals", "other")
INSTALL = "stem 'demucs' needs Demucs: pip install -c constraints.txt -e '.[stems]'"


def load_demucs(name: str = DEFAULT_MODEL) -> Any:
    """A Demucs model (or bag of models) by name, through Demucs' own loader (the Hugging Face Hub, then its
    remote repository). Its random initialisation runs in a forked RNG from a fixed seed, so a model without
    pretrained weights (``demucs_unittest``) is the same in every process; the process RNG is left untouched.

    Raises:
        DraftError: Demucs is not installed, or the model cannot be loaded (one line).
    """
    try:
        import torch
        from demucs.pretrained import get_model
    except ImportError as error:
        raise DraftError(f"{INSTALL} ({error})") from None
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return get_model(name)
    except BaseException as error:  # noqa: BLE001 - demucs raises ModelLoadingError, SystemExit (fatal) or Hub errors
        if isinstance(error, KeyboardInterrupt):
            raise
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DraftError(f"Demucs model {name!r} could not be loaded ({first}); without the Hugging Face Hub only "
                         "'demucs_unittest' (random weights, for tests) is available") from None


def keep_melody_stems(audio: np.ndarray, sample_rate: int, model_name: str = DEFAULT_MODEL
                      ) -> tuple[np.ndarray, int]:
    """Separate ``[channels, samples]`` audio with Demucs and return vocals + other, ``[channels', samples']`` at the
    model's rate (deterministic: no random time shifts)."""
    import torch
    from demucs.apply import apply_model

    model = load_demucs(model_name)
    keep = [model.sources.index(name) for name in KEEP if name in model.sources]
    if not keep:
        raise DraftError(f"Demucs model {model_name!r} has no {' or '.join(KEEP)} source (it has {model.sources})")
    wav = to_channels(resample(audio, sample_rate, model.samplerate), model.audio_channels)
    with torch.inference_mode():
        sources = apply_model(model, torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))[None],
                              shifts=0, split=True, progress=False, device="cpu")[0]
    return sources[keep].sum(dim=0).numpy(), int(model.samplerate)


__all__ = ["DEFAULT_MODEL", "KEEP", "keep_melody_stems", "load_demucs"]
