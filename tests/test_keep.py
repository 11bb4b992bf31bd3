"""Stop and keep: a take stopped part way is kept as a take of the length made so far, and it reproduces."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.conditions import Conditions
from workbench.core.errors import GenerationCancelled
from workbench.core.params import GenerationParams
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import reproduce
from workbench.store.sidecar import read_sidecar


def stopper(after_steps: int):
    """``(progress, should_stop)``: stop once ``after_steps`` decoding steps are done (never by the clock)."""
    done = [0]

    def progress(step: int, _total: int) -> None:
        done[0] = step

    return progress, lambda: done[0] >= after_steps


@pytest.mark.parametrize("segments", [(), ((0.5, "full drums"), (1.5, "harp"))])
def test_a_stopped_take_is_kept_at_its_length_and_reproduces(tiny, tmp_path, segments):
    params = GenerationParams(duration_s=2.0)
    full = tiny.generate("lofi", params, [4], segments=segments)[0]
    progress, should_stop = stopper(60)  # one pass: a stop after 60 steps keeps 59 frames; with segments, 25 + 31
    with pytest.raises(GenerationCancelled) as stopped:
        render_prompt(tiny, "lofi", params, [4], [tmp_path / "t.wav"], conditions=Conditions(segments=segments),
                      progress=progress, should_stop=should_stop)
    assert not (tmp_path / "t.wav").exists()  # nothing written unless kept
    [kept] = stopped.value.keep()
    frames = kept.take.codes.shape[-1]
    assert frames == (59 if not segments else 56) and kept.take.duration_s == pytest.approx(frames / 50)
    assert np.array_equal(kept.take.codes[:, :frames - 3], full.codes[:, :frames - 3])  # what was heard is kept
    same_length = tiny.generate("lofi", params.replace(duration_s=frames / 50), [4], segments=[
        part for part in segments if part[0] < frames / 50])[0]
    assert np.array_equal(kept.take.codes, same_length.codes)  # its end is what a take of that length has
    record = read_sidecar(kept.sidecar)
    assert record["num_samples"] == round(frames / 50 * 32000) and record["extra"]["stopped_at_s"] == frames / 50
    assert [s["start_s"] for s in record["prompt"].get("segments", [])] == [s for s, _ in segments if s < frames / 50]
    report = reproduce(kept.sidecar, engine=tiny)
    assert report.identical, report.message


def test_a_stop_before_any_whole_frame_keeps_nothing(tiny, tmp_path):
    progress, should_stop = stopper(2)
    with pytest.raises(GenerationCancelled) as stopped:
        render_prompt(tiny, "lofi", GenerationParams(duration_s=1.0), [1], [tmp_path / "t.wav"], progress=progress,
                      should_stop=should_stop)
    assert stopped.value.keep is None and stopped.value.partial == []
