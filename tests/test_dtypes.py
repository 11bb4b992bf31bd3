"""The dtype policy (float32 by default on every device; the measured agreement of the others on CUDA, printed when
chosen) and loading where the model runs (Hub and folder weights in their dtype onto their device; CPU-only built-ins
on the CPU of a GPU machine). No GPU is used: where CUDA matters, its check is mocked."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from workbench.core.errors import ParamsError
from workbench.models import dtypes, hub
from workbench.models.dtypes import CUDA_AGREEMENT, agreement_note, default_dtype, torch_dtype

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "cpu", "mps"])
def test_the_default_dtype_is_float32_on_every_device(device):
    assert default_dtype(torch.device(device)) == torch_dtype(None, torch.device(device)) == torch.float32


def test_dtype_names_and_an_unknown_one():
    cpu = torch.device("cpu")
    assert [torch_dtype(n, cpu) for n in ("fp16", "bfloat16", "fp32")] == [torch.float16, torch.bfloat16, torch.float32]
    assert torch_dtype(torch.bfloat16, cpu) == torch.bfloat16
    with pytest.raises(ParamsError, match="dtype must be one of float32, .* got 'half'"):
        torch_dtype("half", cpu)


def test_on_a_machine_with_cuda_the_default_is_float32_and_offered_first(monkeypatch):
    from workbench.engine.load import dtype_choices
    from workbench.models.load import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda") and torch_dtype(None, pick_device()) == torch.float32
    assert dtype_choices() == dtype_choices("cuda") == ["float32", "float16", "bfloat16"]


@pytest.mark.parametrize(("device", "dtype", "said"), [
    ("cuda", torch.float16, True), ("cuda:0", torch.bfloat16, True), ("cuda", torch.float32, False),
    ("cpu", torch.bfloat16, False), ("cpu", torch.float32, False), ("mps", torch.float16, False)])
def test_only_a_non_default_dtype_on_cuda_gets_a_line(device, dtype, said):
    note = agreement_note(device, dtype)
    assert (note is not None) == said
    if said:
        name = str(dtype).removeprefix("torch.")
        assert note.startswith(f"{name} on CUDA: ") and "did not repeat in any 10 s row" in note
        assert "\n" not in note and dtypes.CUDA_RESULTS in note


def test_the_cuda_lines_say_what_the_results_file_measured():
    result = json.loads((ROOT / dtypes.CUDA_RESULTS).read_text())
    assert result["seconds"] == 10.0 and result["model"] == "random-small" and "H200" in result["machine"]["gpu"]
    for dtype, note in CUDA_AGREEMENT.items():
        name = str(dtype).removeprefix("torch.")
        rows = [row for row in result["rows"] if row["dtype"] == name]
        assert sorted(row["batch"] for row in rows) == [1, 4, 8] and "batches 1, 4 and 8" in note
        # "did not repeat in any row, run to run or alone vs in a batch"
        assert not any(row["same_codes_every_repeat"] or row["same_codes_alone_and_in_batch"] for row in rows)
    assert "float32" not in {row["dtype"] for row in result["rows"]}  # the default's line would need its own rows


@pytest.mark.parametrize(("dtype", "printed"), [(torch.float16, True), (torch.float32, False)])
def test_the_cli_prints_the_line_when_a_non_default_dtype_loads_on_cuda(monkeypatch, capsys, dtype, printed):
    import workbench.engine.load as engine_load
    from workbench.cli.options import GenOpts, load

    asked = {}

    def fake_load_engine(name, **options):  # the device check mocked: the engine says it is on CUDA
        asked.update(options, name=name)
        return SimpleNamespace(device=torch.device("cuda", 0), dtype=dtype)

    monkeypatch.setattr(engine_load, "load_engine", fake_load_engine)
    name = str(dtype).removeprefix("torch.")
    load(GenOpts(model="tiny", device="cuda", dtype=name))
    err = capsys.readouterr().err
    assert asked == {"name": "tiny", "device": "cuda", "dtype": name, "low_memory": False}
    if printed:
        assert err.count("\n") == 1 and err.startswith("note: --dtype float16 on CUDA: ")
        assert "did not repeat in any 10 s row" in err
    else:
        assert err == ""


def test_the_ui_says_the_line_beside_the_model_in_memory(tmp_path):
    from workbench.ui.settings import model_status

    def app(dtype):
        cache = SimpleNamespace(loaded="tiny", peek=lambda: SimpleNamespace(device=torch.device("cuda", 0),
                                                                            dtype=dtype))
        return SimpleNamespace(cache=cache)

    half = model_status(app(torch.bfloat16))
    assert half.startswith("Model in memory: **tiny** (cuda:0, bfloat16)<br>⚠ bfloat16 on CUDA: ")
    assert model_status(app(torch.float32)) == "Model in memory: **tiny** (cuda:0, float32)"


def test_placement_loads_onto_the_device_in_the_dtype_or_on_the_host_without_accelerate(monkeypatch):
    import transformers.utils

    cuda = torch.device("cuda")
    assert hub.placement(cuda, torch.float32) == {"dtype": torch.float32, "device_map": {"": cuda}}
    assert hub.placement(None, None) == {"dtype": "auto"}
    monkeypatch.setattr(transformers.utils, "is_accelerate_available", lambda: False)
    assert hub.placement(cuda, torch.bfloat16) == {"dtype": torch.bfloat16}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, engines):
    """The built-in tiny saved as a local folder (float32 weights)."""
    tiny = engines.load("tiny", device="cpu")
    path = tmp_path_factory.mktemp("models") / "tiny-folder"
    tiny.model.save_pretrained(path)
    tiny.processor.save_pretrained(path)
    return path


@pytest.mark.parametrize("accelerate", [True, False])
def test_a_folder_loads_in_the_asked_dtype_with_the_same_weights(folder, monkeypatch, accelerate):
    import transformers.utils

    from workbench.models.builtin import build_builtin
    from workbench.models.registry import resolve

    monkeypatch.setattr(transformers.utils, "is_accelerate_available", lambda: accelerate)
    model, _, _ = hub.load_pretrained(resolve(str(folder)), device=torch.device("cpu"), dtype=torch.bfloat16)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}  # as loaded: no float32 copy converted after
    reference = build_builtin("tiny")[0].to(torch.bfloat16).state_dict()
    loaded = model.state_dict()
    assert loaded.keys() == reference.keys() and all(torch.equal(loaded[k], reference[k]) for k in reference)


def test_tiny_style_runs_on_the_cpu_of_a_gpu_machine_unless_asked_elsewhere(monkeypatch):
    pytest.importorskip("audiocraft")
    from workbench.engine.load import load_engine

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU machine, as the device check sees it
    with pytest.raises(ParamsError, match="^tiny-style runs on the CPU only: use --device cpu or leave --device out$"):
        load_engine("tiny-style", device="cuda")
    engine = load_engine("tiny-style")
    assert engine.device == torch.device("cpu") and engine.dtype == torch.float32
