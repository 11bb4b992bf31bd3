"""What conditions a take, from flat fields named as prompt files name them (``melody``, ``melody_end``, ``chords``,
``bpm``...): the one way every source — the CLI's options, a prompt-file entry, the UI's inputs — builds a
:class:`~workbench.core.conditions.Conditions`, refusing a field given without the draft it belongs to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.core.conditions import ChordsInput, Conditions, ContinuationInput, MelodyInput
from workbench.core.errors import FieldError, FieldErrors
from workbench.core.music import COMMON_TIME

#: The fields :func:`conditions_from_fields` takes, as prompt files name them (the CLI's options and the UI's inputs
#: map onto these).
FIELDS = ("segments", "melody", "melody_start", "melody_end", "melody_stem", "midi_track", "chords", "bpm",
          "beats_per_chord", "time_signature", "voicing", "continue_from", "prompt_seconds", "include_prompt", "style",
          "decoder")
#: A field that only means something beside another: given without it, it is refused (never silently ignored).
BELONGS_TO = {"melody_start": "melody", "melody_end": "melody", "melody_stem": "melody", "midi_track": "melody",
              "beats_per_chord": "chords", "voicing": "chords", "prompt_seconds": "continue_from",
              "include_prompt": "continue_from"}


def conditions_from_fields(**given: Any) -> Conditions:
    """:class:`Conditions` from flat fields named as in :data:`FIELDS`, None meaning "not given": the one way every
    source (CLI options, a prompt-file entry, the UI's inputs) builds it.

    ``bpm`` and ``time_signature`` are the chords' when chords are given (they also describe the music for loops, so
    alone they are not refused); any other field given without the draft it belongs to (:data:`BELONGS_TO`) is.

    Raises:
        FieldErrors: every problem found (reads as the first); TypeError for a field name not in :data:`FIELDS`.
    """
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown condition field(s): {', '.join(sorted(unknown))}")
    value = {name: given.get(name) for name in FIELDS}
    errors: list[FieldError] = [FieldError(name, "only applies with {}", owner) for name, owner in BELONGS_TO.items()
                                if value[name] is not None and value[owner] is None]
    parts: dict[str, Any] = {}

    def build(name: str, make: Callable[[], Any]) -> None:
        try:
            parts[name] = make()
        except FieldErrors as error:
            errors.extend(error.errors)
        except FieldError as error:
            errors.append(error)

    def given_or(name: str, default: Any) -> Any:
        return default if value[name] is None else value[name]

    if value["melody"] is not None:
        build("melody", lambda: MelodyInput(value["melody"], given_or("melody_start", 0.0), value["melody_end"],
                                            value["melody_stem"], value["midi_track"]))
    if value["chords"] is not None:
        build("chords", lambda: ChordsInput(value["chords"], value["bpm"], value["beats_per_chord"],
                                            given_or("time_signature", COMMON_TIME), given_or("voicing", "root")))
    if value["continue_from"] is not None:
        build("continuation", lambda: ContinuationInput(value["continue_from"], given_or("prompt_seconds", 5.0),
                                                        given_or("include_prompt", True)))
    if not errors:
        build("all", lambda: Conditions(segments=value["segments"] or (), melody=parts.get("melody"),
                                        chords=parts.get("chords"), continuation=parts.get("continuation"),
                                        style=value["style"], decoder=value["decoder"]))
    if errors:
        raise FieldErrors(errors)
    return parts["all"]



def flag_name(field: str) -> str:
    """A field as the CLI names it: ``melody_end`` -> ``--melody-end`` (``segments`` -> ``--segment``)."""
    return {"segments": "--segment"}.get(field, "--" + field.replace("_", "-"))


__all__ = ["BELONGS_TO", "FIELDS", "conditions_from_fields", "flag_name"]
