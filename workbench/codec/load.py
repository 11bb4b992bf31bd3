"""Codecs by name: standalone EnCodec checkpoints or the codec of a MusicGen model."""

from __future__ import annotations

from pathlib import Path

from workbench.codec.codec import Codec, musicgen_codec
from workbench.core.errors import ModelNotFoundError
from workbench.models import hub
from workbench.models.load import load_model, pick_device
from workbench.models.registry import BUILTIN, MODELS, ModelRef, resolve

#: Standalone EnCodec checkpoints by short name (MusicGen model names give their own codec).
CODECS: dict[str, str] = {
    "encodec_24khz": "facebook/encodec_24khz",
    "encodec_32khz": "facebook/encodec_32khz",
    "encodec_48khz": "facebook/encodec_48khz",
}


def codec_ref(name: str) -> ModelRef:
    """Map a codec name to a :class:`ModelRef` without loading anything.

    Raises:
        ModelNotFoundError: unknown name (the message lists the valid ones) or an incomplete folder.
    """
    key = name.strip() if isinstance(name, str) else ""
    if key in CODECS:
        return ModelRef(key, "hub", CODECS[key])
    try:
        return resolve(name)
    except ModelNotFoundError:
        if key and Path(key).expanduser().is_dir():
            raise
        raise ModelNotFoundError(
            f"unknown codec {name!r}: use an EnCodec checkpoint ({', '.join(CODECS)}), a MusicGen model whose codec "
            f"to use ({', '.join(MODELS)}; offline: {', '.join(BUILTIN)}, e.g. --model tiny), a Hub id or a folder"
        ) from None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _of_musicgen(name: str, device: str | None) -> Codec:
    """The codec of MusicGen model ``name`` (the whole model loads; the codec shares its weights)."""
    loaded = load_model(name, device=device)
    return musicgen_codec(loaded.model, name=loaded.ref.name, source=loaded.ref.source, revision=loaded.revision,
                          kind=loaded.ref.kind)


def load_codec(name: str = "tiny", *, device: str | None = None) -> Codec:
    """Load a codec: a standalone EnCodec checkpoint or the codec of a MusicGen model.

    Args:
        name: ``encodec_24khz``/``encodec_32khz``/``encodec_48khz`` (``facebook/encodec_*``), any MusicGen name
            :func:`workbench.engine.load_engine` takes (``tiny``, ``small``, a Hub id, a folder), or a Hub id /
            folder of an EnCodec checkpoint.
        device: ``cpu``, ``cuda``...; default: the best available.

    Raises:
        ModelNotFoundError: unknown name, or a checkpoint neither cached nor downloadable (fails in seconds).
    """
    ref = codec_ref(name)
    if ref.kind == "builtin":
        return _of_musicgen(ref.name, device)
    local_only = hub.preflight(ref)  # the same fast offline failure as every model load
    from transformers import AutoConfig, AutoProcessor, EncodecModel

    try:
        model_type = AutoConfig.from_pretrained(ref.source, local_files_only=local_only).model_type
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(f"cannot load codec {ref.name!r} ({ref.source}): {_first_line(error)}") from None
    if model_type in ("musicgen", "musicgen_melody"):
        return _of_musicgen(name, device)
    if model_type != "encodec":
        raise ModelNotFoundError(f"{ref.name!r} is a {model_type!r} model, not EnCodec or MusicGen")
    target = pick_device(device)
    try:
        model = EncodecModel.from_pretrained(ref.source, local_files_only=local_only, **hub.placement(target, None))
        processor = AutoProcessor.from_pretrained(ref.source, local_files_only=local_only)
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(f"cannot load codec {ref.name!r} ({ref.source}): {_first_line(error)}") from None
    snapshot = hub.cached_snapshot(ref.source) if ref.kind == "hub" else None
    revision = snapshot.name if snapshot is not None else getattr(model.config, "_commit_hash", None)
    model = model.to(target).eval()
    return Codec(model=model, name=ref.name, source=ref.source,
                        revision=revision if ref.kind == "hub" else None, kind=ref.kind,
                        channels=int(model.config.audio_channels), processor=processor)
