"""Stereo end to end on the built-in stereo models (the real architectures: 8 codebooks, left/right interleaved,
a mono EnCodec per channel): exact against transformers, batch-independent, continuation, melody, windows,
token files, loudness, loops and reproduce."""

import numpy as np
import pytest
import soundfile as sf
import torch

from workbench.core.params import GenerationParams
from workbench.drafts.prepare import prepare_draft
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import reproduce
from workbench.store.sidecar import read_sidecar


@pytest.fixture(scope="module")
def stereo():
    from workbench.engine.load import load_engine

    return load_engine("tiny-stereo", device="cpu")


@pytest.fixture(scope="module")
def stereo_melody():
    from workbench.engine.load import load_engine

    return load_engine("tiny-stereo-melody", device="cpu")


def _captured(engine, **kwargs):
    """The codes transformers' generate hands to EnCodec: left then right (one call per channel)."""
    calls = []
    codec = engine.model.audio_encoder
    original = codec.decode
    codec.decode = lambda codes, *a, **k: calls.append(codes[0].numpy()) or original(codes, *a, **k)
    try:
        with torch.inference_mode():
            engine.model.generate(do_sample=False, **kwargs)
    finally:
        del codec.decode
    return calls


def test_greedy_stereo_equals_plain_transformers(stereo):
    params = GenerationParams(duration_s=1, top_k=1)
    takes = stereo.generate(["ambient pads", "ambient pads"], params, seeds=[0, 1])
    inputs = stereo.processor(text=["ambient pads", "ambient pads"], return_tensors="pt", padding=True)
    left, right = _captured(stereo, **inputs, guidance_scale=3.0, max_new_tokens=53)
    for index, take in enumerate(takes):
        assert take.codes.shape == (8, 50) and take.audio.shape == (2, 32000)
        assert np.array_equal(take.codes[0::2], left[index]) and np.array_equal(take.codes[1::2], right[index])


def test_stereo_takes_are_two_channels_on_disk_batch_independent_and_reproduce(tmp_path, stereo):
    params = GenerationParams(duration_s=1.5)
    rendered = render_prompt(stereo, "wide pads", params, [3, 4], [tmp_path / "a.wav", tmp_path / "b.wav"])
    [alone] = stereo.generate("wide pads", params, seeds=[4])
    assert alone.codes_sha256 == rendered[1].take.codes_sha256
    info = sf.info(rendered[0].path)
    assert (info.channels, info.frames, info.samplerate) == (2, 48000, 32000)
    assert not np.allclose(rendered[0].take.audio[0], rendered[0].take.audio[1])  # two different channels
    record = read_sidecar(rendered[0].sidecar)
    assert record["audio"]["channels"] == 2 and record["codes"]["shape"] == [8, 75]
    assert reproduce(rendered[0].sidecar, engine=stereo).identical


def test_stereo_continuation_from_stereo_and_mono_drafts(tmp_path, stereo):
    rng = np.random.default_rng(0)
    for channels in (2, 1):
        draft_path = tmp_path / f"draft{channels}.wav"
        sf.write(draft_path, rng.uniform(-0.3, 0.3, (64000, channels)).astype(np.float32), 32000)
        draft = prepare_draft(stereo, continue_from=draft_path, prompt_seconds=1.0, record_base=tmp_path)
        assert draft.prompt_codes.shape == (8, 50)
        [item] = render_prompt(stereo, "ambient", GenerationParams(duration_s=1.0), [1],
                               [tmp_path / f"c{channels}.wav"], draft=draft)
        assert item.take.audio.shape == (2, 64000)
        assert np.array_equal(item.take.codes[:, :50], draft.prompt_codes)
        assert reproduce(item.sidecar, engine=stereo).identical


def test_stereo_melody_chords_and_windows(tmp_path, stereo_melody):
    draft = prepare_draft(stereo_melody, chords="Am F C G", bpm=120, duration_s=34.0, record_base=tmp_path)
    params = GenerationParams(duration_s=34.0, extend_stride_s=28.0)
    [item] = render_prompt(stereo_melody, "pads", params, [2], [tmp_path / "m.wav"], draft=draft)
    assert item.take.audio.shape == (2, 34 * 32000) and item.take.codes.shape == (8, 1700)
    assert [w["end_s"] for w in item.take.windows] == [30.0, 34.0]
    assert "melody_adherence" in item.take.extra
    assert reproduce(item.sidecar, engine=stereo_melody).identical


def test_stereo_tokens_loudness_and_loops(tmp_path, stereo):
    from workbench.codec.tokens import read_tokens
    from workbench.core.audio import loudness_lufs
    from workbench.render.loops import write_loop

    [item] = render_prompt(stereo, "drums", GenerationParams(duration_s=3.0), [5], [tmp_path / "t.wav"],
                           loudness=-16.0)
    tokens = read_tokens(tmp_path / "t.codes.npz")
    assert tokens.codes.shape == (8, 150) and tokens.meta["channels"] == 2
    assert np.array_equal(tokens.codes, item.take.codes) and stereo.decode(tokens.codes).shape == (2, 96000)
    audio, rate = sf.read(item.path, dtype="float32", always_2d=True)
    assert abs(loudness_lufs(audio.T, rate) - (-16.0)) < 0.5
    path, loop = write_loop(item.sidecar, bars=1, bpm=120)
    assert sf.info(path).channels == 2 and loop.audio.shape == (2, 64000)
