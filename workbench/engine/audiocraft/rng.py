"""audiocraft samples from the process RNG: each take runs inside a forked, seeded RNG that is restored after it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's (CPU and every CUDA device's), Python's and numpy's RNGs seeded from ``seed``; every
    one of them is restored afterwards, so the process RNG is as it was and the next take starts from its own seed.

    ``seed`` is one of the workbench's (at most 2**63 - 1: fits torch's 64-bit seeds; numpy takes it modulo 2**32).
    Not safe against other threads drawing from the process RNG at the same time: the engine runs one pass at a
    time (its lock), and the workbench's own sampler never draws from the process RNG.
    """
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=cuda):  # torch.manual_seed seeds every CUDA device too: restore them all
            torch.manual_seed(seed)
            random.seed(seed)
            np.random.seed(seed % 2**32)
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
