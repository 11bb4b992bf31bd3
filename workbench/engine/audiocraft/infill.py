"""Repainting a window of codes with MAGNeT's language model: MAGNeT's own decoding schedule over the window only.

MAGNeT (audiocraft's ``MagnetLMModel._generate_stage``) fills one codebook per stage, coarse to fine; within a stage
it starts with every span of ``span_len`` frames masked and, over the stage's steps, samples the masked tokens and
masks again the least probable spans, as many as a cosine schedule says (all at the first step, one at the last),
with the temperature annealed linearly to 0 and the classifier-free guidance from its maximum to its minimum. The
infill here runs that loop with the take's codes around the window given: only the window's spans are ever masked
(the known tokens are never masked, as MAGNeT's audio prompt is never masked), and the logits are read only there.
As in MAGNeT's training (``solvers/magnet.py``: "Mask all codebooks larger than stage"), the codebooks above the
stage being sampled are masked over the whole segment; the codebooks below it are given everywhere. The model sees
one segment (at most its training length) placed around the window (:func:`segment_around`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from workbench.core.errors import ParamsError
from workbench.engine.audiocraft.install import audiocraft_module

#: MAGNeT's decoding steps per codebook (audiocraft's default).
DECODING_STEPS = (20, 10, 10, 10)
#: The score that keeps a span from being masked again (audiocraft's ``DONT_REMASK_ME_SCORE``).
_KEEP = -1e4


@dataclass(frozen=True)
class RepaintSettings:
    """How a window is sampled: audiocraft's MAGNeT defaults (``MAGNeT.set_generation_params``), non-overlapping
    spans scored by their most probable token (its ``span_arrangement='nonoverlap'``, ``span_scoring='max'``).

    Attributes:
        temperature: Starting softmax temperature of each stage, annealed linearly to 0 (> 0).
        top_k: Sample from the k most likely tokens; 0: off (used when ``top_p`` is 0).
        top_p: Nucleus mass in [0, 1); 0: off.
        max_guidance: Classifier-free guidance at the first step of a stage (all spans masked), >= 1.
        min_guidance: Guidance at the last step (cosine-annealed in between), >= 1.
        decoding_steps: Steps per codebook, coarse to fine, each >= 1.
    """

    temperature: float = 3.0
    top_k: int = 0
    top_p: float = 0.9
    max_guidance: float = 10.0
    min_guidance: float = 1.0
    decoding_steps: tuple[int, ...] = DECODING_STEPS

    def __post_init__(self) -> None:
        steps = tuple(self.decoding_steps) if isinstance(self.decoding_steps, (list, tuple)) else ()
        object.__setattr__(self, "decoding_steps", steps)
        def number(value: Any) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

        checks = {"temperature": number(self.temperature) and self.temperature > 0,
                  "top_k": isinstance(self.top_k, int) and not isinstance(self.top_k, bool) and self.top_k >= 0,
                  "top_p": number(self.top_p) and 0 <= self.top_p < 1,
                  "max_guidance": number(self.max_guidance) and self.max_guidance >= 1,
                  "min_guidance": number(self.min_guidance) and self.min_guidance >= 1,
                  "decoding_steps": bool(steps) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1
                                                        for s in steps)}
        for name, valid in checks.items():
            value = getattr(self, name)
            if not valid:
                raise ParamsError(f"repaint setting {name} {value!r} is out of range (see RepaintSettings)")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "decoding_steps": list(self.decoding_steps)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepaintSettings:
        """Build from a sidecar's record; unknown keys are an error."""
        names = {field.name for field in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) - names:
            raise ParamsError(f"not repaint settings: {data!r}")
        return cls(**data)


