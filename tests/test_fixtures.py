"""Takes rendered before the workbench owned its decoding loop keep their exact codes (tests/fixtures/)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import codes_cases  # noqa: E402

PINNED = np.load(codes_cases.CODES)
MANIFEST = json.loads(codes_cases.MANIFEST.read_text())
#: Cases whose request another test renders anyway and checks against its pinned codes (a 70 s take is the
#: costliest render of the suite: once is enough).
RENDERED_ELSEWHERE = {"windowed_70s": "test_engine.py::test_windowed_take_is_exact_and_records_windows"}


@pytest.fixture(scope="module")
def case_engines(engines):
    """``codes_cases.render``'s engines by (model, kernels), from the run's shared engines."""
    return {(case["model"], case["kernels"]): engines.load(case["model"], device="cpu", kernels=case["kernels"])
            for case in codes_cases.CASES.values()}


def test_every_case_is_pinned():
    assert set(PINNED.files) == set(codes_cases.CASES) == set(MANIFEST["cases"])
    assert set(RENDERED_ELSEWHERE) < set(codes_cases.CASES)


@pytest.mark.parametrize("name", [name for name in codes_cases.CASES if name not in RENDERED_ELSEWHERE])
def test_codes_equal_the_pinned_fixture(name, case_engines):
    expected = PINNED[name].astype(np.int64)
    got = codes_cases.render(name, case_engines)
    assert got.shape == expected.shape == tuple(MANIFEST["cases"][name]["shape"])
    differ = np.argwhere(got != expected)
    if len(differ):
        take, row, frame = differ[np.argsort(differ[:, 2], kind="stable")][0]
        pytest.fail(f"{name}: {len(differ)} codes differ; first at frame {frame}, codebook {row} of take {take}")
