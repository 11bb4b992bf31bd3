"""The bad-input matrix through the browser's handlers: each case is one gr.Error line and nothing written."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

gr = pytest.importorskip("gradio")

from workbench.engine.resident import EngineCache  # noqa: E402
from workbench.ui.app import build_ui  # noqa: E402

TAIL = (250, 1.0, "off")  # top-k, top-p, loudness


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny, tiny_melody):
    root = tmp_path_factory.mktemp("ui-inputs")
    (root / "prompts").mkdir()
    (root / "prompts" / "one.toml").write_text('[[prompt]]\nid = "a"\ntext = "pads, 60 BPM"\n')
    engines = {"tiny": tiny, "tiny-melody": tiny_melody}
    cache = EngineCache(loader=lambda name, **_: engines[name])
    return build_ui(model="tiny", out=root / "out", prompts=root / "prompts", cache=cache, preview_streaming=False)


def call(app, text="lofi piano", seed="1", *, duration=1.0, guidance=3.0, temperature=1.0, top_k=250, top_p=1.0,
         model="tiny", mode="none", melody=None, cont=None):
    return list(app.handlers.generate(text, seed, mode, melody, 0.0, None, cont, 0.5, True, model, "", duration,
                                      guidance, temperature, top_k, top_p, "off", {}, progress=lambda *a, **k: None))


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"text": ""}, "prompt is empty"),
    ({"text": "   \n "}, "prompt is empty"),
    ({"text": "x" * 2001}, "2001 characters"),
    ({"text": "lofi \x00 piano"}, "control"),
    ({"text": "bad \udcff text"}, "invalid"),
    ({"duration": 0.0}, "“Duration \\(s\\)” must be"),
    ({"duration": float("nan")}, "“Duration \\(s\\)” must be"),
    ({"duration": float("inf")}, "“Duration \\(s\\)” must be"),
    ({"duration": 301.0}, "“Duration \\(s\\)” must be"),
    ({"seed": "-1"}, "seed"),
    ({"seed": "1.5"}, "seed"),
    ({"seed": str(2**63)}, "seed"),
    ({"top_k": -1}, "“Top-k”"),
    ({"top_p": 1.5}, "“Top-p” must be in"),
    ({"temperature": 0.0}, "“Temperature” must be"),
    ({"temperature": -1.0}, "“Temperature” must be"),
    ({"model": "no-such-model"}, "unknown model"),
])
def test_bad_generate_inputs(app, kwargs, needle):
    with pytest.raises(gr.Error, match=needle) as caught:
        call(app, **kwargs)
    assert "\n" not in str(caught.value)
    assert not list(app.workbench.out.rglob("*.wav"))


def _drafts(folder):
    (folder / "empty.wav").write_bytes(b"")
    sf.write(folder / "silent.wav", np.zeros(64000, np.float32), 32000)
    (folder / "notes.wav").write_text("a text file renamed .wav\n" * 40)
    rng = np.random.default_rng(0)
    sf.write(folder / "ok.wav", rng.uniform(-.3, .3, 96000).astype(np.float32), 32000)
    (folder / "cut.wav").write_bytes((folder / "ok.wav").read_bytes()[:40])
    sf.write(folder / "short.wav", rng.uniform(-.3, .3, 8000).astype(np.float32), 32000)
    return {"empty.wav": "empty", "silent.wav": "silent", "notes.wav": "readable", "cut.wav": "readable",
            "short.wav": "too short"}


def test_bad_draft_uploads(app, tmp_path):
    for name, needle in _drafts(tmp_path).items():
        with pytest.raises(gr.Error, match=needle):
            call(app, mode="continuation", cont=str(tmp_path / name))
        with pytest.raises(gr.Error):
            call(app, mode="melody", melody=str(tmp_path / name), model="tiny-melody")
    assert not list(app.workbench.out.rglob("*.wav"))


def test_odd_rates_and_channels_are_converted_not_refused(app, tmp_path):
    rng = np.random.default_rng(1)
    for rate, channels in ((8000, 1), (96000, 8)):
        path = tmp_path / f"d{rate}.wav"
        sf.write(path, rng.uniform(-.3, .3, (rate * 2, channels)).astype(np.float32), rate)
        outputs = call(app, mode="continuation", cont=str(path), seed=str(rate))
        assert outputs[-1][5]["duration_s"] == 1.5  # 1 s of new audio after the 0.5 s prompt it keeps


@pytest.mark.parametrize("folder", ["../escape", "/etc", "a/../../b", "runs/%2e%2e"])
def test_batch_output_cannot_leave_the_output_folder(app, folder):
    with pytest.raises(gr.Error, match="sub-folder"):
        list(app.handlers.batch("one.toml", None, "1", folder, 4, "", "tiny", "", "off", {},
                                progress=lambda *a, **k: None))
