"""What conditions a take besides its text and sampling — segments, a melody or chords to follow, a draft to
continue, a style reference, the decoder — as one frozen value (:class:`Conditions`) validated in its constructor.

Renderers group passes by it, the render key and the sidecar hash its :meth:`Conditions.identity`, ``reproduce``
reads it back: a field added here is added everywhere. :mod:`workbench.core.fields` builds it from any source; a bad
value is a :class:`~workbench.core.errors.FieldError`, which each shell says in its own words.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.decoders import check_decoder
from workbench.core.errors import DraftError, FieldError, ParamsError
from workbench.core.hashing import file_sha256
from workbench.core.music import COMMON_TIME, VOICINGS, beats_per_bar, check_bpm, parse_progression, progression_text
from workbench.core.params import MAX_DURATION_S
from workbench.core.segments import Segments, check_segments
from workbench.core.stems import STEMS, parse_stem

#: How a melody or chord draft lines up with the take (see ``workbench.drafts.melody.Melody.pass_chroma``):
#: 2 for every new take; 1 only to reproduce takes recorded before one timeline.
TIME_BASES = (1, 2)
#: Longest chord a progression may hold, in beats.
MAX_BEATS_PER_CHORD = 64


def _quote(value: Any) -> str:
    """``repr(value)`` safe inside a problem's format string."""
    return repr(value).replace("{", "{{").replace("}", "}}")


def _seconds(field: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
            value <= 0 if positive else value < 0):
        raise FieldError(field, f"must be a number of seconds {'> 0' if positive else '>= 0'}, got {_quote(value)}")
    return float(value)


def _time_base(field: str, value: Any) -> int:
    if value in TIME_BASES and not isinstance(value, bool):
        return int(value)
    raise FieldError(field, f"time base must be one of {TIME_BASES}, got {_quote(value)}")


def _as_problem(field: str, error: DraftError) -> FieldError:
    """A core music rule's message as a problem of ``field`` (its own name or ``--flag`` prefix dropped)."""
    text = str(error)
    for prefix in (field, "--" + field.replace("_", "-"), "time signature", "chords"):
        text = text.removeprefix(prefix + " ").removeprefix(prefix + ": ")
    return FieldError.plain(field, text if text.startswith(("must", "needs")) else ": " + text)


@dataclass(frozen=True)
class MelodyInput:
    """A melody to follow (melody models): an audio or MIDI file and which part of it.

    Attributes:
        file: Audio (WAV/FLAC/OGG/MP3) or MIDI file.
        start_s / end_s: Window of the file, seconds (``end_s`` None: start + the take's duration).
        stem: How its audio is reduced before the chroma (a ``--melody-stem`` value, see
            :mod:`workbench.core.stems`), or None for the audio as it is.
        track: MIDI track index or name (default: every track but drums).
        time_base: See :data:`TIME_BASES`.
    """

    file: Path
    start_s: float = 0.0
    end_s: float | None = None
    stem: str | None = None
    track: str | int | None = None
    time_base: int = 2

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "file", Path(self.file))
        set_(self, "start_s", _seconds("melody_start", self.start_s))
        if self.end_s is not None:
            end = _seconds("melody_end", self.end_s, positive=True)
            if end <= self.start_s:
                raise FieldError("melody_end", f"must be after {{}} ({self.start_s:g} s), got {end:g}", "melody_start")
            set_(self, "end_s", end)
        stem = None if self.stem is None or str(self.stem).strip().lower() in ("", "none") else str(self.stem).strip()
        try:
            parse_stem(self.file, stem)
        except DraftError:
            raise FieldError("melody_stem", f"must be one of {', '.join(STEMS)}, 'demucs:NAME' or none, got "
                             f"{_quote(self.stem)}") from None
        set_(self, "stem", stem)
        track = self.track
        if isinstance(track, str) and track.strip().isdigit():
            track = int(track.strip())
        if track is not None and (isinstance(track, bool) or not (isinstance(track, int) and track >= 0 or (
                isinstance(track, str) and track.strip()))):
            raise FieldError("midi_track", f"must be a track number or name, got {_quote(self.track)}")
        set_(self, "track", track.strip() if isinstance(track, str) else track)
        set_(self, "time_base", _time_base("melody", self.time_base))

    def stop(self, duration_s: float | None) -> float | None:
        """End of the window for a take of ``duration_s`` seconds (None: unknown, the file's end)."""
        if self.end_s is not None or duration_s is None:
            return self.end_s
        return self.start_s + duration_s


