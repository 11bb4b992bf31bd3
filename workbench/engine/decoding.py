"""The workbench's own decoding loop: MusicGen's codebook delay pattern, one decoder step at a time.

MusicGen predicts K codebooks per frame with a delay: codebook ``q`` of frame ``t`` sits at sequence
position ``1 + t + q`` (position 0 holds the start token; stereo models interleave left/right rows that
share a delay). Each step feeds the newest position of every row to the decoder's public forward (with
the conditional and unconditional rows of classifier-free guidance in the same forward), samples one
token per row (:class:`workbench.engine.sampling.SeededSampler`) and writes it into the sequence unless the
pattern already knows that position (the start padding, the context being continued, the end padding).

One pass = one window: prefill the start token and ``c`` context frames once, then ``new + delay`` steps.
The KV cache is allocated once per pass (:func:`workbench.engine.compat.new_cache`). Progress, cancellation
and previews are plain callbacks between steps. The numbers are those of transformers' own
``MusicgenForConditionalGeneration.generate`` (same positions, same masks, same padding tokens):
``tests/test_engine.py`` checks that with ``top_k=1`` both give identical codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from workbench.core.errors import GenerationCancelled
from workbench.engine import compat
from workbench.engine.sampling import SeededSampler

#: ``on_step(step, steps, sequence)``: after each of ``steps`` steps (1-based), with the ``[B, K, L]`` sequence.
StepCallback = Callable[[int, int, "DelayPattern"], None]


@dataclass(frozen=True)
class Conditioning:
    """What conditions one pass, already laid out for the guided batch (``2B`` rows when guided).

    Attributes:
        states: Text models: cross-attention states ``[rows, L, D]`` (projected, padding zeroed) fed at
            every step. Melody models: the prefix ``[rows, P, D]`` (chroma then text) fed once, before
            the first token.
        mask: Text models: ``[rows, L]`` attention mask of ``states``; None for melody models.
        prefix: True for melody models (the states are a prefix of the sequence, not cross-attended).
    """

    states: torch.Tensor
    mask: torch.Tensor | None
    prefix: bool


class DelayPattern:
    """The token sequence of one pass, ``[B, K, L]`` with ``L = 1 + context + new + delay``.

    Known positions (start padding, context frames, end padding) are filled at construction; the others
    hold -1 until sampled.

    Args:
        context: ``[B, K, c]`` codes the pass continues from (c may be 0).
        new_frames: Frames this pass generates.
        audio_channels: 1, or 2 for stereo (rows ``2q`` and ``2q + 1`` share delay ``q``).
        pad: The padding / start token id (the codebook size).
        device: Where the sequence lives.
    """

    def __init__(self, context: np.ndarray, new_frames: int, *, audio_channels: int, pad: int,
                 device: torch.device) -> None:
        batch, rows, known = context.shape
        self.batch, self.rows, self.context, self.new_frames, self.pad = batch, rows, known, new_frames, pad
        self.delays = [row // audio_channels for row in range(rows)]
        self.delay = max(self.delays)
        self.length = 1 + known + new_frames + self.delay
        sequence = torch.full((batch, rows, self.length), -1, dtype=torch.long)
        given = torch.as_tensor(np.asarray(context, dtype=np.int64))
        for row, delay in enumerate(self.delays):
            sequence[:, row, :delay + 1] = pad
            sequence[:, row, delay + 1:delay + 1 + known] = given[:, row]
            sequence[:, row, known + new_frames + 1 + delay:] = pad
        self.sequence = sequence.to(device)

    @property
    def steps(self) -> int:
        """Decoding steps of the pass: one per new frame plus the delay."""
        return self.new_frames + self.delay

    def prefill(self) -> torch.Tensor:
        """``[B * K, 1 + c]``: the start token and the context, fed before the first step."""
        return self.sequence[:, :, :self.context + 1].reshape(self.batch * self.rows, -1)

    def place(self, step: int, tokens: torch.Tensor) -> torch.Tensor:
        """Write step ``step``'s (0-based) sampled ``[B * K]`` tokens where the pattern has no known value.

        Returns:
            ``[B * K, 1]``: the tokens the decoder sees next.
        """
        position = self.context + 1 + step
        known = self.sequence[:, :, position]
        self.sequence[:, :, position] = torch.where(known < 0, tokens.view(self.batch, self.rows), known)
        return self.sequence[:, :, position].reshape(self.batch * self.rows, 1)

    def feed(self, step: int) -> torch.Tensor:
        """``[B * K, 1]``: what step ``step`` (0-based, >= 1) feeds the decoder (the position before the one it
        predicts)."""
        return self.sequence[:, :, self.context + step].reshape(self.batch * self.rows, 1)

    def shorten(self, frames: int) -> None:
        """From here on, the pass makes ``frames`` new frames: the positions after them become end padding, exactly
        as if the pass had been planned this long. Exact only while no step has yet fed a position that changes
        (``frames`` >= the steps taken - 1): what a stopped pass keeps (see :func:`decode_pass`)."""
        for row, delay in enumerate(self.delays):
            self.sequence[:, row, self.context + frames + 1 + delay:] = self.pad
        self.new_frames = frames

    def frames(self, start: int, count: int) -> np.ndarray:
        """Codes ``[B, K, count]`` of frames ``start .. start + count`` (0 = the first context frame)."""
        out = np.empty((self.batch, self.rows, count), dtype=np.int64)
        grid = self.sequence.cpu()
        for row, delay in enumerate(self.delays):
            first = 1 + start + delay
            out[:, row] = grid[:, row, first:first + count].numpy()
        return out

    def complete_frames(self, step: int) -> int:
        """New frames whose every codebook is known after ``step`` (1-based) steps."""
        return max(0, step - self.delay)


def decode_pass(model: Any, conditioning: Conditioning, sampler: SeededSampler, pattern: DelayPattern, *,
                on_step: StepCallback | None = None, should_stop: Callable[[], bool] | None = None,
                preallocate: bool = True) -> np.ndarray:
    """Run one pass of the decoder and return its ``[B, K, new_frames]`` new codes.

    Args:
        model: A MusicGen or MusicGen-Melody model (its ``decoder`` is called).
        conditioning: From :mod:`workbench.engine.conditioning`, with ``2B`` rows when ``sampler.guided``.
        sampler: Draws the tokens (its seeds fix the batch size ``B``).
        pattern: The sequence to fill; its context is prefilled once.
        on_step: Called after every step.
        should_stop: Polled before every step; True raises :class:`GenerationCancelled`.
        preallocate: Self-attention keys/values in one buffer per pass (False: transformers' ``DynamicCache``).

    Raises:
        GenerationCancelled: ``should_stop`` returned True. When frames were made, its ``partial`` holds the pass's
            new codes ``[B, K, F]`` exactly as a pass planned ``F`` frames long makes them: the frames the stop came
            after, the last ``delay`` steps taken again with the end padding such a pass sees (2 more steps for 4
            codebooks), so a take kept from them reproduces bit for bit.
    """
    decoder = model.decoder
    prefix = conditioning.states.shape[1] if conditioning.prefix else 0
    cache = compat.new_cache(decoder, prefix + pattern.length - 1, preallocate=preallocate)
    feed = pattern.prefill()
    stopped_at = None
    step = 0
    with torch.inference_mode():
        while step < pattern.steps:
            if stopped_at is None and should_stop is not None and should_stop():
                stopped_at, kept = step, min(step - 1, pattern.new_frames)
                if kept < 1:
                    raise GenerationCancelled("generation stopped by the user; nothing was written", steps=step)
                pattern.shorten(kept)  # the last steps as a pass of that length would take them (exact, see shorten)
                feed = pattern.feed(step)
                if step >= pattern.steps:
                    break
            inputs = feed.repeat(2, 1) if sampler.guided else feed
            kwargs: dict[str, Any] = {}
            if not conditioning.prefix:
                kwargs = {"encoder_hidden_states": conditioning.states, "encoder_attention_mask": conditioning.mask}
            elif step == 0:
                kwargs = {"encoder_hidden_states": conditioning.states}
            logits = compat.decoder_step(decoder, inputs, cache, **kwargs)
            feed = pattern.place(step, sampler.sample(logits))
            if on_step is not None and stopped_at is None:
                on_step(step + 1, pattern.steps, pattern)
            step += 1
    made = pattern.frames(pattern.context, pattern.new_frames)
    if stopped_at is not None:
        stop = GenerationCancelled("generation stopped by the user; nothing was written", steps=stopped_at)
        stop.partial = [made]
        raise stop
    return made
