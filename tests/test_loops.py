"""Loops: exactly N bars from a beat, the tail crossfaded into the head, no click at the wrap."""

import json

import numpy as np
import pytest

from workbench.core.errors import ParamsError
from workbench.render.loops import cut_loop, make_loop, write_loop

SR = 32000


def tone(seconds=12.0, freq=221.3):
    """A tone whose period does not divide a bar, so a naive cut jumps at the wrap."""
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.37 * t))).astype(np.float32)[None]


def clicks(audio, bpm=120.0, first=0.25):
    out, rng = audio.copy(), np.random.default_rng(0)
    for beat in np.arange(first, audio.shape[-1] / SR, 60.0 / bpm):
        i, n = int(beat * SR), int(0.03 * SR)
        out[0, i:i + n] += (0.5 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * SR)))[: out.shape[-1] - i]
    return out


def seam(x, loop_len, width=2048):
    """(sample jump, spectral flux) where ``x`` plays sample ``loop_len`` after sample ``loop_len - 1``: the
    flux is the change of the magnitude spectrum from the window just before that point to the window across it."""
    before = x[loop_len - width:loop_len]
    across = x[loop_len - width // 2:loop_len + width // 2]
    window = np.hanning(width)
    flux = np.linalg.norm(np.abs(np.fft.rfft(across * window)) - np.abs(np.fft.rfft(before * window)))
    return abs(float(x[loop_len]) - float(x[loop_len - 1])), float(flux)


def test_the_wrap_is_as_smooth_as_the_take_itself_and_a_naive_cut_is_not():
    audio = tone()
    start, bars, bpm = 0.5, 2, 120.0
    loop = cut_loop(audio, SR, bars=bars, bpm=bpm, start_s=start)
    length, s = 2 * 4 * SR // 2, int(start * SR)  # 2 bars of 4 beats at 120 BPM: 4 s
    assert loop.shape == (1, length)
    fade = round(0.1 * SR)
    assert np.array_equal(loop[:, fade:], audio[:, s + fade:s + length])  # untouched past the crossfade
    assert loop[0, 0] == audio[0, s + length]  # the wrap continues exactly as the take did
    wrapped = np.concatenate([loop[0], loop[0]])
    naive = audio[0, s:s + length]
    take_jump, take_flux = seam(audio[0, s:], length)  # the take itself, played straight through
    loop_jump, loop_flux = seam(wrapped, length)
    naive_jump, naive_flux = seam(np.concatenate([naive, naive]), length)
    assert loop_jump == pytest.approx(take_jump, abs=1e-6)  # the one-sample step is the take's own
    # (measured: the naive cut steps 22x the take's step, its spectral flux is 47x the take's; the crossfade,
    # two phases of the tone mixed for 0.1 s, leaves 7x: under a sixth of the naive cut's)
    assert naive_jump > 10 * loop_jump and naive_flux > 6 * loop_flux


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bars": 0}, "--loop-bars must be a whole number of bars from 1 to 64"),
    ({"bars": 2.5}, "--loop-bars must be a whole number"),
    ({"bars": 8, "bpm": 120}, "8 bars at 120 BPM need 16.10 s"),
    ({"bars": 1, "bpm": -5}, "--bpm must be between 20 and 400"),
    ({"bars": 1, "bpm": 120, "time_signature": "7"}, "time signature '7'"),
])
def test_bad_loops_are_one_line_errors(kwargs, message):
    with pytest.raises((ParamsError, Exception), match=message.replace("(", r"\(")) as info:
        make_loop(tone(seconds=6.0), SR, **kwargs)
    assert "\n" not in str(info.value)


def test_tempo_is_estimated_when_unknown_and_the_loop_starts_on_a_beat():
    audio = clicks(tone())
    estimated = make_loop(audio, SR, bars=1)
    assert estimated.bpm_source == "estimated" and estimated.bpm == pytest.approx(120, rel=0.03)
    given = make_loop(audio, SR, bars=2, bpm=120)
    assert given.bpm_source == "given" and given.audio.shape == (1, 4 * SR)
    beats_after_first_click = (given.start_s - 0.25) / 0.5
    assert abs(beats_after_first_click - round(beats_after_first_click)) < 0.05  # on a click, to a frame