@dataclass(frozen=True)
class ChordsInput:
    """A chord progression to follow (melody models) and how to play it.

    Attributes:
        chords: Chord symbols separated by spaces, commas or bars (``"Am F C G"``); ``N.C.`` is a rest.
        bpm: Tempo, beats per minute (the beat is the time signature's unit).
        beats_per_chord: Beats each chord lasts, or None for one bar (:attr:`beats` fills it in).
        time_signature: ``"beats/unit"``, e.g. ``"4/4"``, ``"3/4"``, ``"6/8"``.
        voicing: ``"root"`` (each chord's root) or ``"arpeggio"`` (its tones, one per beat).
        time_base: See :data:`TIME_BASES`.
    """

    chords: str
    bpm: float | None
    beats_per_chord: float | None = None
    time_signature: str = COMMON_TIME
    voicing: str = "root"
    time_base: int = 2

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            parse_progression(self.chords)
        except DraftError as error:
            raise _as_problem("chords", error) from None
        set_(self, "chords", progression_text(self.chords))
        if self.bpm is None:
            raise FieldError("chords", "needs {} (the tempo the chords change at)", "bpm")
        try:
            set_(self, "bpm", check_bpm(self.bpm, "bpm"))
        except DraftError as error:
            raise _as_problem("bpm", error) from None
        try:
            beats_per_bar(self.time_signature)
        except DraftError as error:
            raise _as_problem("time_signature", error) from None
        set_(self, "time_signature", self.time_signature.strip())
        beats = self.beats_per_chord
        if beats is not None:
            if isinstance(beats, bool) or not isinstance(beats, (int, float)) or not (
                    math.isfinite(beats) and 0 < beats <= MAX_BEATS_PER_CHORD):
                raise FieldError("beats_per_chord", f"must be beats in (0, {MAX_BEATS_PER_CHORD}], got "
                                 f"{_quote(beats)}")
            set_(self, "beats_per_chord", float(beats))
        if self.voicing not in VOICINGS:
            raise FieldError("voicing", f"must be one of {', '.join(VOICINGS)}, got {_quote(self.voicing)}")
        set_(self, "time_base", _time_base("chords", self.time_base))

    @property
    def beats(self) -> float:
        """Beats each chord lasts: as given, else one bar of the time signature."""
        return self.beats_per_chord if self.beats_per_chord is not None else float(beats_per_bar(self.time_signature))


@dataclass(frozen=True)
class ContinuationInput:
    """Audio or a token file whose last seconds start the take.

    Attributes:
        file: An audio file or a ``.codes.npz`` token file.
        prompt_seconds: Seconds of its end used as the prompt (at most half the model's window: checked when the
            model is known).
        include_prompt: Whether the take starts with the prompt's audio.
    """

    file: Path
    prompt_seconds: float = 5.0
    include_prompt: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", Path(self.file))
        object.__setattr__(self, "prompt_seconds", _seconds("prompt_seconds", self.prompt_seconds, positive=True))
        if not isinstance(self.include_prompt, bool):
            raise FieldError("include_prompt", f"must be true or false, got {_quote(self.include_prompt)}")


