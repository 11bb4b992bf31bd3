"""Both engines keep the one contract the renderers and the UI type against (``workbench.Engine``)."""

from __future__ import annotations

import pytest

import workbench
from workbench.engine.protocol import Engine, EngineBase


def test_both_engines_keep_the_engine_contract(tiny):
    from workbench.engine.engine import MusicgenEngine

    assert workbench.Engine is Engine
    assert isinstance(tiny, MusicgenEngine) and isinstance(tiny, Engine) and isinstance(tiny, EngineBase)
    assert (tiny.style, tiny.melody, tiny.low_memory) == (False, False, False)
    assert tiny.frames_for(1.0) == 50 and tiny.samples_for(0.5) == 16000
    first = tiny.weights_sha256()
    assert tiny.weights_sha256() is first  # computed once, under the engine's lock
    pytest.importorskip("audiocraft")
    from workbench.engine.audiocraft.engine import AudiocraftEngine
    from workbench.engine.load import load_engine

    magnet = load_engine("tiny-magnet")
    assert isinstance(magnet, AudiocraftEngine) and isinstance(magnet, Engine)
    assert magnet.codec is None and magnet.kernels == "torch" and not magnet.style


def test_something_that_is_not_an_engine_is_told_apart():
    class Half:
        info = None

        def generate(self, *args, **kwargs):
            return []

    assert not isinstance(Half(), Engine)
