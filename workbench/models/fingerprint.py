"""The weights fingerprint every sidecar records: which exact weights made a take."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from workbench.core.hashing import file_sha256
from workbench.models.hub import cached_snapshot

_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def weights_fingerprint(model: Any, info: Any) -> str:
    """SHA-256 identifying the weights.

    Hub cache: the weight files' blob names (the cache stores large files under their SHA-256, so this
    costs nothing); local folders: the files' SHA-256; built-in models: the bytes of every tensor.
    """
    digest = hashlib.sha256()
    if info.kind == "builtin":
        import torch

        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        return digest.hexdigest()
    folder = cached_snapshot(info.source) if info.kind == "hub" else Path(info.source)
    if folder is None:
        return ""
    for path in sorted(p for p in folder.iterdir() if p.name.endswith(_WEIGHT_SUFFIXES)):
        target = Path(os.path.realpath(path))
        blob = target.name if info.kind == "hub" and len(target.name) == 64 else file_sha256(target)
        digest.update(f"{path.name}:{blob}\n".encode())
    return digest.hexdigest()