@dataclass(frozen=True)
class Conditions:
    """Everything that conditions a take besides its text and :class:`~workbench.core.params.GenerationParams`.

    Attributes:
        segments: ``((start_s, text), ...)``: texts that take over from those times (see
            :mod:`workbench.core.segments`); empty for none.
        melody: A melody to follow, or None.
        chords: Chords to follow, or None (a take follows a melody or chords, not both).
        continuation: A draft whose end starts the take, or None.
        style: A reference clip whose style the take takes (MusicGen-Style models), or None; it goes with the text
            alone.
        decoder: ``"encodec"`` (the model's own) or ``"mbd"`` (MultiBand Diffusion; not for continuations).
    """

    segments: Segments = ()
    melody: MelodyInput | None = None
    chords: ChordsInput | None = None
    continuation: ContinuationInput | None = None
    style: Path | None = None
    decoder: str = "encodec"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "segments", check_segments(self.segments, MAX_DURATION_S + 1))
        except ParamsError as error:
            raise FieldError.plain("segments", str(error), whole=True) from None
        if self.style is not None:
            object.__setattr__(self, "style", Path(self.style))
        try:
            object.__setattr__(self, "decoder", check_decoder(self.decoder))
        except ParamsError as error:
            raise FieldError.plain("decoder", str(error).removeprefix("decoder ")) from None
        if self.melody is not None and self.chords is not None:
            raise FieldError("chords", "cannot go with {}: a take follows one melody", "melody")
        others = [name for name, value in (("melody", self.melody), ("chords", self.chords),
                                           ("continue_from", self.continuation), ("segments", self.segments))
                  if value]
        if self.style is not None and others:
            raise FieldError("style", "takes the text and the style clip alone, not " + " or ".join("{}" for _ in
                             others), *others)
        if self.decoder != "encodec" and self.continuation is not None:
            raise FieldError("decoder", f"{self.decoder} decodes takes rendered from text, a melody or chords, not "
                             "continuations ({})", "continue_from")

    def replace(self, **changes: Any) -> Conditions:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def drafted(self) -> bool:
        """Whether anything besides the text conditions the take (a file or chords to prepare)."""
        return any((self.melody, self.chords, self.continuation, self.style))

    def files(self) -> dict[str, Path]:
        """The draft files by role (``melody``, ``continue_from``, ``style``): what a sidecar records relative to its
        folder (see ``workbench.drafts.draft.Draft.with_files``)."""
        found = {"melody": self.melody and self.melody.file, "continue_from": self.continuation and
                 self.continuation.file, "style": self.style}
        return {role: path for role, path in found.items() if path is not None}

    def with_files(self, **paths: Path | None) -> Conditions:
        """These conditions with their draft files elsewhere (copies holding the same bytes), by role as
        :meth:`files` names them; a role given None keeps its file."""
        moved = {role: Path(path) for role, path in paths.items() if path is not None}
        changes: dict[str, Any] = {}
        if "melody" in moved and self.melody is not None:
            changes["melody"] = dataclasses.replace(self.melody, file=moved["melody"])
        if "continue_from" in moved and self.continuation is not None:
            changes["continuation"] = dataclasses.replace(self.continuation, file=moved["continue_from"])
        if "style" in moved and self.style is not None:
            changes["style"] = moved["style"]
        return self.replace(**changes)

    def check_length(self, duration_s: float) -> None:
        """The rules that need the take's length: every segment starts before its end."""
        try:
            check_segments(self.segments, duration_s)
        except ParamsError as error:
            raise FieldError.plain("segments", str(error), whole=True) from None

    def identity(self, duration_s: float | None) -> dict[str, Any] | None:
        """What identifies the drafts of a take of ``duration_s`` seconds: file hashes and options, no decoding.

        The render key and the sidecar's ``draft.identity`` hash this. A missing file is recorded with hash None
        (preparing the draft reports it).
        """
        if not self.drafted:
            return None

        def sha(path: Path) -> str | None:
            return file_sha256(path) if path.is_file() else None

        identity: dict[str, Any] = {}
        if self.melody is not None:
            m = self.melody
            identity["melody"] = {"sha256": sha(m.file), "start_s": m.start_s, "end_s": m.stop(duration_s),
                                  "stem": m.stem, "track": m.track, "time_base": m.time_base}
        if self.chords is not None:
            c = self.chords
            identity["chords"] = {"chords": c.chords, "bpm": c.bpm, "beats_per_chord": c.beats_per_chord,
                                  "time_signature": c.time_signature, "voicing": c.voicing, "time_base": c.time_base}
        if self.continuation is not None:
            identity["continuation"] = {"sha256": sha(self.continuation.file),
                                        "prompt_seconds": self.continuation.prompt_seconds,
                                        "include_prompt": self.continuation.include_prompt}
        if self.style is not None:
            identity["style"] = {"sha256": sha(self.style)}
        return identity


TEXT_ONLY = Conditions()  # a take conditioned on its text alone, decoded by the model's EnCodec

__all__ = ["ChordsInput", "Conditions", "ContinuationInput", "MelodyInput", "TEXT_ONLY", "TIME_BASES"]
