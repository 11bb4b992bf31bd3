"""benchmarks/kernel_candidates.py: the numba kernel of our own computes ``x @ W.T`` and is batch-independent as
claimed, and report.py turns a results file into its section of docs/benchmarks.md."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def scripts():
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        yield importlib.import_module("kernel_candidates"), importlib.import_module("report")


def test_row_pairs_is_a_linear_product_and_independent_of_its_batch(scripts):
    candidates, _ = scripts
    generator = torch.Generator().manual_seed(3)
    weight = torch.randn(48, 96, generator=generator)
    x = torch.randn(7, 96, generator=generator)  # odd: padded with a row of zeros
    out = candidates.row_pairs_product(x, weight)
    assert out.shape == (7, 48)
    torch.testing.assert_close(out, x @ weight.T, rtol=1e-5, atol=1e-4)
    assert torch.equal(candidates.row_pairs_product(x[2:3], weight)[0], out[2])
    assert candidates.independent(candidates.row_pairs_product, weight, weight, torch.float32)
    # the probe fails a kernel whose rows depend on the batch: one that adds the batch's mean output row does
    assert not candidates.independent(lambda rows, w: (rows @ w.T) + (rows @ w.T).mean(0), weight, weight,
                                      torch.float32)


def test_report_section_names_the_fastest_batch_independent_kernel_per_row_count(scripts):
    _, report = scripts
    result = json.loads((BENCHMARKS / "results" / "kernel-candidates-amd-epyc.json").read_text())
    text = report.candidates_section(result)
    float32 = result["dtypes"]["float32"]["candidates"]
    for rows in result["row_counts"]:
        timed = {name: c["rows"][str(rows)]["gb_per_s"] for name, c in float32.items()
                 if "rows" in c and c["batch_independent"]}
        best = max(timed, key=timed.__getitem__)
        assert f"At {rows} rows the fastest batch-independent kernel is {best}: {timed[best]:.1f} GB/s" in text
    assert text.count("| numba row pairs (our own kernel) | yes |") == 1  # float32 only
