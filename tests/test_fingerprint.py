"""Built-in models' weight fingerprints: the bytes of every tensor, remembered on disk under a sampled key."""

from __future__ import annotations

import hashlib

import pytest
import torch

from workbench.models import fingerprint
from workbench.models.load import load_model


class Weights(torch.nn.Module):
    """A module with the given tensors as buffers (what ``state_dict`` returns)."""

    def __init__(self, **tensors: torch.Tensor) -> None:
        super().__init__()
        for name, tensor in tensors.items():
            self.register_buffer(name, tensor)


class Info:
    kind, name = "builtin", "test-weights"


def test_the_fingerprint_is_every_tensor_as_float32_bytes():
    model = load_model("tiny").model
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    assert fingerprint.tensors_sha256(model) == digest.hexdigest()


def test_a_builtin_fingerprint_is_remembered_and_a_changed_weight_is_not_mistaken(monkeypatch):
    model = Weights(a=torch.arange(1000, dtype=torch.float32), b=torch.ones(3, 5))
    first = fingerprint.weights_fingerprint(model, Info())
    assert first == fingerprint.tensors_sha256(model)
    monkeypatch.setattr(fingerprint, "tensors_sha256", lambda model: pytest.fail("hashed again"))
    assert fingerprint.weights_fingerprint(model, Info()) == first  # remembered: no second pass over the bytes
    monkeypatch.undo()
    model.a[999] = -1.0  # the last value is always sampled
    assert fingerprint.weights_fingerprint(model, Info()) != first


@pytest.mark.parametrize("size", [0, 1, 2, 255, 256, 257, 2**24 + 3])
def test_the_sampled_key_takes_exact_positions_at_any_size(size):
    values = torch.arange(size, dtype=torch.float32) if size < 2**24 else torch.zeros(size)
    key = fingerprint.sample_key(Weights(a=values), Info())
    if size:
        values[-1] = 7.0  # float32 indices would round past the end of 2**24 + 3 values
        assert fingerprint.sample_key(Weights(a=values), Info()) != key
