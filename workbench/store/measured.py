"""A take's measured tempo and key beside what its prompt asked for: ``asked 110 BPM, measured 109.6``, and a flag
where they differ (``asked A minor, measured C major ⚑ (relative major)``); measuring an existing take again."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.analysis.tempo_key import TempoKey, measure
from workbench.core.audio import read_audio
from workbench.core.errors import DraftError, HistoryError
from workbench.core.music import (
    canonical_key,
    check_bpm,
    key_parts,
    relative_key,
    said_tempo_and_key,
    same_tempo,
)
from workbench.store.naming import companion
from workbench.store.sidecar import read_sidecar, write_sidecar

#: What marks a measurement that differs from what was asked, on every surface.
FLAG = "⚑"


@dataclass(frozen=True)
class Versus:
    """The tempo and key a take's prompt asked for (None: it asked none) and those measured (None: unknown).

    ``measured`` is False for a take written before tempo and key were measured (:func:`measure_take` fills them).
    """

    asked_bpm: float | None
    asked_key: str | None
    bpm: float | None
    key: str | None
    measured: bool = True

    @property
    def bpm_off(self) -> bool:
        """A tempo was asked and measured, and they differ by more than the tolerance."""
        return self.asked_bpm is not None and self.bpm is not None and not same_tempo(self.asked_bpm, self.bpm)

    @property
    def key_off(self) -> bool:
        """A key was asked and measured, and they differ (enharmonic spellings are the same key)."""
        return self.asked_key is not None and self.key is not None and key_parts(self.key) != key_parts(self.asked_key)

    @property
    def flagged(self) -> bool:
        return self.bpm_off or self.key_off

    def tempo_text(self) -> str:
        """``asked 110 BPM, measured 109.6``; ``109.6 BPM`` when none was asked; ``tempo unknown``."""
        if not self.measured:
            return "tempo not measured"
        found = "unknown" if self.bpm is None else f"{self.bpm:.1f}"
        if self.asked_bpm is None:
            return "tempo unknown" if self.bpm is None else f"{found} BPM"
        text = f"asked {self.asked_bpm:g} BPM, measured {found}"
        if self.bpm_off:
            ratio = self.bpm / self.asked_bpm
            text += f" {FLAG}" + (" (half time)" if same_tempo(0.5, ratio) else " (double time)"
                                  if same_tempo(2.0, ratio) else "")
        return text

    def key_text(self) -> str:
        """``asked A minor, measured C major ⚑ (relative major)``; ``A minor`` when none was asked; ``key unknown``."""
        if not self.measured:
            return "key not measured"
        found = self.key or "unknown"
        if self.asked_key is None:
            return "key unknown" if self.key is None else found
        text = f"asked {self.asked_key}, measured {found}"
        if self.key_off:
            relative = key_parts(self.key) == key_parts(relative_key(self.asked_key))
            text += f" {FLAG}" + (f" (relative {'major' if key_parts(self.asked_key)[1] else 'minor'})"
                                  if relative else "")
        return text

    def text(self) -> str:
        """Both, ``" · "`` between them (``tempo and key not measured`` for a take written before they were)."""
        if not self.measured:
            return "tempo and key not measured (written before they were)"
        return f"{self.tempo_text()} · {self.key_text()}"


def asked_tempo(record: dict[str, Any]) -> tuple[float | None, str]:
    """The tempo a take sidecar's prompt asked for, and where it says so: its prompt file's ``bpm``
    (``"prompt file"``), else its chords draft's (``"chords"``), else its text's (``"110 BPM"``: ``"prompt"``); else
    ``(None, "")``."""
    prompt = record.get("prompt") or {}
    chords = (record.get("draft") or {}).get("chords") or {}
    for bpm, source in ((_bpm(prompt.get("bpm")), "prompt file"), (_bpm(chords.get("bpm")), "chords"),
                        (said_tempo_and_key(str(prompt.get("text") or ""))[0], "prompt")):
        if bpm is not None:
            return bpm, source
    return None, ""


def asked(record: dict[str, Any]) -> tuple[float | None, str | None]:
    """The tempo (:func:`asked_tempo`) and key a take sidecar's prompt asked for: its prompt file's ``key``, else what
    its text says (``"A minor"``)."""
    prompt = record.get("prompt") or {}
    return asked_tempo(record)[0], _key(prompt.get("key")) or said_tempo_and_key(str(prompt.get("text") or ""))[1]


def versus(record: dict[str, Any]) -> Versus:
    """What a take sidecar's prompt asked against what was measured (its ``analysis`` field)."""
    analysis = record.get("analysis")
    bpm, key = asked(record)
    if not isinstance(analysis, dict):
        return Versus(bpm, key, None, None, measured=False)
    return Versus(bpm, key, analysis.get("bpm"), analysis.get("key"))


def versus_row(row: dict[str, Any]) -> Versus:
    """The same for a history row (its prompt text says what was asked: a prompt file's tempo and key are in it)."""
    bpm, key = said_tempo_and_key(str(row.get("prompt") or ""))
    return Versus(bpm, key, row.get("bpm"), row.get("key"))


def measure_take(take: str | Path, history: Any = None) -> tuple[TempoKey, dict[str, Any]]:
    """Measure the tempo and key of an existing take from its audio file and write them into its sidecar (and its
    history row when ``history``, a :class:`workbench.store.history.History`, is given): for takes written before
    they were measured, or to measure again; a take that history does not index is left out of it. Returns the
    measurement and the sidecar record as written.

    Raises:
        ProvenanceError: ``take`` (its sidecar or audio file) is not a readable take.
    """
    sidecar = companion(take, ".json")
    record = read_sidecar(sidecar)
    audio, rate = read_audio(sidecar.parent / record["audio"]["file"])
    found = measure(audio, rate)
    if history is not None:
        try:
            history.get(sidecar)
        except HistoryError:
            history = None
    with history.locked() if history is not None else contextlib.nullcontext():
        record = read_sidecar(sidecar)  # again under the lock: a rating given meanwhile is kept
        record["analysis"] = found.record()
        write_sidecar(sidecar, record)
        if history is not None:
            history.index(sidecar, record)
    return found, record


def _bpm(value: Any) -> float | None:
    try:
        return check_bpm(value)
    except DraftError:
        return None


def _key(value: Any) -> str | None:
    try:
        return canonical_key(value)
    except DraftError:
        return None


__all__ = ["FLAG", "Versus", "asked", "measure_take", "versus", "versus_row"]
