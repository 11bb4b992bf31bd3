"""Every version- or build-specific call the workbench makes, probed once, each with a public fallback.

- The KV-cache keyword of the decoder's forward: ``cache`` (transformers >= 5.24) or ``past_key_values``
  (earlier; 5.24-5.39 still accept it with a deprecation warning). Read from the forward's signature.
- A self-attention KV cache allocated once per pass: an implementation of transformers' public cache-layer
  interface (``CacheLayerMixin``, whose abstract methods changed between releases). Probed against the
  methods it implements; otherwise passes use the public ``DynamicCache`` (the same numbers, more copying).
- The pre-packed oneDNN linear kernels (``torch.ops.mkldnn._reorder_linear_weight`` /
  ``_linear_pointwise``, private PyTorch ops that ``torch.compile``'s CPU freezing uses). Probed on a
  small layer per dtype; when missing or failing, the decoder keeps PyTorch's ``nn.Linear`` (one log line).
- The CPU's name and instruction-set flags: ``torch.cpu.get_capabilities()`` (new in recent PyTorch), else
  the ``flags`` / ``Features`` line of ``/proc/cpuinfo``; whether oneDNN runs bfloat16 here
  (``torch.ops.mkldnn._is_mkldnn_bf16_supported``, private; else the flags decide alone).
- Handing freed heap memory back to the system after packing (glibc's ``malloc_trim``; elsewhere nothing).

Nothing else in the package reaches into private or version-specific APIs (``tests/test_compat.py``
forces each fallback).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import inspect
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger("workbench")

#: Decoder forward keywords for the KV cache, newest first.
CACHE_KEYWORDS = ("cache", "past_key_values")


@functools.cache
def _cache_keyword(forward_type: type) -> str:
    parameters = inspect.signature(forward_type.forward).parameters
    for name in CACHE_KEYWORDS:
        if name in parameters:
            return name
    log.warning("the decoder's forward names neither 'cache' nor 'past_key_values'; passing 'cache'")
    return CACHE_KEYWORDS[0]


def cache_keyword(decoder: torch.nn.Module) -> str:
    """The keyword under which ``decoder``'s forward takes its KV cache."""
    return _cache_keyword(type(decoder))


#: What :class:`_PreallocatedLayer` implements of transformers' ``CacheLayerMixin`` (its abstract methods).
LAYER_PROTOCOL = {"lazy_initialization": ("key_states", "value_states"), "update": ("key_states", "value_states"),
                  "get_mask_sizes": ("query_length",), "get_seq_length": (), "get_max_length": ()}


@functools.lru_cache(maxsize=1)
def _layer_class() -> type | None:
    """A self-attention cache layer on one buffer allocated per pass, or None where transformers' cache-layer
    interface is not the one it implements (then passes use ``DynamicCache``)."""
    try:
        from transformers import Cache, CacheLayerMixin
    except ImportError as error:
        log.info("transformers has no public cache-layer interface (%s): KV cache grows by concatenation", error)
        return None
    found = {name: tuple(p for p in inspect.signature(getattr(CacheLayerMixin, name)).parameters
                         if p not in ("self", "args", "kwargs"))
             for name in getattr(CacheLayerMixin, "__abstractmethods__", ())}
    if found != LAYER_PROTOCOL:
        log.info("transformers' CacheLayerMixin interface changed (%s): KV cache grows by concatenation", found)
        return None

    class PreallocatedLayer(CacheLayerMixin):
        """Keys/values of one layer in one buffer of ``capacity`` positions (grown if ever exceeded); attention
        gets views of the filled part: the same numbers in the same order as transformers' ``DynamicLayer``."""

        is_sliding = False
        is_compileable = False
        is_croppable = False

        def __init__(self, capacity: int) -> None:
            super().__init__()
            self.capacity, self.length = capacity, 0
            self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None

        def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
            self.dtype, self.device = key_states.dtype, key_states.device
            self._buffers = tuple(s.new_empty((*s.shape[:-2], self.capacity, s.shape[-1]))
                                  for s in (key_states, value_states))
            self.is_initialized = True

        def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
                   **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            assert self._buffers is not None
            end = self.length + key_states.shape[-2]
            if end > self._buffers[0].shape[-2]:  # never with the engine's exact capacity; kept correct anyway
                self.capacity = max(end, 2 * self.capacity)
                old, self._buffers = self._buffers, None
                self.lazy_initialization(key_states, value_states)
                for new, previous in zip(self._buffers, old):
                    new[..., :self.length, :] = previous[..., :self.length, :]
            for buffer, states in zip(self._buffers, (key_states, value_states)):
                buffer[..., self.length:end, :] = states
            self.length = end
            self.keys, self.values = (buffer[..., :end, :] for buffer in self._buffers)
            return self.keys, self.values

        def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
            return self.length + query_length, 0

        def get_seq_length(self) -> int:
            return self.length

        def get_max_length(self) -> int:
            return -1

    try:
        Cache(layers=[PreallocatedLayer(1)])
    except (TypeError, ValueError) as error:
        log.info("cannot build a cache from preallocated layers (%s): KV cache grows by concatenation", error)
        return None
    return PreallocatedLayer


