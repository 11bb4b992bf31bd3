"""Kernels chosen by measurement at load: candidates timed in alternating rounds, the fastest kept and remembered.

A fake clock stands in for the wall clock: each step costs what the test says the decoder's current kernels
cost, so the choice is decided by the test, never by the machine running it.
"""

from __future__ import annotations

import json
from itertools import groupby

import numpy as np
import pytest
import torch

from workbench.core import cache
from workbench.core.params import GenerationParams
from workbench.engine import autotune, compat, kernels
from workbench.engine.load import load_engine


class FakeClock:
    """``clock()`` advances by the cost (seconds) of the kernels the decoder runs on now, and logs them."""

    def __init__(self, engine, costs: dict[str, float]) -> None:
        self.engine, self.costs, self.now, self.seen = engine, costs, 0.0, []

    def __call__(self) -> float:
        kind = kernels.kind(self.engine.model.decoder)
        self.seen.append(kind)
        self.now += self.costs[kind]
        return self.now


def trusting(module) -> bool:
    """A batch-independence probe that passes every kernel (the timing tests decide by the clock alone)."""
    return True


@pytest.fixture()
def engine():
    """tiny on the reference kernels (it is narrow: ``auto`` would not measure it; these tests call the tuner)."""
    return load_engine("tiny", kernels="torch")


def test_the_faster_candidate_is_kept_and_remembered(engine, tmp_path):
    clock = FakeClock(engine, {kernels.PACKED: 0.010, kernels.REFERENCE: 0.030})
    choice = autotune.choose_kernels(engine, folder=tmp_path, timer=clock, steps=3, rounds=2, probe=trusting)
    assert choice.kernels == kernels.PACKED == engine.kernels and choice.how == "measured"
    assert choice.step_ms == {kernels.REFERENCE: 30.0, kernels.PACKED: 10.0}
    assert choice.rows_independent == {kernels.REFERENCE: True, kernels.PACKED: True}
    # rounds alternate their order (A B, then B A): reference, packed twice in a row, reference again
    assert [kind for kind, _ in groupby(clock.seen)] == [kernels.REFERENCE, kernels.PACKED, kernels.REFERENCE]
    assert clock.seen.count(kernels.PACKED) == clock.seen.count(kernels.REFERENCE) == 2 * 4  # 3 gaps, 4 stamps
    stored = json.loads((tmp_path / "kernels.json").read_text())["entries"][choice.key]
    assert stored["kernels"] == kernels.PACKED and stored["facts"]["model"]["hidden_size"] == 32

    # a second load on this machine takes the remembered choice and measures nothing
    again = load_engine("tiny", kernels="torch")
    slow_packed = FakeClock(again, {kernels.PACKED: 0.030, kernels.REFERENCE: 0.010})
    remembered = autotune.choose_kernels(again, folder=tmp_path, timer=slow_packed)
    assert remembered.kernels == kernels.PACKED == again.kernels and remembered.how == "cached"
    assert slow_packed.seen == [] and remembered.step_ms == choice.step_ms
    # refresh measures again and replaces what was remembered
    fresh = autotune.choose_kernels(again, folder=tmp_path, timer=slow_packed, refresh=True, steps=2, rounds=1,
                                   probe=trusting)
    assert fresh.kernels == kernels.REFERENCE == again.kernels and fresh.how == "measured"
    assert autotune.choose_kernels(again, folder=tmp_path, timer=clock).kernels == kernels.REFERENCE


def test_a_tie_keeps_the_reference_kernels(engine, tmp_path):
    clock = FakeClock(engine, {kernels.PACKED: 0.02, kernels.REFERENCE: 0.02})
    assert autotune.choose_kernels(engine, folder=tmp_path, timer=clock, steps=2, rounds=1,
                                   probe=trusting).kernels == kernels.REFERENCE


def test_a_corrupt_or_unwritable_cache_costs_a_measurement_not_an_error(engine, tmp_path):
    (tmp_path / "kernels.json").write_text('{"version": 1, "entries": {"')  # cut off mid-write by another tool
    clock = FakeClock(engine, {kernels.PACKED: 0.01, kernels.REFERENCE: 0.02})
    choice = autotune.choose_kernels(engine, folder=tmp_path, timer=clock, steps=2, rounds=1, probe=trusting)
    assert choice.how == "measured" and clock.seen
    assert cache.recall(autotune.STORE, choice.key, folder=tmp_path)["kernels"] == kernels.PACKED
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert not cache.remember(autotune.STORE, "k", {"kernels": "torch"}, folder=blocked)  # a file, not a folder
    assert cache.recall(autotune.STORE, "k", folder=blocked) is None


