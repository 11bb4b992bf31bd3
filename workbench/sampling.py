"""Per-take seeded sampling: every take in a batch draws from its own generator.

transformers samples with ``torch.multinomial`` on the process-global RNG, so a take's tokens depend on
what else is in the batch and on everything that ran before. Here each take owns a ``torch.Generator``
seeded with its seed. At every step the take draws Gumbel noise of shape ``[K, vocab]`` (always on the
CPU, so the noise is the same on every device) and picks ``argmax(warped_logits + noise)`` — the
Gumbel-max trick, an exact sample from ``softmax(warped_logits)``. Temperature, top-k and top-p are
transformers' own warpers, so they keep their documented meaning.

:class:`SeededSampler` is a transformers ``LogitsProcessor``: it does classifier-free guidance and sampling
itself and returns one-hot scores, so ``model.generate(do_sample=False, ...)`` (greedy) selects exactly the
sampled token. The engine makes that one ``generate`` call; the same call written by hand is the
documented reference (``docs/reproducibility.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from transformers import (
    LogitsProcessor,
    StoppingCriteria,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from .errors import GenerationCancelled

_TINY = torch.finfo(torch.float32).tiny


def make_generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU generator per take, seeded with that take's seed."""
    return [torch.Generator(device="cpu").manual_seed(int(seed)) for seed in seeds]


def build_warpers(temperature: float, top_k: int, top_p: float) -> list[LogitsProcessor]:
    """transformers' temperature / top-k / top-p warpers, in the order ``generate`` applies them."""
    warpers: list[LogitsProcessor] = []
    if temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(temperature))
    if top_k > 0:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    return warpers


def gumbel_noise(generators: Sequence[torch.Generator], rows_per_take: int, vocab: int) -> torch.Tensor:
    """Gumbel(0, 1) noise ``[len(generators) * rows_per_take, vocab]``, float32 on the CPU.

    Each generator advances by exactly ``rows_per_take * vocab`` draws per call, whatever the batch.
    """
    uniform = torch.cat([torch.rand(rows_per_take, vocab, generator=g) for g in generators])
    return -torch.log(-torch.log(uniform.clamp_(min=_TINY)))


class SeededSampler(LogitsProcessor):
    """Classifier-free guidance + per-take Gumbel-max sampling, as a transformers logits processor.

    Use with ``model.generate(..., do_sample=False, guidance_scale=g, logits_processor=[sampler])``.

    Args:
        seeds: One seed per take, in batch order.
        num_codebooks: Rows of the decoder's logits per take (``model.decoder.num_codebooks``).
        guidance_scale: Classifier-free guidance scale; <= 1 means no guidance.
        temperature: Softmax temperature (> 0).
        top_k: Top-k filter (0: off).
        top_p: Nucleus filter (1.0: off).
    """

    def __init__(
        self,
        seeds: Sequence[int],
        num_codebooks: int,
        *,
        guidance_scale: float,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
    ) -> None:
        self.generators = make_generators(seeds)
        self.num_codebooks = num_codebooks
        self.guidance_scale = guidance_scale
        self.warpers = build_warpers(temperature, top_k, top_p)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Sample one token per row.

        Args:
            input_ids: ``[B * K, length]`` tokens so far.
            scores: ``[B * K, vocab]`` logits, or ``[2 * B * K, vocab]`` (conditional rows, then
                unconditional ones) when transformers' guidance processor has not run yet.

        Returns:
            Scores of the input's shape: 1 at the sampled token of each row, 0 elsewhere (both halves
            when guidance rows are present, so transformers' guidance processor leaves them unchanged).
        """
        rows = input_ids.shape[0]
        if rows != len(self.generators) * self.num_codebooks:
            raise ValueError(f"expected {len(self.generators)} takes x {self.num_codebooks} codebooks, got {rows} rows")
        doubled = scores.shape[0] == 2 * rows
        logits = scores.float()
        if doubled:
            cond, uncond = logits.split(rows)
            logits = uncond + (cond - uncond) * self.guidance_scale if self.guidance_scale > 1 else cond
        for warper in self.warpers:
            logits = warper(input_ids, logits)
        noise = gumbel_noise(self.generators, self.num_codebooks, logits.shape[-1]).to(logits.device)
        tokens = (logits + noise).argmax(dim=-1)
        if doubled:
            tokens = tokens.repeat(2)
        one_hot = torch.zeros_like(scores)
        one_hot.scatter_(1, tokens[:, None], 1.0)
        return one_hot


class _Complete(Exception):
    """Raised by :class:`StepMonitor` after the last token, so ``generate`` skips its own batched decode."""


class StepMonitor(StoppingCriteria):
    """Records the tokens, reports progress and honours cancellation, once per decoding step.

    transformers calls stopping criteria with the whole token matrix after each new token, so this is the
    one place that sees every step. After ``total`` steps it raises :class:`_Complete`: the engine catches
    it and decodes each take on its own (batched decoding differs in the last float bits between batch
    sizes, and takes must not depend on their batch).

    Args:
        total: Decoding steps of this call (``max_new_tokens``).
        on_step: Called as ``on_step(step, total, tokens)`` with the ``[B * K, length]`` tokens so far.
        should_stop: Polled each step; when it returns True generation stops with ``GenerationCancelled``.
    """

    def __init__(
        self,
        total: int,
        on_step: Callable[[int, int, torch.Tensor], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.total = total
        self.step = 0
        self.tokens: torch.Tensor | None = None
        self.on_step = on_step
        self.should_stop = should_stop

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor | None, **kwargs: object) -> torch.BoolTensor:
        self.step += 1
        self.tokens = input_ids
        if self.should_stop is not None and self.should_stop():
            raise GenerationCancelled("generation stopped by the user; nothing was written")
        if self.on_step is not None:
            self.on_step(self.step, self.total, input_ids)
        if self.step >= self.total:
            raise _Complete
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
