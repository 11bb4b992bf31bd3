"""Retakes from a point: the parent's codes before it kept exactly, the rest new per seed, reproducible."""

import json
import os

import numpy as np
import pytest

from workbench.codec.tokens import read_tokens
from workbench.core.errors import DraftError, ParamsError
from workbench.core.params import GenerationParams
from workbench.render.branch import render_branch
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import reproduce
from workbench.store.sidecar import read_sidecar


@pytest.fixture()
def parent(tmp_path, tiny):
    [item] = render_prompt(tiny, "lofi piano, 80 BPM", GenerationParams(duration_s=3.0), [1], [tmp_path / "p.wav"])
    return item


def test_retakes_keep_the_parent_up_to_the_point_and_reproduce(tmp_path, tiny, parent):
    rendered, index = render_branch(parent.sidecar, at_s=1.0, seeds=[5, 6], engine=tiny)
    assert index == tmp_path / "p-from-1s" / "index.html"
    for item in rendered:
        assert item.take.codes.shape == (4, 150) and item.take.audio.shape == (1, 3 * 32000)
        assert np.array_equal(item.take.codes[:, :50], parent.take.codes[:, :50])
        branch = read_sidecar(item.sidecar)["draft"]["branch"]
        assert (branch["parent"], branch["codes_file"], branch["at_s"], branch["frames"]) == (
            "../p.json", "../p.codes.npz", 1.0, 50)
        assert branch["parent_codes_sha256"] == parent.take.codes_sha256
        assert reproduce(item.sidecar, engine=tiny).identical
    five, six = rendered
    assert not np.array_equal(five.take.codes[:, 50:], six.take.codes[:, 50:])
    [alone] = render_branch(parent.sidecar, at_s=1.0, seeds=[6], engine=tiny, folder=tmp_path / "alone")[0]
    assert alone.take.codes_sha256 == six.take.codes_sha256  # a seed's retake does not depend on its batch
    page = index.read_text()
    assert "parent · seed 1" in page and "seed 5 from 1 s" in page and 'src="../p.wav"' in page


def test_a_retake_can_be_longer_or_shorter_and_take_another_prompt(tiny, parent):
    [longer] = render_branch(parent.sidecar, at_s=2.5, seeds=[2], engine=tiny, duration_s=4.0)[0]
    assert longer.take.codes.shape == (4, 200) and np.array_equal(longer.take.codes[:, :125],
                                                                   parent.take.codes[:, :125])
    [other] = render_branch(parent.sidecar, at_s=2.5, seeds=[2], engine=tiny, duration_s=4.0, text="harsh noise",
                            force=True)[0]
    assert read_sidecar(other.sidecar)["prompt"]["text"] == "harsh noise"
    assert other.take.codes_sha256 != longer.take.codes_sha256


def test_a_branch_late_in_a_long_take_keeps_it_all_and_conditions_on_half_a_window(tmp_path, tiny):
    [long] = render_prompt(tiny, "ambient", GenerationParams(duration_s=18.0), [3], [tmp_path / "long.wav"])
    [item] = render_branch(long.sidecar, at_s=16.0, seeds=[4], engine=tiny)[0]
    assert item.take.codes.shape == (4, 900) and np.array_equal(item.take.codes[:, :800], long.take.codes[:, :800])
    assert reproduce(item.sidecar, engine=tiny).identical


def test_bad_branches_are_one_line_errors(tmp_path, tiny, tiny_melody, parent):
    for at in (0, -1, 3.0, 10):
        with pytest.raises(DraftError, match="is not inside the take: give a point between 0 and 3.00 s"):
            render_branch(parent.sidecar, at_s=at, seeds=[1], engine=tiny)
    with pytest.raises(ParamsError, match="must be longer than the branch point"):
        render_branch(parent.sidecar, at_s=2.0, seeds=[1], engine=tiny, duration_s=1.5)
    from workbench.core.conditions import ChordsInput, Conditions
    from workbench.drafts.prepare import prepare_draft

    before = Conditions(chords=ChordsInput("Am F", 100, time_base=1))  # a take from before one timeline
    old = prepare_draft(tiny_melody, before, duration_s=1.0, record_base=tmp_path)
    [chords] = render_prompt(tiny_melody, "pads", GenerationParams(duration_s=1.0), [1], [tmp_path / "c.wav"],
                             draft=old)
    with pytest.raises(DraftError, match="made before melodies kept one timeline"):
        render_branch(chords.sidecar, at_s=0.5, seeds=[1], engine=tiny_melody)


