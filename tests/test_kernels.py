"""The optimised paths (packed CPU kernels, preallocated KV cache) against the reference paths.

Reference = PyTorch's default kernels + transformers' ``DynamicCache`` (``tests/test_engine.py`` pins the
workbench's loop to transformers' own ``generate``). Codes must be identical.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from workbench.core.errors import ParamsError
from workbench.core.params import GenerationParams
from workbench.drafts.melody import CHROMA_RATE, Melody
from workbench.engine import compat, kernels
from workbench.engine.load import load_engine


@pytest.fixture(scope="module")
def reference():
    """tiny on the reference path: torch kernels, transformers' cache."""
    engine = load_engine("tiny", kernels="torch")
    engine.preallocate_cache = False
    return engine


def _codes(takes):
    return np.stack([t.codes for t in takes])


def test_packed_linear_matches_and_keeps_rows_independent():
    linear = torch.nn.Linear(64, 96).eval()
    packed = kernels.PackedLinear(linear, rows_hint=2)
    x = torch.randn(5, 3, 64)
    with torch.inference_mode():
        out, ref = packed(x), linear(x)
        alone = packed(x[:1])
    assert out.shape == ref.shape == (5, 3, 96)
    assert (out - ref).abs().max().item() < 1e-5
    assert torch.equal(out[:1], alone)  # a take's numbers do not depend on its batch
    assert torch.equal(packed.weight, linear.weight) and torch.equal(packed.unpacked().weight, linear.weight)


def test_packing_keeps_weights_fingerprint_and_state_dict(tiny):
    assert tiny.kernels == kernels.PACKED  # asked for (conftest)
    plain = load_engine("tiny", kernels="torch")
    assert plain.kernels == kernels.REFERENCE
    assert load_engine("tiny").kernels == kernels.REFERENCE  # auto: too narrow to pay
    assert not any(isinstance(m, kernels.PackedLinear) for m in plain.model.modules())
    assert sum(isinstance(m, kernels.PackedLinear) for m in tiny.model.decoder.modules()) == 24
    ours, theirs = tiny.model.state_dict(), plain.model.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert tiny.weights_sha256() == plain.weights_sha256()


def test_reference_kernels_context_restores_packing():
    engine = load_engine("tiny", kernels="onednn-packed")
    with kernels.reference_kernels(engine.model.decoder):
        assert not any(isinstance(m, kernels.PackedLinear) for m in engine.model.modules())
        assert engine.kernels == kernels.REFERENCE  # what takes record follows the model, not a flag
    assert sum(isinstance(m, kernels.PackedLinear) for m in engine.model.decoder.modules()) == 24
    assert engine.kernels == kernels.PACKED


def test_bad_kernels_name_fails_before_loading():
    with pytest.raises(ParamsError, match="kernels must be"):
        load_engine("tiny", kernels="fastest")


@pytest.mark.parametrize("params", [GenerationParams(duration_s=2),
                                    GenerationParams(duration_s=1, guidance_scale=1.0, temperature=0.7, top_k=0,
                                                     top_p=0.9)])
def test_optimised_codes_equal_reference_codes(tiny, reference, params):
    seeds = [1, 2, 3]
    fast, slow = tiny.generate("lofi piano", params, seeds), reference.generate("lofi piano", params, seeds)
    assert np.array_equal(_codes(fast), _codes(slow))
    mixed = ["lofi piano", "dark techno", "lofi piano"]
    assert np.array_equal(_codes(tiny.generate(mixed, params, seeds)), _codes(reference.generate(mixed, params, seeds)))
    assert fast[0].kernels == kernels.PACKED and slow[0].kernels == kernels.REFERENCE


def test_optimised_codes_equal_reference_for_continuation_and_windows(tiny, reference):
    prompt = tiny.generate("ambient", GenerationParams(duration_s=1), [7])[0].codes
    params = GenerationParams(duration_s=1.5)
    fast = tiny.generate("ambient", params, [1, 2], prompt_codes=prompt)
    slow = reference.generate("ambient", params, [1, 2], prompt_codes=prompt)
    assert np.array_equal(_codes(fast), _codes(slow))
    long = GenerationParams(duration_s=34, extend_stride_s=28)  # two windows: the second starts from context
    [fast_long], [slow_long] = tiny.generate("ambient", long, [3]), reference.generate("ambient", long, [3])
    assert fast_long.windows is not None and len(fast_long.windows) == 2
    assert np.array_equal(fast_long.codes, slow_long.codes)


def test_optimised_codes_equal_reference_for_melody(tiny_melody):
    reference = load_engine("tiny-melody", kernels="torch")
    reference.preallocate_cache = False
    rng = np.random.default_rng(0)
    chroma = np.eye(12, dtype=np.float32)[rng.integers(0, 12, 40)]
    melody = Melody(chroma, CHROMA_RATE, {"kind": "test"})
    params = GenerationParams(duration_s=1.5)
    fast = tiny_melody.generate("lofi", params, [1, 2], melody=melody)
    slow = reference.generate("lofi", params, [1, 2], melody=melody)
    assert np.array_equal(_codes(fast), _codes(slow))
    # and the melody still conditions the takes on the optimised path
    other = Melody(np.roll(chroma, 5, axis=1), CHROMA_RATE, {"kind": "test"})
    assert not np.array_equal(_codes(fast), _codes(tiny_melody.generate("lofi", params, [1, 2], melody=other)))


def test_preallocated_layer_grows_past_its_capacity():
    layer_class = compat._layer_class()
    assert layer_class is not None  # the locked transformers has the probed interface
    layer = layer_class(5)
    chunks = [torch.randn(2, 4, n, 8) for n in (3, 1, 1, 1, 4, 1)]  # prefill of 3, then past the 5 reserved
    for index, chunk in enumerate(chunks):
        assert layer.get_mask_sizes(chunk.shape[-2]) == (sum(c.shape[-2] for c in chunks[:index + 1]), 0)
        keys, values = layer.update(chunk, chunk * 2)
        expected = torch.cat(chunks[:index + 1], dim=-2)
        assert torch.equal(keys, expected) and torch.equal(values, expected * 2)
    assert layer.get_seq_length() == 11


def test_sidecar_records_kernels_and_reproduce_uses_them(tiny, tmp_path):
    from workbench.render.reproduce import reproduce
    from workbench.store.takes import save_take

    [take] = tiny.generate("lofi piano", GenerationParams(duration_s=1), [5])
    save_take(take, tmp_path / "a.wav", weights_sha256=tiny.weights_sha256())
    sidecar = tmp_path / "a.json"
    record = json.loads(sidecar.read_text())
    assert record["kernels"] == kernels.PACKED
    report = reproduce(sidecar)
    assert report.identical and report.take.kernels == kernels.PACKED and not report.warnings
    # a take recorded before kernels were recorded (no field) re-renders on the reference kernels
    del record["kernels"]
    sidecar.write_text(json.dumps(record))
    report = reproduce(sidecar)
    assert report.take.kernels == kernels.REFERENCE and report.identical


@pytest.mark.slow
def test_packed_kernels_equal_reference_kernels_at_musicgen_small_size():
    """random-small (musicgen-small's real size) is where packing is on by default: same codes as PyTorch's kernels."""
    params = GenerationParams(duration_s=1)
    fast = load_engine("random-small")
    assert fast.kernels == kernels.PACKED
    packed = _codes(fast.generate("80s synthwave", params, [1, 2]))
    del fast
    plain = load_engine("random-small", kernels="torch")
    plain.preallocate_cache = False
    assert np.array_equal(packed, _codes(plain.generate("80s synthwave", params, [1, 2])))
