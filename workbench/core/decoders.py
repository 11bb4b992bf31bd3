"""The names of the decoders that turn a take's codes into audio (checked here, so that prompt files, the CLI and the
UI agree; :mod:`workbench.render.decoders` does the work)."""

from __future__ import annotations

from typing import Any

from workbench.core.errors import ParamsError

#: Decoders a take can be decoded with: the model's EnCodec (the default) and MultiBand Diffusion.
DECODERS = ("encodec", "mbd")


def check_decoder(name: Any) -> str:
    """``encodec`` (also for None/blank) or ``mbd``; anything else is a one-line error."""
    if name is not None and not isinstance(name, str):
        raise ParamsError(f"decoder must be one of {', '.join(DECODERS)}, got {name!r}")
    name = (name or "encodec").strip().lower() or "encodec"
    if name not in DECODERS:
        raise ParamsError(f"decoder must be one of {', '.join(DECODERS)}, got {name!r}")
    return name


def mbd_refusal(backend: str, audio_channels: int, name: str, kind: str = "an audiocraft model") -> str | None:
    """Why MultiBand Diffusion cannot decode a model's takes, or None when it can: it decodes mono MusicGen codes
    (the transformers backend, one channel). ``kind`` says what an audiocraft model is (``MAGNeT``...)."""
    if backend != "transformers":
        return f"--decoder mbd decodes mono MusicGen takes; {name!r} is {kind}"
    if audio_channels != 1:
        return f"--decoder mbd decodes mono MusicGen takes; {name!r} is stereo"
    return None
