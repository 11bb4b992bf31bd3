"""The dtype policy: the dtype names accepted, the default per device, and what was measured of the others on CUDA."""

from __future__ import annotations

import torch

from workbench.core.errors import ParamsError

#: The dtype names ``--dtype`` and ``load_engine(dtype=...)`` accept.
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
                                  "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}

#: The default on every device type: float32. On CUDA, float16 and bfloat16 takes of ``random-small`` did not repeat
#: (:data:`CUDA_AGREEMENT`); float32 stays the CUDA default until a half-precision path is measured to repeat there.
DEFAULT = torch.float32

#: The results file the CUDA figures below come from (written by ``benchmarks/gpu_check.py``; a test checks them).
CUDA_RESULTS = "benchmarks/results/gpu-random-small.json"

#: What was measured on CUDA of each dtype other than the default, one sentence each (from :data:`CUDA_RESULTS`).
CUDA_AGREEMENT: dict[torch.dtype, str] = {
    dtype: (f"{name} on CUDA: measured on an NVIDIA H200 (random-small, 10 s takes, batches 1, 4 and 8), a seed's "
            f"codes did not repeat in any 10 s row, run to run or alone vs in a batch ({CUDA_RESULTS}); "
            "the default on CUDA is float32")
    for name, dtype in (("float16", torch.float16), ("bfloat16", torch.bfloat16))
}


def torch_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """The requested dtype (a name of :data:`DTYPES` or a ``torch.dtype``), or the default on ``device``.

    Raises:
        ParamsError: an unknown dtype name.
    """
    if dtype is None:
        return default_dtype(device)
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise ParamsError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return DTYPES[dtype]


def default_dtype(device: torch.device) -> torch.dtype:
    """The dtype a model runs in on ``device`` when none is asked: :data:`DEFAULT` on CPU, CUDA and MPS alike."""
    del device  # one default today; the device stays in the signature because the policy is per device
    return DEFAULT


def agreement_note(device: torch.device | str, dtype: torch.dtype) -> str | None:
    """One line saying what was measured of ``dtype`` on ``device``, or None when there is nothing to say.

    Only a non-default dtype on CUDA has a line (:data:`CUDA_AGREEMENT`): there the measured takes did not repeat.
    """
    kind = torch.device(device).type
    if kind != "cuda" or dtype == default_dtype(torch.device(kind)):
        return None
    return CUDA_AGREEMENT.get(dtype)
