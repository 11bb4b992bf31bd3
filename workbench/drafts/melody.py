"""Melody drafts: audio or MIDI files to MusicGen-Melody chroma, and the melody-adherence score of a take."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.audio import SILENCE_RMS, resample, to_channels
from workbench.core.errors import DraftError
from workbench.core.hashing import file_sha256
from workbench.core.stems import parse_stem
from workbench.drafts.checks import MAX_DRAFT_S
from workbench.drafts.grid import CHROMA_HOP, CHROMA_RATE, CHROMA_SAMPLE_RATE, hold, one_hot  # noqa: F401 - re-exported
from workbench.drafts.melody_audio import melody_audio

#: How a melody lines up with a take (recorded as ``time_base``; see :meth:`Melody.pass_chroma`): 2 = one timeline
#: from the audio prompt's start, the melody looped past its end (audiocraft's rule); 1 = before (reproduced).
TIME_BASE = 2
#: A chroma frame holding less energy than this fraction (-60 dB) of the loudest frame counts as silent.
SILENT_FRAME = 1e-6
_MIDI_SUFFIXES = (".mid", ".midi")


@dataclass(frozen=True, eq=False)
class Melody:
    """A melody draft as MusicGen-Melody conditioning.

    Attributes:
        chroma: float32 ``[frames, 12]``, one-hot per frame (index 0 = C ... 11 = B); frame ``i`` is
            centred ``i / frame_rate`` seconds after the start of the melody window. Read-only.
        frame_rate: Chroma frames per second (:data:`CHROMA_RATE`).
        record: What the sidecar stores: ``kind`` ("audio"|"midi"), ``sha256`` of the file, ``start_s``,
            ``end_s`` (the window actually used, seconds in the file), ``stem``, ``track``, ``frames``,
            ``time_base``.
        time_base: How the melody lines up with the take (:data:`TIME_BASE`; 1 for takes made before it).
    """

    chroma: np.ndarray
    frame_rate: float
    record: dict[str, Any]
    time_base: int = TIME_BASE

    @property
    def length_s(self) -> float:
        """Seconds of draft the chroma covers (the melody window, or a chord draft's duration)."""
        if isinstance(self.record.get("duration_s"), (int, float)):
            return float(self.record["duration_s"])
        if isinstance(self.record.get("end_s"), (int, float)) and isinstance(self.record.get("start_s"), (int, float)):
            return float(self.record["end_s"]) - float(self.record["start_s"])
        return len(self.chroma) / self.frame_rate

    def looped(self, start_s: float, frames: int) -> np.ndarray:
        """``frames`` chroma frames at ``start_s + i / frame_rate`` of the melody played in a loop of
        :attr:`length_s` seconds, each the nearest frame: the chroma of audiocraft's looped waveform
        (``wav[(offset + n) % length]``), on the chroma grid."""
        times = np.mod(start_s + np.arange(frames) / self.frame_rate, self.length_s)
        return self.chroma[np.rint(times * self.frame_rate).astype(np.int64) % len(self.chroma)]

    def pass_chroma(self, first_frame: int, prompt_frames: int, frame_rate: int, length_s: float, *,
                    windowed: bool) -> np.ndarray:
        """The chroma that conditions a pass whose first frame (carried-in context included) is ``first_frame``
        of the generation (the audio prompt's first frame is 0), ``frame_rate`` codec frames per second.

        Time base 2 (audiocraft's rule): one timeline from the prompt's start. A take of one window gets the
        melody from its start (a shorter one repeated by the model's conditioner, as audiocraft's chroma
        conditioner repeats it); a take of several passes gets, in every pass, the melody looped in time
        from the pass's start (audiocraft re-slices the waveform modulo its length per window). Time base 1
        (takes recorded before it, reproduced as made): from the new audio's start, sliced, the tail alone
        past the end.
        """
        if self.time_base < 2:
            return self.window(max(first_frame - prompt_frames, 0) / frame_rate, length_s)
        if not windowed:
            return self.window(first_frame / frame_rate, length_s)
        return self.looped(first_frame / frame_rate, math.ceil(length_s * self.frame_rate - 1e-6))

    def heard(self, start_s: float, frames: int, *, windowed: bool) -> np.ndarray:
        """The melody frames a take's frames ``start_s + i / frame_rate`` of the generation were conditioned on
        (time base 2; what adherence compares with): looped in time for takes of several passes, else the
        chroma repeated frame by frame as the conditioner repeats it."""
        if windowed:
            return self.looped(start_s, frames)
        first = round(start_s * self.frame_rate)
        return self.chroma[(first + np.arange(frames)) % len(self.chroma)]

    def window(self, start_s: float, length_s: float) -> np.ndarray:
        """The chroma frames centred in ``[start_s, start_s + length_s)`` of the melody, ``[frames, 12]``.

        Shorter than asked where the melody ends first; the last frame alone (never an empty array)
        where ``start_s`` lies past the end. Times are relative to the start of the melody window.
        """
        if not (start_s >= 0 and length_s > 0):
            raise ValueError(f"window needs start_s >= 0 and length_s > 0, got {start_s!r}, {length_s!r}")
        first = math.ceil(start_s * self.frame_rate - 1e-6)
        last = max(first + 1, math.ceil((start_s + length_s) * self.frame_rate - 1e-6))
        if first >= len(self.chroma):
            return self.chroma[-1:].copy()
        return self.chroma[first:last].copy()


@functools.lru_cache(maxsize=1)
def _extractor() -> Any:
    """MusicGen-Melody's feature extractor (stateless configuration: hop 4096, n_fft 16384, 32 kHz)."""
    from transformers import MusicgenMelodyFeatureExtractor

    return MusicgenMelodyFeatureExtractor()


def chroma_of_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """MusicGen-Melody chroma of audio: one-hot pitch class of the strongest chroma bin per frame.

    The audio is mixed to mono and resampled to 32 kHz, then analysed by transformers'
    ``MusicgenMelodyFeatureExtractor`` (power STFT, Hann window of 16384 samples centred every 4096,
    chroma filter bank, argmax), without its 30 s truncation and without any padding of ours. Silent
    frames (energy under -60 dB of the loudest frame), which the extractor would call C, hold the
    previous frame's pitch class instead (leading ones take the first sounding frame's); audio without
    any sound gives all-zero rows.

    Args:
        audio: ``[samples]`` or ``[channels, samples]`` float audio.
        sample_rate: Its rate, Hz.

    Returns:
        float32 ``[1 + samples_at_32kHz // 4096, 12]`` (at least 5 frames), one-hot or zero rows.
    """
    wav = np.asarray(audio, dtype=np.float32)
    wav = to_channels(wav.reshape(-1, wav.shape[-1]), 1)
    wav = resample(wav, int(sample_rate), CHROMA_SAMPLE_RATE)[0]
    extractor = _extractor()
    features = extractor(wav, sampling_rate=CHROMA_SAMPLE_RATE, padding=False, truncation=False,
                         return_tensors="np")["input_features"][0]
    pitch = features.argmax(-1)
    # frame energies over the same centred windows as the extractor's STFT (it zero-pads clips < n_fft)
    n_fft = extractor.n_fft
    if len(wav) < n_fft:
        short = n_fft - len(wav)
        wav = np.pad(wav, (short // 2, short - short // 2))
    padded = np.pad(wav.astype(np.float64), n_fft // 2, mode="reflect")
    cumulative = np.concatenate([[0.0], np.cumsum(padded ** 2)])
    starts = np.arange(len(pitch)) * CHROMA_HOP
    energy = cumulative[starts + n_fft] - cumulative[starts]
    assert 1 + len(wav) // CHROMA_HOP == len(pitch), "chroma frames and energy frames disagree"
    sounding = energy > max(energy.max() * SILENT_FRAME, n_fft * SILENCE_RMS ** 2)
    return one_hot(hold(np.where(sounding, pitch, -1)))


def adherence(melody: Melody, audio: np.ndarray, sample_rate: int, *, start_s: float = 0.0,
              windowed: bool = False) -> float:
    """Melody adherence of a take: mean framewise cosine similarity of chroma (MusicGen paper's metric).

    ``mean_t cos(melody.chroma[t], chroma_of_audio(audio)[t])`` over ``t < min(frames of both)``, with
    the cosine of an all-zero row taken as 0. Both sides are one-hot, so each frame scores 1 (same
    pitch class) or 0 and the score is the fraction of agreeing frames; always within [-1, 1].

    Args:
        melody: The draft the take followed.
        audio: The take, ``[channels, samples]`` or ``[samples]``.
        sample_rate: Its rate, Hz.
        start_s: Where ``audio`` starts in the generation (after a dropped audio prompt: its length), for time
            base 2, which compares the melody frames the take was conditioned on (:meth:`Melody.heard`) over the
            whole take. Time base 1 compares the melody's own frames from the start of ``audio``.
        windowed: Whether the take was made in several passes.
    """
    take = chroma_of_audio(audio, sample_rate)
    if melody.time_base >= 2:
        reference = melody.heard(start_s, len(take), windowed=windowed)
    else:
        reference = melody.chroma
    frames = min(len(take), len(reference))
    a = reference[:frames].astype(np.float64)
    b = take[:frames].astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cosine = np.divide((a * b).sum(axis=1), norms, out=np.zeros(frames), where=norms > 0)
    return float(np.clip(cosine.mean(), -1.0, 1.0))


def _audio_chroma(path: Path, start_s: float, end_s: float | None, stem: str | None, max_s: float
                  ) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    separation, transcribe = parse_stem(path, stem)
    wav, start, end = melody_audio(path, start_s, end_s, separation, max_s)
    if not transcribe:
        return chroma_of_audio(wav, CHROMA_SAMPLE_RATE), start, end, {}
    from workbench.drafts.midi import notes_chroma
    from workbench.drafts.transcribe import transcribe_audio

    notes = transcribe_audio(f"melody draft {path}", wav, CHROMA_SAMPLE_RATE)
    return notes_chroma(path, notes.melody, 0.0, end - start), start, end, {"transcription": notes.record()}


def load_melody(path: str | Path, *, start_s: float = 0.0, end_s: float | None = None, stem: str | None = None,
                track: str | int | None = None, max_s: float = MAX_DRAFT_S) -> Melody:
    """Load an audio or MIDI melody draft as MusicGen-Melody chroma.

    Audio (WAV, FLAC, OGG, MP3; any rate and channel count) is mixed to mono, resampled to 32 kHz,
    cut to the window, optionally reduced to its harmonic part, and analysed by :func:`chroma_of_audio`.
    MIDI (``.mid``/``.midi``, by extension) gives chroma straight from the notes on the same frame grid:
    frame ``i`` of a window of ``d`` seconds (``1 + round(d * 32000) // 4096`` frames) is centred at
    ``start_s + i / CHROMA_RATE``, and takes the pitch class of its dominant note, the note with the
    largest ``velocity x seconds of overlap`` with the frame's span (one hop, centred on the frame);
    ties go to the highest pitch. Frames where no note sounds hold the previous note (leading ones take
    the first note), like silent audio frames. Drum instruments (channel 10) are always ignored.

    Args:
        path: The draft file.
        start_s: Start of the window in the file, seconds.
        end_s: End of the window, seconds; None or past the end of the file means the end of the file.
        stem: How audio is reduced before its chroma (MIDI drums are ignored anyway; see
            :data:`workbench.core.stems.STEM_HELP`): ``"harmonic"`` (needs librosa), ``"demucs"`` or
            ``"demucs:NAME"`` (needs Demucs), ``"transcribe"`` (needs Basic Pitch: the chroma of the highest voice
            of the notes it hears, as :func:`workbench.drafts.midi.notes_chroma` gives for MIDI), or a separation
            then ``"+transcribe"``. A transcription adds ``transcription`` to the record.
        track: MIDI only: an instrument index (int or digit string, as in the file) or name
            (case-insensitive); default: all pitched instruments.
        max_s: Longest file accepted, seconds.

    Raises:
        DraftError: one line naming the file and the problem (missing, empty, unreadable, too short or
            long, silent, no pitched notes, bad window, unknown stem or track).
    """
    path = Path(path)
    if not path.is_file():
        raise DraftError(f"melody draft {path}: no such file")
    if path.stat().st_size == 0:
        raise DraftError(f"melody draft {path}: the file is empty (0 bytes)")
    parse_stem(path, stem)
    is_midi = path.suffix.lower() in _MIDI_SUFFIXES
    extra: dict[str, Any] = {}
    if is_midi:
        from workbench.drafts.midi import midi_chroma

        chroma, start, end = midi_chroma(path, start_s, end_s, track, max_s)
    elif track is not None:
        raise DraftError(f"melody draft {path}: a track ({track!r}) can only be chosen in a MIDI file")
    else:
        chroma, start, end, extra = _audio_chroma(path, start_s, end_s, stem, max_s)
    chroma.setflags(write=False)
    record = {"kind": "midi" if is_midi else "audio", "sha256": file_sha256(path), "start_s": round(start, 6),
              "end_s": round(end, 6), "stem": stem, "track": track, "frames": int(len(chroma)),
              **extra}
    return Melody(chroma=chroma, frame_rate=CHROMA_RATE, record=record)
