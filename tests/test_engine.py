import time
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.core.errors import ModelCapabilityError, ParamsError
from workbench.core.params import GenerationParams
from workbench.engine.sampling import SeededSampler


class _SamplerAsProcessor:
    """The workbench's sampler inside transformers' own ``generate`` loop (test only): returns one-hot scores
    for both guidance halves, so greedy selection (and transformers' guidance of two equal halves) keeps them."""

    def __init__(self, sampler: SeededSampler) -> None:
        self.sampler = sampler

    def __call__(self, input_ids, scores):
        tokens = self.sampler.sample(scores)
        if self.sampler.guided:
            tokens = tokens.repeat(2)
        return torch.zeros_like(scores).scatter_(1, tokens[:, None], 1.0)


def test_tiny_model_facts(tiny):
    info = tiny.info
    assert (info.sample_rate, info.frame_rate, info.num_codebooks, info.codebook_size) == (32000, 50, 4, 2048)
    assert info.kind == "builtin" and not info.melody and info.max_window_s == 30.0
    assert str(tiny.device) == "cpu" and tiny.dtype == torch.float32


def test_tiny_builds_fast_and_deterministically(tiny):
    from workbench.engine.load import load_engine

    started = time.process_time()  # CPU time (all threads): a busy machine does not stretch it as it does seconds
    a = load_engine("tiny")
    assert time.process_time() - started < 5  # "well under a second" once torch is imported (the fixture did)
    b = load_engine("tiny")
    assert a.weights_sha256() == b.weights_sha256()
    assert a.weights_sha256() != load_engine("tiny-melody").weights_sha256()
    # codebooks are filled (random init leaves them at zero, which would make codes irrelevant)
    assert float(a.model.audio_encoder.quantizer.layers[0].codebook.embed.abs().sum()) > 0


@pytest.mark.parametrize(("duration", "samples", "frames"), [(2.0, 64000, 100), (1.0, 32000, 50), (0.37, 11840, 19)])
def test_duration_is_exact(tiny, duration, samples, frames):
    [take] = tiny.generate("lofi piano", GenerationParams(duration_s=duration), seeds=[3])
    assert take.audio.shape == (1, samples)
    assert take.audio.dtype == np.float32
    assert take.codes.shape == (4, frames)
    assert take.duration_s == pytest.approx(duration, abs=1 / 32000)


def test_same_seed_same_take_other_seed_differs(tiny, short):
    a = tiny.generate("lofi piano", short, seeds=[3])[0]
    b = tiny.generate("lofi piano", short, seeds=[3])[0]
    c = tiny.generate("lofi piano", short, seeds=[4])[0]
    assert a.codes_sha256 == b.codes_sha256 and np.array_equal(a.audio, b.audio)
    assert c.codes_sha256 != a.codes_sha256


def test_takes_do_not_depend_on_their_batch(tiny, short):
    batch = tiny.generate("lofi piano", short, seeds=[1, 2, 3])
    alone = tiny.generate("lofi piano", short, seeds=[2])[0]
    mixed = tiny.generate(["a much longer, very different prompt: dark techno", "lofi piano"], short, seeds=[9, 2])
    assert batch[1].codes_sha256 == alone.codes_sha256 == mixed[1].codes_sha256
    assert len({t.codes_sha256 for t in batch}) == 3
    # each take is decoded alone, so its audio is identical too, not just its codes
    assert np.array_equal(batch[1].audio, alone.audio)
    assert all(t.batch_size == 3 for t in batch)


def test_generation_neither_reads_nor_changes_the_global_rng(tiny, short):
    state = torch.get_rng_state()
    first = tiny.generate("lofi piano", short, seeds=[5])[0]
    assert torch.equal(state, torch.get_rng_state())
    torch.manual_seed(1234)
    again = tiny.generate("lofi piano", short, seeds=[5])[0]
    assert again.codes_sha256 == first.codes_sha256


def test_omitted_seed_is_drawn_and_recorded(tiny, short):
    a, b = tiny.generate(["lofi piano", "lofi piano"], short)
    assert isinstance(a.seed, int) and a.seed != b.seed
    assert tiny.generate("lofi piano", short, seeds=[a.seed])[0].codes_sha256 == a.codes_sha256


def _reference_codes(engine, texts, seeds, params, frames):
    """transformers' own generate() loop with the workbench's sampler as a logits processor."""
    recorded = {}
    codec = engine.model.audio_encoder
    original = codec.decode

    def capture(codes, *args, **kwargs):
        recorded["codes"] = codes
        return original(codes, *args, **kwargs)

    inputs = engine.processor(text=texts, padding=True, return_tensors="pt")
    sampler = SeededSampler(seeds, 4, guidance_scale=params.guidance_scale, temperature=params.temperature,
                            top_k=params.top_k, top_p=params.top_p)
    codec.decode = capture
    try:
        with torch.inference_mode():
            audio = engine.model.generate(**inputs, do_sample=False, guidance_scale=params.guidance_scale,
                                          max_new_tokens=frames + 3, logits_processor=[_SamplerAsProcessor(sampler)])
    finally:
        del codec.decode
    return recorded["codes"][0].numpy(), audio.numpy()


@pytest.mark.parametrize("params", [GenerationParams(duration_s=2), GenerationParams(duration_s=1, guidance_scale=1.0,
                                                                                       temperature=0.8, top_k=0,
                                                                                       top_p=0.9)])
