"""A prepared draft: what ``engine.generate`` needs from a melody, chords, continuation or branch, and how its
takes are finished (the draft record attached for the sidecar, the prompt dropped when asked, melody adherence
scored). :mod:`workbench.drafts.prepare` builds them from user options."""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.take import Take


def relative(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` (for sidecar records), else its name."""
    if base is not None:
        try:
            return os.path.relpath(path.resolve(), base.resolve())
        except ValueError:
            pass
    return path.name


@dataclass(frozen=True)
class Draft:
    """Prepared draft inputs for one or more takes.

    Attributes:
        record: What the sidecar records (file names relative to the sidecar, hashes, options), or None.
        melody: A :class:`workbench.drafts.melody.Melody` for melody models, or None.
        prompt_codes: ``[K, P]`` codes to continue from, or None.
        include_prompt: Whether finished takes start with the prompt audio.
        style: ``[channels, samples]`` reference clip at the model's rate for style models, or None.
    """

    record: dict[str, Any] | None = None
    melody: Any = None
    prompt_codes: np.ndarray | None = None
    include_prompt: bool = True
    style: np.ndarray | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`workbench.engine.Engine.generate` (``style`` only when there is one: the
        audiocraft engine takes it)."""
        return {"melody": self.melody, "prompt_codes": self.prompt_codes,
                **({"style": self.style} if self.style is not None else {})}

    def with_files(self, base: str | Path, *, melody: str | Path | None = None,
                   continue_from: str | Path | None = None, style: str | Path | None = None) -> Draft:
        """This draft recorded with its files elsewhere (e.g. kept copies of uploads), relative to ``base``.

        Nothing is read again: the copies hold the same bytes, so hashes and prepared inputs still hold.
        """
        if self.record is None:
            return self
        record = copy.deepcopy(self.record)
        for key, path in (("melody", melody), ("continuation", continue_from), ("style", style)):
            if path is not None and key in record:
                record[key]["file"] = relative(Path(path), Path(base))
        return dataclasses.replace(self, record=record)

    def finish(self, take: Take, engine: Any) -> Take:
        """Attach the draft record; drop the prompt if not wanted; score melody adherence."""
        if self.record is None:
            return take
        codes, audio = take.codes, take.audio
        if self.prompt_codes is not None and not self.include_prompt:
            codes = codes[:, self.prompt_codes.shape[-1]:]
            audio = engine.decode(codes)[:, :engine.samples_for(take.params.duration_s)]
        extra = dict(take.extra)
        if self.melody is not None:
            from workbench.drafts.melody import adherence

            # score the new music against the melody frames it was conditioned on (it starts after the prompt)
            new_audio = audio[:, audio.shape[-1] - engine.samples_for(take.params.duration_s):]
            prompt_s = 0.0 if self.prompt_codes is None else self.prompt_codes.shape[-1] / engine.frame_rate
            extra["melody_adherence"] = round(adherence(self.melody, new_audio, take.sample_rate, start_s=prompt_s,
                                                        windowed=bool(take.windows)), 4)
        return dataclasses.replace(take, codes=codes, audio=audio, draft=self.record, extra=extra)


NO_DRAFT = Draft()
