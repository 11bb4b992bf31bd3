"""The audiocraft engine: an ``audiocraft.models`` generative model (MAGNeT, MusicGen-Style) behind the workbench's
engine calls.

Every take is a normal take (sidecar, codes file, history row, ``reproduce``). audiocraft samples from the process
RNG, so the guarantee differs from the transformers engine's batch-independent sampler: each take is rendered in its
own pass inside a forked RNG seeded from the take's seed (:func:`workbench.engine.audiocraft.rng.seeded`), which makes
it depend only on its text, parameters and seed, and ``reproduce`` identical on the same machine and versions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from workbench.core.errors import GenerationCancelled, ModelCapabilityError, ParamsError
from workbench.core.params import GenerationParams, random_seed, validate_seed, validate_text
from workbench.core.take import ModelInfo, Take
from workbench.engine.audiocraft.infill import DECODING_STEPS
from workbench.engine.audiocraft.repaint import MagnetRepaint
from workbench.engine.audiocraft.rng import seeded
from workbench.engine.cost import measure
from workbench.engine.protocol import EngineBase
from workbench.models.fingerprint import weights_fingerprint


class AudiocraftEngine(EngineBase, MagnetRepaint):
    """A loaded audiocraft model with the calls the renderers make (``generate``, ``decode``...).

    Args:
        model: An ``audiocraft.models.MAGNeT``, or an ``audiocraft.models.MusicGen`` with a style conditioner
            (MusicGen-Style: ``self.style``).
        ref_name, kind, source, revision: Where it came from (recorded in sidecars).
    """

    backend = "audiocraft"
    kernels = "torch"

    def __init__(self, model: Any, *, ref_name: str, kind: str, source: str, revision: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.lm = model.lm
        self.melody = False
        self.magnet = type(model).__name__ == "MAGNeT"
        style = getattr(self.lm.condition_provider.conditioners, "self_wav", None)
        #: Whether the model takes a style reference clip (MusicGen-Style), and the excerpt of it it keeps, seconds.
        self.style = type(style).__name__ == "StyleConditioner"
        self.style_excerpt_s = style.length_subwav / style.sample_rate if self.style else 0.0
        self.audio_channels = int(model.audio_channels)
        self.num_codebooks = int(self.lm.num_codebooks)
        self.codec = None  # audiocraft's own EnCodec, not a workbench Codec: tokenize/detokenize take MusicGen models
        frame_rate = int(model.frame_rate)
        if self.magnet:  # MAGNeT renders one fixed segment; its non-overlapping spans trim it to whole spans
            frames = int(model.duration * frame_rate) // self.lm.span_len * self.lm.span_len
        else:  # one window of MusicGen (audiocraft's longer takes would continue in windows: not done here)
            frames = int(model.max_duration * frame_rate)
        self.info = ModelInfo(
            name=ref_name, kind=kind, source=source, revision=revision, architecture=type(model).__name__,
            sample_rate=int(model.sample_rate), frame_rate=frame_rate, num_codebooks=self.num_codebooks,
            codebook_size=int(self.lm.card), audio_channels=self.audio_channels, melody=False,
            max_window_s=frames / frame_rate)

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def dtype(self) -> torch.dtype:
        return next(iter(self.lm.parameters())).dtype

    def _fingerprint(self) -> str:
        """The LM's and the codec's weights."""
        return weights_fingerprint(torch.nn.ModuleDict({"lm": self.lm, "codec": self.model.compression_model}),
                                   self.info)

    def generate(self, texts: str | Sequence[str], params: GenerationParams | None = None,
                 seeds: int | Sequence[int] | None = None, *, melody: Any = None, prompt_codes: Any = None,
                 progress: Callable[[int, int], None] | None = None, should_stop: Callable[[], bool] | None = None,
                 preview: Any = None, segments: Any = None, style: np.ndarray | None = None) -> list[Take]:
        """Render one take per seed, each in its own seeded pass (see the module docstring).

        MAGNeT samples a whole segment at once: ``duration_s`` must be at most the segment (``info.max_window_s``),
        and the take keeps its first ``duration_s``; ``guidance_scale`` is its starting guidance (annealed to 1).
        MusicGen-Style renders up to one window; ``style`` is a ``[channels, samples]`` reference clip at the
        model's rate, of which the style conditioner keeps a random excerpt (``style_excerpt_s``, drawn from the
        take's seed). ``top_p`` 1 means off (audiocraft's 0). ``preview`` is not streamed.

        Raises:
            ModelCapabilityError: a melody, a continuation or text segments, or a style reference for MAGNeT.
            ParamsError: a style reference that is silent or shorter than the excerpt.
        """
        params = params or GenerationParams()
        texts_list = [texts] if isinstance(texts, str) else list(texts)
        seed_list = ([random_seed() for _ in texts_list] if seeds is None
                     else [validate_seed(s) for s in ([seeds] if isinstance(seeds, int) else seeds)])
        if len(texts_list) == 1:
            texts_list *= len(seed_list)
        if not texts_list or len(texts_list) != len(seed_list):
            raise ParamsError(f"{len(texts_list)} prompts but {len(seed_list)} seeds: give one seed per prompt")
        texts_list = [validate_text(text) for text in texts_list]
        what = ("a melody" if melody is not None else "a continuation" if prompt_codes is not None
                else "text segments" if segments else "a style reference" if style is not None and not self.style
                else None)
        if what:
            raise ModelCapabilityError(f"model {self.info.name!r} (audiocraft {self.info.architecture}) cannot take "
                                       f"{what}; use a {'style model' if 'style' in what else 'MusicGen model'}")
        if params.duration_s > self.info.max_window_s + 1e-9:
            what = "one segment" if self.magnet else "one window"
            raise ParamsError(f"model {self.info.name!r} renders at most {self.info.max_window_s:g} s ({what}); "
                              f"got --duration {params.duration_s:g}")
        reference = None if style is None else self._style_reference(style)
        frames, samples = self.frames_for(params.duration_s), self.samples_for(params.duration_s)
        with self._lock:  # the sampling settings and the progress callback live on the shared model
            steps = self._set_sampling(params, frames)
            try:
                takes = self._render(texts_list, seed_list, params, reference, frames, samples, steps, progress,
                                     should_stop)
            finally:
                self.model.set_custom_progress_callback(None)
        return takes

    def _render(self, texts: list[str], seeds: list[int], params: GenerationParams, reference: Any, frames: int,
                samples: int, steps: int, progress: Callable[[int, int], None] | None,
                should_stop: Callable[[], bool] | None) -> list[Take]:
        """One seeded pass per take (the caller holds the lock and has set the sampling)."""
        takes = []
        for index, (text, seed) in enumerate(zip(texts, seeds)):
            def on_step(done: int, total: int, base: int = index * steps) -> None:
                if should_stop is not None and should_stop():
                    raise GenerationCancelled("generation stopped")
                if progress is not None:
                    progress(base + min(done, steps), steps * len(seeds))

            self.model.set_custom_progress_callback(on_step)
            with measure(self.device, self.dtype, batch_size=1) as cost, seeded(seed):
                if reference is not None:
                    _, tokens = self.model.generate_with_chroma([text], [reference], self.sample_rate,
                                                                progress=True, return_tokens=True)
                else:
                    _, tokens = self.model.generate([text], progress=True, return_tokens=True)
                codes = tokens[0, :, :frames].cpu().numpy().astype(np.int64)
                audio = self.decode(codes)[:, :samples]
                cost["steps"], cost["audio_s"] = steps, params.duration_s
            takes.append(Take(audio=audio, sample_rate=self.sample_rate, codes=codes, seed=seed, text=text,
                              params=params, model=self.info, device=str(self.device),
                              dtype=str(self.dtype).removeprefix("torch."), kernels=self.kernels,
                              wall_s=cost["wall_s"], batch_size=1, cost=dict(cost)))
        return takes

    def _set_sampling(self, params: GenerationParams, frames: int) -> int:
        """Set the model's sampling from ``params``; returns the decoding steps one take costs."""
        top_p = 0.0 if params.top_p >= 1 else params.top_p
        if self.magnet:
            self.model.set_generation_params(
                use_sampling=True, temperature=params.temperature, top_k=params.top_k, top_p=top_p,
                max_cfg_coef=max(params.guidance_scale, 1.0), min_cfg_coef=1.0,
                decoding_steps=list(DECODING_STEPS[:self.num_codebooks]))
            return sum(DECODING_STEPS[:self.num_codebooks])
        # audiocraft generates int(duration * frame_rate) frames: half a frame more makes that exactly ``frames``
        # (never past its window, where it would continue in windows)
        self.model.set_generation_params(use_sampling=True, temperature=params.temperature, top_k=params.top_k,
                                         top_p=top_p, cfg_coef=max(params.guidance_scale, 1.0),
                                         duration=min((frames + 0.5) / self.frame_rate, self.model.max_duration))
        return frames

    def _style_reference(self, style: np.ndarray) -> torch.Tensor:
        clip = np.asarray(style, dtype=np.float32)
        if clip.ndim != 2 or not np.isfinite(clip).all():
            raise ParamsError(f"the style reference must be finite [channels, samples] audio, got {list(clip.shape)}")
        if not np.abs(clip).max(initial=0.0) > 0:
            raise ParamsError("the style reference is silence: give a clip of the music whose style to take")
        if clip.shape[-1] < round(self.style_excerpt_s * self.sample_rate):
            raise ParamsError(f"the style reference lasts {clip.shape[-1] / self.sample_rate:.2f} s; "
                              f"{self.info.name!r} takes a {self.style_excerpt_s:g} s excerpt of it")
        return torch.from_numpy(clip).to(self.device)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """``[K, T]`` codes to ``[channels, T * hop]`` float32 audio with the model's own EnCodec."""
        grid = np.asarray(codes)
        if grid.ndim != 2 or grid.shape[0] != self.num_codebooks:
            raise ParamsError(f"codes must be [{self.num_codebooks}, T], got {list(grid.shape)}")
        with self._lock, torch.no_grad():
            wav = self.model.compression_model.decode(torch.as_tensor(grid, device=self.device)[None], None)
        return wav[0].float().cpu().numpy()

    def encode(self, audio: np.ndarray) -> np.ndarray:
        raise ModelCapabilityError(f"model {self.info.name!r} takes no audio draft; use a MusicGen model")
