import pytest

from workbench.core.errors import ModelNotFoundError
from workbench.models.registry import BUILTIN, MODELS, resolve


def test_short_names_map_to_hub_ids():
    assert resolve("small").source == "facebook/musicgen-small"
    assert resolve("stereo-melody-large").source == "facebook/musicgen-stereo-melody-large"
    assert set(MODELS) >= {"small", "medium", "large", "melody", "melody-large", "stereo-small", "stereo-medium",
                           "stereo-large", "stereo-melody", "stereo-melody-large"}
    for name in ("tiny", "tiny-melody"):
        assert resolve(name).kind == "builtin" and name in BUILTIN


def test_hub_ids_and_unknown_names():
    ref = resolve("someone/musicgen-finetune")
    assert (ref.kind, ref.source) == ("hub", "someone/musicgen-finetune")
    for bad in ("nope", "", "   ", "a/b/c", "./missing-folder"):
        with pytest.raises(ModelNotFoundError) as caught:
            resolve(bad)
        assert "tiny" in str(caught.value)


def test_jasco_names_say_why_they_cannot_load():
    for name in ("jasco-chords-drums", "facebook/jasco-chords-drums-400M"):
        with pytest.raises(ModelNotFoundError, match="JASCO models are not supported: .* melody model \\(--chords"):
            resolve(name)


def test_local_folder_saved_with_save_pretrained(tmp_path, tiny, short):
    from workbench.engine.load import load_engine

    folder = tmp_path / "my-model"
    tiny.model.save_pretrained(folder)
    tiny.processor.save_pretrained(folder)
    local = load_engine(str(folder))
    assert local.info.kind == "local"
    a = local.generate("lofi piano", short, seeds=[1])[0]
    b = tiny.generate("lofi piano", short, seeds=[1])[0]
    assert a.codes_sha256 == b.codes_sha256
    assert local.weights_sha256() and len(local.weights_sha256()) == 64


def test_local_folder_missing_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError) as caught:
        resolve(str(tmp_path))
    assert "processor_config.json" in str(caught.value) and "weights" in str(caught.value)


def test_uncached_hub_model_fails_fast_offline(monkeypatch, connections):
    """Fast: offline, no connection is even tried."""
    from workbench.engine.load import load_engine

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError) as caught:
        load_engine("someone/not-cached-anywhere")
    assert connections == []
    assert "--model tiny" in str(caught.value) and "HF_HUB_OFFLINE" in str(caught.value)


def test_unreachable_hub_fails_fast(monkeypatch, connections):
    """Fast: one connection attempt, bounded to 3 s, then the error (no retries, no download attempt)."""
    from workbench.engine.load import load_engine

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(ModelNotFoundError, match="cannot be reached"):
        load_engine("medium")
    assert connections == [(("127.0.0.1", 9), 3.0)]


def test_loading_builtins_leaves_the_global_rng_alone():
    import torch

    from workbench.engine.load import load_engine

    state = torch.get_rng_state()
    load_engine("tiny")
    assert torch.equal(state, torch.get_rng_state())
