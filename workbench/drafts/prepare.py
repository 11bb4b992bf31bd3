"""Drafts from user options: a melody to follow (audio or MIDI -> chroma), chords, or audio to continue, checked
and prepared as a :class:`workbench.drafts.draft.Draft` for the engine; and rebuilt from a sidecar's record."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from workbench.codec.tokens import read_tokens
from workbench.core.audio import read_audio, resample, to_channels
from workbench.core.conditions import ChordsInput, Conditions, ContinuationInput, MelodyInput
from workbench.core.errors import AudioFileError, DraftError, FieldError, ModelCapabilityError, ProvenanceError
from workbench.core.fields import conditions_from_fields
from workbench.core.hashing import file_sha256
from workbench.drafts.checks import MAX_DRAFT_S, check_length, check_samples
from workbench.drafts.draft import NO_DRAFT, Draft, relative

__all__ = ["NO_DRAFT", "Draft", "conditions_from_record", "draft_from_record", "follow_parent", "load_draft_audio",
           "prepare_draft"]


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


def prepare_draft(engine: Any, conditions: Conditions | None = None, *, duration_s: float | None = None,
                  record_base: str | Path | None = None, max_draft_s: float = MAX_DRAFT_S, **fields: Any) -> Draft:
    """Check and load what ``conditions`` names (files, chords) into a :class:`Draft` for ``engine``.

    Args:
        engine: The engine the takes will be rendered with.
        conditions: What conditions the takes (segments and the decoder are the renderer's: not used here); or
            give its ``fields`` instead (see :func:`~workbench.core.fields.conditions_from_fields`), e.g.
            ``prepare_draft(engine, chords="Am F C G", bpm=110, duration_s=8)``.
        duration_s: The takes' length, seconds (the default melody window; chords need it).
        record_base: Folder the sidecar will live in (file names are recorded relative to it).
        max_draft_s: Longest draft accepted, seconds.

    Raises:
        FieldError: a bad field (see :mod:`workbench.core.conditions`).
        ModelCapabilityError: the model cannot take a melody, chords or a style reference.
        DraftError: a missing, unreadable, silent or too short draft, naming it.
    """
    if conditions is None:
        conditions = conditions_from_fields(**fields)
    elif fields:
        raise TypeError(f"give conditions or their fields, not both (got {', '.join(sorted(fields))})")
    identity = conditions.identity(duration_s)
    if identity is None:
        return NO_DRAFT
    base = Path(record_base) if record_base is not None else None
    record: dict[str, Any] = {"identity": identity}
    melody_obj = None
    if conditions.melody is not None or conditions.chords is not None:
        what = "a melody" if conditions.melody is not None else "chords"
        if not engine.melody:
            raise ModelCapabilityError(
                f"following {what} needs a melody model (melody, melody-large, stereo-melody, stereo-melody-large, or "
                f"tiny-melody offline); {engine.info.name!r} cannot follow a melody")
    if conditions.chords is not None:
        from workbench.drafts.chords import load_chords

        melody_obj = load_chords(conditions.chords, duration_s)
        record["chords"] = melody_obj.record
    melody = conditions.melody
    if melody is not None:
        from workbench.drafts.melody import load_melody

        melody_obj = load_melody(melody.file, start_s=melody.start_s, end_s=melody.stop(duration_s),
                                 stem=melody.stem, track=melody.track, max_s=max_draft_s)
        record["melody"] = {**melody_obj.record, "file": relative(melody.file, base)}
    if melody_obj is not None:  # how it lines up with the take, recorded so that reproduce does the same
        time_base = melody.time_base if melody is not None else conditions.chords.time_base
        melody_obj = dataclasses.replace(melody_obj, time_base=time_base,
                                         record={**melody_obj.record, "time_base": time_base})
        record["melody" if melody is not None else "chords"]["time_base"] = time_base
    prompt_codes = None
    continuation = conditions.continuation
    if continuation is not None:
        prompt_codes, info = _prompt_codes(engine, continuation.file, continuation.prompt_seconds, max_draft_s)
        record["continuation"] = {**info, "file": relative(continuation.file, base),
                                  "prompt_seconds": continuation.prompt_seconds,
                                  "include_prompt": continuation.include_prompt}
    style = None
    if conditions.style is not None:
        if not getattr(engine, "style", False):
            raise ModelCapabilityError(f"a style reference needs a style model (style, or tiny-style offline); "
                                       f"{engine.info.name!r} cannot take a style reference")
        style = load_draft_audio(conditions.style, engine.sample_rate, engine.audio_channels, max_s=max_draft_s)
        record["style"] = {"sha256": file_sha256(conditions.style), "file": relative(conditions.style, base)}
    return Draft(record=record, melody=melody_obj, prompt_codes=prompt_codes,
                 include_prompt=True if continuation is None else continuation.include_prompt, style=style)


def _prompt_codes(engine: Any, path: Path, seconds: float, max_s: float) -> tuple[np.ndarray, dict[str, Any]]:
    """Codes of the last ``seconds`` of an audio or token file."""
    longest = engine.info.max_window_s / 2
    if seconds > longest:
        raise FieldError("prompt_seconds", f"must be at most {longest:g} s for {engine.info.name!r} (half its "
                         f"window), got {seconds:g}")
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
            raise DraftError(f"draft {path.name}: tokens of a {meta['num_codebooks']}x{meta['codebook_size']} codec "
                             f"at {meta['sample_rate']} Hz cannot prompt {engine.info.name!r}")
        held = tokens.codes.shape[-1] / engine.frame_rate
        if tokens.codes.shape[-1] < frames:
            raise FieldError("prompt_seconds", f"{seconds:g} s is more than the draft {path.name} holds ({held:g} s)")
        return tokens.codes[:, -frames:], {"sha256": sha, "kind": "tokens"}
    audio = load_draft_audio(path, engine.sample_rate, engine.audio_channels, max_s=max_s)
    hop = engine.sample_rate // engine.frame_rate
    needed = frames * hop
    if audio.shape[-1] < needed:
        raise FieldError("prompt_seconds", f"{seconds:g} s is more than the draft {path.name} holds "
                         f"({audio.shape[-1] / engine.sample_rate:.2f} s)")
    return engine.encode(audio[:, -needed:]), {"sha256": sha, "kind": "audio"}


def _recorded_file(base: Path, key: str, info: Any) -> Path:
    """A draft file a sidecar names, checked to be there with the recorded hash."""
    if not isinstance(info, dict) or not isinstance(info.get("file"), str):
        raise ProvenanceError(f"sidecar field 'draft.{key}' is not a draft record")
    path = (base / info["file"]).resolve()
    if not path.is_file():
        raise DraftError(f"draft {info['file']} (needed to reproduce) is not next to the sidecar in {base}")
    if file_sha256(path) != info.get("sha256"):
        raise DraftError(f"draft {path} changed since the take was made (sha256 differs)")
    return path


def conditions_from_record(record: dict[str, Any], *, base: Path) -> Conditions:
    """The :class:`Conditions` a take's sidecar records (``draft``, ``prompt.segments``, ``extra.decoder``), its
    files looked up relative to ``base`` and checked against their recorded hashes (branch records aside: see
    :func:`draft_from_record`).

    Raises:
        DraftError: a draft file is missing or changed since the take was made.
        ProvenanceError: a draft record that is not one.
    """
    draft = record.get("draft") or {}
    if not isinstance(draft, dict):
        raise ProvenanceError("sidecar field 'draft' must be an object")
    fields: dict[str, Any] = {"segments": (record.get("prompt") or {}).get("segments") or (),
                              "decoder": ((record.get("extra") or {}).get("decoder") or {}).get("name")}
    for key, info in draft.items():
        if key in ("identity", "branch"):
            continue
        if key == "chords" and isinstance(info, dict):
            try:
                fields["chords"] = ChordsInput(info["chords"], info["bpm"], info["beats_per_chord"],
                                               info["time_signature"], info["voicing"], info.get("time_base", 1))
            except KeyError as error:
                raise ProvenanceError(f"sidecar field 'draft.chords' is incomplete ({error})") from None
        elif key == "melody":
            fields["melody"] = MelodyInput(_recorded_file(base, key, info), info.get("start_s", 0.0),
                                           info.get("end_s"), info.get("stem"), info.get("track"),
                                           info.get("time_base", 1))  # recorded before time bases: 1
        elif key == "style":
            fields["style"] = _recorded_file(base, key, info)
        elif key == "continuation":
            fields["continuation"] = ContinuationInput(_recorded_file(base, key, info), info["prompt_seconds"],
                                                       info["include_prompt"])
        else:
            raise ProvenanceError(f"sidecar field 'draft.{key}' is not a draft record")
    return Conditions(**fields)


def draft_from_record(record: dict[str, Any] | None, *, base: Path, engine: Any, duration_s: float) -> Draft:
    """Rebuild a :class:`Draft` from a sidecar's ``draft`` field (files are looked up relative to ``base``) for a
    take of ``duration_s`` seconds (chords keep their recorded length: a retake follows its parent's).

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
    conditions = conditions_from_record({"draft": record}, base=base)
    if isinstance(record.get("chords"), dict):
        from workbench.drafts.chords import chords_from_record

        chords_from_record(record["chords"])  # the chroma hashes as recorded
        duration_s = record["chords"].get("duration_s", duration_s)
    return prepare_draft(engine, conditions, duration_s=duration_s, record_base=base)


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
    melody = draft_from_record(parts, base=parent_base, engine=engine, duration_s=0.0)
    record = {**branch.record, "identity": {**branch.record["identity"], **(melody.record.get("identity") or {})}}
    for key, info in parts.items():
        record[key] = {**info, **({"file": relative(parent_base / info["file"], base)} if "file" in info else {})}
    return dataclasses.replace(branch, melody=melody.melody, record=record)
