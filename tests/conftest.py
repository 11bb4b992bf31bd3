"""Shared fixtures. The Hub is offline for the whole run (an offline look-up otherwise hangs for minutes)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny():
    """The built-in tiny MusicGen (random weights), loaded once per session, on the packed kernels that
    real-size models get by default (tiny alone would not pack: too narrow to pay)."""
    from workbench.engine.load import load_engine

    return load_engine("tiny", device="cpu", kernels="onednn-packed")


@pytest.fixture(scope="session")
def tiny_melody():
    from workbench.engine.load import load_engine

    return load_engine("tiny-melody", device="cpu", kernels="onednn-packed")


@pytest.fixture()
def short():
    """Short generation parameters for fast tests (1 s)."""
    from workbench.core.params import GenerationParams

    return GenerationParams(duration_s=1.0)
