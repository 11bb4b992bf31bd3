"""Re-render a take from its sidecar alone and say whether the codes came out identical."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.codec.tokens import read_tokens
from workbench.core.errors import ProvenanceError
from workbench.core.take import Take
from workbench.store.sidecar import read_sidecar, sidecar_params, versions


@dataclass(frozen=True)
class ReproduceReport:
    """Outcome of :func:`reproduce`.

    Attributes:
        identical: The re-rendered codes hash equals the recorded one.
        expected_sha256 / actual_sha256: Recorded and re-rendered codes hashes.
        first_mismatch: ``(frame, codebook)`` of the first differing code, when the recorded codes file
            was available to compare against; None when identical or unknown.
        warnings: Environment differences that may legitimately change the numbers.
        take: The re-rendered take.
        frame_rate: Codec frames per second of the take's model (for the time of the first mismatch).
        decoder: For a take decoded with another decoder than EnCodec (``extra.decoder`` of its sidecar): that
            decoder's name and whether decoding the re-rendered codes again gave the recorded audio.
    """

    identical: bool
    expected_sha256: str
    actual_sha256: str
    first_mismatch: tuple[int, int] | None
    warnings: list[str] = field(default_factory=list)
    take: Take | None = None
    frame_rate: int = 50
    decoder: tuple[str, bool] | None = None

    @property
    def message(self) -> str:
        decoded = ""
        if self.decoder is not None:
            name, same = self.decoder
            decoded = f"; decoded again with {name}: {'identical audio' if same else 'AUDIO MISMATCH'}"
        if self.identical:
            return f"identical codes ({self.actual_sha256[:16]}){decoded}"
        where = ""
        if self.first_mismatch is not None:
            frame, codebook = self.first_mismatch
            seconds = frame / self.frame_rate
            where = f" first at frame {frame} (t={seconds:.2f} s at {self.frame_rate} Hz), codebook {codebook};"
        return (f"MISMATCH:{where} recorded codes {self.expected_sha256[:16]}, "
                f"re-rendered {self.actual_sha256[:16]}{decoded}")


def first_difference(expected: np.ndarray, actual: np.ndarray) -> tuple[int, int] | None:
    """``(frame, codebook)`` of the earliest differing code of two ``[K, T]`` arrays (shape change: frame T)."""
    frames = min(expected.shape[-1], actual.shape[-1])
    if expected.shape[0] == actual.shape[0]:
        diff = np.argwhere(expected[:, :frames] != actual[:, :frames])
        if diff.size:
            codebook, frame = min(((int(k), int(t)) for k, t in diff), key=lambda kt: (kt[1], kt[0]))
            return frame, codebook
    if expected.shape != actual.shape:
        return frames, 0
    return None


#: ``model.architecture`` of takes made by the audiocraft backend.
AUDIOCRAFT_ARCHITECTURES = ("MAGNeT", "MusicGen")


def environment_warnings(record: dict[str, Any], device: str, dtype: str, kernels: str = "torch") -> list[str]:
    """Differences between the recorded and the current environment that can change the numbers."""
    notes = []
    if record.get("device", "").split(":")[0] != device.split(":")[0]:
        notes.append(f"recorded on {record.get('device')}, re-rendered on {device}: GPU and CPU arithmetic differ, "
                     "so codes may legitimately differ")
    if record.get("dtype") != dtype:
        notes.append(f"recorded in {record.get('dtype')}, re-rendered in {dtype}")
    if record.get("kernels", "torch") != kernels:
        notes.append(f"recorded with {record.get('kernels', 'torch')} kernels, re-rendered with {kernels}: the last "
                     "float bits differ, so a token whose winning margin is that small can flip and the codes differ "
                     "from there (benchmarks/kernel_agreement.py counts how often)")
    now = versions()
    libs = ["torch", "transformers", "workbench"]
    if record.get("model", {}).get("architecture") in AUDIOCRAFT_ARCHITECTURES or (record.get("extra") or {}).get(
            "decoder"):
        libs.append("audiocraft")  # its models and MBD made this take's numbers
    for lib in libs:
        was = (record.get("versions") or {}).get(lib)
        if was and was != now.get(lib, "none"):
            notes.append(f"{lib} {was} recorded, {now.get(lib, 'none')} installed")
    return notes


def device_available(device: str) -> bool:
    """Whether this machine has ``device`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    import torch

    kind, _, index = device.partition(":")
    if kind == "cpu":
        return True
    if kind == "cuda":
        return torch.cuda.is_available() and (not index or int(index) < torch.cuda.device_count())
    if kind == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return False


@dataclass(frozen=True)
class Environment:
    """Where and how a take is re-rendered: the recorded facts unless the caller overrides them."""

    model: str
    device: str
    dtype: str
    kernels: str

    @classmethod
    def of(cls, record: dict[str, Any], sidecar: Path, *, model: str | None = None, device: str | None = None,
           dtype: str | None = None, kernels: str | None = None) -> Environment:
        """The environment ``record`` asks for, with overrides; refuses one this machine cannot give.

        Raises:
            ProvenanceError: the recorded device is not on this machine and no ``device`` was given, or a local
                model folder that is not where it was (``model`` names it).
        """
        recorded = cls(record["model"]["name"], record.get("device", "cpu"), record.get("dtype", "float32"),
                       record.get("kernels", "torch"))
        wanted = cls(model or recorded.model, device or recorded.device, dtype or recorded.dtype,
                     kernels or recorded.kernels)
        if device is None and not device_available(recorded.device):
            raise ProvenanceError(
                f"{sidecar}: the take was rendered on {recorded.device} in {recorded.dtype}, which this machine does "
                f"not have; re-render it where it was made, or here with --device cpu --dtype float32 (the codes "
                "may then differ)")
        if model is None and record["model"].get("kind") == "local" and not Path(recorded.model).is_dir():
            raise ProvenanceError(
                f"{sidecar}: the take was rendered with the local model folder {recorded.model!r} (weights "
                f"{str(record['model'].get('weights_sha256'))[:16]}), not found from here; pass --model PATH")
        return wanted


def _fits(engine: Any, env: Environment) -> bool:
    """Whether an already loaded engine is the one ``env`` asks for."""
    return (engine.info.name == env.model and str(engine.device).split(":")[0] == env.device.split(":")[0]
            and str(engine.dtype).removeprefix("torch.") == env.dtype and engine.kernels == env.kernels)


def reproduce(sidecar: str | Path, *, engine: Any = None, device: str | None = None, model: str | None = None,
              dtype: str | None = None, kernels: str | None = None, progress: Any = None,
              should_stop: Any = None) -> ReproduceReport:
    """Re-render the take a sidecar describes, on the recorded device, dtype and kernels, and compare codes.

    Args:
        sidecar: The take's ``.json`` sidecar.
        engine: An already loaded engine, used when it is the recorded model on the recorded device, dtype and
            kernels (else the recorded one is loaded).
        device, dtype, kernels: Override the recorded ones (warnings say what differs).
        model: Model name or folder to load instead of the recorded one (e.g. a local model that moved).
        progress, should_stop: As for :meth:`workbench.engine.Engine.generate` (``GenerationCancelled``).

    Raises:
        ProvenanceError: unreadable sidecar, or a recorded device / model folder this machine does not have.
        GenerationCancelled: ``should_stop`` said so.
    """
    from workbench.drafts.prepare import draft_from_record
    from workbench.engine.load import load_engine

    path = Path(sidecar)
    record = read_sidecar(path)
    params = sidecar_params(record)
    env = Environment.of(record, path, model=model, device=device, dtype=dtype, kernels=kernels)
    if engine is None or not _fits(engine, env):
        engine = load_engine(env.model, device=env.device, dtype=env.dtype, kernels=env.kernels)
    repainted = (record.get("draft") or {}).get("repaint") if isinstance(record.get("draft"), dict) else None
    if repainted is not None:  # a window of a parent's codes sampled by MAGNeT, decoded by this take's model
        from workbench.drafts.repaint import repaint_from_record, repaint_takes

        job, settings = repaint_from_record(repainted, base=path.parent)
        painter = load_engine(job.record["model"], device=env.device)
        [take] = repaint_takes(job, painter, engine, [record["seed"]], text=record["prompt"]["text"], params=params,
                               settings=settings, progress=progress, should_stop=should_stop)
    else:
        draft = draft_from_record(record.get("draft"), base=path.parent, engine=engine,
                                  duration_s=params.duration_s)
        takes = engine.generate(record["prompt"]["text"], params, [record["seed"]], progress=progress,
                                should_stop=should_stop, segments=record["prompt"].get("segments"),
                                **draft.generate_kwargs())
        take = draft.finish(takes[0], engine)
    decoded = (record.get("extra") or {}).get("decoder")
    decoder = None
    if decoded:
        from workbench.render.decoders import load_decoder, redecode

        take = redecode(take, load_decoder(decoded["name"], engine))
        recorded = decoded.get("samples_sha256", decoded.get("audio_sha256"))  # its name before 0.3
        decoder = (decoded["name"], take.extra["decoder"]["samples_sha256"] == recorded)
    expected, actual = record["codes_sha256"], take.codes_sha256
    mismatch = None
    if expected != actual:
        codes_file = path.parent / record["codes"]["file"]
        try:
            mismatch = first_difference(read_tokens(codes_file).codes, take.codes)
        except ProvenanceError:
            mismatch = None
    warnings = environment_warnings(record, str(engine.device), str(engine.dtype).removeprefix("torch."),
                                    engine.kernels)
    recorded_weights = record["model"].get("weights_sha256")
    if recorded_weights and recorded_weights != engine.weights_sha256():
        warnings.append(f"the model's weights differ from the recorded ones ({recorded_weights[:16]} recorded, "
                        f"{engine.weights_sha256()[:16]} loaded)")
    if repainted is not None and repainted.get("model_weights_sha256") not in (None, painter.weights_sha256()):
        warnings.append(f"the repaint model {job.record['model']!r}'s weights differ from the recorded ones")
    frame_rate = int(record["model"].get("frame_rate") or engine.frame_rate)
    identical = expected == actual and (decoder is None or decoder[1])
    return ReproduceReport(identical, expected, actual, mismatch, warnings, take, frame_rate, decoder)


__all__ = ["Environment", "ReproduceReport", "reproduce", "first_difference"]
