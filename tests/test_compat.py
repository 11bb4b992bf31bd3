"""Each version- or build-specific call of workbench.compat, and its public fallback forced."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

import numpy as np
import pytest
import torch

from workbench.core.params import GenerationParams
from workbench.engine import compat, kernels
from workbench.engine.load import load_engine

PARAMS = GenerationParams(duration_s=1)


def _codes(engine, **kwargs):
    return np.stack([t.codes for t in engine.generate("lofi piano", PARAMS, [1, 2], **kwargs)])


@pytest.fixture()
def fresh_probes():
    """Clear the probes' caches before and after a test that replaces what they probe."""
    compat.packed_linear_ops.cache_clear()
    compat._layer_class.cache_clear()
    yield
    compat.packed_linear_ops.cache_clear()
    compat._layer_class.cache_clear()


def test_cache_keyword_follows_the_decoders_signature(tiny):
    import inspect

    parameters = inspect.signature(type(tiny.model.decoder).forward).parameters
    expected = "cache" if "cache" in parameters else "past_key_values"
    assert compat.cache_keyword(tiny.model.decoder) == expected

    class Old(torch.nn.Module):
        def forward(self, input_ids=None, past_key_values=None):
            return input_ids

    class Unknown(torch.nn.Module):
        def forward(self, input_ids=None):
            return input_ids

    assert compat.cache_keyword(Old()) == "past_key_values"
    assert compat.cache_keyword(Unknown()) == "cache"  # and a warning: the newest name is the best guess


@pytest.mark.parametrize("keyword", compat.CACHE_KEYWORDS)
def test_either_cache_keyword_gives_the_same_codes(tiny, monkeypatch, keyword):
    """transformers 5.24-5.39 accept the old name too: the fallback name is exercised on the locked version."""
    import transformers

    if keyword != compat.cache_keyword(tiny.model.decoder) and "5.23" in transformers.__version__:
        pytest.skip("transformers 5.23 knows only past_key_values")
    expected = _codes(tiny)
    used = []
    monkeypatch.setattr(compat, "cache_keyword", lambda decoder: used.append(keyword) or keyword)
    assert np.array_equal(_codes(tiny), expected)
    assert len(used) == 53  # once per decoder step of the one pass (both takes in it)



def test_without_the_preallocated_layer_passes_use_dynamic_cache(tiny, fresh_probes, monkeypatch):
    from transformers import DynamicCache

    expected = _codes(tiny)
    assert isinstance(compat.new_cache(tiny.model.decoder, 10).self_attention_cache.layers[0],
                      compat._layer_class())
    monkeypatch.setattr(compat, "_layer_class", lambda: None)
    assert isinstance(compat.new_cache(tiny.model.decoder, 10).self_attention_cache, DynamicCache)
    assert np.array_equal(_codes(tiny), expected)


def test_a_changed_cache_layer_interface_is_detected(fresh_probes, monkeypatch, caplog):
    import transformers

    class Changed(ABC):  # a release whose layers need another method
        @abstractmethod
        def update(self, key_states, value_states): ...

        @abstractmethod
        def get_mask_sizes(self, cache_position): ...

    monkeypatch.setattr(transformers, "CacheLayerMixin", Changed)
    with caplog.at_level(logging.INFO, logger="workbench"):
        assert compat._layer_class() is None
    assert "CacheLayerMixin interface changed" in caplog.text


def test_without_packed_ops_the_decoder_keeps_torch_kernels(fresh_probes, monkeypatch, caplog):
    reference = _codes(load_engine("tiny", kernels="torch"))

    def missing():
        raise AttributeError("_reorder_linear_weight")

    monkeypatch.setattr(compat, "_mkldnn_ops", missing)
    with caplog.at_level(logging.INFO, logger="workbench"):
        engine = load_engine("tiny", kernels="onednn-packed")
    assert engine.kernels == kernels.REFERENCE
    assert "packed oneDNN linear kernels unavailable" in caplog.text
    assert np.array_equal(_codes(engine), reference)


def test_packed_ops_that_compute_wrongly_are_refused(fresh_probes, monkeypatch):
    monkeypatch.setattr(compat, "_mkldnn_ops", lambda: (lambda weight, rows: weight,
                                                        lambda x, packed, bias: torch.zeros(x.shape[0], 8)))
    assert compat.packed_linear_ops() is None
