"""Drafts transcribed to notes: Spotify's Basic Pitch (audio -> notes, with the ONNX model bundled in its wheel, fully
offline), the melody line of those notes (the highest voice), a MIDI file and a piano-roll image of them."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DraftError
from workbench.core.stems import parse_stem
from workbench.drafts.checks import MAX_DRAFT_S
from workbench.drafts.grid import CHROMA_SAMPLE_RATE
from workbench.drafts.melody_audio import melody_audio

#: How to install Basic Pitch (its metadata pins TensorFlow on Python >= 3.11, so it is installed without its deps).
INSTALL = ("transcription needs Basic Pitch, installed without its TensorFlow pin: "
           "pip install -c constraints.txt -e '.[transcribe]' && pip install --no-deps -r requirements-nodeps.txt")
#: Basic Pitch's own defaults (``basic_pitch.inference.predict``): onset and frame thresholds, shortest note (ms).
ONSET_THRESHOLD, FRAME_THRESHOLD, MIN_NOTE_MS = 0.5, 0.3, 127.70
#: The tracks of a transcription's MIDI file.
NOTES_TRACK, MELODY_TRACK = "notes", "melody"
#: Note times are rounded to the tick of the MIDI file written (pretty_midi's 220 ticks per beat at 120 bpm), so the
#: file's ``melody`` track gives exactly the chroma the workbench conditions on.
TICK_S = 60 / (120 * 220)


@dataclass(frozen=True)
class Note:
    """One note: ``start``/``end``, seconds from the start of the transcribed audio; MIDI ``pitch``, ``velocity``."""

    start: float
    end: float
    pitch: int
    velocity: int


def melody_line(notes: list[Note] | tuple[Note, ...]) -> tuple[Note, ...]:
    """The highest voice: wherever notes sound, the highest one (the louder one at equal pitch) is the melody.

    A lower note is cut where a higher one starts and resumes where it ends; touching pieces of one note merge.
    """
    ordered = sorted(notes, key=lambda n: n.start)
    cuts = sorted({t for n in ordered for t in (n.start, n.end)})
    pieces: list[list[Any]] = []
    active: list[Note] = []
    i = 0
    for a, b in zip(cuts, cuts[1:], strict=False):
        while i < len(ordered) and ordered[i].start <= a:
            active.append(ordered[i])
            i += 1
        active = [n for n in active if n.end > a]
        sounding = [n for n in active if n.end >= b]
        if not sounding:
            continue
        top = max(sounding, key=lambda n: (n.pitch, n.velocity))
        if pieces and pieces[-1][2] is top and pieces[-1][1] == a:
            pieces[-1][1] = b
        else:
            pieces.append([a, b, top])
    return tuple(Note(a, b, top.pitch, top.velocity) for a, b, top in pieces)


@dataclass(frozen=True)
class Transcription:
    """The notes Basic Pitch heard in a draft, and their melody line (:func:`melody_line`)."""

    notes: tuple[Note, ...]
    melody: tuple[Note, ...]
    duration_s: float
    transcriber: str

    def record(self) -> dict[str, Any]:
        """What a sidecar stores: the transcriber, note counts and the hash of the melody line."""
        rows = [[round(n.start, 6), round(n.end, 6), n.pitch, n.velocity] for n in self.melody]
        return {"transcriber": self.transcriber, "notes": len(self.notes), "melody_notes": len(self.melody),
                "melody_sha256": hashlib.sha256(json.dumps(rows).encode()).hexdigest()}

    def to_midi(self) -> Any:
        """A ``pretty_midi.PrettyMIDI`` with two piano tracks: ``notes`` (everything heard) and ``melody``."""
        import pretty_midi

        midi = pretty_midi.PrettyMIDI()
        for name, notes in ((NOTES_TRACK, self.notes), (MELODY_TRACK, self.melody)):
            track = pretty_midi.Instrument(program=0, name=name)
            track.notes = [pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=n.start, end=n.end)
                           for n in notes]
            midi.instruments.append(track)
        return midi

    def write_midi(self, path: str | Path, *, force: bool = False) -> Path:
        """Write :meth:`to_midi` to ``path`` (atomically)."""
        from workbench.core.atomic import write_with

        write_with(Path(path), lambda temp: self.to_midi().write(str(temp)), force=force)
        return Path(path)

    def write_piano_roll(self, path: str | Path, *, force: bool = False) -> Path:
        """Write a PNG piano roll: every note in grey, the melody line over it in orange, a line at each C."""
        from PIL import Image, ImageDraw

        from workbench.core.atomic import write_with

        low = min(n.pitch for n in self.notes) - 2
        high = max(n.pitch for n in self.notes) + 2
        px_s, row = min(100.0, 4000.0 / max(self.duration_s, 1e-3)), 6
        width, height = max(1, math.ceil(self.duration_s * px_s)), (high - low + 1) * row
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        for pitch in range(low, high + 1):
            if pitch % 12 == 0:
                y = (high - pitch) * row + row - 1
                draw.line([(0, y), (width, y)], fill=(215, 215, 215))
        for notes, colour in ((self.notes, (140, 140, 140)), (self.melody, (230, 120, 20))):
            for n in notes:
                y = (high - n.pitch) * row
                draw.rectangle([(n.start * px_s, y), (max(n.start * px_s + 1, n.end * px_s - 1), y + row - 2)],
                               fill=colour)
        write_with(Path(path), lambda temp: image.save(temp, format="PNG"), force=force)
        return Path(path)


def _basic_pitch() -> tuple[Any, Any, Any, str]:
    """Basic Pitch's ``run_inference``, note creation and ONNX model path, and its version (or one-line DraftError)."""
    from importlib.metadata import PackageNotFoundError, version

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # on import it warns about each backend it lacks (TensorFlow, CoreML, TFLite)
    try:
        import basic_pitch.note_creation as notes
        from basic_pitch import ONNX_PRESENT, FilenameSuffix, build_icassp_2022_model_path
        from basic_pitch.inference import run_inference
    except ImportError as error:
        raise DraftError(f"{INSTALL} ({error})") from None
    finally:
        logging.disable(previous)
    if not ONNX_PRESENT:
        raise DraftError(f"{INSTALL} (onnxruntime is missing)")
    try:
        release = version("basic-pitch")
    except PackageNotFoundError:
        release = "unknown"
    return run_inference, notes, build_icassp_2022_model_path(FilenameSuffix.onnx), release