def test_codes_equal_the_plain_transformers_reference(tiny, params):
    seeds = [1, 2, 3]
    takes = tiny.generate("lofi piano", params, seeds=seeds)
    frames = tiny.frames_for(params.duration_s)
    codes, audio = _reference_codes(tiny, ["lofi piano"] * 3, seeds, params, frames)
    assert np.array_equal(codes, np.stack([t.codes for t in takes]))
    # batched decoding differs only in the last float bits
    assert np.abs(audio[:, :, :takes[0].num_samples] - np.stack([t.audio for t in takes])).max() < 1e-5


def test_greedy_equals_plain_transformers_without_our_sampler(tiny):
    params = GenerationParams(duration_s=1, top_k=1)
    [take] = tiny.generate("ambient pads", params, seeds=[0])
    recorded = {}
    codec = tiny.model.audio_encoder
    original = codec.decode
    codec.decode = lambda codes, *a, **k: recorded.setdefault("c", codes) is None or original(codes, *a, **k)
    try:
        inputs = tiny.processor(text=["ambient pads"], return_tensors="pt")
        with torch.inference_mode():
            tiny.model.generate(**inputs, do_sample=False, guidance_scale=3.0, max_new_tokens=53)
    finally:
        del codec.decode
    assert np.array_equal(recorded["c"][0, 0].numpy(), take.codes)


def _captured_codes(engine, **generate_kwargs):
    """Codes transformers' ``generate`` hands to EnCodec (plain call, no workbench code)."""
    recorded = {}
    codec = engine.model.audio_encoder
    original = codec.decode
    codec.decode = lambda codes, *a, **k: recorded.setdefault("c", codes) is None or original(codes, *a, **k)
    try:
        with torch.inference_mode():
            engine.model.generate(do_sample=False, **generate_kwargs)
    finally:
        del codec.decode
    return recorded["c"][0].numpy()


def test_greedy_melody_equals_plain_transformers(tiny_melody):
    from workbench.drafts.melody import CHROMA_RATE, Melody

    chroma = np.eye(12, dtype=np.float32)[np.random.default_rng(1).integers(0, 12, 30)]
    melody = Melody(chroma, CHROMA_RATE, {"kind": "test"})
    params = GenerationParams(duration_s=1, top_k=1)
    takes = tiny_melody.generate("lofi", params, seeds=[0, 1], melody=melody)
    inputs = tiny_melody.processor.tokenizer(["lofi", "lofi"], return_tensors="pt", padding=True)
    features = torch.as_tensor(chroma)[None].expand(2, -1, -1)
    codes = _captured_codes(tiny_melody, **inputs, input_features=features, guidance_scale=3.0, max_new_tokens=53)
    assert np.array_equal(codes, np.stack([t.codes for t in takes]))
    # and without a melody (transformers' "no melody" chroma)
    [plain] = tiny_melody.generate("lofi", params, seeds=[0])
    inputs = tiny_melody.processor.tokenizer(["lofi"], return_tensors="pt")
    assert np.array_equal(_captured_codes(tiny_melody, **inputs, guidance_scale=3.0, max_new_tokens=53)[0],
                          plain.codes)


def test_greedy_continuation_equals_plain_transformers(tiny):
    prompt = tiny.generate("ambient", GenerationParams(duration_s=0.5), seeds=[3])[0].codes  # [4, 25]
    params = GenerationParams(duration_s=1, top_k=1, guidance_scale=2.0)
    [take] = tiny.generate("ambient", params, seeds=[0], prompt_codes=prompt)
    inputs = tiny.processor(text=["ambient"], return_tensors="pt")
    codes = _captured_codes(tiny, **inputs, decoder_input_ids=torch.as_tensor(prompt), guidance_scale=2.0,
                            max_new_tokens=53)
    assert np.array_equal(codes[0], take.codes)  # the take starts with the prompt, as generate's output does


def test_windowed_take_is_exact_and_records_windows(tiny):
    """Also the fixtures' 70 s case (the same request; ``test_fixtures.py`` leaves its render to this test)."""
    [take] = tiny.generate("lofi piano", GenerationParams(duration_s=70), seeds=[1])
    assert take.audio.shape == (1, 70 * 32000)
    assert take.codes.shape == (4, 3500)
    pinned = np.load(Path(__file__).parent / "fixtures" / "codes.npz")["windowed_70s"]
    assert np.array_equal(take.codes, pinned[0].astype(np.int64))  # the codes pinned before the decoding loop
    assert [w["end_s"] for w in take.windows] == [30.0, 48.0, 66.0, 70.0]
    assert all(w["context_s"] == 12.0 for w in take.windows[1:])
    # the first window equals a plain 30 s take: windows continue, they do not restart
    [first] = tiny.generate("lofi piano", GenerationParams(duration_s=30), seeds=[1])
    assert np.array_equal(take.codes[:, :1500], first.codes)


def test_melody_on_a_text_model_is_refused(tiny, short):
    with pytest.raises(ModelCapabilityError, match="melody"):
        tiny.generate("x", short, seeds=[1], melody=object())


def test_prompt_and_seed_count_mismatch(tiny, short):
    with pytest.raises(ParamsError, match="one seed per prompt"):
        tiny.generate(["a", "b"], short, seeds=[1, 2, 3])


def test_progress_reports_every_step(tiny, short):
    seen = []
    tiny.generate("x", short, seeds=[1], progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (53, 53) and len(seen) == 53


def test_should_stop_cancels(tiny, short):
    from workbench.core.errors import GenerationCancelled

    calls = []
    with pytest.raises(GenerationCancelled):
        tiny.generate("x", short, seeds=[1], should_stop=lambda: calls.append(1) or len(calls) > 5)
    assert len(calls) == 6


def test_encode_decode_shapes(tiny):
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 32000 * 3)).astype(np.float32)
    codes = tiny.encode(audio)
    assert codes.shape == (4, 150) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < 2048
    assert tiny.decode(codes).shape == (1, 96000)
