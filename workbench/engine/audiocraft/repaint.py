"""Repainting a window of codes with a loaded MAGNeT: the engine's ``repaint`` call, one seeded pass per seed.

:class:`MagnetRepaint` is mixed into :class:`~workbench.engine.audiocraft.engine.AudiocraftEngine`; the loop itself
is :func:`workbench.engine.audiocraft.infill.infill`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from workbench.core.errors import GenerationCancelled, ModelCapabilityError, ParamsError
from workbench.core.params import validate_seed, validate_text
from workbench.core.take import ModelInfo
from workbench.engine.audiocraft.infill import RepaintSettings, guided_conditions, infill, segment_around
from workbench.engine.audiocraft.rng import seeded
from workbench.engine.cost import measure


@dataclass(frozen=True)
class Repainted:
    """One repaint of a window (:meth:`AudiocraftEngine.repaint`).

    Attributes:
        codes: ``[K, T]`` int64: the given codes, the window's frames sampled anew.
        segment: ``(first, end)``: the frames of the take the model saw (see
            :func:`~workbench.engine.audiocraft.infill.segment_around`).
        cost: What the pass cost (:func:`workbench.engine.cost.measure`; ``audio_s``: the window's seconds).
    """

    codes: np.ndarray
    segment: tuple[int, int]
    cost: dict[str, Any]


class MagnetRepaint:
    """The repaint calls of an audiocraft engine (its ``model``, ``lm``, ``info``, ``magnet`` flag and lock)."""

    model: Any
    lm: Any
    info: ModelInfo
    magnet: bool
    num_codebooks: int
    frame_rate: int
    device: torch.device
    dtype: torch.dtype
    _lock: threading.RLock

    @property
    def segment_frames(self) -> int:
        """Frames of MAGNeT's segment (the length its attention masks are built for): the most one repaint sees."""
        return int(self.model.duration * self.frame_rate) if self.magnet else 0

    def check_window(self, frames: int, start: int, end: int) -> None:
        """Refuse a window ``[start, end)`` of ``frames`` frames this model cannot repaint (nothing is loaded or run).

        Raises:
            ModelCapabilityError: not a MAGNeT model.
            ParamsError: the window is not inside the frames, or longer than MAGNeT's segment.
        """
        if not self.magnet:
            raise ModelCapabilityError(f"model {self.info.name!r} (audiocraft {self.info.architecture}) cannot "
                                       "repaint; use a MAGNeT model (magnet-small, magnet-medium...)")
        if not 0 <= start < end <= frames:
            raise ParamsError(f"window frames [{start}, {end}) are not inside the {frames} frames")
        if end - start > self.segment_frames:
            raise ParamsError(f"a {(end - start) / self.frame_rate:g} s window is longer than {self.info.name!r}'s "
                              f"segment ({self.segment_frames / self.frame_rate:g} s): repaint at most that at once")

    def repaint(self, codes: np.ndarray, start: int, end: int, text: str, seeds: Sequence[int], *,
                settings: RepaintSettings | None = None, progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> list[Repainted]:
        """Sample frames ``[start, end)`` of ``codes`` anew once per seed, given the frames around them (MAGNeT only).

        Each seed runs in its own pass inside a forked RNG seeded from it, so a seed's repaint is the same alone or
        among others; the frames outside the window are copied from ``codes``, never sampled.

        Args:
            codes: ``[K, T]`` codes in this model's token space (K codebooks of ``info.codebook_size``).
            start, end: The window, frames, ``0 <= start < end <= T`` and at most :attr:`segment_frames` long.
            text: What the window should sound like (conditions it, with classifier-free guidance).
            seeds: One repaint per seed.
            settings: The sampling (default: audiocraft's MAGNeT defaults).
            progress, should_stop: As for :meth:`generate` (``GenerationCancelled``).

        Raises:
            ModelCapabilityError: not a MAGNeT model.
            ParamsError: codes of another shape or codebook, a window outside them, longer than a segment, or
                settings with another number of stages than codebooks.
        """
        grid = np.asarray(codes)
        card = self.info.codebook_size
        if grid.ndim != 2 or grid.shape[0] != self.num_codebooks or not np.issubdtype(grid.dtype, np.integer) or (
                grid.size and (grid.min() < 0 or grid.max() >= card)):
            raise ParamsError(f"model {self.info.name!r} repaints [{self.num_codebooks}, T] codes of {card} entries, "
                              f"got {list(grid.shape)}")
        self.check_window(grid.shape[-1], start, end)
        settings = settings or RepaintSettings()
        if len(settings.decoding_steps) != self.num_codebooks:
            raise ParamsError(f"decoding_steps {list(settings.decoding_steps)}: give one per codebook "
                              f"({self.num_codebooks})")
        text = validate_text(text)
        seed_list = [validate_seed(seed) for seed in seeds]
        first, last = segment_around(grid.shape[-1], start, end, self.segment_frames)
        steps = sum(settings.decoding_steps)
        total, done = steps * len(seed_list), [0]

        def on_step() -> None:
            if should_stop is not None and should_stop():
                raise GenerationCancelled("repaint stopped")
            done[0] += 1
            if progress is not None:
                progress(done[0], total)

        out = []
        with self._lock:
            for seed in seed_list:
                with measure(self.device, self.dtype, batch_size=1) as cost, seeded(seed), self.model.autocast:
                    segment = torch.as_tensor(grid[:, first:last], dtype=torch.long, device=self.device)
                    conditions = guided_conditions(self.lm, text)
                    sampled = infill(self.lm, segment, start - first, end - first, conditions, settings, on_step)
                    new = grid.astype(np.int64, copy=True)
                    new[:, start:end] = sampled[:, start - first:end - first].cpu().numpy()
                    cost["steps"], cost["audio_s"] = steps, (end - start) / self.frame_rate
                out.append(Repainted(codes=new, segment=(first, last), cost=dict(cost)))
        return out

