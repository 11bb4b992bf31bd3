"""The engine: one loaded MusicGen model and the generate / encode / decode calls made with it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from workbench.codec.codec import decode_grid, encode, musicgen_codec
from workbench.core.errors import GenerationCancelled, ModelCapabilityError, ParamsError
from workbench.core.params import GenerationParams, random_seed, validate_seed, validate_text
from workbench.core.segments import Segments, check_segments
from workbench.core.take import ModelInfo, Take
from workbench.engine import kernels as cpu_kernels
from workbench.engine.conditioning import MelodyConditioner, text_states
from workbench.engine.cost import measure
from workbench.engine.decoding import DelayPattern, decode_pass
from workbench.engine.offload import Offloader
from workbench.engine.preview import PreviewCallback, Previewer
from workbench.engine.protocol import EngineBase, Progress
from workbench.engine.sampling import SeededSampler
from workbench.engine.windows import pass_texts, plan_passes, segment_cuts
from workbench.models.fingerprint import weights_fingerprint


class MusicgenEngine(EngineBase):
    """A loaded model. Stateless between calls: parameters travel with every call.

    Thread-safe by a lock per engine: concurrent calls (a UI serving several clients, ``--concurrency`` > 1)
    run one pass at a time, each exactly as it would alone. One engine per worker would let passes overlap at
    the cost of one model's memory per worker; on one CPU or GPU the passes compete for the same compute, and
    batching seeds into one pass is the way to more takes per minute (``docs/benchmarks.md``).

    Args:
        model: A ``MusicgenForConditionalGeneration`` or ``MusicgenMelodyForConditionalGeneration``.
        processor: Its processor (tokenizer + feature extractor).
        ref_name, kind, source, revision: Where the model came from (recorded in sidecars).
    """

    def __init__(self, model: Any, processor: Any, *, ref_name: str, kind: str, source: str,
                 revision: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.processor = processor
        codec = model.audio_encoder.config
        decoder = model.decoder.config
        self.melody = model.config.model_type == "musicgen_melody"
        self.audio_channels = int(decoder.audio_channels)
        self.num_codebooks = int(decoder.num_codebooks)
        positions = int(decoder.max_position_embeddings)
        frame_rate = int(model.audio_encoder.config.frame_rate)
        self.info = ModelInfo(
            name=ref_name, kind=kind, source=source, revision=revision, architecture=type(model).__name__,
            sample_rate=int(codec.sampling_rate), frame_rate=frame_rate, num_codebooks=self.num_codebooks,
            codebook_size=int(codec.codebook_size), audio_channels=self.audio_channels, melody=self.melody,
            # generate() needs the start token + delay steps inside the position table; stay at 30 s like audiocraft
            max_window_s=min(30.0, (positions - self.num_codebooks - 1) / frame_rate),
        )
        #: The start / padding token of every codebook row (MusicGen: the codebook size).
        start = model.generation_config.decoder_start_token_id
        self.pad_token = int(start if start is not None else codec.codebook_size)
        #: True: self-attention keys/values in one buffer per pass (:func:`workbench.engine.compat.new_cache`);
        #: False: transformers' ``DynamicCache`` (the reference the benchmarks compare against).
        self.preallocate_cache = True
        #: True: the text encoder's weights leave memory between uses (see ``load_engine``).
        self.low_memory = False
        #: How ``load_engine`` chose the decoder's kernels (:class:`workbench.engine.autotune.KernelChoice`).
        self.kernel_choice: Any = None
        self._text_weights = Offloader(model.text_encoder)
        #: The model's EnCodec (shares its weights): what takes are decoded and drafts encoded with.
        self.codec = musicgen_codec(model, name=ref_name, source=source, revision=revision, kind=kind)

    # --- facts ---------------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.dtype

    @property
    def kernels(self) -> str:
        """Which kernels run the decoder's linear layers now (:mod:`workbench.engine.kernels`)."""
        return cpu_kernels.kind(self.model.decoder)

    @property
    def delay(self) -> int:
        """Extra decoding steps the codebook delay pattern costs per pass."""
        per_channel = self.num_codebooks // self.audio_channels
        return per_channel - 1

    def _fingerprint(self) -> str:
        """The same in every memory mode: in low-memory mode the text encoder's weights are brought back for it."""
        self._text_weights.restore()
        try:
            return weights_fingerprint(self.model, self.info)
        finally:
            if self.low_memory:
                self._text_weights.release()

    # --- generation ----------------------------------------------------------------------------------
    def generate(
        self,
        texts: str | Sequence[str],
        params: GenerationParams | None = None,
        seeds: int | Sequence[int] | None = None,
        *,
        melody: Any = None,
        prompt_codes: np.ndarray | None = None,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        preview: PreviewCallback | None = None,
        segments: Any = None,
    ) -> list[Take]:
        """Render takes in ONE batched pass (per window); each take samples from its own seed.

        A take's codes depend only on its text, params, seed (and draft): not on the other takes of the
        batch, nor on anything that ran before; the process RNG is neither read nor changed.

        Args:
            texts: One prompt (shared by all seeds) or one per seed.
            params: Generation parameters; default ``GenerationParams()``.
            seeds: One seed per take; ``None`` draws a fresh seed per text (recorded on the take).
            melody: A :class:`workbench.drafts.melody.Melody` (chroma) for melody models, shared by all takes.
            prompt_codes: ``[K, P]`` codes to continue from (shared); the take starts with them.
            progress: Called with ``(done_steps, total_steps)`` after each decoding step.
            should_stop: Polled every step; True stops with ``GenerationCancelled``.
            preview: Receives the audio generated so far, as new chunks per take, every ~2 s of audio
                (see :class:`workbench.engine.preview.Previewer`), so the first sound plays long before the end.
            segments: ``[(start_s, text), ...]`` (see :mod:`workbench.core.segments`): from each start, that text
                conditions every take instead of its own; a pass is cut there and the next continues the codes.

        Returns:
            One :class:`Take` per seed, in order.
        """
        params = params or GenerationParams()
        texts_list, seed_list = self._pair(texts, seeds)
        parts = check_segments(segments, params.duration_s)
        if melody is not None and not self.melody:
            raise ModelCapabilityError(
                f"model {self.info.name!r} cannot take a melody; use a melody model "
                "(melody, melody-large, stereo-melody, stereo-melody-large, or tiny-melody offline)"
            )
        # one pass at a time on this model (see the class docstring), measured (engine/cost.py)
        with self._lock, measure(self.device, self.dtype, batch_size=len(seed_list)) as cost:
            previewer = Previewer(self, preview) if preview is not None else None
            self._text_weights.restore()
            try:
                codes, windows = self._generate_codes(texts_list, seed_list, params, melody, prompt_codes, progress,
                                                      should_stop, previewer, cost, parts)
            except GenerationCancelled as stop:
                stop.partial = self._partial_takes(stop.partial, texts_list, seed_list, params, parts)
                raise
            finally:
                if self.low_memory:
                    self._text_weights.release()
            samples = self.samples_for(params.duration_s) + (self._prompt_samples(prompt_codes))
            audio = [self.decode(codes[index])[:, :samples] for index in range(len(seed_list))]
            cost["audio_s"] = params.duration_s
            kernels = self.kernels
        return [Take(audio=audio[index], sample_rate=self.sample_rate, codes=codes[index], seed=seed, text=text,
                     params=params, model=self.info, device=str(self.device),
                     dtype=str(self.dtype).removeprefix("torch."), kernels=kernels, windows=windows,
                     wall_s=cost["wall_s"], batch_size=len(seed_list), cost=dict(cost), segments=parts)
                for index, (text, seed) in enumerate(zip(texts_list, seed_list))]

    def _partial_takes(self, partial: list[Any], texts: list[str], seeds: list[int], params: GenerationParams,
                       segments: Segments) -> list[Take]:
        """The takes of a stopped call, as long as the frames made so far: each is what rendering that length gives
        (the stopped pass finished as one of that length, see :func:`workbench.engine.decoding.decode_pass`), with
        the segments that start before its end. Empty when no frame was made."""
        if not partial:
            return []
        codes, prompt_frames, windows = partial
        frames = codes.shape[-1] - prompt_frames
        if frames <= 0:
            return []
        kept = params.replace(duration_s=frames / self.frame_rate)
        samples = self.samples_for(kept.duration_s) + prompt_frames * self.sample_rate // self.frame_rate
        parts = tuple(part for part in segments if part[0] < kept.duration_s)
        return [Take(audio=self.decode(codes[index])[:, :samples], sample_rate=self.sample_rate, codes=codes[index],
                     seed=seed, text=text, params=kept, model=self.info, device=str(self.device),
                     dtype=str(self.dtype).removeprefix("torch."), kernels=self.kernels,
                     windows=windows if len(windows) > 1 else None, wall_s=0.0, batch_size=len(seeds),
                     extra={"stopped_at_s": kept.duration_s, "asked_s": params.duration_s}, segments=parts)
                for index, (text, seed) in enumerate(zip(texts, seeds))]

    def _prompt_samples(self, prompt_codes: np.ndarray | None) -> int:
        if prompt_codes is None:
            return 0
        return int(prompt_codes.shape[-1]) * self.sample_rate // self.frame_rate

    def _pair(self, texts: str | Sequence[str], seeds: int | Sequence[int] | None) -> tuple[list[str], list[int]]:
        texts_list = [texts] if isinstance(texts, str) else list(texts)
        if not texts_list:
            raise ParamsError("no prompt given")
        texts_list = [validate_text(t) for t in texts_list]
        if seeds is None:
            seed_list = [random_seed() for _ in texts_list]
        else:
            seed_list = [validate_seed(s) for s in ([seeds] if isinstance(seeds, int) else seeds)]
        if len(texts_list) == 1 and len(seed_list) > 1:
            texts_list = texts_list * len(seed_list)
        if len(texts_list) != len(seed_list):
            raise ParamsError(f"{len(texts_list)} prompts but {len(seed_list)} seeds: give one seed per prompt")
        return texts_list, seed_list

    def _generate_codes(self, texts: list[str], seeds: list[int], params: GenerationParams, melody: Any,
                        prompt_codes: np.ndarray | None, progress: Progress | None,
                        should_stop: Callable[[], bool] | None, previewer: Previewer | None = None,
                        cost: dict[str, Any] | None = None, segments: Segments = ()
                        ) -> tuple[np.ndarray, list[dict[str, float]] | None]:
        """Codes ``[B, K, T]`` for the batch, windowed past the model's window (see docs/drafts.md)."""
        batch = len(seeds)
        prompt = None if prompt_codes is None else np.asarray(prompt_codes, dtype=np.int64)
        prompt_frames = 0 if prompt is None else prompt.shape[-1]
        plan = plan_passes(int(self.info.max_window_s * self.frame_rate), int(params.extend_stride_s * self.frame_rate),
                           prompt_frames, self.frames_for(params.duration_s), segment_cuts(segments, self.frame_rate))
        total_steps = sum(step.new + self.delay for step in plan)
        if cost is not None:
            cost["steps"] = total_steps
        sampler = SeededSampler(seeds, self.num_codebooks, guidance_scale=params.guidance_scale,
                                temperature=params.temperature, top_k=params.top_k, top_p=params.top_p)
        history = (np.zeros((batch, self.num_codebooks, 0), dtype=np.int64) if prompt is None
                   else np.broadcast_to(prompt, (batch, *prompt.shape)).copy())
        # every distinct text is encoded once per call (each segment's too); a melody model's chroma slides with
        # each window
        conds: dict[int, Any] = {}
        for segment in sorted({step.segment for step in plan}):
            used = pass_texts(texts, segments, segment)
            conds[segment] = (MelodyConditioner(self.model, self.processor.tokenizer, used, sampler.guided)
                              if self.melody else text_states(self.model, self.processor.tokenizer, used,
                                                              sampler.guided, self.dtype, self.device))
        if self.low_memory:  # idle for the whole decoding
            self._text_weights.release()
        windows: list[dict[str, float]] = []
        done = 0
        for step in plan:
            context, new = step.context, step.new
            if self.melody:  # the melody's time base decides which chroma lines up with this pass
                chroma = None if melody is None else melody.pass_chroma(
                    history.shape[-1] - context, prompt_frames, self.frame_rate, self.info.max_window_s,
                    windowed=len(plan) > 1)
                cond = conds[step.segment].window(chroma)
            else:
                cond = conds[step.segment]
            pattern = DelayPattern(history[:, :, history.shape[-1] - context:], new,
                                   audio_channels=self.audio_channels, pad=self.pad_token, device=self.device)

            def on_step(step: int, steps: int, pattern: DelayPattern, base: int = done,
                        before: np.ndarray = history) -> None:
                if progress is not None:
                    progress(base + step, total_steps)
                complete = pattern.complete_frames(step)
                if previewer is not None and complete and previewer.due(before.shape[-1] + complete):
                    previewer.update(np.concatenate([before, pattern.frames(pattern.context, complete)], axis=-1))

            try:
                fresh = decode_pass(self.model, cond, sampler, pattern, on_step=on_step, should_stop=should_stop,
                                    preallocate=self.preallocate_cache)
            except GenerationCancelled as stop:  # the frames made so far, for a caller who keeps them
                kept = stop.partial[0] if stop.partial else np.zeros((batch, self.num_codebooks, 0), dtype=np.int64)
                codes = np.concatenate([history, kept], axis=-1)
                if kept.shape[-1]:
                    windows.append({"start_s": (history.shape[-1] - prompt_frames) / self.frame_rate,
                                    "end_s": (codes.shape[-1] - prompt_frames) / self.frame_rate,
                                    "context_s": context / self.frame_rate,
                                    **({"segment": step.segment} if segments else {})})
                stop.partial = [codes, prompt_frames, windows]
                raise
            history = np.concatenate([history, fresh], axis=-1)
            done += pattern.steps
            windows.append({"start_s": (history.shape[-1] - new - prompt_frames) / self.frame_rate,
                            "end_s": (history.shape[-1] - prompt_frames) / self.frame_rate,
                            "context_s": context / self.frame_rate, **({"segment": step.segment} if segments else {})})
        if previewer is not None:
            previewer.update(history)
        return history, (windows if len(windows) > 1 else None)

    # --- codec ---------------------------------------------------------------------------------------
    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Decode ``[K, T]`` codes of one take to ``[channels, T * hop]`` float32 audio (batch of one)."""
        grid = np.asarray(codes)
        if grid.ndim != 2 or grid.shape[0] != self.num_codebooks:
            raise ParamsError(f"codes must be [{self.num_codebooks}, T], got {list(grid.shape)}")
        with self._lock:
            return decode_grid(self.codec, grid)

    def encode(self, audio: np.ndarray) -> np.ndarray:
        """Encode ``[channels, samples]`` audio at the model's rate to ``[K, T]`` codes (T = ceil(samples / hop))."""
        with self._lock:
            return encode(self.codec, audio, self.sample_rate).codes
