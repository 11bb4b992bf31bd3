"""Retakes from a point: a take's first seconds of codes kept exactly, the rest rendered anew (``workbench branch``).

A branch is a continuation whose prompt is the parent's codes up to ``at_s`` (read from the parent's token file,
never decoded and re-encoded), kept at the start of every new take. The sidecar's ``draft.branch`` names the
parent's sidecar and token file (relative paths), the parent's codes hash, the branch point and the hash of the
kept codes, so ``reproduce`` rebuilds the same prompt or says what changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.codec.tokens import read_tokens
from workbench.core.errors import DraftError, ProvenanceError
from workbench.core.hashing import codes_sha256
from workbench.drafts.draft import Draft, relative


def check_branch_point(at_s: float, total_s: float) -> None:
    """A branch point strictly inside a take of ``total_s`` seconds."""
    if isinstance(at_s, bool) or not isinstance(at_s, (int, float)) or not 0 < at_s < total_s:
        raise DraftError(f"--at {at_s!r} s is not inside the take: give a point between 0 and {total_s:.2f} s")


def _kept_codes(codes_file: Path, at_s: float, engine: Any) -> Any:
    try:
        tokens = read_tokens(codes_file)
    except ProvenanceError as error:
        raise DraftError(f"cannot branch: {error}") from None
    meta = tokens.meta
    if (meta["num_codebooks"], meta["sample_rate"]) != (engine.num_codebooks, engine.sample_rate):
        raise DraftError(f"cannot branch: {codes_file} holds codes of a {meta['num_codebooks']}-codebook codec at "
                         f"{meta['sample_rate']} Hz, not {engine.info.name!r}'s")
    check_branch_point(at_s, tokens.codes.shape[-1] / engine.frame_rate)
    frames = max(1, round(at_s * engine.frame_rate))
    return tokens, tokens.codes[:, :frames]


def branch_draft(parent: str | Path, record: dict[str, Any], at_s: float, engine: Any, *,
                 record_base: str | Path) -> Draft:
    """A :class:`Draft` that keeps the first ``at_s`` seconds of the take whose sidecar is ``parent`` (its
    checked ``record``, see :func:`workbench.store.sidecar.read_sidecar`).

    Raises:
        DraftError: the branch point is not inside the take, the parent's token file is missing or altered, or it
            belongs to another codec. (A parent's melody or chords are added by
            :func:`workbench.drafts.prepare.follow_parent`.)
    """
    parent = Path(parent)
    codes_file = parent.parent / record["codes"]["file"]
    tokens, kept = _kept_codes(codes_file, at_s, engine)
    if codes_sha256(tokens.codes) != record["codes_sha256"]:
        raise DraftError(f"cannot branch: {codes_file} no longer holds the codes {parent.name} records")
    base = Path(record_base)
    info = {"parent": relative(parent, base), "parent_codes_sha256": record["codes_sha256"],
            "codes_file": relative(codes_file, base), "at_s": float(at_s), "frames": int(kept.shape[-1]),
            "kept_sha256": codes_sha256(kept), "parent_seed": record["seed"]}
    identity = {"branch": {"parent_codes_sha256": info["parent_codes_sha256"], "at_s": info["at_s"]}}
    return Draft(record={"identity": identity, "branch": info}, prompt_codes=kept, include_prompt=True)


def branch_from_record(info: dict[str, Any], *, base: Path, engine: Any) -> Draft:
    """Rebuild a branch from a sidecar's ``draft.branch`` (paths relative to ``base``, the sidecar's folder).

    Raises:
        DraftError: the parent's token file is gone or no longer holds the recorded codes.
    """
    try:
        codes_file = base / info["codes_file"]
        at_s, kept_sha = float(info["at_s"]), info["kept_sha256"]
    except (KeyError, TypeError, ValueError):
        raise ProvenanceError("sidecar field 'draft.branch' is not a branch record") from None
    _, kept = _kept_codes(codes_file, at_s, engine)
    if codes_sha256(kept) != kept_sha:
        raise DraftError(f"the parent's codes in {codes_file} changed since the branch was made (sha256 differs)")
    return Draft(record={"identity": {"branch": {"parent_codes_sha256": info.get("parent_codes_sha256"),
                                                 "at_s": at_s}}, "branch": dict(info)},
                 prompt_codes=kept, include_prompt=True)
