"""The weights fingerprint every sidecar records: which exact weights made a take."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from workbench.core import cache
from workbench.core.hashing import file_sha256
from workbench.models.hub import cached_snapshot

_WEIGHT_SUFFIXES = (".safetensors", ".bin")
#: The cache store of built-in models' fingerprints.
STORE = "fingerprints"
#: Values of every tensor, evenly spaced, that key a built-in model's remembered fingerprint.
SAMPLES_PER_TENSOR = 256


def _float32(tensor: Any) -> Any:
    import torch

    return tensor.detach().to("cpu", torch.float32).contiguous().reshape(-1)


def tensors_sha256(model: Any) -> str:
    """SHA-256 of every tensor of ``model.state_dict()``: its name, then its values as float32 bytes."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(memoryview(_float32(tensor).numpy()))  # no copy of a float32 tensor's bytes
    return digest.hexdigest()


def sample_key(model: Any, info: Any) -> str:
    """A cheap key of a built-in model's weights: its name, the library versions, and every tensor's name, shape,
    dtype and :data:`SAMPLES_PER_TENSOR` evenly spaced values. Built-in weights come from a fixed seed, so
    weights that differ (another init in a new library version) differ in nearly every value, sampled ones
    included."""
    import torch
    import transformers

    digest = hashlib.sha256(json.dumps([info.name, torch.__version__, transformers.__version__]).encode())
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().reshape(-1)
        count = min(flat.numel(), SAMPLES_PER_TENSOR)
        picks = torch.arange(count) * max(flat.numel() - 1, 0) // max(count - 1, 1)  # integers: exact at any size
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(memoryview(_float32(flat[picks.to(flat.device)]).numpy()))
    return digest.hexdigest()


def weights_fingerprint(model: Any, info: Any) -> str:
    """SHA-256 identifying the weights.

    Hub cache: the weight files' blob names (the cache stores large files under their SHA-256, so this
    costs nothing); local folders: the files' SHA-256; built-in models: the bytes of every tensor
    (:func:`tensors_sha256`: seconds for ``random-small``, so remembered on disk under :func:`sample_key`).
    """
    digest = hashlib.sha256()
    if info.kind == "builtin":
        key = sample_key(model, info)
        remembered = cache.recall(STORE, key)
        if isinstance(remembered, str) and len(remembered) == 64:
            return remembered
        fingerprint = tensors_sha256(model)
        cache.remember(STORE, key, fingerprint)
        return fingerprint
    folder = cached_snapshot(info.source) if info.kind == "hub" else Path(info.source)
    if folder is None:
        return ""
    for path in sorted(p for p in folder.iterdir() if p.name.endswith(_WEIGHT_SUFFIXES)):
        target = Path(os.path.realpath(path))
        blob = target.name if info.kind == "hub" and len(target.name) == 64 else file_sha256(target)
        digest.update(f"{path.name}:{blob}\n".encode())
    return digest.hexdigest()

