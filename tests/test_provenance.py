"""Sidecars, token files and reproduce."""

import json

import numpy as np
import pytest

from workbench.codec.tokens import read_tokens
from workbench.core.errors import ProvenanceError
from workbench.core.hashing import file_sha256
from workbench.core.params import GenerationParams
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import first_difference, reproduce
from workbench.store.sidecar import SCHEMA, read_sidecar


@pytest.fixture()
def batch(tmp_path, tiny):
    params = GenerationParams(duration_s=1.0)
    paths = [tmp_path / f"s{seed}.wav" for seed in (1, 2, 3)]
    return render_prompt(tiny, "lofi piano", params, [1, 2, 3], paths)


def test_sidecar_holds_everything(batch):
    record = read_sidecar(batch[0].sidecar)
    assert record["schema"] == SCHEMA == 1
    for key in ("seed", "prompt", "params", "model", "workbench_version", "versions", "device", "dtype", "sample_rate",
                "num_samples", "codes_sha256", "audio_sha256", "created", "wall_s", "draft", "render_key"):
        assert key in record
    assert record["versions"]["torch"] and record["versions"]["transformers"]
    assert record["model"]["name"] == "tiny" and len(record["model"]["weights_sha256"]) == 64
    assert record["params"] == GenerationParams(duration_s=1.0).to_dict()
    assert record["audio_sha256"] == file_sha256(batch[0].path)
    assert record["codes_sha256"] == batch[0].take.codes_sha256
    assert "/root" not in json.dumps(record) and "/home" not in json.dumps(record)
    tokens = read_tokens(batch[0].path.with_name("s1.codes.npz"))
    assert np.array_equal(tokens.codes, batch[0].take.codes) and tokens.num_samples == 32000


def test_reproduce_every_take_of_a_batch(batch, tiny):
    for item in batch:
        report = reproduce(item.sidecar, engine=tiny)
        assert report.identical, report.message
        assert report.message.startswith("identical codes") and report.warnings == []


@pytest.mark.parametrize("tamper", [
    lambda r: r.update(seed=r["seed"] + 100),
    lambda r: r["params"].update(temperature=0.7),
    lambda r: r["prompt"].update(text="heavy metal"),
])
def test_tampering_is_a_mismatch(batch, tiny, tamper):
    record = json.loads(batch[1].sidecar.read_text())
    tamper(record)
    batch[1].sidecar.write_text(json.dumps(record))
    report = reproduce(batch[1].sidecar, engine=tiny)
    assert not report.identical
    assert report.message.startswith("MISMATCH") and report.first_mismatch is not None
    frame, codebook = report.first_mismatch
    expected = read_tokens(batch[1].path.with_name("s2.codes.npz")).codes
    assert expected[codebook, frame] != report.take.codes[codebook, frame]
    assert np.array_equal(expected[:, :frame], report.take.codes[:, :frame])


def test_first_difference():
    a = np.zeros((4, 10), int)
    b = a.copy()
    assert first_difference(a, b) is None
    b[2, 7] = 1
    b[3, 5] = 1
    assert first_difference(a, b) == (5, 3)
    assert first_difference(a, b[:, :8]) == (5, 3)
    assert first_difference(a[:, :6], a) == (6, 0)


@pytest.mark.parametrize(("change", "needle"), [
    (lambda r: r.update(schema=2), "schema 2 is not supported"),
    (lambda r: r.update(seed="7"), "'seed' must be int"),
    (lambda r: r.update(params="fast"), "'params' must be dict"),
    (lambda r: r["params"].update(top_p=3), "top_p"),
    (lambda r: r["params"].update(bogus=1), "unknown generation parameter"),
    (lambda r: r.pop("codes_sha256"), "'codes_sha256'"),
    (lambda r: r.update(kind="something-else"), "not a workbench take sidecar"),
])
def test_readers_refuse_bad_sidecars(batch, change, needle):
    record = json.loads(batch[0].sidecar.read_text())
    change(record)
    batch[0].sidecar.write_text(json.dumps(record))
    with pytest.raises(ProvenanceError, match=needle):
        read_sidecar(batch[0].sidecar)


def test_unreadable_sidecars(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ProvenanceError, match="not a readable JSON"):
        read_sidecar(tmp_path / "x.json")
    with pytest.raises(ProvenanceError, match="no such sidecar"):
        read_sidecar(tmp_path / "missing.json")


def test_token_file_errors(tmp_path, batch):
    codes = batch[0].path.with_name("s1.codes.npz")
    data = codes.read_bytes()
    (tmp_path / "cut.codes.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ProvenanceError, match="cut.codes.npz"):
        read_tokens(tmp_path / "cut.codes.npz")
    (tmp_path / "text.codes.npz").write_text("hello")
    with pytest.raises(ProvenanceError, match="not a readable token file"):
        read_tokens(tmp_path / "text.codes.npz")
    with np.load(codes) as npz:
        meta = json.loads(str(npz["meta"]))
        arrays = {"codes": npz["codes"]}
    meta["schema"] = 9
    np.savez(tmp_path / "future.codes.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ProvenanceError, match="schema 9"):
        read_tokens(tmp_path / "future.codes.npz")
    meta["schema"] = 1
    arrays["codes"] = arrays["codes"].copy()
    arrays["codes"][0, 0] = (arrays["codes"][0, 0] + 1) % 2048
    np.savez(tmp_path / "altered.codes.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ProvenanceError, match="altered"):
        read_tokens(tmp_path / "altered.codes.npz")


def test_wav_and_flac_carry_their_origin(tmp_path, tiny):
    from workbench.core.audio import read_tags

    for name in ("t.wav", "u.flac"):
        [item] = render_prompt(tiny, "lofi piano", GenerationParams(duration_s=1.0), [5], [tmp_path / name])
        tags = read_tags(item.path)
        assert tags["title"] == "lofi piano" and "seed=5" in tags["comment"] and "model=tiny" in tags["comment"]
