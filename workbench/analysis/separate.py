"""Demucs source separation: the one loader of Demucs models (offline-aware: no download is attempted when
``HF_HUB_OFFLINE`` is set and the model is not on this machine) and the sources of a piece of audio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.audio import resample, to_channels
from workbench.core.errors import ModelNotFoundError
from workbench.models.hub import hub_offline

#: The Demucs model the workbench uses unless told otherwise (the one audiocraft uses).
DEFAULT_MODEL = "htdemucs"
#: Demucs' own offline test model: random weights, built by its loader without any file.
TEST_MODEL = "demucs_unittest"
INSTALL = "Demucs is not installed: pip install -c constraints.txt -e '.[stems]'"


def load_demucs(name: str = DEFAULT_MODEL) -> Any:
    """A Demucs model (or bag of models) by name, through Demucs' own loader (the Hugging Face Hub, then its
    legacy download site). With ``HF_HUB_OFFLINE`` set, a model that is in neither cache is refused before Demucs
    is called (Demucs would try the network anyway). Its random initialisation runs in a forked RNG from a fixed
    seed, so a model without pretrained weights (:data:`TEST_MODEL`) is the same in every process; the process
    RNG is left untouched.

    Raises:
        ModelNotFoundError: Demucs is not installed, or the model cannot be loaded (one line).
    """
    try:
        import torch
        from demucs.pretrained import get_model
    except ImportError as error:
        raise ModelNotFoundError(f"{INSTALL} ({error})") from None
    why = unavailable(name)
    if why:
        raise ModelNotFoundError(why)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return get_model(name)
    except BaseException as error:  # noqa: BLE001 - demucs raises ModelLoadingError, SystemExit (fatal) or Hub errors
        if isinstance(error, KeyboardInterrupt):
            raise
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelNotFoundError(f"Demucs model {name!r} could not be loaded ({first}); without the network only "
                                 f"{TEST_MODEL!r} (random weights, for tests) is available") from None


def unavailable(name: str) -> str | None:
    """Why the Demucs model ``name`` cannot load here now (offline, and not on this machine), or None when it can
    (checked without loading it: the UI hides what cannot work)."""
    if hub_offline() and not is_local(name):
        return (f"Demucs model {name!r} could not be loaded (it is not on this machine and HF_HUB_OFFLINE=1 forbids "
                f"downloading it): run once online to cache it; offline only {TEST_MODEL!r} (random weights, for "
                "tests) is available")
    return None


def is_local(name: str) -> bool:
    """Whether Demucs can load ``name`` without the network: the test model, or every file of the model in the
    Hugging Face cache (Demucs 4.1's first source) or in torch's hub cache (its legacy download site)."""
    return name == TEST_MODEL or _in_hub_cache(name) or _in_torch_cache(name)


def _bag(yaml_file: str | Path) -> list[str]:
    import yaml

    return list(yaml.safe_load(Path(yaml_file).read_text())["models"])


def _in_hub_cache(name: str) -> bool:
    try:  # demucs.hf exists from Demucs 4.1; older ones download from the legacy site only
        from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name
        from huggingface_hub import try_to_load_from_cache

        namespace, _, bare = name.rpartition("/")
        repo = f"{namespace or DEFAULT_NAMESPACE}/{hf_repo_name(bare)}"
        bag = try_to_load_from_cache(repo, f"{bare}.yaml")
        return isinstance(bag, str) and all(
            isinstance(try_to_load_from_cache(repo, f"{sig}.safetensors"), str) for sig in _bag(bag))
    except Exception:  # noqa: BLE001 - anything unreadable means "not cached": the model is then refused offline
        return False


def _in_torch_cache(name: str) -> bool:
    try:
        import torch
        from demucs.pretrained import REMOTE_ROOT

        files = {line.split("-", 1)[0]: line.strip() for line in (REMOTE_ROOT / "files.txt").read_text().splitlines()
                 if line.strip() and not line.startswith(("#", "root:"))}
        sigs = _bag(REMOTE_ROOT / f"{name}.yaml") if (REMOTE_ROOT / f"{name}.yaml").is_file() else [name]
        checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
        return all(sig in files and (checkpoints / files[sig]).is_file() for sig in sigs)
    except Exception:  # noqa: BLE001 - as above
        return False


def separate(audio: np.ndarray, sample_rate: int, model: Any) -> tuple[dict[str, np.ndarray], int]:
    """The sources of ``[channels, samples]`` audio: ``{name: [model channels, samples']}`` float32 at the model's
    rate (the audio is resampled and mixed to the model's channels first), in the model's source order.
    Deterministic: no random time shifts."""
    import torch
    from demucs.apply import apply_model

    wav = to_channels(resample(audio, sample_rate, model.samplerate), model.audio_channels)
    with torch.inference_mode():
        sources = apply_model(model, torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))[None],
                              shifts=0, split=True, progress=False, device="cpu")[0]
    return {name: sources[i].numpy() for i, name in enumerate(model.sources)}, int(model.samplerate)


def sum_to_mixture(mixture: np.ndarray, sources: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
    """Sources that sum back to ``mixture`` exactly: each gets an equal share of what the separator left out (the
    mixture-consistency projection of Wisdom et al., 2019), and that residual's level.

    Args:
        mixture: ``[channels, samples]`` float32.
        sources: ``{name: [channels, samples]}`` of the same shape, as the separator gave them.

    Returns:
        The projected sources and the residual ``mixture - sum(sources)`` relative to the mixture, dB RMS
        (``-inf`` when they summed back exactly).
    """
    residual = mixture - np.sum(list(sources.values()), axis=0, dtype=np.float64)
    share = residual / len(sources)
    energy = float(np.sqrt(np.mean(np.square(mixture, dtype=np.float64))))
    left = float(np.sqrt(np.mean(np.square(residual))))
    level = 20 * np.log10(left / energy) if left > 0 and energy > 0 else float("-inf")
    return {name: (source + share).astype(np.float32) for name, source in sources.items()}, level


__all__ = ["DEFAULT_MODEL", "TEST_MODEL", "is_local", "load_demucs", "separate", "sum_to_mixture", "unavailable"]
