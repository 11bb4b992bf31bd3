"""``load_engine``: a MusicGen model by name, ready to render (kernels chosen, memory mode set)."""

from __future__ import annotations

from typing import Any

import torch

from workbench.core.errors import ParamsError
from workbench.engine import kernels as cpu_kernels
from workbench.engine.engine import MusicgenEngine
from workbench.models.load import load_model
from workbench.models.registry import DEFAULT_MODEL, resolve


def load_engine(name: str = DEFAULT_MODEL, *, device: str | None = None, dtype: str | torch.dtype | None = None,
                kernels: str | None = None, low_memory: bool = False) -> Any:
    """Load a MusicGen model by short name, Hub id, local folder, or built-in name (``tiny``...).

    Args:
        name: See ``workbench models``. Built-in models (``tiny``, ``tiny-melody``, ``random-small``) are
            built from config with deterministic random weights and need no files.
        device: ``cpu``, ``cuda``, ``cuda:1``, ``mps``...; default: the best available.
        dtype: ``float32``/``float16``/``bfloat16``; default float16 on CUDA, float32 elsewhere.
        kernels: How the decoder's linear layers run on the CPU: ``"onednn-packed"`` (pre-packed oneDNN
            weights, see :mod:`workbench.engine.kernels`), ``"torch"`` (PyTorch's default kernels, the
            reference), or ``None``/``"auto"``: packed where it pays (CPU, float32, decoder at least
            ``kernels.PACK_MIN_HIDDEN`` wide: every published MusicGen; ``tiny`` runs faster unpacked).
            Recorded on every take; ``workbench reproduce`` re-renders with the recorded kernels.
        low_memory: Keep the text encoder out of memory while it is not encoding (a temporary file on
            the CPU, host memory on a GPU; :mod:`workbench.engine.offload`): less memory, the same takes, a
            short re-read per call.

    Audiocraft models (``magnet-small``..., ``tiny-magnet``) load into an
    :class:`~workbench.engine.audiocraft.engine.AudiocraftEngine` (same calls; ``kernels`` and ``low_memory`` do
    not apply to them).

    Raises:
        ModelNotFoundError: unknown name, incomplete folder, or a Hub model that is neither cached nor
            downloadable (fails within seconds, never a multi-minute hang); audiocraft not installed.
    """
    if kernels not in (None, "auto", cpu_kernels.PACKED, cpu_kernels.REFERENCE):
        raise ParamsError(f"kernels must be auto, {cpu_kernels.PACKED} or {cpu_kernels.REFERENCE}, got {kernels!r}")
    ref = resolve(name)
    if ref.backend == "audiocraft":
        from workbench.engine.audiocraft.load import load_audiocraft_engine

        if kernels not in (None, "auto", cpu_kernels.REFERENCE):
            raise ParamsError(f"--kernels {kernels} applies to MusicGen models; {name!r} runs audiocraft's own")
        return load_audiocraft_engine(ref, device=device, dtype=dtype)
    loaded = load_model(name, device=device, dtype=dtype)
    model, ref = loaded.model, loaded.ref
    engine = MusicgenEngine(model, loaded.processor, ref_name=ref.name, kind=ref.kind, source=ref.source,
                    revision=loaded.revision)
    wanted = kernels == cpu_kernels.PACKED or (
        kernels in (None, "auto") and model.decoder.config.hidden_size >= cpu_kernels.PACK_MIN_HIDDEN)
    if wanted and cpu_kernels.can_pack(model):
        cpu_kernels.pack_linears(model.decoder)
    engine.low_memory = low_memory
    return engine

