"""The built-in audiocraft test models: audiocraft's own debug architectures with deterministic random weights.

``tiny-magnet`` is audiocraft's debug compression model (``get_debug_compression_model``: a 32 kHz SEANet EnCodec at
25 Hz, 4 codebooks of 400) under a small non-causal :class:`~audiocraft.models.lm_magnet.MagnetLMModel` (the size of
audiocraft's debug LM, with MAGNeT's parallel pattern and restricted context) and a lookup-table text conditioner
that needs no download. ``tiny-magnet-50hz`` is the same LM over the built-in ``tiny``'s EnCodec (4 codebooks of
2048 at 50 Hz, as the published MAGNeT and mono MusicGen models share ``facebook/encodec_32khz``), with a 2 s segment:
the model that repaints ``tiny`` takes. ``tiny-style`` is the debug codec under a small causal LM with MusicGen-Style's
``StyleConditioner`` (see :func:`build_tiny_style`). (``tiny-mbd``, the MultiBand Diffusion decoder of the built-in
MusicGen models, is built in :mod:`workbench.engine.audiocraft.mbd`.) Like the transformers built-ins they are built
inside ``torch.random.fork_rng`` from a fixed seed: the same weights in every process, the process RNG untouched.
They make noise, not music: they prove the code path offline.
"""

from __future__ import annotations

from typing import Any

import torch

from workbench.engine.audiocraft.install import audiocraft_module
from workbench.models.registry import BUILTIN

#: Built-in models that run on the CPU only, whatever the machine has: ``tiny-style``'s style conditioner keeps its
#: codec outside the module tree, on the device it was built on (the CPU), so moving the model would split it.
CPU_ONLY = frozenset({"tiny-style"})

#: MAGNeT generates a fixed-length segment; the tiny models', seconds.
TINY_SEGMENT_S, TINY_50HZ_SEGMENT_S = 1, 2


def _magnet_lm(card: int, frame_rate: int, segment_s: int) -> Any:
    """A small non-causal ``MagnetLMModel`` (4 codebooks of ``card``) with a lookup-table text conditioner, its weights
    drawn from the process RNG (the callers fork and seed it)."""
    conditioners = audiocraft_module("audiocraft.modules.conditioners")
    patterns = audiocraft_module("audiocraft.modules.codebooks_patterns")
    lm_magnet = audiocraft_module("audiocraft.models.lm_magnet")
    dim = 16
    provider = conditioners.ConditioningProvider({"description": conditioners.LUTConditioner(
        n_bins=128, dim=dim, output_dim=dim, tokenizer="noop")})
    fuser = conditioners.ConditionFuser({"cross": ["description"], "prepend": [], "sum": [], "input_interpolate": []})
    return lm_magnet.MagnetLMModel(
        # MAGNeT's configuration: parallel codebooks without a start token, the memory-efficient attention path
        pattern_provider=patterns.ParallelPatternProvider(n_q=4, empty_initial=-1), condition_provider=provider,
        fuser=fuser, n_q=4, card=card, dim=dim, num_heads=4, num_layers=2, hidden_scale=2, custom=True,
        memory_efficient=True, causal=False, cross_attention=True, subcodes_context=5, span_len=3,
        compression_model_framerate=frame_rate, segment_duration=segment_s, device="cpu", dtype=torch.float32)


def _magnet(name: str, codec: Any, lm: Any, segment_s: int) -> Any:
    models = audiocraft_module("audiocraft.models")
    omegaconf = audiocraft_module("omegaconf")
    # what audiocraft's loaders attach from a checkpoint's config: MAGNeT reads its segment length there
    lm.cfg = omegaconf.OmegaConf.create({"dataset": {"segment_duration": segment_s}})
    return models.MAGNeT(name=name, compression_model=codec.eval(), lm=lm.eval())


