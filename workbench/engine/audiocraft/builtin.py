"""The built-in audiocraft test models: audiocraft's own debug architectures with deterministic random weights.

``tiny-magnet`` is audiocraft's debug compression model (``get_debug_compression_model``: a 32 kHz SEANet EnCodec at
25 Hz, 4 codebooks of 400) under a small non-causal :class:`~audiocraft.models.lm_magnet.MagnetLMModel` (the LM
audiocraft's debug LM is, with MAGNeT's parallel pattern and restricted context) and a lookup-table text conditioner
that needs no download. ``tiny-mbd`` is a MultiBand Diffusion decoder (two bands of a small
:class:`~audiocraft.models.unet.DiffusionUnet`) for the codes of the transformers ``tiny`` models. Like the
transformers built-ins they are built inside ``torch.random.fork_rng`` from a fixed seed: the same weights in every
process, the process RNG untouched. They make noise, not music: they prove the code path offline.
"""

from __future__ import annotations

from typing import Any

import torch

from workbench.engine.audiocraft.install import audiocraft_module
from workbench.models.registry import BUILTIN

#: MAGNeT generates a fixed-length segment; the tiny model's, seconds.
TINY_SEGMENT_S = 1


def build_tiny_magnet() -> Any:
    """``tiny-magnet``: an ``audiocraft.models.MAGNeT`` on the CPU, float32."""
    models = audiocraft_module("audiocraft.models")
    omegaconf = audiocraft_module("omegaconf")
    conditioners = audiocraft_module("audiocraft.modules.conditioners")
    patterns = audiocraft_module("audiocraft.modules.codebooks_patterns")
    lm_magnet = audiocraft_module("audiocraft.models.lm_magnet")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(BUILTIN["tiny-magnet"][1])
        codec = models.builders.get_debug_compression_model("cpu", sample_rate=32000)
        dim = 16
        provider = conditioners.ConditioningProvider({"description": conditioners.LUTConditioner(
            n_bins=128, dim=dim, output_dim=dim, tokenizer="noop")})
        fuser = conditioners.ConditionFuser({"cross": ["description"], "prepend": [], "sum": [],
                                             "input_interpolate": []})
        lm = lm_magnet.MagnetLMModel(
            # MAGNeT's configuration: parallel codebooks without a start token, the memory-efficient attention path
            pattern_provider=patterns.ParallelPatternProvider(n_q=4, empty_initial=-1), condition_provider=provider,
            fuser=fuser, n_q=4, card=codec.cardinality, dim=dim, num_heads=4, num_layers=2, hidden_scale=2,
            custom=True, memory_efficient=True, causal=False, cross_attention=True, subcodes_context=5, span_len=3,
            compression_model_framerate=int(codec.frame_rate), segment_duration=TINY_SEGMENT_S,
            device="cpu", dtype=torch.float32)
    # what audiocraft's loaders attach from a checkpoint's config: MAGNeT reads its segment length there
    lm.cfg = omegaconf.OmegaConf.create({"dataset": {"segment_duration": TINY_SEGMENT_S}})
    return models.MAGNeT(name="tiny-magnet", compression_model=codec.eval(), lm=lm.eval())