def segment_around(total: int, start: int, end: int, segment: int) -> tuple[int, int]:
    """The frames ``[a, b)`` of a take of ``total`` frames that the model sees to repaint ``[start, end)``.

    The whole take when it fits in one ``segment``; else ``segment`` frames with the window's context split evenly
    on both sides, shifted to stay inside the take (a window near an end gets more context on the other side).
    """
    if total <= segment:
        return 0, total
    first = min(max(start - (segment - (end - start)) // 2, 0), total - segment)
    return first, first + segment


def guided_conditions(lm: Any, text: str) -> dict[str, Any]:
    """MAGNeT's condition tensors for ``text`` and, after it, the unconditional half (as ``_generate_magnet``)."""
    conditioners = audiocraft_module("audiocraft.modules.conditioners")
    attributes = [conditioners.ConditioningAttributes(text={"description": text})]
    null = conditioners.ClassifierFreeGuidanceDropout(p=1.0)(attributes)
    return lm.condition_provider(lm.condition_provider.tokenize(attributes + null))


def _sample(probs: torch.Tensor, settings: RepaintSettings) -> torch.Tensor:
    """``[..., card]`` probabilities to ``[..., 1]`` tokens, as MAGNeT samples (from the process RNG: the caller
    forks and seeds it; ``top_k`` renormalises ``probs`` in place, as audiocraft's does)."""
    utils = audiocraft_module("audiocraft.utils.utils")
    if settings.top_p > 0:
        return utils.sample_top_p(probs, p=settings.top_p)
    if settings.top_k > 0:
        return utils.sample_top_k(probs, k=settings.top_k)
    return utils.multinomial(probs, num_samples=1)


@torch.no_grad()
def infill(lm: Any, codes: torch.Tensor, start: int, end: int, conditions: dict[str, Any],
           settings: RepaintSettings, on_step: Callable[[], None]) -> torch.Tensor:
    """Sample frames ``[start, end)`` of ``codes`` anew, given every other frame.

    Args:
        lm: A ``MagnetLMModel`` in eval mode.
        codes: ``[K, S]`` int64 codes of one segment on the model's device (the window's values are ignored).
        start, end: The window, frames of the segment, ``0 <= start < end <= S``.
        conditions: :func:`guided_conditions` of the text.
        settings: The sampling; ``decoding_steps`` has one entry per codebook.
        on_step: Called after every step (may raise to stop).

    Returns:
        ``[K, S]`` codes: ``codes`` outside the window, new tokens inside.
    """
    device = codes.device
    mask_id, span = lm.special_token_id, max(int(lm.span_len), 1)
    sequence = codes[None].clone()  # [1, K, S]
    sequence[..., start:end] = mask_id
    span_of = torch.arange(end - start, device=device) // span  # the span each frame of the window belongs to
    spans = int(span_of[-1]) + 1
    for stage, steps in enumerate(settings.decoding_steps):
        tokens = sequence[0, stage, start:end]  # a view: masked now
        scores = torch.zeros(spans, device=device)
        for timestep, steps_left in zip(torch.linspace(0, 1, steps, device=device), reversed(range(steps))):
            mask_p = torch.cos(timestep * math.pi * 0.5)  # MAGNeT's cosine schedule, in its float32 arithmetic
            masked = scores.topk(max(int((mask_p * spans).item()), 1)).indices
            masked_spans = torch.zeros(spans, dtype=torch.bool, device=device).scatter(0, masked, True)
            mask = masked_spans[span_of]
            tokens[mask] = mask_id
            inputs = sequence.clone()
            inputs[:, stage + 1:] = mask_id
            cond, uncond = lm(torch.cat([inputs, inputs]), [], conditions, stage=stage).split(1)  # [1, K, S, card]
            guidance = float(mask_p) * settings.max_guidance + (1 - float(mask_p)) * settings.min_guidance
            logits = (uncond + (cond - uncond) * guidance)[:, stage, start:end][:, None]  # [1, 1, W, card]
            temperature = settings.temperature * (steps_left / steps)
            probs = torch.softmax(logits / max(temperature, 1e-2), dim=-1)
            sampled = _sample(probs, settings)  # [1, 1, W, 1]
            tokens.copy_(torch.where(mask, sampled[0, 0, :, 0], tokens))
            chosen = torch.gather(probs, 3, sampled)[0, 0, :, 0]  # [W]
            best = torch.zeros(spans, device=device).scatter_reduce(0, span_of, chosen.float(), "amax",
                                                                    include_self=False)
            scores = (1 - best).masked_fill(~masked_spans, _KEEP)
            on_step()
    return sequence[0]
