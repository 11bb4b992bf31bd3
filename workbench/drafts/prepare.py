"""Drafts from user options: a melody to follow (audio or MIDI -> chroma), chords, or audio to continue, checked
and prepared as a :class:`workbench.drafts.draft.Draft` for the engine; and rebuilt from a sidecar's record."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.codec.tokens import read_tokens
from workbench.core.audio import read_audio, resample, to_channels
from workbench.core.errors import AudioFileError, DraftError, ModelCapabilityError, ProvenanceError
from workbench.core.hashing import file_sha256
from workbench.drafts.checks import MAX_DRAFT_S, check_length, check_samples
from workbench.drafts.draft import NO_DRAFT, Draft, relative

__all__ = ["NO_DRAFT", "Draft", "DraftOptions", "draft_from_record", "draft_identity", "follow_parent",
           "load_draft_audio", "prepare_draft"]


def load_draft_audio(path: str | Path, sample_rate: int, channels: int, *, max_s: float = MAX_DRAFT_S
                     ) -> np.ndarray:
    """Read a draft, check it (length, silence, NaN) and convert it to ``[channels, samples]`` at ``sample_rate``.

    Raises:
        DraftError: missing, empty, corrupt, unsupported, too short/long or silent audio, naming the file.
    """
    path = Path(path)
    try:
        audio, rate = read_audio(path)
    except AudioFileError as error:
        raise DraftError(f"draft {error}") from None
    check_length("draft", path, audio.shape[-1] / rate, max_s=max_s)
    check_samples("draft", path, audio)
    return to_channels(resample(audio, rate, sample_rate), channels)


@dataclass(frozen=True)
class DraftOptions:
    """What the user asked of drafts (files and options), before anything is loaded.

    Attributes:
        melody: Audio (WAV/FLAC/OGG/MP3) or MIDI file whose melody the take follows (melody models only).
        melody_start / melody_end: Window of the melody file, seconds (default: from 0 for the take's length).
        melody_stem: ``"harmonic"`` to suppress drums before computing chroma.
        midi_track: MIDI track index or instrument name to take notes from (default: all but drums).
        continue_from: Audio file or token file (``.codes.npz``) whose last ``prompt_seconds`` start the take.
        prompt_seconds: Seconds of ``continue_from`` used as the audio prompt.
        include_prompt: Whether the take starts with the prompt audio.
        duration_s: Take length, for the default melody window and for chords.
        chords: A chord progression (``"Am F C G"``) to follow instead of a melody file (see
            :mod:`workbench.drafts.chords`), with ``bpm``, ``beats_per_chord``, ``time_signature`` and
            ``voicing``.
        melody_time_base: How a melody or chord draft lines up with the take (see
            :meth:`workbench.drafts.melody.Melody.pass_chroma`): 2, or 1 to reproduce takes recorded before it.
        style: A reference clip whose style the take takes (MusicGen-Style models: ``style``, ``tiny-style``).
    """

    melody: str | Path | None = None
    melody_start: float = 0.0
    melody_end: float | None = None
    melody_stem: str | None = None
    midi_track: str | int | None = None
    continue_from: str | Path | None = None
    prompt_seconds: float = 5.0
    include_prompt: bool = True
    duration_s: float | None = None
    chords: str | None = None
    bpm: float | None = None
    beats_per_chord: float | None = None
    time_signature: str = "4/4"
    voicing: str = "root"
    melody_time_base: int = 2
    style: str | Path | None = None

    @property
    def melody_stop(self) -> float | None:
        """End of the melody window: as given, else start + the take's duration."""
        if self.melody_end is not None:
            return self.melody_end
        return self.melody_start + self.duration_s if self.duration_s else None

    def identity(self) -> dict[str, Any] | None:
        """What identifies the drafts for resume keys: file hashes and options (no decoding needed).

        Missing files are left to :func:`prepare_draft` to report; their hash is recorded as None here.
        """
        if self.melody is None and self.continue_from is None and self.chords is None and self.style is None:
            return None

        def sha(path: str | Path) -> str | None:
            return file_sha256(path) if Path(path).is_file() else None

        identity: dict[str, Any] = {}
        if self.melody is not None:
            identity["melody"] = {"sha256": sha(self.melody), "start_s": self.melody_start, "end_s": self.melody_stop,
                                  "stem": self.melody_stem, "track": self.midi_track,
                                  "time_base": self.melody_time_base}
        if self.chords is not None:
            identity["chords"] = {"chords": self.chords, "bpm": self.bpm, "beats_per_chord": self.beats_per_chord,
                                  "time_signature": self.time_signature, "voicing": self.voicing,
                                  "time_base": self.melody_time_base}
        if self.continue_from is not None:
            identity["continuation"] = {"sha256": sha(self.continue_from), "prompt_seconds": self.prompt_seconds,
                                        "include_prompt": self.include_prompt}
        if self.style is not None:
            identity["style"] = {"sha256": sha(self.style)}
        return identity


def draft_identity(**options: Any) -> dict[str, Any] | None:
    """:meth:`DraftOptions.identity` of the given :class:`DraftOptions` fields."""
    return DraftOptions(**options).identity()


def prepare_draft(engine: Any, *, record_base: str | Path | None = None, max_draft_s: float = MAX_DRAFT_S,
                  **options: Any) -> Draft:
    """Check and load draft files into a :class:`Draft` for ``engine``.

    Args:
        engine: The engine the takes will be rendered with.
        record_base: Folder the sidecar will live in (file names are recorded relative to it).
        max_draft_s: Longest draft accepted, seconds.
        **options: :class:`DraftOptions` fields.
    """
    opts = DraftOptions(**options)
    identity = opts.identity()
    if identity is None:
        return NO_DRAFT
    base = Path(record_base) if record_base is not None else None
    record: dict[str, Any] = {"identity": identity}
    melody_obj = None
    if opts.melody is not None or opts.chords is not None:
        option = "--melody" if opts.melody is not None else "--chords"
        if not engine.melody:
            raise ModelCapabilityError(
                f"{option} needs a melody model (melody, melody-large, stereo-melody, stereo-melody-large, or "
                f"tiny-melody offline); {engine.info.name!r} cannot follow a melody")
    if opts.chords is not None:
        from workbench.drafts.chords import ChordDraft, load_chords

        if opts.melody is not None:
            raise DraftError("give --melody or --chords, not both: a take follows one melody")
        if opts.bpm is None:
            raise DraftError("--chords needs --bpm (the tempo the chords change at)")
        melody_obj = load_chords(ChordDraft(opts.chords, opts.bpm, opts.beats_per_chord, opts.time_signature,
                                            opts.voicing), opts.duration_s)
        record["chords"] = melody_obj.record
    if opts.melody is not None:
        from workbench.drafts.melody import load_melody

        melody_obj = load_melody(opts.melody, start_s=opts.melody_start, end_s=opts.melody_stop,
                                 stem=opts.melody_stem, track=opts.midi_track, max_s=max_draft_s)
        record["melody"] = {**melody_obj.record, "file": relative(Path(opts.melody), base)}
    if melody_obj is not None:  # how it lines up with the take, recorded so that reproduce does the same
        melody_obj = dataclasses.replace(melody_obj, time_base=opts.melody_time_base,
                                         record={**melody_obj.record, "time_base": opts.melody_time_base})
        record["melody" if opts.melody is not None else "chords"]["time_base"] = opts.melody_time_base
    prompt_codes = None
    if opts.continue_from is not None:
        prompt_codes, info = _prompt_codes(engine, Path(opts.continue_from), opts.prompt_seconds, max_draft_s)
        record["continuation"] = {**info, "file": relative(Path(opts.continue_from), base),
                                  "prompt_seconds": opts.prompt_seconds, "include_prompt": opts.include_prompt}
    style = None
    if opts.style is not None:
        if not getattr(engine, "style", False):
            raise ModelCapabilityError(f"--style needs a style model (style, or tiny-style offline); "
                                       f"{engine.info.name!r} cannot take a style reference")
        style = load_draft_audio(opts.style, engine.sample_rate, engine.audio_channels, max_s=max_draft_s)
        record["style"] = {"sha256": file_sha256(opts.style), "file": relative(Path(opts.style), base)}
    return Draft(record=record, melody=melody_obj, prompt_codes=prompt_codes, include_prompt=opts.include_prompt,
                 style=style)


def _prompt_codes(engine: Any, path: Path, seconds: float, max_s: float) -> tuple[np.ndarray, dict[str, Any]]:
    """Codes of the last ``seconds`` of an audio or token file."""
    longest = engine.info.max_window_s / 2
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds <= longest):
        raise DraftError(f"--prompt-seconds must be in (0, {engine.info.max_window_s / 2:g}], got {seconds!r}")
    frames = max(1, round(seconds * engine.frame_rate))
    if not path.is_file():
        raise DraftError(f"draft {path}: no such file")
    sha = file_sha256(path)
    if path.name.endswith(".npz"):
        try:
            tokens = read_tokens(path)
        except ProvenanceError as error:
            raise DraftError(str(error)) from None
        meta = tokens.meta
        if (meta["num_codebooks"], meta["codebook_size"], meta["sample_rate"]) != (
                engine.num_codebooks, engine.info.codebook_size, engine.sample_rate):
            raise DraftError(f"draft {path}: tokens of a {meta['num_codebooks']}x{meta['codebook_size']} codec at "
                             f"{meta['sample_rate']} Hz cannot prompt {engine.info.name!r}")
        if tokens.codes.shape[-1] < frames:
            raise DraftError(f"draft {path}: holds {tokens.codes.shape[-1] / engine.frame_rate:g} s, "
                             f"less than --prompt-seconds {seconds:g}")
        return tokens.codes[:, -frames:], {"sha256": sha, "kind": "tokens"}
    audio = load_draft_audio(path, engine.sample_rate, engine.audio_channels, max_s=max_s)
    hop = engine.sample_rate // engine.frame_rate
    needed = frames * hop
    if audio.shape[-1] < needed:
        raise DraftError(f"draft {path}: {audio.shape[-1] / engine.sample_rate:.2f} s is shorter than "
                         f"--prompt-seconds {seconds:g}")
    return engine.encode(audio[:, -needed:]), {"sha256": sha, "kind": "audio"}