def test_the_choice_is_per_machine_and_per_model(engine, monkeypatch):
    key = autotune.cache_key(engine.model)
    assert autotune.cache_key(load_engine("tiny-melody", kernels="torch").model) != key
    other = compat.CpuInfo("Another CPU", frozenset({"avx2"}))
    monkeypatch.setattr(compat, "cpu_info", lambda: other)
    assert autotune.machine_facts()["cpu"] == "Another CPU" and autotune.cache_key(engine.model) != key


def test_one_candidate_is_used_without_measuring(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(kernels, "candidates", lambda model: [kernels.REFERENCE])
    clock = FakeClock(engine, {kernels.PACKED: 0.01, kernels.REFERENCE: 0.02})
    choice = autotune.choose_kernels(engine, folder=tmp_path, timer=clock)
    assert choice.how == "only" and choice.kernels == engine.kernels == kernels.REFERENCE and not clock.seen
    assert not (tmp_path / "kernels.json").exists()


def test_load_engine_auto_measures_wide_models_and_keeps_narrow_ones_fixed(monkeypatch):
    assert load_engine("tiny").kernel_choice.how == "narrow"  # the pinned fixtures' codes never depend on a clock
    assert load_engine("tiny", kernels="onednn-packed").kernel_choice.how == "asked"
    measured = []
    monkeypatch.setattr(kernels, "PACK_MIN_HIDDEN", 16)  # tiny counts as wide: auto goes to the tuner
    monkeypatch.setattr("workbench.engine.load.choose_kernels",
                        lambda engine: measured.append(engine) or autotune.KernelChoice(engine.kernels, "measured"))
    engine = load_engine("tiny")
    assert measured == [engine] and engine.kernel_choice.how == "measured"


def test_measured_choice_gives_the_reference_codes(engine, tmp_path):
    """Whatever the clock decides, a float32 take's codes are the same (so the choice never changes them)."""
    params = GenerationParams(duration_s=1)
    expected = np.stack([t.codes for t in engine.generate("lofi piano", params, [1, 2])])
    for costs in ({kernels.PACKED: 0.01, kernels.REFERENCE: 0.02}, {kernels.PACKED: 0.02, kernels.REFERENCE: 0.01}):
        choice = autotune.choose_kernels(engine, folder=tmp_path, timer=FakeClock(engine, costs), refresh=True,
                                         steps=2, rounds=1, probe=trusting)
        takes = engine.generate("lofi piano", params, [1, 2])
        assert takes[0].kernels == choice.kernels
        assert np.array_equal(np.stack([t.codes for t in takes]), expected)


def test_kernels_that_make_a_take_depend_on_its_batch_are_not_chosen_however_fast(engine, tmp_path):
    clock = FakeClock(engine, {kernels.PACKED: 0.03, kernels.REFERENCE: 0.01})
    choice = autotune.choose_kernels(engine, folder=tmp_path, timer=clock, steps=2, rounds=1,
                                     probe=lambda module: kernels.kind(module) == kernels.PACKED)
    assert choice.kernels == kernels.PACKED and choice.rows_independent == {kernels.REFERENCE: False,
                                                                            kernels.PACKED: True}
    # where no candidate keeps the promise, the fastest runs (and a warning says so)
    none = autotune.choose_kernels(engine, folder=tmp_path, timer=clock, steps=2, rounds=1, refresh=True,
                                   probe=lambda module: False)
    assert none.kernels == kernels.REFERENCE


def _linear(cls, features_in: int, features_out: int, dtype: torch.dtype) -> torch.nn.Linear:
    """A linear layer with seeded weights (the process RNG stays untouched)."""
    generator = torch.Generator().manual_seed(features_in)
    layer = cls(features_in, features_out, device="meta")
    layer.weight = torch.nn.Parameter(torch.randn(features_out, features_in, generator=generator).to(dtype) / 64,
                                      requires_grad=False)
    layer.bias = torch.nn.Parameter(torch.randn(features_out, generator=generator).to(dtype), requires_grad=False)
    return layer


class BatchSized(torch.nn.Linear):
    """A linear layer whose rows depend on the batch size (as a kernel picking its sums by size would)."""

    def forward(self, x):
        return super().forward(x) + 1e-2 * (x.shape[0] > 4)


def test_the_probe_passes_the_packed_kernels_and_catches_a_batch_dependent_layer():
    assert kernels.rows_independent(load_engine("tiny", kernels="onednn-packed").model.decoder)
    for dtype in (torch.float32, torch.bfloat16):
        # 4096 inputs: where oneDNN's single-row kernel sums differently (a single row is run as two)
        packed = kernels.PackedLinear(_linear(torch.nn.Linear, 4096, 64, dtype), rows_hint=2)
        assert kernels.rows_independent(torch.nn.Sequential(packed))
        assert not kernels.rows_independent(torch.nn.Sequential(_linear(BatchSized, 64, 32, dtype)))
