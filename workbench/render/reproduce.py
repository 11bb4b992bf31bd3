"""Re-render a take from its sidecar alone and say whether the codes came out identical."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.codec.tokens import read_tokens
from workbench.core.errors import ProvenanceError
from workbench.core.take import Take
from workbench.store.naming import codes_path_for
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
    """

    identical: bool
    expected_sha256: str
    actual_sha256: str
    first_mismatch: tuple[int, int] | None
    warnings: list[str] = field(default_factory=list)
    take: Take | None = None

    @property
    def message(self) -> str:
        if self.identical:
            return f"identical codes ({self.actual_sha256[:16]})"
        where = ""
        if self.first_mismatch is not None:
            frame, codebook = self.first_mismatch
            where = f" first at frame {frame} (t={frame / 50:.2f} s at 50 Hz), codebook {codebook};"
        return (f"MISMATCH:{where} recorded codes {self.expected_sha256[:16]}, "
                f"re-rendered {self.actual_sha256[:16]}")


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
                     "float bits differ, codes almost always agree")
    now = versions()
    for lib in ("torch", "transformers", "workbench"):
        was = (record.get("versions") or {}).get(lib)
        if was and was != now[lib]:
            notes.append(f"{lib} {was} recorded, {now[lib]} installed")
    return notes


def reproduce(sidecar: str | Path, *, engine: Any = None, device: str | None = None,
              model: str | None = None) -> ReproduceReport:
    """Re-render the take a sidecar describes and compare its codes with the recorded ones.

    Args:
        sidecar: The take's ``.json`` sidecar.
        engine: An already loaded engine (must be the recorded model); loaded from the sidecar otherwise.
        device: Device for a freshly loaded engine.
        model: Model name to load instead of the recorded one (e.g. the folder of a local model).
    """
    from workbench.drafts.prepare import draft_from_record
    from workbench.engine.load import load_engine

    path = Path(sidecar)
    record = read_sidecar(path)
    params = sidecar_params(record)
    if engine is None:
        engine = load_engine(model or record["model"]["name"], device=device, kernels=record.get("kernels", "torch"))
    draft = draft_from_record(record.get("draft"), base=path.parent, engine=engine)
    takes = engine.generate(record["prompt"]["text"], params, [record["seed"]], **draft.generate_kwargs())
    take = draft.finish(takes[0], engine)
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
    return ReproduceReport(expected == actual, expected, actual, mismatch, warnings, take)


__all__ = ["ReproduceReport", "reproduce", "first_difference", "codes_path_for"]
