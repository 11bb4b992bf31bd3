import numpy as np
import pytest
import torch

from workbench.engine.sampling import SeededSampler, gumbel_noise, make_generators


def _sample(logits: torch.Tensor, seeds, **kw) -> np.ndarray:
    sampler = SeededSampler(seeds, 1, guidance_scale=1.0, **kw)
    rows = logits.expand(len(seeds), -1).clone()
    out = sampler.sample(rows)
    assert out.shape == (len(seeds),) and out.dtype == torch.int64
    return out.numpy()


def test_empirical_frequencies_match_softmax():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, 0.5]])
    draws = _sample(logits, list(range(6000)))
    freq = np.bincount(draws, minlength=5) / len(draws)
    expected = torch.softmax(logits[0], -1).numpy()
    assert np.abs(freq - expected).max() < 0.02


def test_temperature_sharpens():
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    cold = np.bincount(_sample(logits, list(range(3000)), temperature=0.5), minlength=3) / 3000
    expected = torch.softmax(logits[0] / 0.5, -1).numpy()
    assert np.abs(cold - expected).max() < 0.03


def test_top_k_one_is_greedy_and_top_k_limits_support():
    logits = torch.randn(1, 50, generator=torch.Generator().manual_seed(0))
    assert set(_sample(logits, list(range(200)), top_k=1)) == {int(logits.argmax())}
    top3 = set(torch.topk(logits[0], 3).indices.tolist())
    assert set(_sample(logits, list(range(500)), top_k=3)) <= top3


def test_top_p_keeps_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    drawn = set(_sample(logits, list(range(800)), top_p=0.7))
    assert drawn == {0, 1}


def test_each_take_owns_its_generator():
    logits = torch.zeros(1, 64)
    alone = _sample(logits, [7])
    batched = _sample(logits, [1, 7, 3])
    assert batched[1] == alone[0]


def test_guidance_combines_the_halves():
    sampler = SeededSampler([1], 2, guidance_scale=3.0, top_k=1)
    assert sampler.guided
    cond = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    uncond = torch.tensor([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    out = sampler.sample(torch.cat([cond, uncond]))
    # row 0: uncond + 3 * (cond - uncond) = [0, 3, -4] -> 1; row 1: [3, 0, 0] -> 0
    assert out.tolist() == [1, 0]
    # without guidance only the conditional rows are expected
    assert SeededSampler([1], 2, guidance_scale=1.0, top_k=1).sample(cond).tolist() == [1, 0]


def test_noise_does_not_touch_the_global_rng():
    state = torch.get_rng_state()
    gumbel_noise(make_generators([1, 2]), 4, 16)
    assert torch.equal(state, torch.get_rng_state())


def test_wrong_row_count_is_refused():
    sampler = SeededSampler([1, 2], 4, guidance_scale=1.0)
    with pytest.raises(ValueError, match="2 takes x 4 codebooks"):
        sampler.sample(torch.zeros(4, 8))
    guided = SeededSampler([1, 2], 4, guidance_scale=3.0)
    with pytest.raises(ValueError, match="expected 16 rows"):
        guided.sample(torch.zeros(8, 8))  # the unconditional half is missing
