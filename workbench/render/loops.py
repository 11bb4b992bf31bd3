"""Seamless loops cut from a take: exactly N bars at the take's tempo, starting on a beat, with the audio that
follows the loop's end crossfaded (equal power) into its head, so that the loop plays around without a click.

``NAME.wav`` gives ``NAME.loop.wav`` and its record ``NAME.loop.json`` (kind ``musicgen-workbench.loop``).
The tempo is the one asked for, else the one the take's sidecar records (its prompt file's ``bpm``, its chords, or a
tempo its prompt states, "80 BPM"; else the tempo measured when the take was written), else estimated with librosa's
beat tracker and recorded as estimated. librosa
also finds the first beat. Unless asked for a number of bars, a loop is as long as fits: 1, 2, 4, 8... bars.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from workbench import __version__
from workbench.core.atomic import write_bytes
from workbench.core.audio import read_audio, write_audio
from workbench.core.errors import DraftError, ParamsError
from workbench.core.hashing import file_sha256
from workbench.core.music import COMMON_TIME, MAX_BARS, beats_per_bar, check_bpm
from workbench.store.measured import asked_tempo
from workbench.store.naming import LOOP, LOOP_SIDECAR, companion
from workbench.store.sidecar import read_sidecar

KIND, SCHEMA = "musicgen-workbench.loop", 1
#: Length of the crossfade of the loop's tail into its head, seconds.
CROSSFADE_S = 0.1


@dataclass(frozen=True)
class Loop:
    """A loop cut from a take.

    Attributes:
        audio: ``[channels, samples]`` float32, exactly ``round(bars x beats_per_bar x 60 / bpm x rate)`` samples.
        start_s: Where in the take it starts (a beat), seconds.
        bpm: The tempo used; ``bpm_source``: ``"given"``, ``"sidecar"`` or ``"estimated"``.
        bars, beats_per_bar, crossfade_s: As cut.
    """

    audio: np.ndarray
    sample_rate: int
    start_s: float
    bpm: float
    bpm_source: str
    bars: int
    beats_per_bar: int
    crossfade_s: float


def _librosa() -> Any:
    try:
        import librosa
    except ImportError:
        raise DraftError("loops need librosa (beat tracking): pip install 'musicgen-workbench[loops]'") from None
    return librosa


def first_beat_and_tempo(audio: np.ndarray, sample_rate: int, bpm: float | None) -> tuple[float, float]:
    """The first beat (seconds) librosa's beat tracker finds in ``audio``, and the tempo: ``bpm`` when given,
    else the tracker's estimate. A take without beats starts at 0."""
    librosa = _librosa()
    mono = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1, audio.shape[-1]).mean(0))
    kwargs = {"bpm": float(bpm)} if bpm is not None else {}
    tempo, beats = librosa.beat.beat_track(y=mono, sr=sample_rate, units="time", **kwargs)
    estimated = float(np.atleast_1d(tempo)[0])
    first = float(beats[0]) if len(beats) else 0.0
    return first, (float(bpm) if bpm is not None else estimated)


