"""The CLI in this process on the run's shared engines (``cli``), and through its real entry point in a fresh
process where a process is the point (the entry point's own output, ``--debug``'s traceback)."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def frames_sha(path: Path) -> str:
    data, _ = sf.read(path, dtype="int16")
    return hashlib.sha256(data.tobytes()).hexdigest()


def test_generate_is_exact_and_repeatable(cli, tmp_path):
    for name, seed in (("a.wav", "3"), ("b.wav", "3"), ("c.wav", "4")):
        done = cli("generate", "lofi piano", "--model", "tiny", "--seed", seed, "--duration", "2", "-o", name)
        assert done.returncode == 0, done.stderr
    info = sf.info(tmp_path / "a.wav")
    assert (info.samplerate, info.frames, info.channels) == (32000, 64000, 1)
    assert frames_sha(tmp_path / "a.wav") == frames_sha(tmp_path / "b.wav")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert frames_sha(tmp_path / "c.wav") != frames_sha(tmp_path / "a.wav")
    sidecar = json.loads((tmp_path / "a.json").read_text())
    assert sidecar["seed"] == 3 and sidecar["num_samples"] == 64000 and sidecar["model"]["name"] == "tiny"
    assert sidecar["audio_sha256"] == hashlib.sha256((tmp_path / "a.wav").read_bytes()).hexdigest()
    assert (tmp_path / "a.codes.npz").is_file()
    assert "seed 3" in cli("generate", "lofi piano", "--model", "tiny", "--seed", "3", "--duration", "1",
                           "-o", "d.wav").stdout


def test_the_entry_point_in_a_fresh_process_writes_what_the_cli_writes_here(workbench_process, cli, tmp_path):
    """``python -m workbench`` in its own process: the same take, byte for byte, as the in-process CLI the other
    tests use; its report on stdout; a bad value one line on stderr; ``--debug`` the traceback instead."""
    done = workbench_process.run("generate", "lofi piano", "--model", "tiny", "--seed", "3", "--duration", "1",
                                 "-o", "fresh.wav")
    assert done.returncode == 0, done.stderr
    assert "wrote fresh.wav (1.00 s, 32000 Hz, seed 3" in done.stdout
    assert cli("generate", "lofi piano", "--model", "tiny", "--seed", "3", "--duration", "1", "-o", "here.wav"
               ).returncode == 0
    assert (tmp_path / "fresh.wav").read_bytes() == (tmp_path / "here.wav").read_bytes()
    fresh, here = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("fresh", "here"))
    assert fresh["codes_sha256"] == here["codes_sha256"] and fresh["kernels"] == here["kernels"]
    refused = workbench_process.run("generate", "", "--model", "tiny")
    assert refused.returncode == 1 and refused.stderr.splitlines() == [cli("generate", "", "--model", "tiny"
                                                                           ).stderr.strip()]
    debug = workbench_process.run("--debug", "generate", "", "--model", "tiny")
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "prompt is empty" in debug.stderr


def test_refuses_to_overwrite_without_force(cli, tmp_path):
    assert cli("generate", "x", "--model", "tiny", "--seed", "1", "--duration", "1", "-o", "a.wav").returncode == 0
    before = (tmp_path / "a.wav").read_bytes()
    again = cli("generate", "x", "--model", "tiny", "--seed", "2", "--duration", "1", "-o", "a.wav")
    assert again.returncode == 1 and "exists already" in again.stderr and "--force" in again.stderr
    assert (tmp_path / "a.wav").read_bytes() == before
    forced = cli("generate", "x", "--model", "tiny", "--seed", "2", "--duration", "1", "-o", "a.wav", "--force")
    assert forced.returncode == 0 and (tmp_path / "a.wav").read_bytes() != before


@pytest.mark.parametrize("env", [{"HF_HUB_OFFLINE": "1"}, {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}])
def test_default_model_offline_fails_fast_with_advice(cli, monkeypatch, connections, env):
    """Fast: refused before any model loads, after at most one connection attempt of at most 3 s."""
    import workbench.engine.load as engine_load

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(engine_load, "load_engine", lambda *a, **k: pytest.fail(f"a model was loaded: {a}"))
    done = cli("generate", "x", "--duration", "1")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "--model tiny" in lines[0]
    assert "Traceback" not in done.stderr
    offline = env["HF_HUB_OFFLINE"] == "1"
    assert len(connections) == (0 if offline else 1) and all(timeout <= 3 for _, timeout in connections)


@pytest.mark.parametrize(("args", "needle"), [
    (["generate", "", "--model", "tiny"], "prompt is empty"),
    (["generate", "   ", "--model", "tiny"], "prompt is empty"),
    (["generate", "x" * 2001, "--model", "tiny"], "2001 characters"),
    (["generate", "lofi \x1b[31m piano", "--model", "tiny"], "control"),
    (["generate", "x", "--model", "tiny", "--duration", "-1"], "duration_s"),
    (["generate", "x", "--model", "tiny", "--duration", "inf"], "duration_s"),
    (["generate", "x", "--model", "tiny", "--duration", "301"], "duration_s"),
    (["generate", "x", "--model", "tiny", "--seed", str(2**63)], "seed"),
    (["generate", "x", "--model", "tiny", "--top-k", "-1"], "top_k"),
    (["generate", "x", "--model", "tiny", "--top-p", "-0.5"], "top_p"),
    (["generate", "x", "--model", "tiny", "--temperature", "-1"], "temperature"),
    (["generate", "x", "--model", "tiny", "--duration", "0"], "duration_s"),
    (["generate", "x", "--model", "tiny", "--duration", "nan"], "duration_s"),
    (["generate", "x", "--model", "tiny", "--duration", "abc"], "--duration"),
    (["generate", "x", "--model", "tiny", "--seed", "-1"], "seed"),
    (["generate", "x", "--model", "tiny", "--seed", "1.5"], "seed"),
    (["generate", "x", "--model", "tiny", "--top-p", "1.5"], "top_p"),
    (["generate", "x", "--model", "tiny", "--temperature", "0"], "temperature"),
    (["generate", "x", "--model", "no-such-model"], "unknown model"),
    (["generate", "x", "--model", "tiny", "-o", "x.m4a"], ".m4a"),
    (["generate", "x", "--model", "tiny", "--format", "aac"], "--format"),
    (["generate", "x", "--model", "tiny", "--format", "mp3", "-o", "x.wav"], "--format mp3"),
    (["generate", "x", "--model", "tiny", "--format", "mp3", "--bit-depth", "24"], "--bit-depth"),
    (["generate", "x", "--model", "tiny", "--melody", "nope.wav"], "melody"),
])
def test_bad_input_is_one_line(cli, tmp_path, args, needle):
    done = cli(*args)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert needle in lines[0] and "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("*.wav"))


def test_version_and_models(cli):
    assert cli("--version").stdout.startswith("musicgen-workbench ")
    listing = cli("models").stdout
    for name in ("tiny", "tiny-melody", "small", "stereo-melody-large"):
        assert name in listing


def test_seeds_writes_a_contact_sheet_that_resolves(cli, tmp_path):
    done = cli("seeds", "lofi piano", "--model", "tiny", "--seeds", "1-3", "--duration", "1", "--dir", "sweep")
    assert done.returncode == 0, done.stderr
    sheet = (tmp_path / "sweep" / "index.html").read_text()
    sources = re.findall(r'(?:src)="([^"]+)"', sheet)
    assert len([s for s in sources if s.endswith(".wav")]) == 3 and len([s for s in sources if s.endswith(".png")]) == 3
    for source in sources:
        assert (tmp_path / "sweep" / source).is_file()
    for seed in (1, 2, 3):
        assert f"workbench reproduce s{seed}.json" in sheet
    # the seeds' codes equal single renders of the same seed
    single = cli("generate", "lofi piano", "--model", "tiny", "--seed", "2", "--duration", "1", "-o", "one.wav")
    assert single.returncode == 0
    side = json.loads((tmp_path / "sweep" / "s2.json").read_text())
    assert json.loads((tmp_path / "one.json").read_text())["codes_sha256"] == side["codes_sha256"]
    assert side["batch_size"] == 3
    data = np.load(tmp_path / "sweep" / "s2.codes.npz")
    assert data["codes"].shape == (4, 50)


def test_reproduce_exit_codes(cli, tmp_path):
    assert cli("generate", "lofi piano", "--model", "tiny", "--seed", "9", "--duration", "1", "-o", "t.wav"
               ).returncode == 0
    same = cli("reproduce", "t.json")
    assert same.returncode == 0 and "identical codes" in same.stdout
    record = json.loads((tmp_path / "t.json").read_text())
    record["seed"] = 10
    (tmp_path / "t.json").write_text(json.dumps(record))
    changed = cli("reproduce", "t.json")
    assert changed.returncode == 1 and "MISMATCH" in changed.stdout


def test_an_unexpected_error_is_one_line_that_names_it(monkeypatch, capsys):
    import workbench.models.catalog as catalog
    from workbench.cli.app import main

    def broken():
        raise RuntimeError("the table fell over\nsecond line")

    monkeypatch.setattr(catalog, "model_table", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["models"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unexpected RuntimeError: the table fell over second line (a bug: rerun with --debug for "
                   "the traceback and report it)"]
    with pytest.raises(RuntimeError, match="the table fell over"):  # --debug: the exception itself
        main(["--debug", "models"])


def test_no_arguments_prints_the_help(capsys):
    from workbench.cli.app import COMMANDS, main

    assert main([]) is None  # exit status 0
    out = capsys.readouterr().out
    assert all(name in out for name, _ in COMMANDS)
