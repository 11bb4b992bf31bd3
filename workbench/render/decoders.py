"""Which decoder turns a take's codes into its audio: the model's EnCodec (default) or MultiBand Diffusion.

The codes never change with the decoder; the sidecar records the decoder (``extra.decoder``: name, source, seed and
the decoded audio's SHA-256) and ``reproduce`` decodes the re-rendered codes with it again.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from typing import Any

from workbench.core.decoders import DECODERS, check_decoder
from workbench.core.take import Take

__all__ = ["DECODERS", "Decoders", "check_decoder", "load_decoder", "redecode"]


def load_decoder(name: str | None, engine: Any) -> Any:
    """None for ``encodec`` (the engine's own decode), else a loaded
    :class:`~workbench.engine.audiocraft.mbd.MbdDecoder`.

    Raises:
        ParamsError: an unknown decoder name.
        ModelCapabilityError / ModelNotFoundError: see ``MbdDecoder``.
    """
    if check_decoder(name) == "encodec":
        return None
    from workbench.engine.audiocraft.mbd import MbdDecoder

    return MbdDecoder(engine)


class Decoders:
    """Loaded decoders, one per engine and decoder name, loaded on first use and gone with their engine (a decoder
    holds no strong reference to its engine). Thread-safe: the UI's handlers and a batch's runner share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

    def get(self, name: str | None, engine: Any) -> Any:
        """The decoder ``name`` for ``engine``: None for ``encodec`` (its own decode), else loaded once."""
        name = check_decoder(name)
        if name == "encodec":
            return None
        with self._lock:
            loaded = self._loaded.setdefault(engine, {})
            if name not in loaded:
                loaded[name] = load_decoder(name, engine)
            return loaded[name]


def redecode(take: Take, decoder: Any) -> Take:
    """The take with its audio decoded by ``decoder`` from its codes (sampled from the take's seed), recorded with
    the seconds the decode took (``cost`` is the codes' pass)."""
    if decoder is None:
        return take
    started = time.perf_counter()
    audio = decoder.decode(take.codes, take.seed)[:, :take.num_samples]
    record = {**decoder.record(audio, take.seed), "wall_s": round(time.perf_counter() - started, 3)}
    return dataclasses.replace(take, audio=audio, extra={**take.extra, "decoder": record})
