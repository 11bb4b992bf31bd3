"""Per-take seeded sampling: classifier-free guidance, then every take draws from its own generator.

transformers samples with ``torch.multinomial`` on the process-global RNG, so a take's tokens would depend
on what else is in the batch and on everything that ran before. Here each take owns a ``torch.Generator``
seeded with its seed. At every step the take draws Gumbel noise of shape ``[K, vocab]`` (always on the
CPU, so the noise is the same on every device) and picks ``argmax(warped_logits + noise)`` — the
Gumbel-max trick, an exact sample from ``softmax(warped_logits)``. Temperature, top-k and top-p are
transformers' own public warpers, applied in the order ``generate`` applies them, so they keep their
documented meaning.

The decoding loop (:mod:`workbench.engine.decoding`) calls :meth:`SeededSampler.sample` once per step with the
decoder's last-position logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

_TINY = torch.finfo(torch.float32).tiny

#: A logits warper: ``[rows, vocab]`` float32 logits in, the same shape out.
Warper = Callable[[torch.Tensor], torch.Tensor]


def make_generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU generator per take, seeded with that take's seed."""
    return [torch.Generator(device="cpu").manual_seed(int(seed)) for seed in seeds]


def build_warpers(temperature: float, top_k: int, top_p: float) -> list[Warper]:
    """Temperature, top-k and top-p (transformers' warpers), in the order ``generate`` applies them."""
    warpers = []
    if temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(temperature))
    if top_k > 0:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    # the warpers take (input_ids, scores); none of these three reads input_ids
    return [lambda logits, warper=warper: warper(None, logits) for warper in warpers]


def gumbel_noise(generators: Sequence[torch.Generator], rows_per_take: int, vocab: int) -> torch.Tensor:
    """Gumbel(0, 1) noise ``[len(generators) * rows_per_take, vocab]``, float32 on the CPU.

    Each generator advances by exactly ``rows_per_take * vocab`` draws per call, whatever the batch.
    """
    uniform = torch.cat([torch.rand(rows_per_take, vocab, generator=g) for g in generators])
    return -torch.log(-torch.log(uniform.clamp_(min=_TINY)))


class SeededSampler:
    """Classifier-free guidance + per-take Gumbel-max sampling, one decoding step at a time.

    Args:
        seeds: One seed per take, in batch order.
        num_codebooks: Rows of the decoder's logits per take (``model.decoder.num_codebooks``).
        guidance_scale: Classifier-free guidance scale; > 1 means the logits hold conditional rows, then
            as many unconditional rows (the decoder ran both halves in one forward).
        temperature: Softmax temperature (> 0).
        top_k: Top-k filter (0: off).
        top_p: Nucleus filter (1.0: off).
    """

    def __init__(self, seeds: Sequence[int], num_codebooks: int, *, guidance_scale: float, temperature: float = 1.0,
                 top_k: int = 0, top_p: float = 1.0) -> None:
        self.generators = make_generators(seeds)
        self.num_codebooks = num_codebooks
        self.guidance_scale = guidance_scale
        self.warpers = build_warpers(temperature, top_k, top_p)

    @property
    def guided(self) -> bool:
        """Whether the decoder must run the unconditional half too."""
        return self.guidance_scale > 1

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        """One token per row of each take.

        Args:
            logits: ``[B * K, vocab]`` (or ``[2 * B * K, vocab]``, conditional rows first, when guided)
                logits of the decoder's last position, any float dtype, any device.

        Returns:
            ``[B * K]`` int64 tokens on ``logits``' device.
        """
        rows = len(self.generators) * self.num_codebooks
        expected = 2 * rows if self.guided else rows
        if logits.shape[0] != expected:
            raise ValueError(f"expected {expected} rows of logits for {len(self.generators)} takes x "
                             f"{self.num_codebooks} codebooks, got {logits.shape[0]}")
        scores = logits.float()
        if self.guided:
            cond, uncond = scores.split(rows)
            scores = uncond + (cond - uncond) * self.guidance_scale
        for warper in self.warpers:
            scores = warper(scores)
        noise = gumbel_noise(self.generators, self.num_codebooks, scores.shape[-1]).to(scores.device)
        return (scores + noise).argmax(dim=-1)
