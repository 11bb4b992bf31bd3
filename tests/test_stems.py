"""Stems of a take with Demucs' offline test model: four files beside the take with its exact shape, summing back to
it, each with a sidecar; deterministic, no overwrite without --force; a real model offline fails in one line without
touching the network."""

from __future__ import annotations

import hashlib
import socket

import numpy as np
import pytest

from workbench.core.audio import read_audio, resample, to_channels
from workbench.core.errors import OutputExistsError
from workbench.core.hashing import file_sha256
from workbench.core.params import GenerationParams
from workbench.store.history import History
from workbench.store.naming import sidecar_path_for, stem_path_for
from workbench.store.sidecar import read_sidecar
from workbench.store.takes import save_take

pytest.importorskip("demucs")

from workbench.analysis.separate import TEST_MODEL, is_local, load_demucs, separate  # noqa: E402
from workbench.render.stems import SUM_TOLERANCE, split_take  # noqa: E402
from workbench.store.stems import read_stem_sidecar  # noqa: E402

SOURCES = ["drums", "bass", "other", "vocals"]


@pytest.fixture(scope="module")
def take(tiny, tmp_path_factory):
    """A 2 s take of the tiny model, indexed in its output folder's history; returns its sidecar."""
    out = tmp_path_factory.mktemp("out")
    made = tiny.generate("lofi piano", GenerationParams(duration_s=2.0), [4])[0]
    save_take(made, out / "takes" / "s4.wav", history=History(out))
    return out / "takes" / "s4.json"


@pytest.fixture(scope="module")
def split(take):
    return split_take(take, model=TEST_MODEL)


def test_four_stems_beside_the_take_with_its_exact_shape_sum_back_to_it(take, split):
    audio, rate = read_audio(take.parent / "s4.wav")
    assert list(split.paths) == SOURCES and audio.shape == (1, 64000) and rate == 32000
    stems = []
    for source, path in split.paths.items():
        assert path == stem_path_for(take.parent / "s4.wav", source) == take.parent / f"s4.stem-{source}.wav"
        stem, stem_rate = read_audio(path)
        assert stem.shape == audio.shape and stem_rate == rate
        stems.append(stem.astype(np.float64))
    error = float(np.max(np.abs(np.sum(stems, axis=0) - audio)))
    assert error <= SUM_TOLERANCE and error == split.max_abs_error


def test_each_stem_has_a_sidecar_naming_the_take_and_the_model(take, split):
    for source, path in split.paths.items():
        record = read_stem_sidecar(sidecar_path_for(path))
        assert split.sidecars[source] == sidecar_path_for(path)
        assert record["source"] == source and record["sources"] == SOURCES
        assert record["parent"] == {"sidecar": "s4.json", "audio": "s4.wav",
                                    "audio_sha256": read_sidecar(take)["audio_sha256"]}
        assert record["model"]["name"] == TEST_MODEL and record["model"]["shifts"] == 0
        assert record["model"]["library"].startswith("demucs ") and record["model"]["sample_rate"] == 44100
        assert record["audio"]["sha256"] == file_sha256(path) and record["audio"]["num_samples"] == 64000
        assert record["sum"]["max_abs_error"] == split.max_abs_error
        assert record["sum"]["residual_db"] == round(split.residual_db, 2)
    assert History(take.parent.parent).rebuild() == (1, [])  # stem sidecars are not takes


def test_each_stem_is_demucs_own_source_plus_an_equal_share_of_its_residual(take, split):
    """What Demucs gave, brought back to the take's rate and channels; the stems differ from it by the same signal,
    a quarter of what its sources left out of the take (the residual the sidecars record)."""
    audio, rate = read_audio(take.parent / "s4.wav")
    sources, model_rate = separate(audio, rate, load_demucs(TEST_MODEL))
    raw = {name: to_channels(resample(s, model_rate, rate), 1)[:, :audio.shape[-1]] for name, s in sources.items()}
    shares = [read_audio(path)[0] - raw[name] for name, path in split.paths.items()]
    residual = audio - np.sum(list(raw.values()), axis=0)
    for share in shares:
        assert np.allclose(share, residual / 4, atol=1e-5)
    level = 20 * np.log10(np.sqrt(np.mean(residual.astype(np.float64) ** 2) / np.mean(audio.astype(np.float64) ** 2)))
    assert abs(level - split.residual_db) < 0.01


def _samples_sha256(paths: dict) -> dict[str, str]:
    """The hash of each stem's samples (a float WAV file's own hash changes with the time stamp libsndfile writes
    into its PEAK chunk)."""
    return {source: hashlib.sha256(read_audio(path)[0].tobytes()).hexdigest() for source, path in paths.items()}


def test_stems_are_deterministic_and_never_overwritten_without_force(take, split):
    before = _samples_sha256(split.paths)
    with pytest.raises(OutputExistsError, match=r"s4\.stem-drums\.wav exists already; pass --force"):
        split_take(take, model=TEST_MODEL)
    again = split_take(take.parent / "s4.wav", model=TEST_MODEL, force=True)  # the audio path works too
    assert _samples_sha256(again.paths) == before


def test_a_deleted_take_takes_its_stems_to_the_trash_and_back(take, split):
    from workbench.store.trash import Trash

    trash = Trash(History(take.parent.parent))
    item = trash.delete("takes/s4.wav")
    assert not any(path.exists() for path in [*split.paths.values(), *split.sidecars.values()])
    assert sorted(rel for rel in item.files if ".stem-" in rel) == sorted(
        f"takes/{path.name}" for path in [*split.paths.values(), *split.sidecars.values()])
    assert trash.restore(item.name) == item.take_id  # the take's own sidecar is indexed, not a stem's
    assert all(path.exists() for path in [*split.paths.values(), *split.sidecars.values()])


def test_the_stems_command(take, split, capsys):
    from workbench.cli.app import main

    main(["stems", str(take), "--model", TEST_MODEL, "--force"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[:4] == [f"wrote {path}" for path in split.paths.values()]
    assert lines[4].startswith(f"{TEST_MODEL}: the separator's own stems missed the take by ")
    assert lines[4].endswith(f"the written stems sum back to the take within {split.max_abs_error:.1e} per sample")


def test_a_real_model_offline_fails_in_one_line_without_touching_the_network(take, tmp_path, monkeypatch, capsys):
    import huggingface_hub.constants

    from workbench.cli.app import main

    def no_network(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # empty caches: the model is not on this machine
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(SystemExit) as exit_info:
        main(["stems", str(take), "--model", "htdemucs", "--force"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: Demucs model 'htdemucs' could not be loaded (it is not on this machine and HF_HUB_OFFLINE=1 forbids "
        "downloading it): run once online to cache it; offline only 'demucs_unittest' (random weights, for tests) "
        "is available"]


def test_a_cached_model_counts_as_local(tmp_path, monkeypatch):
    """The two caches Demucs 4.1 loads from: the Hugging Face Hub's (bag yaml + safetensors) and torch's (the
    legacy site's checkpoints); a model with a file missing is not local."""
    import huggingface_hub.constants

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert is_local(TEST_MODEL) and not is_local("htdemucs") and not is_local("mdx_extra")
    snapshot = tmp_path / "hub" / "models--adefossez--HTDemucs" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc")
    (snapshot / "htdemucs.yaml").write_text("models: ['955717e8']\n")
    assert not is_local("htdemucs")  # the weights are missing
    (snapshot / "955717e8.safetensors").write_bytes(b"")
    assert is_local("htdemucs")
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "955717e8-8726e21a.th").write_bytes(b"")
    assert is_local("955717e8")  # a single model by signature, from the legacy site's cache
