"""A self-attention KV cache that is allocated once per pass instead of re-concatenated every step.

transformers' ``DynamicCache`` grows each layer's keys and values with ``torch.cat`` at every decoding
step: a fresh allocation and a full copy of the cache per layer and step. With several takes in a batch
that copying (and the page faults of fresh memory) became half of a CPU step once the linear layers were
fast (``docs/benchmarks.md``). Here each layer writes its new keys/values into a buffer sized for the
whole pass (the first call brings the prompt; the engine knows how many steps follow) and hands
attention a view of the filled part: the same numbers in the same order, so attention computes the same
values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer, EncoderDecoderCache


class PreallocatedLayer(DynamicLayer):
    """One layer's keys/values in one buffer: the first update's positions + ``steps`` more (grown if exceeded)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps
        self.length = 0
        self._keys: torch.Tensor | None = None
        self._values: torch.Tensor | None = None

    def _reserve(self, like: torch.Tensor, needed: int) -> None:
        if self._keys is not None and needed <= self._keys.shape[-2]:
            return
        size = needed + self.steps if self._keys is None else max(needed, 2 * self._keys.shape[-2])
        shape = (*like.shape[:-2], size, like.shape[-1])
        keys, values = like.new_empty(shape), like.new_empty(shape)
        if self._keys is not None:
            keys[..., :self.length, :] = self._keys[..., :self.length, :]
            values[..., :self.length, :] = self._values[..., :self.length, :]
        self._keys, self._values = keys, values

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        self._reserve(key_states, end)
        assert self._keys is not None and self._values is not None
        self._keys[..., self.length:end, :] = key_states
        self._values[..., self.length:end, :] = value_states
        self.length = end
        self.keys, self.values = self._keys[..., :end, :], self._values[..., :end, :]
        return self.keys, self.values

    def reset(self) -> None:
        self.length, self._keys, self._values = 0, None, None
        super().reset()

    def rewind(self) -> None:
        """Forget the cached positions, keeping the buffer."""
        self.length = 0
        if self._keys is not None:
            self.keys, self.values = self._keys[..., :0, :], self._values[..., :0, :]


@contextlib.contextmanager
def preallocated_cache(decoder: torch.nn.Module, steps: int) -> Iterator[EncoderDecoderCache]:
    """The ``past_key_values`` for one ``generate`` pass: the prompt positions, then ``steps`` tokens.

    Self-attention uses :class:`PreallocatedLayer`; cross-attention (filled once) keeps transformers' own.
    MusicGen's ``generate`` (transformers 5) runs its prefill twice, the first result unused; with its own
    cache that is harmless, with a cache passed in the second prefill would append the prompt again. A
    hook on the decoder rewinds the cache when the second call repeats the first call's input exactly.
    """
    self_attention = DynamicCache()
    layers = [PreallocatedLayer(steps) for _ in range(decoder.config.num_hidden_layers)]
    self_attention.layers = list(layers)
    self_attention.layer_class_to_replicate = None
    cache = EncoderDecoderCache(self_attention, DynamicCache())
    calls: list[torch.Tensor] = []

    def on_call(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids")
        if ids is None or len(calls) >= 2:
            return
        if calls and ids.shape == calls[0].shape and torch.equal(ids, calls[0]):
            for layer in layers:
                layer.rewind()
        calls.append(ids.clone())

    handle = decoder.register_forward_pre_hook(on_call, with_kwargs=True)
    try:
        yield cache
    finally:
        handle.remove()