def transcribe_audio(label: str, wav: np.ndarray, sample_rate: int) -> Transcription:
    """Transcribe mono audio ``[samples]`` with Basic Pitch's ICASSP 2022 model (its default thresholds).

    Raises:
        DraftError: Basic Pitch is missing, or it found no notes (``label`` names the draft).
    """
    import soundfile as sf

    run_inference, note_creation, model_path, release = _basic_pitch()
    from basic_pitch.constants import AUDIO_SAMPLE_RATE, FFT_HOP
    from basic_pitch.inference import Model

    with tempfile.TemporaryDirectory(prefix="workbench-transcribe-") as folder:
        source = Path(folder) / "draft.wav"  # Basic Pitch reads a file (librosa.load, resampled to 22050 Hz)
        sf.write(source, np.asarray(wav, dtype=np.float32), sample_rate, subtype="FLOAT")
        output = run_inference(source, Model(model_path))
    _, events = note_creation.model_output_to_notes(
        output, onset_thresh=ONSET_THRESHOLD, frame_thresh=FRAME_THRESHOLD,
        min_note_len=int(np.round(MIN_NOTE_MS / 1000 * (AUDIO_SAMPLE_RATE / FFT_HOP))), min_freq=None, max_freq=None,
        multiple_pitch_bends=False, melodia_trick=True, midi_tempo=120)
    def tick(t: float) -> float:
        return round(float(t) / TICK_S) * TICK_S

    notes = tuple(sorted((Note(tick(s), max(tick(e), tick(s) + TICK_S), int(p),
                               int(np.clip(round(127 * float(a)), 1, 127))) for s, e, p, a, _ in events),
                         key=lambda n: (n.start, n.pitch)))
    if not notes:
        raise DraftError(f"{label}: Basic Pitch found no notes in it; is it music?")
    return Transcription(notes=notes, melody=melody_line(notes), duration_s=len(wav) / sample_rate,
                         transcriber=f"basic-pitch {release} (icassp_2022, ONNX)")


def check_transcribable(path: str | Path) -> Path:
    """Refuse a missing file or a MIDI file (it holds notes already) before any work; return the path."""
    path = Path(path)
    if not path.is_file():
        raise DraftError(f"melody draft {path}: no such file")
    if path.suffix.lower() in (".mid", ".midi"):
        raise DraftError(f"melody draft {path}: a MIDI file holds notes already; transcription takes audio")
    return path


def transcribe_file(path: str | Path, *, start_s: float = 0.0, end_s: float | None = None, stem: str | None = None,
                    max_s: float = MAX_DRAFT_S) -> Transcription:
    """Transcribe a window of an audio draft exactly as ``--melody-stem transcribe`` does (times count from
    ``start_s``), after the separation ``stem`` names ("harmonic", "demucs", "demucs:NAME"), if any.

    Raises:
        DraftError: one line naming the file (missing, unreadable, silent, bad window, no notes, no Basic Pitch).
    """
    path = check_transcribable(path)
    separation, _ = parse_stem(path, stem)
    wav, _, _ = melody_audio(path, start_s, end_s, separation, max_s)
    return transcribe_audio(f"melody draft {path}", wav, CHROMA_SAMPLE_RATE)


__all__ = ["INSTALL", "MELODY_TRACK", "NOTES_TRACK", "Note", "Transcription", "check_transcribable", "melody_line",
           "transcribe_audio", "transcribe_file"]
