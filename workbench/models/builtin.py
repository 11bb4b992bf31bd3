"""The built-in offline models: real MusicGen / MusicGen-Melody architectures with deterministic random weights.

Built from config through the same loader as Hub checkpoints (like audiocraft's ``debug`` model): ``tiny``,
``tiny-melody``, ``tiny-stereo`` and ``tiny-stereo-melody`` for tests, ``random-small`` (musicgen-small's real
size) for benchmarks. They make no
music — they prove the code path offline.
"""

from __future__ import annotations

import string
from typing import Any

from workbench.models.registry import BUILTIN

_SAMPLE_RATE = 32000


_ENCODEC_32KHZ = dict(
    sampling_rate=_SAMPLE_RATE, audio_channels=1, target_bandwidths=[2.2], upsampling_ratios=[8, 5, 4, 4],
    codebook_size=2048, use_causal_conv=False, use_conv_shortcut=False, normalize=False, pad_mode="reflect",
)


def _configs(name: str) -> dict[str, Any]:
    """Sub-model configuration keyword arguments of a built-in model."""
    if name == "random-small":
        return dict(
            text=dict(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12),
            audio=dict(_ENCODEC_32KHZ, num_filters=64, hidden_size=128, codebook_dim=128, num_lstm_layers=2),
            decoder=dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, ffn_dim=4096),
        )
    return dict(
        # larger-than-default init so that text, melody and seeds visibly change the codes of a tiny model
        text=dict(vocab_size=256, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                  relative_attention_num_buckets=8, initializer_factor=2.0),
        audio=dict(_ENCODEC_32KHZ, num_filters=4, hidden_size=16, codebook_dim=16, num_lstm_layers=1),
        decoder=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64, initializer_factor=0.2),
    )


def _tokenizer() -> Any:
    """An offline T5 tokenizer over letters, digits and punctuation (no files needed)."""
    from transformers import T5Tokenizer

    pieces: list[tuple[str, float]] = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    for char in string.ascii_letters + string.digits + string.punctuation:
        pieces += [("▁" + char, -5.0), (char, -6.0)]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def build_builtin(name: str) -> tuple[Any, Any]:
    """Build a built-in model and its processor from config, with deterministic weights.

    The weights depend only on the name (and the library versions), never on the process RNG: the
    random init runs inside ``torch.random.fork_rng`` from a fixed seed, so the global state is restored
    afterwards. EnCodec codebooks (left at zero by the init) are filled with seeded noise so that codes
    change the sound.

    Returns:
        ``(model, processor)`` in eval mode on the CPU, float32.
    """
    import torch
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyFeatureExtractor,
        MusicgenMelodyForConditionalGeneration,
        MusicgenMelodyProcessor,
        MusicgenProcessor,
        T5Config,
    )

    _, seed = BUILTIN[name]
    sub = _configs(name)
    text, audio = T5Config(**sub["text"]), EncodecConfig(**sub["audio"])
    stereo = name.startswith("tiny-stereo")  # like musicgen-stereo-*: a mono EnCodec per channel, 2 x 4 codebooks
    decoder_kwargs = dict(sub["decoder"], vocab_size=2048, num_codebooks=8 if stereo else 4,
                          audio_channels=2 if stereo else 1, max_position_embeddings=2048)
    if name in ("tiny-melody", "tiny-stereo-melody"):
        decoder = MusicgenMelodyDecoderConfig(**decoder_kwargs)
        config = MusicgenMelodyConfig(text_encoder=text, audio_encoder=audio, decoder=decoder, num_chroma=12)
        model_class: Any = MusicgenMelodyForConditionalGeneration
        processor = MusicgenMelodyProcessor(
            feature_extractor=MusicgenMelodyFeatureExtractor(sampling_rate=_SAMPLE_RATE), tokenizer=_tokenizer()
        )
    else:
        decoder = MusicgenDecoderConfig(**decoder_kwargs)
        config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
        model_class = MusicgenForConditionalGeneration
        processor = MusicgenProcessor(
            feature_extractor=EncodecFeatureExtractor(feature_size=1, sampling_rate=_SAMPLE_RATE),
            tokenizer=_tokenizer(),
        )
    # fork_rng restores the process RNG on exit: the global state is untouched by this load.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            embed = layer.codebook.embed
            embed.copy_(torch.randn(embed.shape, generator=generator))
    gen = model.generation_config
    gen.decoder_start_token_id = gen.pad_token_id = gen.bos_token_id = decoder.pad_token_id
    gen.max_length = 1500
    return model.eval(), processor