def test_a_take_gets_its_loop_file_and_record(tmp_path, tiny):
    from workbench.core.audio import read_audio
    from workbench.core.params import GenerationParams
    from workbench.render.prompt import render_prompt

    [item] = render_prompt(tiny, "drums, 120 BPM", GenerationParams(duration_s=5.0), [2], [tmp_path / "t.wav"])
    path, loop = write_loop(item.sidecar, bars=2, bpm=120)
    assert path == tmp_path / "t.loop.wav"
    audio, rate = read_audio(path)
    assert rate == 32000 and audio.shape == (1, 4 * 32000)
    record = json.loads((tmp_path / "t.loop.json").read_text())
    assert record["kind"] == "musicgen-workbench.loop" and record["take"]["sidecar"] == "t.json"
    assert {k: record["loop"][k] for k in ("bars", "bpm", "bpm_source", "samples")} == {
        "bars": 2, "bpm": 120.0, "bpm_source": "given", "samples": 4 * 32000}
    with pytest.raises(ParamsError, match="ask for fewer bars"):
        write_loop(item.sidecar, bars=3, bpm=120)


def test_the_cli_writes_a_loop_with_the_take_or_later_and_refuses_one_too_long(cli, tmp_path):
    import soundfile as sf

    done = cli("generate", "drums, 120 BPM", "--model", "tiny", "--seed", "3", "--duration", "5", "--loop-bars", "2",
               "--bpm", "120", "-o", "t.wav")
    assert done.returncode == 0, done.stderr
    assert "t.loop.wav (2 bars, 4.000 s at 120.00 BPM given" in done.stdout
    assert sf.info(tmp_path / "t.loop.wav").frames == 4 * 32000
    later = cli("loop", "t.json", "--bars", "1", "--bpm", "90", "--time-signature", "3/4")
    assert later.returncode == 0 and "(1 bar, 2.000 s at 90.00 BPM given" in later.stdout
    too_long = cli("generate", "x", "--model", "tiny", "--duration", "3", "--loop-bars", "4", "--bpm", "120",
                   "-o", "u.wav")
    assert too_long.returncode == 1 and not (tmp_path / "u.wav").exists()
    assert too_long.stderr.strip() == ("error: 4 bars at 120 BPM need 8.10 s, longer than the take (3 s): ask for "
                                       "fewer bars or a longer --duration")


def test_prompt_files_ask_for_loops_and_a_resume_finishes_a_missing_one(tmp_path, tiny):
    from workbench.core.errors import PromptFileError
    from workbench.library.prompts import parse_library
    from workbench.render.batch import plan_jobs, render_jobs

    text = '[[prompt]]\nid = "groove"\ntext = "funk groove"\nbpm = 120\nloop_bars = 1\nduration_s = 3\n'
    prompts = parse_library(text, source=tmp_path / "lb.toml").prompts
    assert prompts[0].loop_bars == 1

    def render():
        return render_jobs(plan_jobs(prompts, tmp_path / "out", seeds=[1, 2], model="tiny"), tmp_path / "out",
                           load=lambda _name: tiny)

    assert len(render().done) == 2
    loops = sorted((tmp_path / "out").rglob("*.loop.json"))
    assert [p.name for p in loops] == ["s1.loop.json", "s2.loop.json"]
    record = json.loads(loops[0].read_text())["loop"]
    assert (record["bars"], record["bpm"], record["bpm_source"], record["samples"]) == (1, 120.0, "prompt file", 64000)
    assert not render().done  # both finished
    loops[0].unlink()  # a run killed between the take and its loop
    again = render()
    assert [item.take.seed for item in again.done] == [1] and loops[0].is_file()
    with pytest.raises(ParamsError, match="lb/groove: 1 bars at 120 BPM need 2.10 s, longer than the take"):
        plan_jobs(prompts, tmp_path / "o2", seeds=[1], settings={"duration": 1.0})
    with pytest.raises(PromptFileError, match="loop_bars: must be a whole number of bars from 1 to 64, got 0"):
        parse_library(text.replace("loop_bars = 1", "loop_bars = 0"), source=tmp_path / "lb.toml")
