"""Generation parameters (frozen, validated) and seed parsing."""

from __future__ import annotations

import dataclasses
import math
import secrets
from dataclasses import dataclass
from typing import Any

from workbench.core.errors import ParamsError

#: Longest take, in seconds. Beyond the model's window (30 s) the engine extends in windows.
MAX_DURATION_S = 300.0
#: Seeds are unsigned 63-bit integers so that they fit SQLite and JSON consumers exactly.
MAX_SEED = 2**63 - 1


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamsError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParamsError(f"{name} must be a finite number, got {value!r}")
    return value


def _integer(name: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamsError(f"{name} must be an integer, got {value!r}")
    return value


#: field -> (conversion, validity test, the rule as the error message states it)
_RULES: dict[str, tuple[Any, Any, str]] = {
    "duration_s": (_number, lambda v: 0 < v <= MAX_DURATION_S, f"in (0, {MAX_DURATION_S:g}] seconds"),
    "guidance_scale": (_number, lambda v: v >= 0, ">= 0"),
    "temperature": (_number, lambda v: v > 0, "> 0"),
    "top_k": (_integer, lambda v: v >= 0, ">= 0 (0 disables it)"),
    "top_p": (_number, lambda v: 0 <= v <= 1, "in [0, 1] (1 disables it)"),
    "extend_stride_s": (_number, lambda v: 1 <= v <= 29, "in [1, 29] seconds"),
}


@dataclass(frozen=True)
class GenerationParams:
    """How a take is sampled. Passed on every call; never stored on the engine.

    Attributes:
        duration_s: Length of the take in seconds, in (0, 300]. The audio has exactly
            ``round(duration_s * sample_rate)`` samples. Beyond the model's 30 s window the engine
            continues the piece in windows (see ``extend_stride_s``).
        guidance_scale: Classifier-free guidance; values <= 1 disable it (transformers' semantics).
        temperature: Softmax temperature, > 0.
        top_k: Keep the k most likely tokens per codebook; 0 disables the filter.
        top_p: Nucleus sampling mass in [0, 1]; 1.0 disables it (transformers' semantics; note that
            audiocraft uses 0 for "off").
        extend_stride_s: New audio per window when a take is longer than the model's window, seconds.
    """

    duration_s: float = 8.0
    guidance_scale: float = 3.0
    temperature: float = 1.0
    top_k: int = 250
    top_p: float = 1.0
    extend_stride_s: float = 18.0

    def __post_init__(self) -> None:
        for name, (convert, valid, rule) in _RULES.items():
            value = convert(name, getattr(self, name))
            if not valid(value):
                raise ParamsError(f"{name} must be {rule}, got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> GenerationParams:
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - set(field_names())
        if unknown:
            raise ParamsError(f"unknown generation parameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationParams:
        """Build from a mapping (a sidecar, a prompt file); unknown keys are an error."""
        if not isinstance(data, dict):
            raise ParamsError(f"generation parameters must be a mapping, got {type(data).__name__}")
        unknown = set(data) - set(field_names())
        if unknown:
            raise ParamsError(f"unknown generation parameter(s): {', '.join(sorted(unknown))}")
        return cls(**data)


#: The shells' names of the sampling settings -> the field of :class:`GenerationParams` each sets.
SETTINGS = {"duration": "duration_s", "guidance": "guidance_scale", "temperature": "temperature", "top_k": "top_k",
            "top_p": "top_p", "stride": "extend_stride_s"}


def params_from_settings(base: GenerationParams | None = None, **settings: Any) -> GenerationParams:
    """The parameters that a command's options or the UI's settings describe, validated: ``base`` (default
    :class:`GenerationParams`' defaults; a model's own: :func:`workbench.models.registry.default_params`) with every
    setting that was given (None: not given) applied.

    The one place both shells turn their values into :class:`GenerationParams`; ``settings`` are named as in
    :data:`SETTINGS` (``duration``, ``guidance``, ``temperature``, ``top_k``, ``top_p``, ``stride``); a whole-number
    float for ``top_k`` (a UI number box) is accepted.
    """
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    given = {SETTINGS[name]: value for name, value in settings.items() if value is not None}
    return (base or GenerationParams()).replace(**given)


def field_names() -> tuple[str, ...]:
    """Names of every generation parameter, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(GenerationParams))


def validate_seed(seed: Any) -> int:
    """Return ``seed`` as an int in [0, 2**63 - 1] or raise ``ParamsError`` naming it."""
    if isinstance(seed, str):
        text = seed.strip()
        if not (text.isascii() and text.isdigit()):
            raise ParamsError(f"seed must be a whole number in [0, {MAX_SEED}], got {seed!r}")
        seed = int(text)
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParamsError(f"seed must be a whole number in [0, {MAX_SEED}], got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ParamsError(f"seed must be in [0, {MAX_SEED}], got {seed}")
    return seed


def random_seed() -> int:
    """A fresh seed from the OS entropy pool (the torch RNG is never touched). 31 bits, easy to type."""
    return secrets.randbelow(2**31)


def parse_seeds(spec: str | int | list[int] | tuple[int, ...], *, limit: int = 1024) -> list[int]:
    """Parse a seed list such as ``"1-4,7"`` -> ``[1, 2, 3, 4, 7]`` (order kept, duplicates refused).

    Args:
        spec: A string of comma-separated seeds and inclusive ranges ``a-b``, an int, or a sequence of ints.
        limit: Most seeds accepted, to catch typos such as ``1-100000``.
    """
    if isinstance(spec, (list, tuple)):
        seeds = [validate_seed(s) for s in spec]
    elif isinstance(spec, int) and not isinstance(spec, bool):
        seeds = [validate_seed(spec)]
    elif isinstance(spec, str):
        seeds = []
        for part in spec.replace(" ", "").split(","):
            if not part:
                raise ParamsError(f"seed list {spec!r} has an empty item")
            if "-" in part[1:]:
                lo_text, hi_text = part.split("-", 1)
                lo, hi = validate_seed(lo_text), validate_seed(hi_text)
                if hi < lo:
                    raise ParamsError(f"seed range {part!r} runs backwards")
                if hi - lo >= limit:
                    raise ParamsError(f"seed range {part!r} has more than {limit} seeds")
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(validate_seed(part))
    else:
        raise ParamsError(f"seeds must be like '1-4,7', got {spec!r}")
    if not seeds:
        raise ParamsError("at least one seed is needed")
    if len(seeds) > limit:
        raise ParamsError(f"{len(seeds)} seeds is more than the limit of {limit}")
    if len(set(seeds)) != len(seeds):
        raise ParamsError(f"seed list {spec!r} repeats a seed")
    return seeds


#: Longest prompt accepted, in characters (T5 reads at most a few hundred tokens anyway).
MAX_PROMPT_CHARS = 2000


def validate_text(text: Any) -> str:
    """Return a prompt with runs of whitespace (newlines, tabs) collapsed to single spaces.

    Raises:
        ParamsError: if the prompt is not a string, is empty, longer than 2,000 characters, or holds
            control characters (NUL, escape sequences...) or unpaired surrogates (non-UTF-8 input).
    """
    if not isinstance(text, str):
        raise ParamsError(f"prompt must be text, got {type(text).__name__}")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ParamsError("prompt is empty: describe the music, e.g. '80s synthwave, gated drums, 110 BPM'")
    if len(cleaned) > MAX_PROMPT_CHARS:
        raise ParamsError(f"prompt is {len(cleaned)} characters long; the limit is {MAX_PROMPT_CHARS}")
    for position, char in enumerate(cleaned):
        code = ord(char)
        if code < 32 or 127 <= code < 160 or 0xD800 <= code <= 0xDFFF:
            raise ParamsError(f"prompt has a control or invalid character {char!r} at position {position}")
    return cleaned
