"""``load_engine``: a MusicGen model by name, ready to render (kernels chosen, memory mode set)."""

from __future__ import annotations

from typing import Any

import torch

from workbench.core.errors import ParamsError
from workbench.engine import compat
from workbench.engine import kernels as cpu_kernels
from workbench.engine.autotune import KernelChoice, choose_kernels
from workbench.engine.engine import MusicgenEngine
from workbench.models.dtypes import torch_dtype
from workbench.models.load import load_model, pick_device
from workbench.models.registry import DEFAULT_MODEL, resolve


def load_engine(name: str = DEFAULT_MODEL, *, device: str | None = None, dtype: str | torch.dtype | None = None,
                kernels: str | None = None, low_memory: bool = False) -> Any:
    """Load a MusicGen model by short name, Hub id, local folder, or built-in name (``tiny``...).

    Args:
        name: See ``workbench models``. Built-in models (``tiny``, ``tiny-melody``, ``random-small``) are
            built from config with deterministic random weights and need no files.
        device: ``cpu``, ``cuda``, ``cuda:1``, ``mps``...; default: the best available.
        dtype: ``float32``/``float16``/``bfloat16``; default float32 on every device (on CUDA, half-precision takes
            did not repeat: :mod:`workbench.models.dtypes`, whose :func:`~workbench.models.dtypes.agreement_note`
            the shells print when another dtype is chosen there). ``bfloat16`` on
            the CPU needs a bfloat16 fast path (AMX or AVX512-BF16, see :func:`dtype_choices`); it is refused
            elsewhere.
        kernels: How the decoder's linear layers run on the CPU: ``"onednn-packed"`` (pre-packed oneDNN
            weights, see :mod:`workbench.engine.kernels`), ``"torch"`` (PyTorch's default kernels, the
            reference), or ``None``/``"auto"``: the faster of the two on this machine, measured on the model's
            real shapes once per machine and model and remembered (:mod:`workbench.engine.autotune`); decoders
            narrower than ``kernels.PACK_MIN_HIDDEN`` (the ``tiny`` test models) are not measured: the reference
            in float32, packed in bfloat16.
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
    if kernels not in (None, "auto", *cpu_kernels.KINDS):
        raise ParamsError(f"kernels must be auto, {cpu_kernels.PACKED} or {cpu_kernels.REFERENCE}, got {kernels!r}")
    check_dtype(device, dtype)
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
    if ref.kind == "builtin":
        engine.weights_sha256()  # now, on the dense weights (remembered on disk): packed ones cost a copy to hash
    engine.kernel_choice = _kernels(engine, kernels)
    engine.low_memory = low_memory
    return engine


def _kernels(engine: MusicgenEngine, kernels: str | None) -> KernelChoice:
    """Put the decoder on the asked kernels (packed only where they run), or on the measured fastest."""
    model = engine.model
    if kernels in cpu_kernels.KINDS:
        chosen = kernels if kernels == cpu_kernels.REFERENCE or cpu_kernels.can_pack(model) else cpu_kernels.REFERENCE
        cpu_kernels.use(model.decoder, chosen)
        return KernelChoice(chosen, "asked")
    if model.decoder.config.hidden_size < cpu_kernels.PACK_MIN_HIDDEN:
        # fixed, never measured: float32 keeps the reference (what the pinned test takes record); bfloat16 packs,
        # since PyTorch's own bfloat16 matmul fails the batch-independence probe on the CPUs measured
        packs = engine.dtype == torch.bfloat16 and cpu_kernels.can_pack(model)
        fixed = cpu_kernels.PACKED if packs else cpu_kernels.REFERENCE
        cpu_kernels.use(model.decoder, fixed)
        return KernelChoice(fixed, "narrow")
    return choose_kernels(engine)


def dtype_choices(device: str | None = None) -> list[str]:
    """The dtypes :func:`load_engine` accepts on ``device`` (default: the best available), the default first."""
    target = pick_device(device)
    if target.type == "cpu":
        return ["float32", "bfloat16"] if compat.bf16_fast_path() is not None else ["float32"]
    default = str(torch_dtype(None, target)).removeprefix("torch.")
    return [default, *(name for name in ("float16", "bfloat16", "float32") if name != default)]


def check_dtype(device: str | None, dtype: str | torch.dtype | None) -> None:
    """Refuse bfloat16 on a CPU without a bfloat16 fast path (it would run, slower than float32).

    Raises:
        ParamsError: one line naming the CPU and what to use instead; or an unknown device or dtype.
    """
    target = pick_device(device)
    if target.type == "cpu" and torch_dtype(dtype, target) == torch.bfloat16 and compat.bf16_fast_path() is None:
        raise ParamsError(f"dtype bfloat16 on the CPU needs AMX or AVX512-BF16, which this CPU "
                          f"({compat.cpu_info().name}) lacks: use float32")

