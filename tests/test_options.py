"""Every option a rendering command offers is applied or refused: walked from typer's own registry, so an option
added without a row here fails this test (it would otherwise risk being accepted and ignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import typer

from workbench.cli.app import app, main
from workbench.store.sidecar import read_sidecar

#: Options that do not shape a take, and why.
NOT_THE_TAKE = {
    "out": "where takes go", "force": "whether an existing file may be replaced", "output": "the file's name",
    "folder": "the folder's name", "low_memory": "the memory mode: the same take (tests/test_offload.py)",
    "help": "help", "only": "which entries render", "tags": "which entries render",
    "batch_size": "how many share a pass: the same takes (tests/test_render.py)", "dry_run": "renders nothing",
    "ray": "where passes run: the same takes (tests/test_distributed.py)", "ray_address": "where passes run",
    "ray_workers": "where passes run", "ray_cpus": "where passes run", "ray_write_on": "who writes the files",
    "paths": "the prompt files", "text": "the prompt (every test here checks it)",
}


def melody_wav(path: Path) -> Path:
    t = np.arange(3 * 32000) / 32000
    notes = np.repeat([261.6, 329.6, 392.0, 523.3, 392.0, 329.6], 16000)
    sf.write(path, (0.3 * np.sin(2 * np.pi * notes * t) + 0.05 * np.sign(np.sin(2 * np.pi * 2 * t))).astype(
        np.float32), 32000)
    return path


def take_rows(tmp: Path) -> dict[str, tuple[list[str], Any]]:
    """``generate``'s take-shaping options: (arguments, what the sidecar must say) — a callable on the sidecar, or
    the one line the command must fail with."""
    melody, draft = str(melody_wav(tmp / "m.wav")), str(melody_wav(tmp / "d.wav"))
    midi = tmp / "m.mid"
    import pretty_midi

    song = pretty_midi.PrettyMIDI(initial_tempo=120)
    for name, pitch in (("bass", 40), ("lead", 76)):
        track = pretty_midi.Instrument(program=0, name=name)
        track.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=0.0, end=2.0))
        song.instruments.append(track)
    song.write(str(midi))
    tm = ["--model", "tiny-melody"]
    chords = [*tm, "--chords", "Am F", "--bpm", "120"]
    return {
        "model": (["--model", "tiny-melody"], lambda r: r["model"]["name"] == "tiny-melody"),
        "duration": (["--duration", "0.5"], lambda r: r["num_samples"] == 16000),
        "guidance": (["--guidance", "2"], lambda r: r["params"]["guidance_scale"] == 2.0),
        "temperature": (["--temperature", "0.7"], lambda r: r["params"]["temperature"] == 0.7),
        "top_k": (["--top-k", "9"], lambda r: r["params"]["top_k"] == 9),
        "top_p": (["--top-p", "0.8"], lambda r: r["params"]["top_p"] == 0.8),
        "stride": (["--stride", "12"], lambda r: r["params"]["extend_stride_s"] == 12.0),
        "device": (["--device", "cpu"], lambda r: r["device"] == "cpu"),
        "dtype": (["--dtype", "float32"], lambda r: r["dtype"] == "float32"),
        "loudness": (["--loudness", "-20"], lambda r: r["audio"]["loudness_target"] == -20.0),
        "format": (["--format", "flac"], lambda r: r["audio"]["format"] == "FLAC"),
        "bit_depth": (["--bit-depth", "24"], lambda r: r["audio"]["subtype"] == "PCM_24"),
        "bitrate": (["--format", "mp3", "--bitrate", "192"], lambda r: r["audio"]["bitrate_kbps"] == 192),
        "quality": (["--format", "ogg", "--quality", "3"], lambda r: r["audio"]["quality"] == 3),
        "seed": (["--seed", "77"], lambda r: r["seed"] == 77),
        "melody": ([*tm, "--melody", melody], lambda r: r["draft"]["melody"]["sha256"]),
        "melody_start": ([*tm, "--melody", melody, "--melody-start", "1"], lambda r: r["draft"]["melody"]["start_s"]
                         == 1.0),
        "melody_end": ([*tm, "--melody", melody, "--melody-end", "2.5"], lambda r: r["draft"]["melody"]["end_s"]
                       == 2.5),
        "melody_stem": ([*tm, "--melody", melody, "--melody-stem", "harmonic"],
                        lambda r: r["draft"]["melody"]["stem"] == "harmonic"),
        "midi_track": ([*tm, "--melody", str(midi), "--midi-track", "lead"],
                       lambda r: r["draft"]["melody"]["track"] == "lead"),
        "continue_from": (["--continue-from", draft, "--prompt-seconds", "1"],
                          lambda r: r["draft"]["continuation"]["kind"] == "audio"),
        "prompt_seconds": (["--continue-from", draft, "--prompt-seconds", "0.5"],
                           lambda r: r["draft"]["continuation"]["prompt_seconds"] == 0.5),
        "include_prompt": (["--continue-from", draft, "--prompt-seconds", "1", "--no-include-prompt"],
                           lambda r: r["draft"]["continuation"]["include_prompt"] is False),
        "chords": (chords, lambda r: r["draft"]["chords"]["chords"] == "Am F"),
        "bpm": (chords, lambda r: r["draft"]["chords"]["bpm"] == 120.0),
        "beats_per_chord": ([*chords, "--beats-per-chord", "2"], lambda r: r["draft"]["chords"]["beats_per_chord"]
                            == 2.0),
        "time_signature": ([*chords, "--time-signature", "3/4"], lambda r: r["draft"]["chords"]["time_signature"]
                           == "3/4"),
        "voicing": ([*chords, "--voicing", "arpeggio"], lambda r: r["draft"]["chords"]["voicing"] == "arpeggio"),
        "segment": (["--segment", "0.25:harp"], lambda r: r["prompt"]["segments"] == [{"start_s": 0.25,
                                                                                      "text": "harp"}]),
        "style": (["--style", melody], "error: a style reference needs a style model"),
        "decoder": (["--decoder", "mbd", "--duration", "0.25"],  # MultiBand Diffusion's cost grows with the audio
                    lambda r: r["extra"]["decoder"]["name"] == "mbd"),
        "loop_bars": (["--loop-bars", "1", "--bpm", "240", "--duration", "1.5"],
                      lambda r: r["audio"]["file"] and True),
    }


def run(args: list[str]) -> int:
    """The CLI in this process: its exit status."""
    try:
        main(args)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def options(command: str) -> set[str]:
    group = typer.main.get_command(app)
    return {param.name for param in group.commands[command].params}


def test_every_option_of_generate_reaches_the_take_or_is_refused(tiny, tiny_melody, tmp_path, monkeypatch, capsys):
    engines = {"tiny": tiny, "tiny-melody": tiny_melody}
    monkeypatch.setattr("workbench.engine.load.load_engine", lambda name, **_: engines[name])
    rows = take_rows(tmp_path)
    assert options("generate") - set(NOT_THE_TAKE) == set(rows)  # a new option needs a row
    for number, (name, (args, expect)) in enumerate(rows.items()):
        out = tmp_path / f"t{number}.wav" if "--format" not in args else tmp_path / f"t{number}"
        target = ["-o", str(out)] if "--format" not in args else ["--out", str(tmp_path / f"o{number}")]
        code = run(["generate", "pads", "--model", "tiny", "--duration", "1", "--seed", "3", *args, *target])
        err = capsys.readouterr().err.strip()
        if isinstance(expect, str):
            assert code == 1 and err.startswith(expect) and len(err.splitlines()) == 1, (name, err)
            continue
        assert code == 0, (name, err)
        [sidecar] = sorted(tmp_path.glob(f"t{number}.json")) or sorted((tmp_path / f"o{number}").rglob("*.json"))
        assert expect(read_sidecar(sidecar)), name
    assert (tmp_path / f"t{list(rows).index('loop_bars')}.loop.wav").is_file()


def test_seeds_offers_generate_s_options_and_render_applies_the_shared_ones():
    """``seeds`` shares generate's option groups (the same code makes their takes); ``render`` applies every
    generation option (tests/test_conditions.py::test_render_applies_every_sampling_flag) and the decoder."""
    generate, seeds, render = options("generate"), options("seeds"), options("render")
    assert seeds == generate - {"seed", "output", "loop_bars"} | {"seed_list", "folder"}
    shaping = render - set(NOT_THE_TAKE) - {"seed_list"}
    assert shaping == {"model", "duration", "guidance", "temperature", "top_k", "top_p", "stride", "device", "dtype",
                       "loudness", "format", "bit_depth", "bitrate", "quality", "decoder"}
