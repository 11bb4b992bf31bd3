"""Which linear kernels could bring a decoding step to its bandwidth floor: every product PyTorch offers for a
decoding step's shapes (2 rows: one take with guidance), timed on the weights a ``random-small`` step reads, side by
side with summing the same tensors (a read with no arithmetic), and whether each keeps a row's result independent
of the other rows of its batch (the workbench's condition for a kernel; see ``workbench/engine/kernels.py``).

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

import torch
from bench import cpu_slug

from workbench.engine import compat, kernels

RESULTS = Path(__file__).parent / "results"
#: ``(out_features, in_features)`` and count of the weight matrices one ``random-small`` decoding step multiplies
#: (24 layers: self-attention q, k, v, o; cross-attention q, o; fc1; fc2; and the 4 codebook heads).
STEP_SHAPES = ((1024, 1024, 24 * 6), (4096, 1024, 24), (1024, 4096, 24), (2048, 1024, 4))
ROWS = 2

Product = Callable[[torch.Tensor, Any], torch.Tensor]


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
        out["oneDNN packed (the workbench's)"] = (lambda w: reorder(w, ROWS), lambda x, p: linear(x, p, None))
    mkl = getattr(torch.ops.mkl, "_mkl_linear", None)
    if dtype == torch.float32 and mkl is not None and torch.backends.mkl.is_available():
        out["MKL packed sgemm"] = (lambda w: (torch.ops.mkl._mkl_reorder_linear_weight(w, ROWS), w),
                                   lambda x, p: mkl(x, p[0], p[1], None, ROWS))
    return out


def independent(product: Product, operand: Any, weight: torch.Tensor, dtype: torch.dtype) -> bool:
    """Whether every row of seeded inputs comes out bit for bit the same alone (as 2 rows: itself twice, how the
    workbench runs a single row) and in batches, probed as ``kernels.rows_independent`` probes a model's layers at
    load (its rows, batch sizes and draws)."""
    generator = torch.Generator().manual_seed(0)
    rows = kernels.PROBE_ROWS
    for _ in range(kernels.PROBE_DRAWS):
        x = torch.randn(rows, weight.shape[1], generator=generator).to(dtype)
        alone = torch.cat([product(x[row:row + 1].repeat(2, 1), operand)[:1] for row in range(rows)])
        for size in kernels.PROBE_BATCHES:
            for first in (0, rows - size):
                if not torch.equal(product(x[first:first + size], operand), alone[first:first + size]):
                    return False
    return True


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
        "rows": ROWS, "shapes": STEP_SHAPES, "dtypes": {}}
    for dtype in dtypes:
        weights = [torch.randn(out, inp, generator=generator).to(dtype)
                   for out, inp, count in STEP_SHAPES for _ in range(count)]
        inputs = {inp: torch.randn(ROWS, inp, generator=generator).to(dtype) for _, inp, _ in STEP_SHAPES}
        gigabytes = sum(w.numel() * w.element_size() for w in weights) / 1e9
        cases: dict[str, Callable[[], Any]] = {"sum (a read, no arithmetic)": lambda ws=weights: [w.sum() for w in ws]}
        found: dict[str, dict[str, Any]] = {"sum (a read, no arithmetic)": {"batch_independent": None}}
        for name, (prepare, product) in candidates(dtype).items():
            operands = [prepare(w) for w in weights]
            cases[name] = lambda ops=operands, p=product, ws=weights, xs=inputs: [
                p(xs[w.shape[1]], o) for w, o in zip(ws, ops)]
            found[name] = {"batch_independent": all(
                independent(product, operands[index], weights[index], dtype)
                for index in {w.shape: i for i, w in enumerate(weights)}.values())}
        seconds: dict[str, list[float]] = {name: [] for name in cases}
        with torch.inference_mode():
            for case in cases.values():
                case()  # warm
            for index in range(args.rounds):
                for name in cases if index % 2 == 0 else list(cases)[::-1]:
                    started = time.perf_counter()
                    cases[name]()
                    seconds[name].append(time.perf_counter() - started)
        for name, values in seconds.items():
            median = statistics.median(values)
            found[name].update(step_ms=round(median * 1000, 2), gb_per_s=round(gigabytes / median, 1),
                               runs_ms=[round(v * 1000, 2) for v in values])
        result["dtypes"][str(dtype).removeprefix("torch.")] = {"step_weights_gb": gigabytes, "candidates": found}
        print(json.dumps({str(dtype): found}, indent=1))
    path = args.json or RESULTS / f"kernel-candidates-{cpu_slug(cpu.name)}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
