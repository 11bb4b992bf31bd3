"""Shared fixtures. The Hub is offline for the whole run (an offline look-up otherwise hangs for minutes)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# measured kernel choices and fingerprints go to a folder of this run, never to the user's cache
os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="workbench-cache-")
atexit.register(shutil.rmtree, os.environ["WORKBENCH_CACHE_DIR"], True)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny():
    """The built-in tiny MusicGen (random weights), loaded once per session, on the packed kernels (asked for:
    ``auto`` keeps models as narrow as tiny on the reference kernels, unmeasured)."""
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


@pytest.fixture()
def cli(tmp_path):
    """``cli(*args)``: the real ``workbench`` command in a subprocess, in ``tmp_path``, Hub offline."""
    import subprocess
    import sys

    def run(*args: str, timeout: float = 300):
        return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=tmp_path, env=dict(os.environ),
                              capture_output=True, text=True, timeout=timeout)

    return run
