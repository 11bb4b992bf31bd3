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


@pytest.fixture(scope="module")
def engines():
    return {}


def test_every_case_is_pinned():
    assert set(PINNED.files) == set(codes_cases.CASES) == set(MANIFEST["cases"])


@pytest.mark.parametrize("name", list(codes_cases.CASES))
def test_codes_equal_the_pinned_fixture(name, engines):
    expected = PINNED[name].astype(np.int64)
    got = codes_cases.render(name, engines)
    assert got.shape == expected.shape == tuple(MANIFEST["cases"][name]["shape"])
    differ = np.argwhere(got != expected)
    if len(differ):
        take, row, frame = differ[np.argsort(differ[:, 2], kind="stable")][0]
        pytest.fail(f"{name}: {len(differ)} codes differ; first at frame {frame}, codebook {row} of take {take}")