def test_a_take_that_follows_chords_branches_on_the_same_timeline_and_reproduces(tmp_path, tiny_melody):
    from workbench.drafts.prepare import prepare_draft
    from workbench.store.sidecar import read_sidecar

    draft = prepare_draft(tiny_melody, chords="Am F C G", bpm=120, beats_per_chord=2, duration_s=2.0,
                          record_base=tmp_path)
    [chords] = render_prompt(tiny_melody, "pads", GenerationParams(duration_s=2.0), [1], [tmp_path / "c.wav"],
                             draft=draft)
    [item] = render_branch(chords.sidecar, at_s=1.0, seeds=[6], engine=tiny_melody)[0]
    assert np.array_equal(item.take.codes[:, :50], chords.take.codes[:, :50])
    record = read_sidecar(item.sidecar)["draft"]
    assert record["chords"] == read_sidecar(chords.sidecar)["draft"]["chords"] and record["branch"]["at_s"] == 1.0
    assert reproduce(item.sidecar, engine=tiny_melody).identical
    # the chords condition the new part from 1 s on the parent's timeline: the same branch without them differs
    alone = tiny_melody.generate("pads", GenerationParams(duration_s=1.0), seeds=[6],
                                 prompt_codes=chords.take.codes[:, :50])[0]
    followed = tiny_melody.generate("pads", GenerationParams(duration_s=1.0), seeds=[6],
                                    prompt_codes=chords.take.codes[:, :50], melody=draft.melody)[0]
    assert followed.codes_sha256 == item.take.codes_sha256 != alone.codes_sha256


def test_a_branch_of_a_melody_take_names_the_melody_file_from_its_own_folder(tmp_path, tiny_melody):
    import soundfile as sf

    from workbench.drafts.prepare import prepare_draft
    from workbench.store.sidecar import read_sidecar

    t = np.arange(64000) / 32000
    sf.write(tmp_path / "hum.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 32000)
    draft = prepare_draft(tiny_melody, melody=tmp_path / "hum.wav", duration_s=2.0, record_base=tmp_path)
    [take] = render_prompt(tiny_melody, "pads", GenerationParams(duration_s=2.0), [2], [tmp_path / "m.wav"],
                           draft=draft)
    rendered, _ = render_branch(take.sidecar, at_s=0.5, seeds=[3], engine=tiny_melody)
    melody = read_sidecar(rendered[0].sidecar)["draft"]["melody"]
    assert melody["file"] == "../hum.wav" and (rendered[0].sidecar.parent / melody["file"]).resolve().is_file()
    assert reproduce(rendered[0].sidecar, engine=tiny_melody).identical


def test_reproducing_a_retake_whose_parent_codes_changed_says_so(tmp_path, tiny, parent):
    [item] = render_branch(parent.sidecar, at_s=1.0, seeds=[5], engine=tiny)[0]
    codes = read_tokens(parent.path.with_name("p.codes.npz"))
    os.remove(parent.path.with_name("p.codes.npz"))
    with pytest.raises(DraftError, match="no such token file"):
        reproduce(item.sidecar, engine=tiny)
    from workbench.codec.tokens import write_tokens

    altered = codes.codes.copy()
    altered[0, 10] = (altered[0, 10] + 1) % 2048
    meta = {k: v for k, v in codes.meta.items() if k not in ("schema", "kind", "codes_sha256")}
    write_tokens(parent.path.with_name("p.codes.npz"), altered, meta)
    with pytest.raises(DraftError, match="changed since the branch was made"):
        reproduce(item.sidecar, engine=tiny)


def test_the_cli_branches_a_take(cli, tmp_path, parent):
    done = cli("branch", "p.json", "--at", "1.5", "--seeds", "7-8")
    assert done.returncode == 0, done.stderr
    assert "p-from-1p5s/s7.wav (seed 7, 3.00 s, the first 1.5 s kept)" in done.stdout
    assert "contact sheet:" in done.stdout and (tmp_path / "p-from-1p5s" / "index.html").is_file()
    record = json.loads((tmp_path / "p-from-1p5s" / "s8.json").read_text())
    assert record["draft"]["branch"]["parent_seed"] == 1
    bad = cli("branch", "p.json", "--at", "9")
    assert bad.returncode == 1 and bad.stderr.strip() == (
        "error: --at 9.0 s is not inside the take: give a point between 0 and 3.00 s")