def cut_loop(audio: np.ndarray, sample_rate: int, *, bars: int, bpm: float, beats_in_bar: int = 4,
             start_s: float = 0.0, crossfade_s: float = CROSSFADE_S) -> np.ndarray:
    """``bars`` bars of ``audio`` from ``start_s``, the audio after their end crossfaded into their head.

    Sample ``i < X`` of the loop (``X`` = crossfade samples) is ``sin(a) * take[s + i] + cos(a) * take[s + L + i]``
    with ``a = pi/2 * i / X`` (equal power), so the loop's first sample continues its last one exactly as the
    take did; the rest is the take unchanged.

    Raises:
        ParamsError: fewer samples after ``start_s`` than the loop and its crossfade need.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1, np.asarray(audio).shape[-1])
    length = round(bars * beats_in_bar * 60.0 / bpm * sample_rate)
    fade = max(1, round(crossfade_s * sample_rate))
    start = round(start_s * sample_rate)
    if start + length + fade > audio.shape[-1]:
        have = (audio.shape[-1] - start) / sample_rate
        raise ParamsError(f"{bars} bars at {bpm:g} BPM need {(length + fade) / sample_rate:.2f} s from the first "
                          f"beat at {start_s:.2f} s; the take has {have:.2f} s there: ask for fewer bars")
    loop = audio[:, start:start + length].copy()
    angle = np.pi / 2 * np.arange(fade) / fade
    loop[:, :fade] = (np.sin(angle) * audio[:, start:start + fade]
                      + np.cos(angle) * audio[:, start + length:start + length + fade]).astype(np.float32)
    return loop


def check_loop_request(bars: Any, duration_s: float, bpm: float | None, time_signature: str = COMMON_TIME) -> None:
    """Before rendering: ``bars`` is a whole number in range and, at a known ``bpm``, fits a take of
    ``duration_s`` seconds (with the crossfade)."""
    if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise ParamsError(f"--loop-bars must be a whole number of bars from 1 to {MAX_BARS}, got {bars!r}")
    if bpm is not None:
        needed = bars * beats_per_bar(time_signature) * 60.0 / check_bpm(bpm, "--bpm") + CROSSFADE_S
        if needed > duration_s:
            raise ParamsError(f"{bars} bars at {bpm:g} BPM need {needed:.2f} s, longer than the take "
                              f"({duration_s:g} s): ask for fewer bars or a longer --duration")


def fitting_bars(available_s: float, bpm: float, beats_in_bar: int, crossfade_s: float = CROSSFADE_S) -> int:
    """The longest loop that fits ``available_s`` seconds at ``bpm``: 1, 2, 4, 8... bars (musical lengths).

    Raises:
        ParamsError: not even one bar (and its crossfade) fits.
    """
    bar_s = beats_in_bar * 60.0 / bpm
    bars = 1
    while bars * 2 <= MAX_BARS and bars * 2 * bar_s + crossfade_s <= available_s:
        bars *= 2
    if bars * bar_s + crossfade_s > available_s:
        raise ParamsError(f"one bar at {bpm:.4g} BPM needs {bar_s + crossfade_s:.2f} s; the take has "
                          f"{available_s:.2f} s from its first beat: render a longer take")
    return bars


def make_loop(audio: np.ndarray, sample_rate: int, *, bars: int | None = None, bpm: float | None = None,
              bpm_source: str = "given", time_signature: str = COMMON_TIME, crossfade_s: float = CROSSFADE_S) -> Loop:
    """A :class:`Loop` of ``bars`` bars (None: the most of 1, 2, 4, 8... that fit): on the first beat, at ``bpm``
    (estimated when None)."""
    if bars is not None:
        check_loop_request(bars, math.inf, bpm, time_signature)
    beats_in_bar = beats_per_bar(time_signature)
    start, tempo = first_beat_and_tempo(audio, sample_rate, bpm)
    if bpm is None:
        if not math.isfinite(tempo) or tempo <= 0:
            raise DraftError("no tempo could be estimated from this take (no beats found): give --bpm")
        bpm_source = "estimated"
    if bars is None:
        bars = fitting_bars(audio.shape[-1] / sample_rate - start, tempo, beats_in_bar, crossfade_s)
    loop = cut_loop(audio, sample_rate, bars=bars, bpm=tempo, beats_in_bar=beats_in_bar, start_s=start,
                    crossfade_s=crossfade_s)
    return Loop(loop, sample_rate, start, tempo, bpm_source, bars, beats_in_bar, crossfade_s)


def recorded_tempo(record: dict[str, Any]) -> tuple[float | None, str, str]:
    """The tempo a take sidecar gives and where from — the one its prompt asked for
    (:func:`workbench.store.measured.asked_tempo`: its prompt file, chords or text), else the one measured when it
    was written (``"measured"``, :mod:`workbench.analysis.tempo_key`) — and its time signature."""
    chords = (record.get("draft") or {}).get("chords") or {}
    prompt = record.get("prompt") or {}
    signature = chords.get("time_signature") or prompt.get("time_signature") or COMMON_TIME
    bpm, source = asked_tempo(record)
    if bpm is None:
        bpm, source = (record.get("analysis") or {}).get("bpm"), "measured"
    if isinstance(bpm, (int, float)) and not isinstance(bpm, bool):
        return float(bpm), signature, source
    return None, signature, "estimated"


def write_loop(take: str | Path, *, bars: int | None = None, bpm: float | None = None,
               time_signature: str | None = None, crossfade_s: float = CROSSFADE_S) -> tuple[Path, Loop]:
    """Cut a loop from the take whose audio or sidecar is ``take``; write ``NAME.loop.wav`` and its record.

    The tempo: ``bpm``, else the sidecar's (:func:`recorded_tempo`), else estimated; ``bars`` None: as many as fit
    (1, 2, 4, 8...).
    """
    take = Path(take)
    sidecar = companion(take, ".json")
    record = read_sidecar(sidecar)
    audio_path = sidecar.parent / record["audio"]["file"]
    audio, rate = read_audio(audio_path)
    recorded, signature, source = recorded_tempo(record)
    loop = make_loop(audio, rate, bars=bars, bpm=bpm if bpm is not None else recorded,
                     bpm_source="given" if bpm is not None else source,
                     time_signature=time_signature or signature, crossfade_s=crossfade_s)
    out = companion(audio_path, LOOP)
    write_audio(out, loop.audio, rate, force=True)
    write_record(companion(audio_path, LOOP_SIDECAR), {
        "schema": SCHEMA, "kind": KIND, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "workbench_version": __version__, "take": {"sidecar": sidecar.name, "audio_sha256": file_sha256(audio_path)},
        "loop": {"file": out.name, "sha256": file_sha256(out), "bars": loop.bars, "beats_per_bar": loop.beats_per_bar,
                 "bpm": round(loop.bpm, 4), "bpm_source": loop.bpm_source, "start_s": round(loop.start_s, 6),
                 "samples": int(loop.audio.shape[-1]), "sample_rate": rate, "crossfade_s": loop.crossfade_s}})
    return out, loop


def write_record(path: Path, record: dict[str, Any]) -> None:
    write_bytes(path, (json.dumps(record, indent=2) + "\n").encode(), force=True)