def build_tiny_magnet() -> Any:
    """``tiny-magnet``: an ``audiocraft.models.MAGNeT`` on the CPU, float32."""
    models = audiocraft_module("audiocraft.models")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(BUILTIN["tiny-magnet"][1])
        codec = models.builders.get_debug_compression_model("cpu", sample_rate=32000)
        lm = _magnet_lm(codec.cardinality, int(codec.frame_rate), TINY_SEGMENT_S)
    return _magnet("tiny-magnet", codec, lm, TINY_SEGMENT_S)


def build_tiny_magnet_50hz() -> Any:
    """``tiny-magnet-50hz``: a MAGNeT over ``tiny``'s own EnCodec (4 codebooks of 2048 at 50 Hz), on the CPU, float32.

    The codec is the built-in ``tiny``'s transformers ``EncodecModel`` in audiocraft's ``HFEncodecCompressionModel``,
    the wrapper audiocraft loads ``facebook/encodec_32khz`` into for the published MAGNeT and MusicGen models: so a
    ``tiny`` take's codes are this model's tokens, as a MusicGen take's are the published MAGNeT's (``repaint``).
    """
    from workbench.models.builtin import build_builtin

    encodec = audiocraft_module("audiocraft.models.encodec")
    codec = encodec.HFEncodecCompressionModel(build_builtin("tiny")[0].audio_encoder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(BUILTIN["tiny-magnet-50hz"][1])
        lm = _magnet_lm(codec.cardinality, int(codec.frame_rate), TINY_50HZ_SEGMENT_S)
    return _magnet("tiny-magnet-50hz", codec, lm, TINY_50HZ_SEGMENT_S)


#: The style excerpt ``tiny-style`` takes from a reference clip, seconds (MusicGen-Style: 3 s by default).
TINY_EXCERPT_S = 1.0


def build_tiny_style() -> Any:
    """``tiny-style``: an ``audiocraft.models.MusicGen`` with MusicGen-Style's conditioners, on the CPU, float32.

    The style conditioner (:class:`~audiocraft.modules.conditioners.StyleConditioner`) reads its reference through
    audiocraft's debug compression model (``//pretrained/debug_compression_model``: audiocraft's own offline name),
    keeps a random excerpt, quantizes it with a residual VQ and prepends it to the LM's input; the text goes through
    cross-attention. The VQ's k-means runs once here, on seeded noise, so that no take changes the model.
    """
    models = audiocraft_module("audiocraft.models")
    conditioners = audiocraft_module("audiocraft.modules.conditioners")
    patterns = audiocraft_module("audiocraft.modules.codebooks_patterns")
    lm_module = audiocraft_module("audiocraft.models.lm")
    dim = 16
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(BUILTIN["tiny-style"][1])
        codec = models.builders.get_debug_compression_model("cpu", sample_rate=32000)
        style = conditioners.StyleConditioner(
            transformer_scale="none", ds_factor=5, encodec_n_q=4, n_q_out=3, eval_q=2, bins=64,
            model_name="encodec", sample_rate=codec.sample_rate,
            encodec_checkpoint="//pretrained/debug_compression_model", length=TINY_EXCERPT_S, output_dim=dim,
            device="cpu", compute_mask=False, ds_rate_compression=int(codec.sample_rate // codec.frame_rate))
        style.rvq(torch.randn(8, style.dim, 64), frame_rate=1.0)  # k-means of the VQ codebooks, once
        provider = conditioners.ConditioningProvider({
            "description": conditioners.LUTConditioner(n_bins=128, dim=dim, output_dim=dim, tokenizer="noop"),
            "self_wav": style})
        fuser = conditioners.ConditionFuser({"cross": ["description"], "prepend": ["self_wav"], "sum": [],
                                             "input_interpolate": []})
        lm = lm_module.LMModel(patterns.DelayedPatternProvider(n_q=4), provider, fuser, n_q=4,
                               card=codec.cardinality, dim=dim, num_heads=4, num_layers=2, hidden_scale=2,
                               custom=True, cross_attention=True, causal=True)
    style.match_len_on_eval, style._use_masking = True, False  # as audiocraft's MusicGen.get_pretrained sets them
    return models.MusicGen(name="tiny-style", compression_model=codec.eval(), lm=lm.eval(), max_duration=30)
