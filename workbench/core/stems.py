"""The names of ``--melody-stem`` choices: how a melody draft's audio is reduced before its chroma (checked here, so
that prompt files and drafts agree; :mod:`workbench.drafts.melody_audio` does the work)."""

from __future__ import annotations

from pathlib import Path

from workbench.core.errors import DraftError

#: The choices of ``--melody-stem`` (a separation may be followed by ``+transcribe``; ``demucs:NAME`` picks a model).
STEMS = ("harmonic", "demucs", "transcribe", "harmonic+transcribe", "demucs+transcribe")
STEM_HELP = ("'harmonic': librosa's harmonic part (drums out, the bass stays); 'demucs': Demucs' vocals + other "
             "(drums and bass out, as audiocraft does; 'demucs:NAME' for another Demucs model); 'transcribe': Basic "
             "Pitch's notes, conditioning on the highest voice's exact chroma (also after a separation: "
             "'demucs+transcribe').")


def parse_stem(path: Path | str, stem: str | None) -> tuple[str | None, bool]:
    """``(separation, transcribe)`` of a ``--melody-stem`` value: separation is None, "harmonic" or "demucs[:NAME]".

    Raises:
        DraftError: an unknown value, naming the draft.
    """
    if stem is None:
        return None, False
    separation, plus, rest = str(stem).strip().partition("+")
    transcribe = separation == "transcribe" or (plus and rest == "transcribe")
    if separation == "transcribe" and not plus:
        return None, True
    name = separation.partition(":")[2] if separation.startswith("demucs:") else None
    if (separation not in ("harmonic", "demucs") and not name) or (plus and rest != "transcribe"):
        raise DraftError(f"melody draft {path}: unknown stem {stem!r}; use one of {', '.join(STEMS)}, "
                         "'demucs:NAME' or none")
    return separation, bool(transcribe)


__all__ = ["STEMS", "STEM_HELP", "parse_stem"]