def draft_from_record(record: dict[str, Any] | None, *, base: Path, engine: Any) -> Draft:
    """Rebuild a :class:`Draft` from a sidecar's ``draft`` field (files are looked up relative to ``base``).

    Raises:
        DraftError: a draft file is missing or its hash no longer matches the recorded one.
    """
    if not record:
        return NO_DRAFT
    if not isinstance(record, dict):
        raise ProvenanceError("sidecar field 'draft' must be an object")
    if isinstance(record.get("branch"), dict):
        from workbench.drafts.branch import branch_from_record

        branch = branch_from_record(record["branch"], base=base, engine=engine)
        return follow_parent(branch, record, parent_base=base, base=base, engine=engine)
    options: dict[str, Any] = {"record_base": base}
    for key, info in record.items():
        if key == "identity":
            continue
        if key == "chords" and isinstance(info, dict):
            from workbench.drafts.chords import chords_from_record

            chords_from_record(info)  # the chroma hashes as recorded
            options.update(chords=info["chords"], bpm=info["bpm"], beats_per_chord=info["beats_per_chord"],
                           time_signature=info["time_signature"], voicing=info["voicing"],
                           duration_s=info["duration_s"], melody_time_base=info.get("time_base", 1))
            continue
        if key not in ("melody", "continuation", "style") or not isinstance(info, dict) or not isinstance(
                info.get("file"), str):
            raise ProvenanceError(f"sidecar field 'draft.{key}' is not a draft record")
        path = (base / info["file"]).resolve()
        if not path.is_file():
            raise DraftError(f"draft {info['file']} (needed to reproduce) is not next to the sidecar in {base}")
        if file_sha256(path) != info.get("sha256"):
            raise DraftError(f"draft {path} changed since the take was made (sha256 differs)")
        if key == "melody":
            options.update(melody=path, melody_start=info.get("start_s", 0.0), melody_end=info.get("end_s"),
                           melody_stem=info.get("stem"), midi_track=info.get("track"),
                           melody_time_base=info.get("time_base", 1))  # recorded before time bases: 1
        elif key == "style":
            options.update(style=path)
        else:
            options.update(continue_from=path, prompt_seconds=info["prompt_seconds"],
                           include_prompt=info["include_prompt"])
    return prepare_draft(engine, **options)


