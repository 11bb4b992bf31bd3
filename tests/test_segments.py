"""Prompts that change over time: segments cut a pass at their start and condition the rest with their text;
the past is untouched, takes stay batch-independent, the sidecar records them and reproduce is identical."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.core.conditions import Conditions
from workbench.core.errors import ParamsError, PromptFileError
from workbench.core.params import GenerationParams
from workbench.core.segments import check_segments, parse_segment, timeline
from workbench.engine.windows import plan_passes
from workbench.library.prompts import parse_library
from workbench.render.batch import plan_jobs, render_jobs
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import reproduce

PARAMS = GenerationParams(duration_s=4.0)
CUT_S = 2.0


def reference_plan(window: int, stride: int, prompt_frames: int, frames: int) -> list[tuple[int, int]]:
    """The windowing without segments, as docs/drafts.md states it: the first pass carries in at most half a window
    of the prompt and makes as much as fits; each later pass carries in window - stride frames."""
    plan, context, remaining = [], min(prompt_frames, window // 2), frames
    while remaining > 0:
        new = min(remaining, window - context)
        plan.append((context, new))
        remaining -= new
        context = window - stride
    return plan


@pytest.mark.parametrize(("prompt_frames", "frames"), [(0, 100), (0, 1500), (0, 3500), (250, 2000), (1200, 900)])
def test_without_segments_the_passes_are_the_windows_they_always_were(prompt_frames, frames):
    passes = plan_passes(1500, 900, prompt_frames, frames)
    assert [(p.context, p.new) for p in passes] == reference_plan(1500, 900, prompt_frames, frames)
    assert {p.segment for p in passes} == {-1}


def test_segments_cut_passes_at_their_starts():
    passes = plan_passes(1500, 900, 0, 3000, cuts=[400, 800])
    starts = [p.start for p in passes]
    assert 400 in starts and 800 in starts and sum(p.new for p in passes) == 3000
    assert [p.segment for p in passes][:3] == [-1, 0, 1]
    assert [p.context for p in passes][:3] == [0, 400, 600]  # all that exists, then window - stride
    assert [(p.start, p.segment) for p in plan_passes(1500, 900, 0, 500, cuts=[0, 250])] == [(0, 0), (250, 1)]


def test_a_segment_changes_what_follows_it_and_nothing_before(tiny):
    [plain] = tiny.generate("soft pads", PARAMS, [3])
    [seg] = tiny.generate("soft pads", PARAMS, [3], segments=[(CUT_S, "loud drums, the drop")])
    cut = round(CUT_S * tiny.frame_rate)
    for k in range(tiny.num_codebooks):  # codebook k of frame t depends on steps up to t + k
        np.testing.assert_array_equal(seg.codes[k, :cut - k], plain.codes[k, :cut - k])
    assert (seg.codes[:, cut:] != plain.codes[:, cut:]).mean() > 0.5
    assert seg.codes.shape == plain.codes.shape and seg.audio.shape == plain.audio.shape
    assert [w["segment"] for w in seg.windows] == [-1, 0]
    assert [(w["start_s"], w["end_s"]) for w in seg.windows] == [(0.0, CUT_S), (CUT_S, 4.0)]
    batch = tiny.generate("soft pads", PARAMS, [3, 4], segments=[(CUT_S, "loud drums, the drop")])
    assert batch[0].codes_sha256 == seg.codes_sha256  # batch-independent, as without segments
    [other] = tiny.generate("soft pads", PARAMS, [3], segments=[(CUT_S, "harp solo")])
    assert other.codes_sha256 != seg.codes_sha256  # the segment's text is what conditions the rest


def test_the_sidecar_records_segments_and_reproduce_is_identical(tiny, tmp_path):
    [item] = render_prompt(tiny, "soft intro", PARAMS, [5], [tmp_path / "t.wav"],
                           conditions=Conditions(segments=[(1.0, "full drums"), (3.0, "outro")]))
    record = json.loads(item.sidecar.read_text())
    assert record["prompt"]["segments"] == [{"start_s": 1.0, "text": "full drums"}, {"start_s": 3.0, "text": "outro"}]
    assert [w["segment"] for w in record["windows"]] == [-1, 0, 1]
    report = reproduce(item.sidecar, engine=tiny)
    assert report.identical, report.message


def test_bad_segments_are_one_line():
    for segments, message in [([(2.0, "a"), (1.0, "b")], "segment 2 starts at 1 s, not after segment 1 (2 s)"),
                              ([(1.0, "a"), (1.0, "b")], "not after segment 1"),
                              ([(4.0, "a")], "segment 1 starts at 4 s, not before the take's end (4 s)"),
                              ([(-1.0, "a")], "a start is seconds >= 0"),
                              ([(1.0, "  ")], "segment 1: prompt is empty"),
                              ([(1.0,)], "segment 1 must be (start seconds, text)")]:
        with pytest.raises(ParamsError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check_segments(segments, 4.0)
    with pytest.raises(ParamsError, match="must be SECONDS:TEXT"):
        parse_segment("drop at 16")
    assert timeline("intro", ((2.0, "drop"),), 4.0) == "0–2 s intro · 2–4 s drop"
    assert timeline("intro", ((0.0, "a"), (1.5, "b")), 3.0) == "0–1.5 s a · 1.5–3 s b"


def test_prompt_file_segments_render_and_resume(tiny, tmp_path):
    text = ('[[prompt]]\nid = "drop"\ntext = "soft intro"\nduration_s = 4\n'
            '[[prompt.segments]]\nat = 2\ntext = "full drums, the drop"\n')
    library = parse_library(text, source=tmp_path / "seg.toml")
    assert library.prompts[0].conditions.segments == ((2.0, "full drums, the drop"),)
    jobs = plan_jobs(library.prompts, tmp_path / "out", seeds=[3], model="tiny")
    [done] = render_jobs(jobs, tmp_path / "out", load=lambda _name: tiny).done
    [alone] = tiny.generate("soft intro", PARAMS, [3], segments=[(2.0, "full drums, the drop")])
    assert done.take.codes_sha256 == alone.codes_sha256
    again = render_jobs(plan_jobs(library.prompts, tmp_path / "out", seeds=[3], model="tiny"), tmp_path / "out",
                        load=lambda _name: tiny)
    assert len(again.skipped) == 1 and not again.done
    plain = plan_jobs(parse_library(text.split("[[prompt.segments]]")[0], source=tmp_path / "seg.toml").prompts,
                      tmp_path / "out", seeds=[3], model="tiny")
    assert plain[0].key != jobs[0].key  # segments are part of what a take is
    with pytest.raises(ParamsError, match="/drop: segment 1 starts at 2 s, not before the take's end"):
        plan_jobs(library.prompts, tmp_path / "o2", seeds=[3], settings={"duration": 1.5})
    for body, message in [("[[prompt.segments]]\nat = 5\ntext = \"x\"", "segments: segment 1 starts at 5 s"),
                          ("segments = [1, 2]", "segments: must be [[prompt.segments]] tables"),
                          ("[[prompt.segments]]\nstart = 1\ntext = \"x\"", "segments: must be [[prompt.segments]]")]:
        bad = f'[[prompt]]\nid = "x"\ntext = "t"\nduration_s = 4\n{body}\n'
        with pytest.raises(PromptFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
            parse_library(bad, source=tmp_path / "bad.toml")


def test_cli_segments_and_their_errors(tmp_path, cli):
    def run(*args):
        return cli("generate", "soft intro", "--model", "tiny", "--seed", "3", "--duration", "4", *args)

    done = run("--segment", "2:full drums, the drop", "-o", "t.wav")
    assert done.returncode == 0, done.stderr
    assert "timeline: 0–2 s soft intro · 2–4 s full drums, the drop" in done.stdout
    assert json.loads((tmp_path / "t.json").read_text())["prompt"]["segments"][0]["start_s"] == 2.0
    for args, message in [(("--segment", "3:a", "--segment", "1:b"), "error: segment 2 starts at 1 s, not after"),
                          (("--segment", "9:a"), "not before the take's end (4 s)"),
                          (("--segment", "soon:a"), "must be SECONDS:TEXT")]:
        done = run(*args, "-o", "x.wav")
        assert done.returncode == 1 and message in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
        assert not (tmp_path / "x.wav").exists()
