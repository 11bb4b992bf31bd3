"""Loading a MusicGen model by name onto a device: built-in models from config, the rest from the Hub or a folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from workbench.core.errors import ModelNotFoundError, ParamsError
from workbench.models import hub
from workbench.models.builtin import build_builtin
from workbench.models.dtypes import torch_dtype
from workbench.models.registry import ModelRef, resolve


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, or the best available: cuda > mps > cpu."""
    if device:
        try:
            return torch.device(device)
        except RuntimeError as error:
            raise ParamsError(f"device {device!r} is not a torch device: {error}") from None
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class LoadedModel:
    """A MusicGen model on its device, in eval mode, with where it came from.

    Attributes:
        model: ``MusicgenForConditionalGeneration`` or ``MusicgenMelodyForConditionalGeneration``.
        processor: Its processor (tokenizer + feature extractor).
        ref: The resolved name.
        revision: Hub commit hash when known.
    """

    model: Any
    processor: Any
    ref: ModelRef
    revision: str | None


def load_model(name: str, *, device: str | None = None, dtype: str | torch.dtype | None = None) -> LoadedModel:
    """Resolve ``name`` and load its model and processor (see :func:`workbench.engine.load_engine`).

    Raises:
        ModelNotFoundError: unknown name, incomplete folder, or a Hub model that is neither cached nor
            downloadable (fails within seconds).
        ParamsError: an unknown device or dtype.
    """
    ref = resolve(name)
    if ref.backend != "transformers":
        raise ModelNotFoundError(f"{ref.name!r} is an audiocraft model ({ref.source}), not a transformers MusicGen: "
                                 "load_engine runs it; the codec tools take MusicGen and EnCodec models")
    target = pick_device(device)
    precision = torch_dtype(dtype, target)
    revision = None
    if ref.kind == "builtin":
        # built on the host in float32 from the CPU RNG whatever the target: that init defines the weights (built on
        # the GPU or in half precision they would be other weights), then converted and moved
        model, processor = build_builtin(ref.source)
    else:  # loaded in ``precision`` straight onto ``target`` (no float32 copy on the host), see hub.placement
        model, processor, revision = hub.load_pretrained(ref, device=target, dtype=precision)
    return LoadedModel(model.to(device=target, dtype=precision).eval(), processor, ref, revision)
