"""Loading an audiocraft model by name: the built-in test models from config, the rest through audiocraft's loaders."""

from __future__ import annotations

from typing import Any

import torch

from workbench.core.errors import ModelNotFoundError, ParamsError
from workbench.engine.audiocraft.builtin import CPU_ONLY, build_tiny_magnet, build_tiny_magnet_50hz, build_tiny_style
from workbench.engine.audiocraft.engine import AudiocraftEngine
from workbench.engine.audiocraft.install import attention_backend, audiocraft_module
from workbench.models import hub
from workbench.models.dtypes import torch_dtype
from workbench.models.load import pick_device
from workbench.models.registry import ModelRef


def load_audiocraft_engine(ref: ModelRef, *, device: str | None = None,
                           dtype: str | torch.dtype | None = None) -> AudiocraftEngine:
    """An :class:`AudiocraftEngine` for ``ref`` on ``device`` (default: the best available; the CPU for the built-ins
    that run only there, :data:`~workbench.engine.audiocraft.builtin.CPU_ONLY`).

    The weights stay float32: audiocraft itself autocasts to float16 on CUDA; another ``dtype`` is refused.

    Raises:
        ModelNotFoundError: audiocraft is not installed (the message says how), or a Hub model neither cached nor
            downloadable (fails within seconds, as for MusicGen models).
        ParamsError: a dtype other than float32; a CPU-only built-in asked onto another device.
    """
    cpu_only = ref.kind == "builtin" and ref.name in CPU_ONLY
    # no device asked: a CPU-only built-in runs where it can, not on the GPU the machine has
    target = torch.device("cpu") if cpu_only and not device else pick_device(device)
    if dtype is not None and torch_dtype(dtype, target) != torch.float32:
        raise ParamsError(f"audiocraft models run with float32 weights (audiocraft autocasts to float16 on CUDA); "
                          f"got --dtype {dtype}")
    audiocraft_module()
    attention_backend(target)
    revision = None
    if ref.kind == "builtin":
        if cpu_only and target.type != "cpu":
            raise ParamsError(f"{ref.name} runs on the CPU only: use --device cpu or leave --device out")
        build = {"tiny-style": build_tiny_style, "tiny-magnet-50hz": build_tiny_magnet_50hz}.get(ref.name,
                                                                                                build_tiny_magnet)
        model: Any = build()
        model.lm.to(target)
        model.compression_model.to(target)
        model.device = target
    else:
        hub.preflight(ref)
        models = audiocraft_module("audiocraft.models")
        kind = models.MAGNeT if "magnet" in ref.source else models.MusicGen
        try:
            model = kind.get_pretrained(ref.source, device=str(target))
        except (OSError, ValueError, RuntimeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise ModelNotFoundError(f"cannot load {ref.name!r} ({ref.source}) with audiocraft: {first}") from None
        attention_backend(target)  # audiocraft's MAGNeT loader sets xformers whatever the device
        snapshot = hub.cached_snapshot(ref.source)
        revision = snapshot.name if snapshot is not None else None
    return AudiocraftEngine(model, ref_name=ref.name, kind=ref.kind, source=ref.source, revision=revision)
