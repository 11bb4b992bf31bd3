"""Repainting a window of a take with MAGNeT (``tiny-magnet-50hz`` over ``tiny``'s codec): the codes outside the window
kept exactly, the window new per seed, batch-invariant and reproducible; MAGNeT's schedule over the window only; the
refusals one line each; the seam measure."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest
import torch

from workbench.core.errors import DraftError, ModelNotFoundError, ParamsError
from workbench.core.params import GenerationParams
from workbench.drafts.repaint import STEREO, repaint_refusal
from workbench.engine.audiocraft.infill import RepaintSettings, infill, segment_around
from workbench.render.prompt import render_prompt
from workbench.render.repaint import render_repaint
from workbench.render.reproduce import reproduce
from workbench.store.sidecar import read_sidecar

#: Fewer steps than MAGNeT's default for the tests that are not about the schedule (2 CPU cores).
QUICK = RepaintSettings(decoding_steps=(4, 2, 2, 2))


@pytest.fixture(scope="module")
def painter():
    from workbench.engine.load import load_engine

    return load_engine("tiny-magnet-50hz", device="cpu")


@pytest.fixture(scope="module")
def parent(tmp_path_factory, tiny):
    folder = tmp_path_factory.mktemp("repaint")
    [item] = render_prompt(tiny, "lofi piano, 80 BPM", GenerationParams(duration_s=3.0), [1], [folder / "p.wav"])
    return item


def outside(codes: np.ndarray, start: int, end: int) -> np.ndarray:
    return np.concatenate([codes[:, :start], codes[:, end:]], axis=1)


def test_the_built_in_magnet_reads_tiny_takes_tokens_and_decodes_them_with_tiny_codec(painter, tiny):
    assert (painter.num_codebooks, painter.info.codebook_size, painter.frame_rate, painter.sample_rate) == (
        tiny.num_codebooks, tiny.info.codebook_size, tiny.frame_rate, tiny.sample_rate) == (4, 2048, 50, 32000)
    assert painter.segment_frames == 100  # 2 s
    [take] = painter.generate("lofi beat", GenerationParams(duration_s=0.6), [3])
    assert take.codes.shape == (4, 30)
    assert np.array_equal(take.audio, tiny.decode(take.codes)[:, :take.audio.shape[-1]])  # one codec


def test_a_tiny_take_repainted_keeps_every_code_outside_the_window_reproduces_and_is_batch_invariant(
        painter, tiny, parent):
    torch_state = torch.random.get_rng_state()
    rendered, index = render_repaint(parent.sidecar, from_s=1.0, to_s=2.0, seeds=[1, 2], engine=tiny,
                                     painter=painter, settings=QUICK)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    folder = parent.path.parent / "p-repaint-1-2s"
    assert index == folder / "index.html"
    original = parent.take.codes
    for item in rendered:
        codes = item.take.codes
        assert codes.shape == (4, 150) and item.take.audio.shape == (1, 96000)
        assert np.array_equal(outside(codes, 50, 100), outside(original, 50, 100))
        assert (codes[:, 50:100] != original[:, 50:100]).mean() > 0.9  # MAGNeT sampled the window anew
        record = read_sidecar(item.sidecar)
        repaint = record["draft"]["repaint"]
        assert (repaint["parent"], repaint["codes_file"], repaint["from_s"], repaint["to_s"]) == (
            "../p.json", "../p.codes.npz", 1.0, 2.0)
        assert (repaint["frames"], repaint["segment"], repaint["model"]) == ([50, 100], [25, 125], "tiny-magnet-50hz")
        assert repaint["parent_codes_sha256"] == parent.take.codes_sha256 and repaint["parent_seed"] == 1
        assert repaint["settings"] == QUICK.to_dict()
        assert record["model"]["name"] == "tiny" and record["prompt"]["text"] == "lofi piano, 80 BPM"
        seams = record["extra"]["seams"]
        assert [seam["at_s"] for seam in seams] == [1.0, 2.0]
        assert all(seam["flux_jump"] > 0 and seam["parent_flux_jump"] > 0 for seam in seams)
    one, two = rendered
    assert one.take.codes_sha256 != two.take.codes_sha256
    report = reproduce(two.sidecar, engine=tiny)
    assert report.identical, report.message
    [alone] = render_repaint(parent.sidecar, from_s=1.0, to_s=2.0, seeds=[2], engine=tiny, painter=painter,
                             folder=folder / "alone", settings=QUICK)[0]
    assert alone.take.codes_sha256 == two.take.codes_sha256 and np.array_equal(alone.take.audio, two.take.audio)
    page = index.read_text()
    assert page.index("parent · seed 1") < page.index("seed 1 · 1-2 s repainted") < page.index("seed 2 · 1-2 s")
    assert 'src="../p.wav"' in page


def test_windows_at_the_ends_other_text_and_a_repaint_of_a_repaint(painter, tiny, parent):
    [head] = render_repaint(parent.sidecar, from_s=0.0, to_s=0.5, seeds=[3], engine=tiny, painter=painter,
                            settings=QUICK)[0]
    assert np.array_equal(head.take.codes[:, 25:], parent.take.codes[:, 25:])
    assert read_sidecar(head.sidecar)["draft"]["repaint"]["segment"] == [0, 100]
    assert [seam["at_s"] for seam in head.take.extra["seams"]] == [0.5]  # no seam at the take's start
    [tail] = render_repaint(parent.sidecar, from_s=2.3, to_s=3.0, seeds=[3], engine=tiny, painter=painter,
                            settings=QUICK, text="harsh noise")[0]
    assert np.array_equal(tail.take.codes[:, :115], parent.take.codes[:, :115])
    record = read_sidecar(tail.sidecar)
    assert record["draft"]["repaint"]["segment"] == [50, 150] and record["prompt"]["text"] == "harsh noise"
    [again] = render_repaint(tail.sidecar, from_s=0.2, to_s=0.4, seeds=[4], engine=tiny, painter=painter,
                             settings=QUICK)[0]
    assert np.array_equal(outside(again.take.codes, 10, 20), outside(tail.take.codes, 10, 20))
    assert reproduce(again.sidecar, engine=tiny).identical
    from workbench.render.branch import render_branch  # a repaint is a take: it branches like one

    [branched] = render_branch(again.sidecar, at_s=2.5, seeds=[1], engine=tiny)[0]
    assert np.array_equal(branched.take.codes[:, :125], again.take.codes[:, :125])


def test_reproducing_a_repaint_whose_parent_codes_changed_or_went_says_so_in_one_line(painter, tiny, tmp_path):
    [take] = render_prompt(tiny, "pads", GenerationParams(duration_s=1.0), [5], [tmp_path / "q.wav"])
    [item] = render_repaint(take.sidecar, from_s=0.2, to_s=0.6, seeds=[1], engine=tiny, painter=painter,
                            settings=QUICK)[0]
    codes_file = tmp_path / "q.codes.npz"
    saved = codes_file.read_bytes()
    os.remove(codes_file)
    with pytest.raises(DraftError, match="cannot reproduce the repaint: .*q.codes.npz: no such token file"):
        reproduce(item.sidecar, engine=tiny)
    from workbench.codec.tokens import read_tokens, write_tokens

    codes_file.write_bytes(saved)
    tokens = read_tokens(codes_file)
    write_tokens(codes_file, (tokens.codes + 1) % 2048, tokens.meta, force=True)
    with pytest.raises(DraftError, match="no longer holds the parent's codes"):
        reproduce(item.sidecar, engine=tiny)


def test_what_cannot_be_repainted_is_refused_in_one_line_before_sampling(painter, tiny, parent, tmp_path,
                                                                          monkeypatch):
    def refused(error: type[Exception], match: str, **kwargs) -> None:
        with pytest.raises(error, match=match) as caught:
            render_repaint(parent.sidecar, seeds=[1], engine=tiny, **{"painter": painter, "folder": tmp_path, **kwargs})
        assert "\n" not in str(caught.value)

    for window in ((2.0, 1.0), (1.0, 1.0), (-0.5, 1.0), (2.0, 3.5), (float("nan"), 1.0)):
        refused(DraftError, r"is not a window of the take: give 0 <= --from < --to <= 3.00 s",
                from_s=window[0], to_s=window[1])
    refused(ParamsError, r"a 2.3 s window is longer than 'tiny-magnet-50hz''s segment \(2 s\)", from_s=0.5, to_s=2.8)
    for model in ("tiny", "tiny-style"):
        refused(DraftError, f"--model '{model}' cannot repaint: give a MAGNeT model", from_s=1, to_s=2,
                painter=None, model=model)
    from workbench.engine.load import load_engine

    refused(DraftError, "the take's codes are 4 codebooks of 2048 at 50 Hz; the repaint model 'tiny-magnet' has 4 "
                        "of 400 at 25 Hz", from_s=1, to_s=2, painter=load_engine("tiny-magnet", device="cpu"))
    stereo = load_engine("tiny-stereo", device="cpu")
    [wide] = render_prompt(stereo, "pads", GenerationParams(duration_s=0.5), [1], [tmp_path / "wide.wav"])
    with pytest.raises(DraftError, match="cannot repaint a stereo take: MAGNeT's models are mono"):
        render_repaint(wide.sidecar, from_s=0.1, to_s=0.3, seeds=[1])  # refused before any model loads
    assert repaint_refusal(read_sidecar(wide.sidecar)) == STEREO
    monkeypatch.setitem(sys.modules, "audiocraft.models", None)  # import audiocraft.models -> ImportError
    with pytest.raises(ModelNotFoundError) as caught:
        render_repaint(parent.sidecar, from_s=1, to_s=2, seeds=[1], engine=tiny, folder=tmp_path / "none")
    assert "pip install -c constraints.txt -e '.[audiocraft]'" in str(caught.value)
    assert "\n" not in str(caught.value) and not (tmp_path / "none").exists()


def test_a_take_card_can_ask_whether_a_take_can_be_repainted(parent, monkeypatch):
    import importlib.util

    record = read_sidecar(parent.sidecar)
    assert repaint_refusal(record) is None
    debug_codec = {**record, "model": {**record["model"], "codebook_size": 400, "frame_rate": 25}}
    assert repaint_refusal(debug_codec) == "its codes are 4 codebooks of 400 at 25 Hz; MAGNeT reads 4 of 2048 at 50 Hz"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    assert "pip install -c constraints.txt -e '.[audiocraft]'" in repaint_refusal(record)


def test_the_cli_repaints_prints_the_seams_and_refuses_in_one_line(parent, capsys, monkeypatch):
    from workbench.cli.app import main

    monkeypatch.chdir(parent.path.parent)
    main(["repaint", "p.json", "--from", "0.5", "--to", "1", "--seeds", "7", "--dir", "cli"])
    out = capsys.readouterr().out  # MAGNeT's own settings (the CLI has no others)
    assert read_sidecar(parent.path.parent / "cli" / "s7.json")["draft"]["repaint"]["settings"] == (
        RepaintSettings().to_dict())
    assert "wrote cli/s7.wav (seed 7, 0.5-1 s repainted by tiny-magnet-50hz; seams: at 0.5 s " in out
    assert "the take's median spectral flux (the parent there " in out and "contact sheet: cli/index.html" in out
    main(["reproduce", "cli/s7.json"])
    assert "identical codes" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["repaint", "p.json", "--from", "2", "--to", "9"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and len(err.strip().splitlines()) == 1
    assert "--from 2.0 --to 9.0 s is not a window" in err


def test_progress_reaches_the_end_and_stop_cancels_with_the_rng_restored(painter, parent):
    from workbench.core.errors import GenerationCancelled

    seen = []
    painter.repaint(parent.take.codes, 10, 20, "x", [1, 2], settings=QUICK,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen == [(step, 20) for step in range(1, 21)]
    state = torch.random.get_rng_state()
    with pytest.raises(GenerationCancelled):
        painter.repaint(parent.take.codes, 10, 20, "x", [1], settings=QUICK, should_stop=lambda: True)
    assert torch.equal(torch.random.get_rng_state(), state)


class _SpyLM:
    """A stand-in MAGNeT LM that records what it is shown and returns seeded random logits."""

    special_token_id, span_len, card = 16, 3, 16

    def __init__(self) -> None:
        self.inputs: list[tuple[int, torch.Tensor]] = []
        self.generator = torch.Generator().manual_seed(0)

    def __call__(self, sequence: torch.Tensor, conditions: list, condition_tensors: dict, stage: int) -> torch.Tensor:
        assert not conditions and condition_tensors == {"text": "x"}
        self.inputs.append((stage, sequence.clone()))
        return torch.randn(*sequence.shape, self.card, generator=self.generator)


def test_the_infill_follows_magnets_schedule_over_the_window_only():
    lm, steps = _SpyLM(), (5, 3)
    codes = torch.randint(0, 16, (2, 40), generator=torch.Generator().manual_seed(1))
    start, end = 10, 24  # 14 frames: spans of 3, the last one of 2
    out = infill(lm, codes, start, end, {"text": "x"}, RepaintSettings(decoding_steps=steps), on_step=lambda: None)
    assert torch.equal(out[:, :start], codes[:, :start]) and torch.equal(out[:, end:], codes[:, end:])
    assert out[:, start:end].max() < 16  # no mask token left
    assert [stage for stage, _ in lm.inputs] == [0] * 5 + [1] * 3
    for index, (stage, sequence) in enumerate(lm.inputs):
        cond, uncond = sequence  # the conditional and unconditional halves see the same codes
        assert torch.equal(cond, uncond)
        assert torch.equal(cond[:stage + 1, :start], codes[:stage + 1, :start])  # context: never masked
        assert torch.equal(cond[:stage + 1, end:], codes[:stage + 1, end:])
        assert (cond[stage + 1:] == 16).all()  # the codebooks above the stage: masked, as MAGNeT is trained
        assert (cond[:stage, start:end] < 16).all()  # the stages below: sampled already
        step = index if stage == 0 else index - 5
        fraction = math.cos(step / (steps[stage] - 1) * math.pi / 2)
        spans = max(int(fraction * 5), 1)  # MAGNeT's cosine schedule over the window's 5 spans
        masked = (cond[stage, start:end] == 16).numpy()
        assert masked.sum() in {3 * spans, 3 * spans - 1}  # whole spans (the last one is 2 frames)
        assert all(len(set(masked[i:i + 3])) == 1 for i in range(0, 14, 3))


def test_the_segment_is_the_window_with_its_context_split_evenly_inside_the_take():
    assert segment_around(150, 50, 100, 100) == (25, 125)
    assert segment_around(150, 0, 20, 100) == (0, 100) and segment_around(150, 130, 150, 100) == (50, 150)
    assert segment_around(80, 10, 20, 100) == (0, 80)
    assert segment_around(1000, 500, 600, 100) == (500, 600)


def test_repaint_settings_are_checked_and_round_trip():
    settings = RepaintSettings(temperature=2.0, decoding_steps=[8, 4, 4, 4])
    assert RepaintSettings.from_dict(settings.to_dict()) == settings and settings.decoding_steps == (8, 4, 4, 4)
    for bad in ({"temperature": 0}, {"temperature": "hot"}, {"top_k": 2.5}, {"top_p": 1.0}, {"max_guidance": 0.5},
                {"decoding_steps": [4, 0]}, {"decoding_steps": []}, {"decoding_steps": [True]}):
        with pytest.raises(ParamsError, match="repaint setting"):
            RepaintSettings(**bad)
    with pytest.raises(ParamsError, match="not repaint settings"):
        RepaintSettings.from_dict({"steps": 3})


def test_the_seam_measure_finds_a_click_and_not_steady_noise():
    from workbench.core.seams import flux_jump

    rate = 32000
    noise = np.random.default_rng(0).normal(0, 0.1, (1, 2 * rate)).astype(np.float32)
    assert 0.5 < flux_jump(noise, rate, 1.0) < 2.0
    clicked = noise.copy()
    clicked[0, rate:rate + 32] = 1.0
    assert flux_jump(clicked, rate, 1.0) > 2.5 and flux_jump(clicked, rate, 0.5) < 2.0
    assert flux_jump(noise, rate, 0.0) is None and flux_jump(noise, rate, 2.0) is None
    assert flux_jump(np.zeros((1, rate), np.float32), rate, 0.5) is None
