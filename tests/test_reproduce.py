"""``reproduce`` re-renders with what the take recorded (model, device, dtype, kernels), or says what differs."""

from __future__ import annotations

import json

import pytest

from workbench.core.errors import ProvenanceError
from workbench.core.params import GenerationParams
from workbench.engine.load import load_engine
from workbench.render.reproduce import reproduce
from workbench.store.takes import save_take


@pytest.fixture()
def sidecar(tmp_path, tiny):
    [take] = tiny.generate("lofi piano", GenerationParams(duration_s=0.5), [5])
    save_take(take, tmp_path / "a.wav", weights_sha256=tiny.weights_sha256())
    return tmp_path / "a.json"


def _edit(path, **fields):
    record = json.loads(path.read_text())
    record.update(fields)
    path.write_text(json.dumps(record))


def test_a_device_this_machine_lacks_is_named_with_the_override(sidecar, monkeypatch):
    import workbench.render.reproduce as module

    _edit(sidecar, device="cuda:0", dtype="float16")
    monkeypatch.setattr(module, "device_available", lambda device: device == "cpu")
    with pytest.raises(ProvenanceError, match=r"rendered on cuda:0 in float16.*--device cpu --dtype float32"):
        reproduce(sidecar)
    report = reproduce(sidecar, device="cpu", dtype="float32")  # overridden: runs, and says what differs
    assert report.identical  # (the take was in fact made on this CPU)
    assert any("recorded on cuda:0, re-rendered on cpu" in w for w in report.warnings)
    assert any("recorded in float16, re-rendered in float32" in w for w in report.warnings)


def test_an_engine_that_is_not_the_recorded_one_is_not_used(sidecar, tiny):
    assert tiny.kernels == "onednn-packed"  # conftest's tiny; the take recorded these kernels
    plain = load_engine("tiny", kernels="torch")
    report = reproduce(sidecar, engine=plain)
    assert report.identical and report.take.kernels == "onednn-packed" and not report.warnings
    assert reproduce(sidecar, engine=tiny).take.kernels == "onednn-packed"


def test_a_local_model_folder_is_found_where_it_was_or_named(tmp_path, tiny, monkeypatch):
    folder = tmp_path / "models" / "my-tiny"
    tiny.model.save_pretrained(folder)
    tiny.processor.save_pretrained(folder)
    monkeypatch.chdir(tmp_path)
    local = load_engine("models/my-tiny")
    [take] = local.generate("lofi piano", GenerationParams(duration_s=0.5), [2])
    save_take(take, tmp_path / "out" / "b.wav", weights_sha256=local.weights_sha256())
    record = json.loads((tmp_path / "out" / "b.json").read_text())
    assert record["model"]["name"] == "models/my-tiny" and record["model"]["kind"] == "local"
    assert reproduce(tmp_path / "out" / "b.json").identical  # from where it was made
    monkeypatch.chdir(tmp_path / "out")
    with pytest.raises(ProvenanceError, match="local model folder 'models/my-tiny'.*pass --model PATH"):
        reproduce("b.json")
    assert reproduce("b.json", model=str(folder)).identical


def test_the_first_mismatch_is_timed_at_the_models_frame_rate(sidecar):
    record = json.loads(sidecar.read_text())
    record["seed"] = 6  # another seed: other codes
    sidecar.write_text(json.dumps(record))
    report = reproduce(sidecar)
    assert not report.identical and report.frame_rate == 50
    assert "at 50 Hz" in report.message and "MISMATCH" in report.message
