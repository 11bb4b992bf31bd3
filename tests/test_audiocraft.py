"""The audiocraft backend on its built-in test models (``tiny-magnet``, ``tiny-style``: audiocraft's debug parts, random
weights) and MultiBand Diffusion (``tiny-mbd``) on ``tiny`` takes, installed the documented way (requirements-nodeps.txt
+ the 'audiocraft' extra)."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest
import torch

from workbench.core.conditions import Conditions, ContinuationInput
from workbench.core.errors import ModelCapabilityError, ModelNotFoundError, ParamsError
from workbench.core.params import GenerationParams

HALF = GenerationParams(duration_s=0.5)


@pytest.fixture(scope="module")
def magnet(engines):
    return engines.load("tiny-magnet", device="cpu")


def test_takes_have_exact_shapes_and_record_the_backend(magnet):
    [take] = magnet.generate("lofi beat", HALF, [3])
    assert take.audio.shape == (1, 16000) and take.audio.dtype == np.float32
    assert take.codes.shape == (4, 13)  # ceil(0.5 s * 25 Hz), 4 codebooks of 400
    assert take.codes.min() >= 0 and take.codes.max() < 400
    assert (take.model.name, take.model.kind, take.model.architecture) == ("tiny-magnet", "builtin", "MAGNeT")
    assert take.model.max_window_s == pytest.approx(0.96)  # 25 frames, trimmed to whole 3-frame spans
    assert np.abs(take.audio).max() > 0


def test_seeds_side_by_side_equal_the_same_seeds_alone_and_leave_the_process_rng_alone(magnet):
    torch_state, python_state, numpy_state = torch.random.get_rng_state(), random.getstate(), np.random.get_state()
    batch = magnet.generate("lofi beat", HALF, [1, 2, 3])
    assert torch.equal(torch.random.get_rng_state(), torch_state) and random.getstate() == python_state
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    alone = magnet.generate("lofi beat", HALF, [2])[0]
    assert alone.codes_sha256 == batch[1].codes_sha256
    assert np.array_equal(alone.audio, batch[1].audio)
    assert len({take.codes_sha256 for take in batch}) == 3
    other_text = magnet.generate("cinematic strings", HALF, [2])[0]
    assert other_text.codes_sha256 != alone.codes_sha256


def test_a_rendered_take_reproduces_identically(magnet, tmp_path):
    from workbench.render.prompt import render_seeds
    from workbench.render.reproduce import reproduce

    rendered, index = render_seeds(magnet, "lofi beat", HALF, [5, 6], tmp_path)
    assert index.is_file() and all(item.path.is_file() for item in rendered)
    for item in rendered:
        assert item.record["model"]["name"] == "tiny-magnet"
        report = reproduce(item.sidecar, engine=magnet)
        assert report.identical, report.message
        assert report.warnings == []
    fresh = reproduce(rendered[0].sidecar)  # loads tiny-magnet anew: the same weights in every load
    assert fresh.identical, fresh.message


def test_progress_reaches_the_end_and_stop_cancels_with_the_rng_restored(magnet, style):
    from workbench.core.errors import GenerationCancelled

    for engine, params in ((magnet, HALF), (style, GenerationParams(duration_s=1.0))):
        seen = []
        engine.generate("x", params, [1, 2], progress=lambda done, total, seen=seen: seen.append((done, total)))
        assert seen == sorted(seen) and seen[-1][0] == seen[-1][1] and len({total for _, total in seen}) == 1
        state = torch.random.get_rng_state()
        with pytest.raises(GenerationCancelled):
            engine.generate("x", params, [1], should_stop=lambda: True)
        assert torch.equal(torch.random.get_rng_state(), state)
        assert engine.generate("x", params, [2])[0].codes_sha256 == engine.generate("x", params, [2])[0].codes_sha256


def test_what_magnet_cannot_take_is_a_one_line_error(magnet):
    with pytest.raises(ParamsError, match=r"at most 0.96 s"):
        magnet.generate("x", GenerationParams(duration_s=2.0), [1])
    with pytest.raises(ModelCapabilityError, match="cannot take a melody"):
        magnet.generate("x", HALF, [1], melody=object())
    with pytest.raises(ModelCapabilityError, match="cannot take a continuation"):
        magnet.generate("x", HALF, [1], prompt_codes=np.zeros((4, 5), dtype=np.int64))
    with pytest.raises(ModelCapabilityError, match="cannot take text segments"):
        magnet.generate("x", HALF, [1], segments=[(0.0, "a"), (0.25, "b")])
    with pytest.raises(ModelCapabilityError, match="takes no audio draft"):
        magnet.encode(np.zeros((1, 3200), dtype=np.float32))
    from workbench.drafts.prepare import prepare_draft

    with pytest.raises(ModelCapabilityError, match="following chords needs a melody model .* 'tiny-magnet' cannot"):
        prepare_draft(magnet, chords="Am F C G", bpm=100, duration_s=0.5)


def test_cli_renders_and_reproduces_magnet_and_refuses_half_precision_in_one_line(cli, tmp_path):
    done = cli("generate", "lofi beat", "--model", "tiny-magnet", "--duration", "0.5", "--seed", "4", "-o", "a.wav")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.wav").is_file() and (tmp_path / "a.json").is_file()
    again = cli("reproduce", "a.json")
    assert again.returncode == 0 and "identical codes" in again.stdout, again.stdout + again.stderr
    refused = cli("generate", "x", "--model", "tiny-magnet", "--duration", "0.5", "--dtype", "float16", "-o", "b.wav")
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "float32" in refused.stderr and not (tmp_path / "b.wav").exists()


def test_codec_tools_say_magnet_is_not_a_musicgen_model():
    from workbench.models.load import load_model

    with pytest.raises(ModelNotFoundError, match="audiocraft model"):
        load_model("tiny-magnet")


def test_without_audiocraft_the_error_says_how_to_install(monkeypatch):
    from workbench.engine.load import load_engine

    monkeypatch.setitem(sys.modules, "audiocraft.models", None)  # import audiocraft.models -> ImportError
    with pytest.raises(ModelNotFoundError) as caught:
        load_engine("tiny-magnet")
    message = str(caught.value)
    assert "pip install -c constraints.txt -e '.[audiocraft]'" in message and "requirements-nodeps.txt" in message
    assert "\n" not in message


def test_the_ui_renders_magnet_and_style_and_hides_the_inputs_a_model_cannot_take(magnet, style, tmp_path):
    pytest.importorskip("gradio")
    from workbench.engine.resident import EngineCache
    from workbench.ui.app import build_ui
    from workbench.ui.context import inputs_shown
    from workbench.ui.settings import model_choices, model_facts

    labels = dict((name, label) for label, name in model_choices())
    assert labels["tiny-magnet"] == "tiny-magnet  ·  ✓ offline"  # what runs here now
    assert model_facts("tiny-magnet", "") == "**tiny-magnet** takes text · ready offline"
    assert model_facts("style", "").startswith("**style** takes text, style · ")
    assert model_facts("tiny-melody", "").startswith("**tiny-melody** takes text, melody, chords, continuation, "
                                                     "segments")
    assert inputs_shown("tiny-magnet", "") == (["none"], False)
    assert inputs_shown("tiny-style", "") == (["none", "style"], False)
    assert inputs_shown("tiny", "") == (["none", "continuation"], True)
    every = (["none", "melody", "chords", "continuation"], True)
    assert inputs_shown("tiny-melody", "") == every and inputs_shown("tiny-magnet", "/some/folder") == every
    (tmp_path / "prompts").mkdir()
    engines = {"tiny-magnet": magnet, "tiny-style": style}
    demo = build_ui(model="tiny-magnet", out=tmp_path / "out", prompts=tmp_path / "prompts",
                    cache=EngineCache(loader=lambda name, **_: engines[name]), preview_streaming=False)

    def render(model, mode="none", clip=None, text="lofi beat"):
        sampling = (model, "", 0.5, 3.0, 1.0, 250, 1.0, "off")
        outputs = list(demo.handlers.generate(text, "9", mode, None, 0.0, None, None, 0.5, True, *sampling, {},
                                              style=clip, progress=lambda *a, **k: None))
        return outputs[-1][5]  # the take's facts

    facts = render("tiny-magnet")
    assert facts["model"] == "tiny-magnet"
    assert facts["codes_sha256"] == magnet.generate("lofi beat", HALF, [9])[0].codes_sha256
    clip = _clip(tmp_path / "ref.wav")
    facts = render("tiny-style", "style", str(clip), text="lofi style")
    sidecar = __import__("json").loads((tmp_path / "out" / facts["sidecar"]).read_text())
    kept = (tmp_path / "out" / facts["sidecar"]).parent / sidecar["draft"]["style"]["file"]
    assert kept.is_file() and kept.read_bytes() == clip.read_bytes()  # the upload is kept beside the take
    from workbench.drafts.prepare import prepare_draft

    expected = style.generate("lofi style", HALF, [9], **prepare_draft(style, style=clip).generate_kwargs())[0]
    assert facts["codes_sha256"] == expected.codes_sha256


def test_mbd_decodes_a_musicgen_take_from_the_same_codes_and_reproduce_decodes_it_again(tiny, tmp_path):
    import json

    from workbench.render.decoders import load_decoder
    from workbench.render.prompt import render_prompt
    from workbench.render.reproduce import reproduce

    params = GenerationParams(duration_s=1.0)
    mbd = load_decoder("mbd", tiny)
    torch_state = torch.random.get_rng_state()
    [plain] = render_prompt(tiny, "lofi beat", params, [3], [tmp_path / "plain.wav"])
    [item] = render_prompt(tiny, "lofi beat", params, [3], [tmp_path / "mbd.wav"], conditions=Conditions(decoder="mbd"))
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert item.take.codes_sha256 == plain.take.codes_sha256  # the decoder never changes the codes
    assert item.take.audio.shape == plain.take.audio.shape == (1, 32000)
    assert not np.allclose(item.take.audio, plain.take.audio) and np.isfinite(item.take.audio).all()
    decoder = item.record["extra"]["decoder"]
    assert (decoder["name"], decoder["source"], decoder["seed"]) == ("mbd", "tiny-mbd", 3)
    assert np.array_equal(mbd.decode(item.take.codes, 3)[:, :32000], item.take.audio)
    assert not np.array_equal(mbd.decode(item.take.codes, 4)[:, :32000], item.take.audio)  # diffusion noise: seeded

    report = reproduce(item.sidecar, engine=tiny)
    assert report.identical and report.decoder == ("mbd", True), report.message
    assert report.message.endswith("decoded again with mbd: identical audio")
    record = json.loads(item.sidecar.read_text())
    record["extra"]["decoder"]["samples_sha256"] = "0" * 64
    item.sidecar.write_text(json.dumps(record))
    tampered = reproduce(item.sidecar, engine=tiny)
    assert not tampered.identical and tampered.decoder == ("mbd", False) and "AUDIO MISMATCH" in tampered.message


def test_mbd_refuses_what_it_cannot_decode_in_one_line(tiny, magnet):
    from workbench.core.errors import DraftError
    from workbench.render.decoders import load_decoder

    with pytest.raises(ParamsError, match="decoder must be one of encodec, mbd"):
        load_decoder("hifigan", tiny)
    assert load_decoder("encodec", tiny) is None and load_decoder(None, tiny) is None
    with pytest.raises(ModelCapabilityError, match="mono MusicGen takes; 'tiny-magnet' is MAGNeT"):
        load_decoder("mbd", magnet)
    with pytest.raises(DraftError, match="not continuations"):  # refused before anything loads
        Conditions(continuation=ContinuationInput("any.wav"), decoder="mbd")


@pytest.fixture(scope="module")
def style(engines):
    return engines.load("tiny-style", device="cpu")


def _clip(path, seconds=2.0, seed=0, rate=32000):
    import soundfile

    noise = np.random.default_rng(seed).standard_normal(int(seconds * rate)).astype(np.float32) * 0.2
    soundfile.write(str(path), noise, rate)
    return path


def test_style_follows_its_reference_and_seeds_side_by_side_equal_alone(style, tmp_path):
    from workbench.drafts.prepare import prepare_draft

    draft = prepare_draft(style, style=_clip(tmp_path / "ref.wav"), record_base=tmp_path)
    other = prepare_draft(style, style=_clip(tmp_path / "other.wav", seed=1), record_base=tmp_path)
    params = GenerationParams(duration_s=1.0)
    torch_state, python_state = torch.random.get_rng_state(), random.getstate()
    batch = style.generate("lofi", params, [1, 2], **draft.generate_kwargs())
    assert torch.equal(torch.random.get_rng_state(), torch_state) and random.getstate() == python_state
    alone = style.generate("lofi", params, [2], **draft.generate_kwargs())[0]
    assert alone.codes_sha256 == batch[1].codes_sha256 and alone.codes.shape == (4, 25)
    assert alone.audio.shape == (1, 32000)
    assert style.generate("lofi", params, [2], **other.generate_kwargs())[0].codes_sha256 != alone.codes_sha256
    assert style.generate("lofi", params, [2])[0].codes_sha256 != alone.codes_sha256  # text only: no reference
    assert draft.record["style"]["file"] == "ref.wav" and len(draft.record["style"]["sha256"]) == 64


def test_a_style_take_reproduces_from_its_sidecar_and_bad_references_are_one_line(style, cli, tmp_path):
    _clip(tmp_path / "ref.wav")
    done = cli("generate", "lofi", "--model", "tiny-style", "--duration", "1", "--style", "ref.wav", "--seed", "3",
               "-o", "s.wav")
    assert done.returncode == 0, done.stderr
    again = cli("reproduce", "s.json")
    assert again.returncode == 0 and "identical codes" in again.stdout, again.stdout + again.stderr
    refused = cli("generate", "x", "--model", "tiny", "--duration", "1", "--style", "ref.wav", "-o", "no.wav")
    assert refused.returncode == 1 and "a style reference needs a style model" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (tmp_path / "no.wav").exists()
    import soundfile

    from workbench.core.errors import DraftError
    from workbench.drafts.prepare import prepare_draft

    soundfile.write(str(tmp_path / "silent.wav"), np.zeros(32000, dtype=np.float32), 32000)
    with pytest.raises(DraftError, match="silent.wav: the audio is silent"):
        prepare_draft(style, style=tmp_path / "silent.wav")


def test_style_references_are_checked_by_the_engine_too(style, magnet):
    ref = np.random.default_rng(0).standard_normal((1, 64000)).astype(np.float32)
    with pytest.raises(ParamsError, match="is silence"):
        style.generate("x", HALF, [1], style=np.zeros((1, 64000), dtype=np.float32))
    with pytest.raises(ParamsError, match="takes a 1 s excerpt"):
        style.generate("x", HALF, [1], style=ref[:, :16000])
    with pytest.raises(ModelCapabilityError, match="cannot take a style reference"):
        magnet.generate("x", HALF, [1], style=ref)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the fallback is what a machine without CUDA gets")
def test_attention_falls_back_to_plain_torch_where_xformers_cannot_run():
    from workbench.engine.audiocraft.install import attention_backend, audiocraft_module, xformers_runs

    transformer = audiocraft_module("audiocraft.modules.transformer")
    assert not xformers_runs("cuda") and not xformers_runs("cpu")
    assert attention_backend("cuda") == "torch" and transformer._efficient_attention_backend == "torch"
    assert attention_backend("cpu") == "torch"


def test_sidecars_record_the_audiocraft_version_and_reproduce_warns_when_it_changed():
    from importlib.metadata import version

    from workbench.render.reproduce import environment_warnings
    from workbench.store.sidecar import versions

    installed = version("tts-webui-audiocraft")
    assert versions()["audiocraft"] == installed
    old = {"versions": {"audiocraft": "1.0.0"}, "device": "cpu", "dtype": "float32"}
    magnet_take = {**old, "model": {"architecture": "MAGNeT"}}
    musicgen = {"architecture": "MusicgenForConditionalGeneration"}
    mbd_take = {**old, "model": musicgen, "extra": {"decoder": {"name": "mbd"}}}
    plain_take = {**old, "model": musicgen, "extra": {}}
    for record in (magnet_take, mbd_take):
        assert f"audiocraft 1.0.0 recorded, {installed} installed" in environment_warnings(record, "cpu", "float32")
    assert environment_warnings(plain_take, "cpu", "float32") == []


def test_the_ui_loads_mbd_once_per_engine_and_lets_the_engine_go(tiny, tmp_path):
    import gc
    import weakref

    pytest.importorskip("gradio")
    from workbench.engine.load import load_engine
    from workbench.ui.context import App

    app = App(out=tmp_path / "out", prompts=tmp_path)
    first = app.decoders.get("mbd", tiny)
    assert app.decoders.get("mbd", tiny) is first and app.decoders.get("encodec", tiny) is None
    other = load_engine("tiny", device="cpu")
    assert app.decoders.get("mbd", other) is not first
    gone = weakref.ref(other)
    del other
    gc.collect()
    assert gone() is None  # the decoder kept for it did not keep the model in memory


def test_the_model_table_says_which_model_takes_what():
    from workbench.models.catalog import model_table

    rows = {row["name"]: row for row in model_table()}
    assert rows["tiny-magnet"]["inputs"] == "text" and rows["magnet-small"]["source"] == "facebook/magnet-small-10secs"
    assert rows["style"]["inputs"] == rows["tiny-style"]["inputs"] == "text, style"
    assert rows["melody"]["inputs"] == "text, melody, chords, continuation, segments"
    assert rows["small"]["inputs"] == "text, continuation, segments"
    assert "30 s segment" in rows["magnet-small-30s"]["notes"]


def test_prompt_files_render_style_and_mbd_takes_resumably_and_they_reproduce(tiny, style, tmp_path):
    from workbench.drafts.prepare import prepare_draft
    from workbench.library.prompts import load_library
    from workbench.render.batch import plan_jobs, render_jobs
    from workbench.render.decoders import load_decoder
    from workbench.render.reproduce import reproduce

    folder = tmp_path / "prompts"
    folder.mkdir()
    _clip(folder / "ref.wav")
    (folder / "lib.toml").write_text(
        '[library]\nname = "lib"\ndecoder = "mbd"\n[library.defaults]\nduration_s = 1.0\n'
        '[[prompt]]\nid = "styled"\ntext = "lofi"\nmodel = "tiny-style"\nstyle = "ref.wav"\ndecoder = "encodec"\n'
        'seeds = [1, 2]\n'
        '[[prompt]]\nid = "diffused"\ntext = "lofi beat"\nmodel = "tiny"\nseeds = [3]\n')
    prompts = load_library(folder / "lib.toml").prompts
    out = tmp_path / "out"
    jobs = plan_jobs(prompts, out)
    assert [(job.model, job.conditions.decoder) for job in jobs] == [("tiny-style", "encodec")] * 2 + [("tiny", "mbd")]
    engines = {"tiny": tiny, "tiny-style": style}
    loads = []
    result = render_jobs(jobs, out, load=lambda name: loads.append(name) or engines[name])
    assert result.ok and len(result.done) == 3, result.failed
    styled, diffused = result.done[:2], result.done[2]

    draft = prepare_draft(style, style=folder / "ref.wav")
    alone = style.generate("lofi", GenerationParams(duration_s=1.0), [2], **draft.generate_kwargs())[0]
    assert styled[1].record["codes_sha256"] == alone.codes_sha256  # the file's take == the engine's own
    assert styled[0].record["draft"]["style"]["file"] == "../../../prompts/ref.wav"
    assert "decoder" not in styled[0].record["extra"]
    plain = tiny.generate("lofi beat", GenerationParams(duration_s=1.0), [3])[0]
    assert diffused.record["codes_sha256"] == plain.codes_sha256  # MBD never changes the codes
    assert diffused.record["extra"]["decoder"]["name"] == "mbd"
    expected = load_decoder("mbd", tiny).decode(plain.codes, 3)[:, :plain.num_samples]
    assert np.array_equal(diffused.take.audio, expected)

    again = render_jobs(plan_jobs(prompts, out), out, load=lambda name: loads.append(name) or engines[name])
    assert len(again.skipped) == 3 and not again.done  # resume: the render keys include style and decoder
    encodec = plan_jobs(prompts, out, decoder="encodec")
    assert encodec[2].conditions.decoder == "encodec" and encodec[2].key != jobs[2].key
    assert encodec[0].key == jobs[0].key
    for item in result.done:
        report = reproduce(item.sidecar, engine=engines[item.record["model"]["name"]])
        assert report.identical, report.message
    assert reproduce(diffused.sidecar, engine=tiny).decoder == ("mbd", True)


def test_render_takes_a_decoder_for_every_take_and_refuses_it_on_continuations(cli, tmp_path):
    _clip(tmp_path / "take.wav")
    (tmp_path / "lib.toml").write_text(
        '[library]\nname = "lib"\nmodel = "tiny"\n[library.defaults]\nduration_s = 1.0\n'
        '[[prompt]]\nid = "a"\ntext = "lofi"\n'
        '[[prompt]]\nid = "b"\ntext = "lofi"\ncontinue_from = "take.wav"\n')
    plan = cli("render", "lib.toml", "--only", "a", "--decoder", "mbd", "--dry-run")
    assert plan.returncode == 0 and "mbd" in plan.stdout, plan.stdout + plan.stderr
    refused = cli("render", "lib.toml", "--decoder", "mbd")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "lib/b: decoder mbd decodes takes rendered from text, a melody or chords, not continuations (" in (
        refused.stderr)
    wrong = cli("render", "lib.toml", "--decoder", "vocos")
    assert wrong.returncode == 1 and "decoder must be one of encodec, mbd, got 'vocos'" in wrong.stderr


def test_compare_renders_style_seeds_side_by_side_and_mbd_takes(tiny, style, tmp_path):
    import json

    pytest.importorskip("gradio")
    from workbench.drafts.prepare import prepare_draft
    from workbench.engine.resident import EngineCache
    from workbench.render.decoders import load_decoder
    from workbench.ui.app import build_ui

    (tmp_path / "prompts").mkdir()
    engines = {"tiny": tiny, "tiny-style": style}
    demo = build_ui(model="tiny-style", out=tmp_path / "out", prompts=tmp_path / "prompts",
                    cache=EngineCache(loader=lambda name, **_: engines[name]), preview_streaming=False)
    clip = _clip(tmp_path / "ref.wav")

    def compare(model, **options):
        sampling = (model, "", 1.0, 3.0, 1.0, 250, 1.0, "off")
        *_, last = demo.handlers.compare("lofi", "1-2", *sampling, {}, progress=lambda *a, **k: None, **options)
        return last[0] if model == "tiny" else last

    takes, status, _ = compare("tiny-style", style=str(clip))
    assert "2 takes of **lofi** one pass each (" in status  # audiocraft renders seed by seed
    draft = prepare_draft(style, style=clip)
    for take in takes:
        expected = style.generate("lofi", GenerationParams(duration_s=1.0), [take["seed"]], **draft.generate_kwargs())
        assert take["codes_sha256"] == expected[0].codes_sha256
        sidecar = tmp_path / "out" / take["sidecar"]
        kept = sidecar.parent / json.loads(sidecar.read_text())["draft"]["style"]["file"]
        assert kept.read_bytes() == clip.read_bytes()  # the upload is kept in the output folder
    plain = compare("tiny")
    diffused = compare("tiny", decoder="mbd")
    assert [t["codes_sha256"] for t in diffused] == [t["codes_sha256"] for t in plain]
    assert {t["decoder"] for t in diffused} == {"tiny-mbd"} and {t["decoder"] for t in plain} == {"encodec"}
    record = json.loads((tmp_path / "out" / diffused[1]["sidecar"]).read_text())
    codes, mbd = tiny.generate("lofi", GenerationParams(duration_s=1.0), [2])[0].codes, load_decoder("mbd", tiny)
    decoded = mbd.decode(codes, 2)[:, :32000]
    assert record["extra"]["decoder"]["samples_sha256"] == mbd.record(decoded, 2)["samples_sha256"]
    with pytest.raises(Exception, match="a style reference needs a style model"):
        compare("tiny", style=str(clip))
