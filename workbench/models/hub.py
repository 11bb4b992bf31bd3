"""Loading checkpoints from the Hugging Face Hub or a local folder, failing fast and clearly when offline."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from workbench.core.errors import ModelNotFoundError
from workbench.models.registry import ModelRef


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` is set (read at call time, not at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """A TCP connection to the Hub endpoint within ``timeout_s`` (DNS failures count as unreachable)."""
    from huggingface_hub import constants

    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _advice(name: str) -> str:
    return (f"use --model tiny (built in, offline, untrained), a local folder saved with save_pretrained, "
            f"or run once with network access to cache {name!r} (set HF_HUB_OFFLINE=1 afterwards to stay offline)")


def cached_snapshot(repo_id: str) -> Path | None:
    """The local snapshot folder of ``repo_id`` if its config is in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    return Path(found).parent if isinstance(found, str) else None


def preflight(ref: ModelRef) -> bool:
    """Check, in seconds and without importing torch, that ``ref`` can be loaded.

    Returns:
        True when the files are local (cache or folder), False when they must be downloaded.

    Raises:
        ModelNotFoundError: a Hub model that is not cached while offline or with the Hub unreachable.
    """
    if ref.kind != "hub":
        return True
    if cached_snapshot(ref.source) is not None:
        return True
    if hub_offline():
        raise ModelNotFoundError(
            f"model {ref.name!r} ({ref.source}) is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 "
            f"forbids downloading it; {_advice(ref.name)}")
    if not hub_reachable():
        raise ModelNotFoundError(
            f"model {ref.name!r} ({ref.source}) is not in the local Hugging Face cache and the Hub cannot be "
            f"reached; {_advice(ref.name)}")
    return False


def placement(device: Any, dtype: Any) -> dict[str, Any]:
    """``from_pretrained`` keyword arguments that load the weights in ``dtype`` straight onto ``device``.

    With accelerate installed (a dependency), a device map puts each tensor on ``device`` as it is read: no copy of
    the model on the host (``large`` in float32: about 13 GB). Without it, the weights load on the host in ``dtype``
    and the caller moves the model.

    Args:
        device: A ``torch.device`` (None: the host).
        dtype: A ``torch.dtype`` (None: the checkpoint's own, transformers' ``"auto"``).
    """
    from transformers.utils import is_accelerate_available

    kwargs: dict[str, Any] = {"dtype": dtype if dtype is not None else "auto"}
    if device is not None and is_accelerate_available():
        kwargs["device_map"] = {"": device}
    return kwargs


def load_pretrained(ref: ModelRef, *, device: Any = None, dtype: Any = None) -> tuple[Any, Any, str | None]:
    """Load ``(model, processor, revision)`` for a Hub id or a local folder, in ``dtype`` onto ``device``
    (:func:`placement`; None: as saved, on the host).

    Hub models come from the local cache when present; otherwise the Hub is probed for a few seconds
    first, so an offline machine gets a clear error instead of minutes of retries.
    """
    from transformers import (
        AutoConfig,
        AutoProcessor,
        MusicgenForConditionalGeneration,
        MusicgenMelodyForConditionalGeneration,
    )

    local_only = preflight(ref)
    revision = None
    if ref.kind == "hub":
        snapshot = cached_snapshot(ref.source)
        revision = snapshot.name if snapshot is not None else None
    try:
        config = AutoConfig.from_pretrained(ref.source, local_files_only=local_only)
        if config.model_type not in ("musicgen", "musicgen_melody"):
            raise ModelNotFoundError(f"{ref.name!r} is a {config.model_type!r} model, not MusicGen or MusicGen-Melody")
        model_class = (MusicgenMelodyForConditionalGeneration if config.model_type == "musicgen_melody"
                       else MusicgenForConditionalGeneration)
        model = model_class.from_pretrained(ref.source, local_files_only=local_only, **placement(device, dtype))
        processor = AutoProcessor.from_pretrained(ref.source, local_files_only=local_only)
    except ModelNotFoundError:
        raise
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelNotFoundError(f"cannot load model {ref.name!r} ({ref.source}): {first}") from None
    if revision is None and ref.kind == "hub":
        revision = getattr(model.config, "_commit_hash", None)
    return model.eval(), processor, revision