def follow_parent(branch: Draft, parent_draft: dict[str, Any] | None, *, parent_base: Path, base: Path,
                  engine: Any) -> Draft:
    """A retake (``branch``) of a take that follows a melody or chords follows them too, on the parent's timeline.

    With one time base (``time_base`` 2), time 0 of the melody is the start of the kept codes, which is the
    parent's start, so the new part hears the melody exactly where the parent heard it. ``parent_draft`` is the
    parent's sidecar ``draft`` (its files relative to ``parent_base``); the melody or chords record is copied into
    the retake's with its file relative to ``base``, the retake's folder.

    Raises:
        DraftError: the parent also continues a draft, or was made before one time base (it would restart).
    """
    parts = {key: info for key, info in (parent_draft or {}).items() if key in ("melody", "chords")}
    if not parts:
        return branch
    if "continuation" in (parent_draft or {}):
        raise DraftError("branching a take that follows a melody and continues a draft is not supported yet; "
                         "render it again with another seed instead")
    if any(info.get("time_base", 1) != 2 for info in parts.values()):
        raise DraftError("this take was made before melodies kept one timeline (time_base 1): a retake would "
                         "restart its melody; render it again, then branch the new take")
    melody = draft_from_record(parts, base=parent_base, engine=engine)
    record = {**branch.record, "identity": {**branch.record["identity"], **(melody.record.get("identity") or {})}}
    for key, info in parts.items():
        record[key] = {**info, **({"file": relative(parent_base / info["file"], base)} if "file" in info else {})}
    return dataclasses.replace(branch, melody=melody.melody, record=record)