def new_cache(decoder: torch.nn.Module, positions: int, *, preallocate: bool = True) -> Any:
    """A fresh KV cache for one decoding pass of ``positions`` fed positions (prefix, prompt and steps).

    Self-attention: one buffer per layer allocated once for the pass (``preallocate`` and where transformers'
    cache-layer interface is the probed one), else transformers' ``DynamicCache``. Cross-attention (text
    models; filled by the first step, then reused): ``DynamicCache``. Both in the public ``EncoderDecoderCache``.
    """
    from transformers import Cache, DynamicCache, EncoderDecoderCache

    layer = _layer_class() if preallocate else None
    if layer is None:
        self_attention = DynamicCache(config=decoder.config)
    else:
        self_attention = Cache(layers=[layer(positions) for _ in range(decoder.config.num_hidden_layers)])
    return EncoderDecoderCache(self_attention, DynamicCache(config=decoder.config))


def decoder_step(decoder: torch.nn.Module, input_ids: torch.Tensor, cache: Any, **conditioning: Any) -> torch.Tensor:
    """One forward of the decoder (public API): ``[rows, T]`` tokens in, last-position ``[rows, vocab]`` logits out."""
    outputs = decoder(input_ids=input_ids, use_cache=True, **{cache_keyword(decoder): cache}, **conditioning)
    return outputs.logits[:, -1, :]


# --- packed oneDNN linear kernels ---------------------------------------------------------------------

#: ``(reorder(weight, rows_hint) -> packed, linear(x, packed, bias) -> y)``
PackedOps = tuple[Callable[[torch.Tensor, int], torch.Tensor], Callable[..., torch.Tensor]]


def _mkldnn_ops() -> PackedOps:
    ops = torch.ops.mkldnn
    reorder, pointwise = ops._reorder_linear_weight, ops._linear_pointwise
    return (lambda weight, rows: reorder(weight, rows),
            lambda x, packed, bias: pointwise(x, packed, bias, "none", [], ""))


#: How close a packed product must come to ``F.linear`` in the probe, per dtype (bfloat16 keeps 8 bits).
_PROBE_TOLERANCE = {torch.float32: 1e-5, torch.bfloat16: 2e-2}


@functools.cache
def packed_linear_ops(dtype: torch.dtype = torch.float32) -> PackedOps | None:
    """The packed-linear ops if this PyTorch build has them and they compute a ``dtype`` linear layer, else None."""
    if not torch.backends.mkldnn.is_available():
        log.info("oneDNN is not available in this PyTorch build: the decoder runs on PyTorch's kernels")
        return None
    if dtype not in _PROBE_TOLERANCE:
        return None
    try:
        reorder, linear = _mkldnn_ops()
        weight = (torch.arange(64, dtype=torch.float32).reshape(8, 8) / 64).to(dtype)  # no RNG: global state untouched
        bias = torch.ones(8, dtype=dtype)
        x = torch.linspace(-1, 1, 16).reshape(2, 8).to(dtype)
        got = linear(x, reorder(weight, 2), bias)
        if not torch.allclose(got.float(), torch.nn.functional.linear(x, weight, bias).float(),
                              atol=_PROBE_TOLERANCE[dtype]):
            raise RuntimeError("packed linear gave a wrong result")
    except (RuntimeError, AttributeError, NotImplementedError) as error:
        log.info("packed oneDNN linear kernels unavailable for %s (%s): the decoder runs on PyTorch's kernels",
                 str(dtype).removeprefix("torch."), str(error).splitlines()[0] if str(error) else type(error).__name__)
        return None
    return reorder, linear


# --- the CPU -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name and its instruction-set flags (``/proc/cpuinfo`` spelling: ``avx512_bf16``...)."""

    name: str
    flags: frozenset[str]


def parse_cpuinfo(text: str) -> CpuInfo:
    """A :class:`CpuInfo` from the text of ``/proc/cpuinfo`` (x86 ``model name`` / ``flags``, Arm ``Features``)."""
    name, flags = "", frozenset[str]()
    for line in text.splitlines():
        field, _, value = line.partition(":")
        field = field.strip().lower()
        if field in ("model name", "cpu model", "hardware") and not name:
            name = value.strip()
        elif field in ("flags", "features") and not flags:
            flags = frozenset(value.split())
    return CpuInfo(name or "unknown CPU", flags)


def _from_torch(capabilities: Mapping[str, Any]) -> CpuInfo:
    flags = frozenset(key for key, value in capabilities.items() if value is True)
    return CpuInfo(str(capabilities.get("cpu_name") or "unknown CPU"), flags)


def cpu_info() -> CpuInfo:
    """This machine's CPU: ``torch.cpu.get_capabilities()`` where PyTorch has it, else ``/proc/cpuinfo``."""
    get = getattr(torch.cpu, "get_capabilities", None)
    if get is not None:
        try:
            return _from_torch(get())
        except (RuntimeError, TypeError, AttributeError) as error:
            log.info("torch.cpu.get_capabilities() failed (%s): reading /proc/cpuinfo", error)
    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        import platform

        return CpuInfo(platform.processor() or platform.machine() or "unknown CPU", frozenset())


#: Flags that give a CPU a bfloat16 fast path, best first, with the name it is reported under.
BF16_FLAGS = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512-BF16"), ("bf16", "Arm BF16"))


def _onednn_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # the private op is gone: the flags decide
        return torch.backends.mkldnn.is_available()


def bf16_fast_path(info: CpuInfo | None = None) -> str | None:
    """The CPU's bfloat16 fast path (``AMX``, ``AVX512-BF16``, ``Arm BF16``) where oneDNN uses it, else None."""
    info = info if info is not None else cpu_info()
    found = next((label for flag, label in BF16_FLAGS if flag in info.flags), None)
    return found if found is not None and _onednn_bf16() else None


def release_free_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc ``malloc_trim``), e.g. after packing replaced every
    weight. Returns whether any memory went back (always False where the C library has no such call)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False
