"""bfloat16 on the CPU: offered where the CPU has a fast path (AMX, AVX512-BF16), refused in one line elsewhere;
a bfloat16 take is the same alone and in a batch, on either kernels, records its dtype and reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.core.errors import ParamsError
from workbench.core.params import GenerationParams
from workbench.engine import compat, kernels
from workbench.engine.load import check_dtype, dtype_choices, load_engine

PARAMS = GenerationParams(duration_s=1.5)
NO_BF16 = compat.CpuInfo("Test CPU without BF16", frozenset({"sse2", "avx2", "avx512f"}))


@pytest.fixture(scope="module")
def bf16_cpu():
    """The probe answers yes on any machine (the tests assert exactness on this machine, not speed)."""
    with pytest.MonkeyPatch.context() as patch:
        if compat.bf16_fast_path() is None:
            patch.setattr(compat, "bf16_fast_path", lambda info=None: "AVX512-BF16")
        yield


@pytest.fixture(scope="module")
def bf16_engines(bf16_cpu):
    return {kind: load_engine("tiny", device="cpu", dtype="bfloat16", kernels=kind) for kind in kernels.KINDS}


def _codes(takes):
    return np.stack([take.codes for take in takes])


def test_a_bf16_take_is_the_same_alone_and_in_a_batch_on_batch_independent_kernels(bf16_engines):
    """On the packed kernels (what ``auto`` picks unless PyTorch's own pass the batch-independence probe) and on
    PyTorch's own where they pass it here."""
    assert kernels.rows_independent(bf16_engines[kernels.PACKED].model.decoder)
    for kind, engine in bf16_engines.items():
        assert engine.kernels == kind and str(engine.dtype) == "torch.bfloat16"
        if not kernels.rows_independent(engine.model.decoder):
            continue
        batch = engine.generate(["lofi piano", "dark techno", "lofi piano"], PARAMS, [1, 2, 3])
        alone = [engine.generate(take.text, PARAMS, [take.seed])[0] for take in batch]
        assert np.array_equal(_codes(batch), _codes(alone))
        assert all(take.dtype == "bfloat16" and take.kernels == kind for take in batch)


def test_a_bf16_take_is_not_the_float32_take(bf16_engines, tiny):
    bf16, fp32 = _codes(bf16_engines[kernels.PACKED].generate("lofi piano", PARAMS, [4])), \
        _codes(tiny.generate("lofi piano", PARAMS, [4]))
    assert bf16.shape == fp32.shape and not np.array_equal(bf16, fp32)


def test_a_bf16_take_records_its_dtype_and_reproduces(bf16_engines, tmp_path):
    from workbench.render.reproduce import reproduce
    from workbench.store.takes import save_take

    engine = bf16_engines[kernels.PACKED]
    [take] = engine.generate("lofi piano", GenerationParams(duration_s=1), [5])
    save_take(take, tmp_path / "a.wav", weights_sha256=engine.weights_sha256())
    record = json.loads((tmp_path / "a.json").read_text())
    assert record["dtype"] == "bfloat16" and record["kernels"] == kernels.PACKED
    report = reproduce(tmp_path / "a.json")
    assert report.identical and report.take.dtype == "bfloat16" and not report.warnings


def test_bf16_is_refused_in_one_line_on_a_cpu_without_a_fast_path(monkeypatch):
    monkeypatch.setattr(compat, "cpu_info", lambda: NO_BF16)
    assert compat.bf16_fast_path() is None and dtype_choices("cpu") == ["float32"]
    message = r"dtype bfloat16 on the CPU needs AMX or AVX512-BF16, which this CPU \(Test CPU without BF16\) lacks"
    with pytest.raises(ParamsError, match=message):
        load_engine("tiny", device="cpu", dtype="bfloat16")
    check_dtype("cpu", "float32")  # float32 is always there


def test_the_cli_refuses_bf16_in_one_line(monkeypatch, tmp_path, capsys):
    from workbench.cli.app import main

    monkeypatch.setattr(compat, "cpu_info", lambda: NO_BF16)
    with pytest.raises(SystemExit) as done:
        main(["generate", "x", "--model", "tiny", "--device", "cpu", "--dtype", "bfloat16", "--duration", "1",
              "--seed", "1", "-o", str(tmp_path / "a.wav")])
    error = capsys.readouterr().err.strip()
    assert done.value.code == 1 and len(error.splitlines()) == 1 and "use float32" in error
    assert not (tmp_path / "a.wav").exists()


@pytest.mark.parametrize(("flags", "path"), [({"amx_bf16", "avx512_bf16"}, "AMX"), ({"avx512_bf16"}, "AVX512-BF16"),
                                             ({"avx2"}, None)])
def test_the_fast_path_follows_the_cpu_flags(monkeypatch, flags, path):
    monkeypatch.setattr(compat, "_onednn_bf16", lambda: True)
    assert compat.bf16_fast_path(compat.CpuInfo("x", frozenset(flags))) == path
    monkeypatch.setattr(compat, "_onednn_bf16", lambda: False)  # oneDNN without bfloat16: no fast path at all
    assert compat.bf16_fast_path(compat.CpuInfo("x", frozenset(flags))) is None


def test_cpu_flags_come_from_proc_cpuinfo_where_torch_cannot_say(monkeypatch):
    text = "processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu avx2 amx_bf16 avx512_bf16\n\nprocessor\t: 1\n"
    assert compat.parse_cpuinfo(text) == compat.CpuInfo("Some Xeon", frozenset({"fpu", "avx2", "amx_bf16",
                                                                                  "avx512_bf16"}))
    assert compat.parse_cpuinfo("Features\t: fp asimd bf16\nCPU part\t: 0xd40\n").flags == {"fp", "asimd", "bf16"}
    monkeypatch.delattr("torch.cpu.get_capabilities", raising=False)
    proc = Path("/proc/cpuinfo")
    if proc.is_file():
        assert compat.cpu_info() == compat.parse_cpuinfo(proc.read_text())
    else:
        assert compat.cpu_info().flags == frozenset()


def test_render_generate_and_seeds_pass_dtype(bf16_cpu, tmp_path, monkeypatch):
    from workbench.cli.app import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib.toml").write_text('[[prompt]]\nid = "one"\ntext = "lofi piano"\n')
    commands = {"render": ["render", "lib.toml", "--seeds", "1", "--out", "r"],
                "generate": ["generate", "lofi piano", "--seed", "1", "-o", "g.wav"],
                "seeds": ["seeds", "lofi piano", "--seeds", "1-2", "--dir", "s"]}
    for name, args in commands.items():
        try:
            main([*args, "--model", "tiny", "--device", "cpu", "--dtype", "bfloat16", "--duration", "0.5"])
        except SystemExit as done:
            assert not done.code, name
    sidecars = [*(tmp_path / "r").rglob("s1.json"), tmp_path / "g.json", *(tmp_path / "s").glob("s*.json")]
    assert len(sidecars) == 4
    assert {json.loads(path.read_text())["dtype"] for path in sidecars} == {"bfloat16"}
