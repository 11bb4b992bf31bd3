"""Which linear kernels could bring a decoding step to its bandwidth floor: every product PyTorch offers for a
decoding step's shapes, and one kernel of our own written with numba, timed on the weights a ``random-small`` step
reads at 2 rows (one take with guidance) and 8 rows (four seeds), side by side with summing the same tensors (a
read with no arithmetic), and whether each keeps a row's result independent of the other rows of its batch (the
workbench's condition for a kernel; see ``workbench/engine/kernels.py``).

The numba kernel (:func:`row_pairs`) computes every output as a dot product of a weight row and an input row, four
weight rows by two input rows at a time, so that a row's result is the same whatever the other rows are: it is
independent of its batch by construction, and the probe checks it like the others.

    python benchmarks/kernel_candidates.py --rounds 5

Writes ``benchmarks/results/kernel-candidates-<cpu>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np
import torch
from bench import cpu_slug

from workbench.engine import compat, kernels

RESULTS = Path(__file__).parent / "results"
#: ``(out_features, in_features)`` and count of the weight matrices one ``random-small`` decoding step multiplies
#: (24 layers: self-attention q, k, v, o; cross-attention q, o; fc1; fc2; and the 4 codebook heads).
STEP_SHAPES = ((1024, 1024, 24 * 6), (4096, 1024, 24), (1024, 4096, 24), (2048, 1024, 4))
#: Rows of a product: one take with guidance, and four seeds.
ROW_COUNTS = (2, 8)
#: The rows the packed weights are laid out for (the workbench packs for 2).
ROWS_HINT = 2

Product = Callable[[torch.Tensor, Any], torch.Tensor]


@numba.njit(parallel=True, fastmath=True, nogil=True, cache=False)
def row_pairs(weight: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out = x @ weight.T`` for ``weight [n, k]`` (n a multiple of 16) and ``x [rows, k]`` (rows even): each output
    is one dot product, computed four weight rows by two input rows at a time; threads split the weight rows."""
    n, k = weight.shape
    for block in numba.prange(n // 16):
        for j in range(block * 16, block * 16 + 16, 4):
            w0, w1, w2, w3 = weight[j], weight[j + 1], weight[j + 2], weight[j + 3]
            for b in range(0, x.shape[0], 2):
                x0, x1 = x[b], x[b + 1]
                a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = np.float32(0.0)
                for i in range(k):
                    u, v = x0[i], x1[i]
                    a00 += w0[i] * u
                    a01 += w0[i] * v
                    a10 += w1[i] * u
                    a11 += w1[i] * v
                    a20 += w2[i] * u
                    a21 += w2[i] * v
                    a30 += w3[i] * u
                    a31 += w3[i] * v
                out[b, j], out[b + 1, j], out[b, j + 1], out[b + 1, j + 1] = a00, a01, a10, a11
                out[b, j + 2], out[b + 1, j + 2], out[b, j + 3], out[b + 1, j + 3] = a20, a21, a30, a31


def row_pairs_product(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """:func:`row_pairs` on tensors: an odd row count is padded with a row of zeros."""
    rows = x.shape[0]
    padded = torch.cat([x, x.new_zeros(1, x.shape[1])]) if rows % 2 else x.contiguous()
    out = torch.empty(padded.shape[0], weight.shape[0], dtype=x.dtype)
    row_pairs(weight.numpy(), padded.numpy(), out.numpy())
    return out[:rows]


def candidates(dtype: torch.dtype) -> dict[str, tuple[Callable[[torch.Tensor], Any], Product]]:
    """``name: (prepare(weight) -> operand, product(x, operand) -> y)``."""
    out: dict[str, tuple[Callable[[torch.Tensor], Any], Product]] = {
        "torch F.linear (the reference)": (lambda w: w, lambda x, w: torch.nn.functional.linear(x, w)),
        "W @ x.T (BLAS, weight untransposed)": (lambda w: w, lambda x, w: (w @ x.T).T),
        "x @ W.T stored transposed": (lambda w: w.T.contiguous(), lambda x, wt: x @ wt),
        "torch.mv per row": (lambda w: w, lambda x, w: torch.stack([torch.mv(w, row) for row in x])),
    }
    packed = compat.packed_linear_ops(dtype)
    if packed is not None:
        reorder, linear = packed
        out["oneDNN packed (the workbench's)"] = (lambda w: reorder(w, ROWS_HINT), lambda x, p: linear(x, p, None))
    mkl = getattr(torch.ops.mkl, "_mkl_linear", None)
    if dtype == torch.float32 and mkl is not None and torch.backends.mkl.is_available():
        out["MKL packed sgemm"] = (lambda w: (torch.ops.mkl._mkl_reorder_linear_weight(w, ROWS_HINT), w),
                                   lambda x, p: mkl(x, p[0], p[1], None, ROWS_HINT))
    if dtype == torch.float32:
        out["numba row pairs (our own kernel)"] = (lambda w: w.contiguous(), row_pairs_product)
    return out


def independent(product: Product, operand: Any, weight: torch.Tensor, dtype: torch.dtype) -> bool:
    """Whether every row of seeded inputs comes out bit for bit the same alone (as 2 rows: itself twice, how the
    workbench runs a single row) and in batches: ``kernels.product_rows_independent``, the probe a model's layers
    get at load."""
    def rows(x: torch.Tensor) -> torch.Tensor:
        return product(x.repeat(2, 1), operand)[:1] if x.shape[0] == 1 else product(x, operand)

    return kernels.product_rows_independent(rows, weight.shape[1], dtype, torch.Generator().manual_seed(0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cpu = compat.cpu_info()
    dtypes = [torch.float32] + ([torch.bfloat16] if compat.bf16_fast_path() else [])
    generator = torch.Generator().manual_seed(0)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "cpu": cpu.name, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "command": "python benchmarks/kernel_candidates.py " + " ".join(sys.argv[1:]),
        "row_counts": ROW_COUNTS, "shapes": STEP_SHAPES, "dtypes": {}}
    for dtype in dtypes:
        weights = [torch.randn(out, inp, generator=generator).to(dtype)
                   for out, inp, count in STEP_SHAPES for _ in range(count)]
        gigabytes = sum(w.numel() * w.element_size() for w in weights) / 1e9
        cases: dict[tuple[str, int], Callable[[], Any]] = {
            ("sum (a read, no arithmetic)", 0): lambda ws=weights: [w.sum() for w in ws]}
        found: dict[str, dict[str, Any]] = {"sum (a read, no arithmetic)": {"batch_independent": None}}
        for name, (prepare, product) in candidates(dtype).items():
            operands = [prepare(w) for w in weights]
            for rows in ROW_COUNTS:
                inputs = {inp: torch.randn(rows, inp, generator=generator).to(dtype) for _, inp, _ in STEP_SHAPES}
                cases[name, rows] = lambda ops=operands, p=product, ws=weights, xs=inputs: [
                    p(xs[w.shape[1]], o) for w, o in zip(ws, ops)]
            found[name] = {"batch_independent": all(
                independent(product, operands[index], weights[index], dtype)
                for index in {w.shape: i for i, w in enumerate(weights)}.values())}
        seconds: dict[tuple[str, int], list[float]] = {key: [] for key in cases}
        with torch.inference_mode():
            for case in cases.values():
                case()  # warm
            for index in range(args.rounds):
                for key in cases if index % 2 == 0 else list(cases)[::-1]:
                    started = time.perf_counter()
                    cases[key]()
                    seconds[key].append(time.perf_counter() - started)
        for (name, rows), values in seconds.items():
            median = statistics.median(values)
            figures = {"step_ms": round(median * 1000, 2), "gb_per_s": round(gigabytes / median, 1),
                       "runs_ms": [round(v * 1000, 2) for v in values]}
            if rows:
                found[name].setdefault("rows", {})[str(rows)] = figures
            else:
                found[name].update(figures)
        result["dtypes"][str(dtype).removeprefix("torch.")] = {"step_weights_gb": gigabytes, "candidates": found}
        print(json.dumps({str(dtype): found}, indent=1))
    path = args.json or RESULTS / f"kernel-candidates-{cpu_slug(cpu.name)}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
