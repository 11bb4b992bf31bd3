"""MultiBand Diffusion (audiocraft): a second decoder for the codes of a MusicGen take.

MBD turns the same codes into audio with a diffusion model per frequency band, conditioned on the codes' EnCodec
embeddings, then matches the EnCodec decode's spectrum band by band (audiocraft's ``tokens_to_wav``). Here its codec
is the take's own model's EnCodec (the transformers port of the same weights: ``decode_latent`` is its quantizer's
``decode``), so the codes of the workbench's loop are decoded as audiocraft would decode its own.

``mbd`` is audiocraft's MBD for MusicGen (``facebook/multiband-diffusion``, ``mbd_musicgen_32khz.th``: the 32 kHz mono
EnCodec of the published MusicGen models); built-in models get ``tiny-mbd``, two bands of a small
``DiffusionUnet`` with random weights built from config (like every built-in: the same weights in every process).
Diffusion samples noise: each take is decoded inside a forked RNG seeded from its seed, so a re-decode is identical.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import torch

from workbench.core.decoders import mbd_refusal
from workbench.core.errors import ModelCapabilityError, ModelNotFoundError
from workbench.core.hashing import samples_sha256
from workbench.engine.audiocraft.install import audiocraft_module
from workbench.engine.audiocraft.rng import seeded
from workbench.models import hub
from workbench.models.registry import ModelRef

MBD_REPO, MBD_FILE = "facebook/multiband-diffusion", "mbd_musicgen_32khz.th"
#: Seed of ``tiny-mbd``'s random weights; its bands and U-Net size.
TINY_SEED, TINY_BANDS = 13, 2


class _CodecOf(torch.nn.Module):
    """The part of audiocraft's ``CompressionModel`` MBD uses, over a workbench engine's EnCodec."""

    def __init__(self, engine: Any) -> None:
        super().__init__()
        self._engine = weakref.ref(engine)  # a decoder kept for an engine does not keep the engine alive
        self.encodec = engine.model.audio_encoder
        self.sample_rate, self.frame_rate, self.channels = engine.sample_rate, engine.frame_rate, 1

    def decode(self, codes: torch.Tensor, scale: Any = None) -> torch.Tensor:
        engine = self._engine()
        audio = np.stack([engine.decode(grid) for grid in codes.cpu().numpy()])
        return torch.from_numpy(audio).to(codes.device)

    def decode_latent(self, codes: torch.Tensor) -> torch.Tensor:
        return self.encodec.quantizer.decode(codes.transpose(0, 1)).float()


def _tiny_bands(codec_dim: int) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    """``tiny-mbd``: small U-Nets, one per band, and identity sample processors."""
    unet = audiocraft_module("audiocraft.models.unet")
    schedule = audiocraft_module("audiocraft.modules.diffusion_schedule")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(TINY_SEED)
        models = [unet.DiffusionUnet(chin=1, hidden=8, depth=3, num_steps=1000, codec_dim=codec_dim).eval()
                  for _ in range(TINY_BANDS)]
    return models, [schedule.SampleProcessor() for _ in models], [{"num_steps": 1000} for _ in models]


def _published_bands(device: torch.device) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    hub.preflight(ModelRef("mbd", "hub", MBD_REPO, "audiocraft"))
    loaders = audiocraft_module("audiocraft.models.loaders")
    try:
        models, processors, cfgs = loaders.load_diffusion_models(MBD_REPO, filename=MBD_FILE, device=device)
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelNotFoundError(f"cannot load MultiBand Diffusion ({MBD_REPO}/{MBD_FILE}): "
                                 f"{str(error).strip().splitlines()[0]}") from None
    return models, processors, [dict(cfg.schedule) for cfg in cfgs]


class MbdDecoder:
    """MultiBand Diffusion for the takes of one MusicGen engine.

    Raises:
        ModelCapabilityError: the engine is not a mono MusicGen (stereo, or an audiocraft model).
        ModelNotFoundError: audiocraft not installed, or the published MBD neither cached nor downloadable.
    """

    def __init__(self, engine: Any) -> None:
        refusal = mbd_refusal(getattr(engine, "backend", "transformers"), engine.audio_channels, engine.info.name,
                              engine.info.architecture)
        if refusal:
            raise ModelCapabilityError(refusal)
        multiband = audiocraft_module("audiocraft.models.multibanddiffusion")
        schedule = audiocraft_module("audiocraft.modules.diffusion_schedule")
        self.device = engine.device
        codec = _CodecOf(engine)
        builtin = engine.info.kind == "builtin"
        if not builtin and (engine.sample_rate, engine.num_codebooks) != (32000, 4):
            raise ModelCapabilityError(f"MultiBand Diffusion ({MBD_FILE}) decodes 32 kHz MusicGen codes (4 codebooks); "
                                       f"{engine.info.name!r} has {engine.sample_rate} Hz, {engine.num_codebooks} "
                                       "codebooks")
        models, processors, schedules = (_tiny_bands(int(engine.model.audio_encoder.config.codebook_dim)) if builtin
                                         else _published_bands(self.device))
        processes = []
        for model, processor, kwargs in zip(models, processors, schedules):
            noise = schedule.NoiseSchedule(**kwargs, sample_processor=processor, device=self.device)
            processes.append(multiband.DiffusionProcess(model=model.to(self.device), noise_schedule=noise))
        self.mbd = multiband.MultiBandDiffusion(DPs=processes, codec_model=codec)
        self.source = "tiny-mbd" if builtin else f"{MBD_REPO}/{MBD_FILE}"

    def decode(self, codes: np.ndarray, seed: int) -> np.ndarray:
        """``[K, T]`` codes to ``[1, T * hop]`` float32 audio, sampled from ``seed`` (the process RNG untouched)."""
        grid = torch.as_tensor(np.asarray(codes, dtype=np.int64), device=self.device)[None]
        with seeded(seed), torch.no_grad():
            audio = self.mbd.tokens_to_wav(grid)
        return audio[0].float().cpu().numpy()

    def record(self, audio: np.ndarray, seed: int) -> dict[str, Any]:
        """What a sidecar keeps of the decode (``extra.decoder``): enough for ``reproduce`` to decode it again."""
        return {"name": "mbd", "source": self.source, "seed": seed, "samples_sha256": samples_sha256(audio)}
