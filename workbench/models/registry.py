"""Model names: the short names of the published checkpoints, the built-in offline models, and name resolution.

Resolving a name loads nothing: :func:`resolve` says whether a name is built in, a Hub repository or a local
folder (:mod:`workbench.models.builtin` builds the built-ins, :mod:`workbench.models.hub` loads the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.core.params import GenerationParams

#: Short names of the published checkpoints.
MODELS: dict[str, str] = {
    "small": "facebook/musicgen-small",
    "medium": "facebook/musicgen-medium",
    "large": "facebook/musicgen-large",
    "melody": "facebook/musicgen-melody",
    "melody-large": "facebook/musicgen-melody-large",
    "stereo-small": "facebook/musicgen-stereo-small",
    "stereo-medium": "facebook/musicgen-stereo-medium",
    "stereo-large": "facebook/musicgen-stereo-large",
    "stereo-melody": "facebook/musicgen-stereo-melody",
    "stereo-melody-large": "facebook/musicgen-stereo-melody-large",
}

#: audiocraft models (the optional audiocraft backend, :mod:`workbench.engine.audiocraft`): short name -> Hub id.
AUDIOCRAFT_MODELS: dict[str, str] = {
    "magnet-small": "facebook/magnet-small-10secs",
    "magnet-medium": "facebook/magnet-medium-10secs",
    "magnet-small-30s": "facebook/magnet-small-30secs",
    "magnet-medium-30s": "facebook/magnet-medium-30secs",
    "style": "facebook/musicgen-style",
}

#: Built-in models run by the audiocraft backend.
AUDIOCRAFT_BUILTIN = ("tiny-magnet", "tiny-magnet-50hz", "tiny-style")

#: Built-in models: name -> (description, seed of their random weights).
BUILTIN: dict[str, tuple[str, int]] = {
    "tiny": ("untrained MusicGen, tiny random weights (tests; makes noise, not music)", 1),
    "tiny-melody": ("untrained MusicGen-Melody, tiny random weights (tests)", 2),
    "random-small": ("untrained MusicGen at musicgen-small's real size (benchmarks)", 3),
    "tiny-stereo": ("untrained stereo MusicGen (8 codebooks, left/right interleaved), tiny random weights (tests)", 4),
    "tiny-stereo-melody": ("untrained stereo MusicGen-Melody, tiny random weights (tests)", 5),
    "tiny-magnet": ("untrained MAGNeT from audiocraft's debug configuration, 0.96 s segment (audiocraft backend; "
                    "tests)", 11),
    "tiny-magnet-50hz": ("untrained MAGNeT over tiny's EnCodec (4 codebooks of 2048 at 50 Hz), 2 s segment: "
                         "repaints tiny takes (audiocraft backend; tests)", 15),
    "tiny-style": ("untrained MusicGen-Style from audiocraft's debug parts, 1 s style excerpt (audiocraft backend; "
                   "tests)", 14),
}

#: The model every shell uses when none is named.
DEFAULT_MODEL = "small"

#: Sampling settings of model families whose own defaults differ from MusicGen's (``GenerationParams``'): audiocraft's
#: MAGNeT samples hot, unfiltered by top-k, with strong (annealed) guidance.
FAMILY_SAMPLING: dict[str, dict[str, float]] = {
    "magnet": {"temperature": 3.0, "top_k": 0, "top_p": 0.9, "guidance_scale": 10.0},
}


def model_family(name: str | None) -> str:
    """``"magnet"`` for MAGNeT names and Hub ids, else ``"musicgen"`` (MusicGen, MusicGen-Style, folders)."""
    return "magnet" if "magnet" in str(name or DEFAULT_MODEL).lower() else "musicgen"


def default_params(name: str | None) -> GenerationParams:
    """The sampling a model gets when nobody sets it: ``GenerationParams``' defaults with its family's (see
    :data:`FAMILY_SAMPLING`) — the base every shell and prompt file applies its own settings to."""
    return GenerationParams(**FAMILY_SAMPLING.get(model_family(name), {}))


#: The MAGNeT that repaints a window of a take by default (``workbench repaint``): the published MAGNeT and mono
#: MusicGen models share one codec (EnCodec 32 kHz), and ``tiny-magnet-50hz`` shares the built-in MusicGen models'.
REPAINT_MODEL, BUILTIN_REPAINT_MODEL = "magnet-small", "tiny-magnet-50hz"


def repaint_model_for(kind: str) -> str:
    """The default repaint model of a take whose model is of ``kind`` (``builtin``, ``hub``, ``local``)."""
    return BUILTIN_REPAINT_MODEL if kind == "builtin" else REPAINT_MODEL


def available_models() -> list[str]:
    """Every model short name: the published checkpoints, then the built-in offline models."""
    return [*MODELS, *AUDIOCRAFT_MODELS, *BUILTIN]


@dataclass(frozen=True)
class ModelRef:
    """Where a model name points.

    Attributes:
        name: The name as the user gave it.
        kind: ``"builtin"``, ``"hub"`` or ``"local"``.
        source: Built-in name, Hub repository id, or absolute folder path.
        backend: ``"transformers"`` (MusicGen, the workbench's own decoding loop) or ``"audiocraft"`` (MAGNeT,
            MusicGen-Style: :mod:`workbench.engine.audiocraft`).
    """

    name: str
    kind: str
    source: str
    backend: str = "transformers"


def resolve(name: str) -> ModelRef:
    """Map a user's model name to a :class:`ModelRef` without loading anything.

    Raises:
        ModelNotFoundError: for an empty name, a folder without a saved model, or an unknown short name.
    """
    from workbench.core.errors import ModelNotFoundError

    if not isinstance(name, str) or not name.strip():
        raise ModelNotFoundError(f"model name is empty; try one of: {', '.join(available_models())}")
    name = name.strip()
    if name in BUILTIN:
        return ModelRef(name, "builtin", name, "audiocraft" if name in AUDIOCRAFT_BUILTIN else "transformers")
    if name in MODELS:
        return ModelRef(name, "hub", MODELS[name])
    if name in AUDIOCRAFT_MODELS or name in AUDIOCRAFT_MODELS.values():
        return ModelRef(name, "hub", AUDIOCRAFT_MODELS.get(name, name), "audiocraft")
    path = Path(name).expanduser()
    if path.is_dir():
        missing = [] if (path / "config.json").is_file() else ["config.json"]
        if not any((path / f).is_file() for f in ("processor_config.json", "preprocessor_config.json")):
            missing.append("processor_config.json")
        if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
            missing.append("model weights (*.safetensors)")
        if missing:
            raise ModelNotFoundError(
                f"model folder {path} is missing {', '.join(missing)}; save it with "
                "model.save_pretrained(folder) and processor.save_pretrained(folder)"
            )
        return ModelRef(name, "local", str(path.resolve()))
    if "jasco" in name.lower():  # audiocraft's JASCO ships in no package pip installs (docs/audiocraft.md)
        raise ModelNotFoundError(
            f"{name!r}: JASCO models are not supported: audiocraft's JASCO is only in its GitHub repository, not in "
            "the audiocraft package the workbench installs; for chords use a melody model (--chords, --bpm)"
        )
    if name.count("/") == 1 and not name.startswith((".", "/")) and " " not in name:
        return ModelRef(name, "hub", name)
    raise ModelNotFoundError(
        f"unknown model {name!r}: use a short name ({', '.join([*MODELS, *AUDIOCRAFT_MODELS])}), a built-in "
        f"offline model ({', '.join(BUILTIN)}, e.g. --model tiny), a Hub id like facebook/musicgen-small, or a "
        "local folder"
    )


# --- built-in models -------------------------------------------------------------------------------


