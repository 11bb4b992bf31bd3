"""Token files (``*.codes.npz``): EnCodec codes ``[K, T]`` plus the metadata needed to decode them.

Layout: an uncompressed-header ``.npz`` with two arrays and no pickles:

* ``codes``: int32 ``[K, T]`` — K codebooks (stereo MusicGen: left/right rows interleaved, row ``2k`` is
  codebook k of the left channel, ``2k + 1`` of the right), T frames at ``frame_rate``.
* ``meta``: a JSON string with ``schema`` (1), ``kind``, ``codec`` (model name / source / revision),
  ``sample_rate``, ``frame_rate``, ``codebook_size``, ``num_codebooks``, ``channels``, ``bandwidth_kbps``,
  ``num_samples`` (original length), ``source_sha256`` (audio the codes came from, when known).

Readers refuse unknown schema versions, so a future format never decodes into noise silently.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.atomic import write_bytes
from workbench.core.errors import ProvenanceError
from workbench.core.hashing import codes_sha256
from workbench.core.records import check_kind_and_schema

TOKEN_SCHEMA = 1
TOKEN_KIND = "musicgen-workbench.codes"


@dataclass(frozen=True)
class Codes:
    """Codes of one clip and the metadata needed to decode them: what :func:`encode` returns and a token file holds.

    Attributes:
        codes: int64 ``[K, T]``: K codebook rows, T frames at ``meta["frame_rate"]``.
        meta: The metadata mapping (see module docstring): ``codec``, ``sample_rate``, ``frame_rate``,
            ``codebook_size``, ``num_codebooks``, ``channels``, ``bandwidth_kbps``, ``num_samples`` (length at the
            codec's rate), ``source_sha256``; normalising or chunked codecs add ``audio_scales``/``chunk_frames``.
    """

    codes: np.ndarray
    meta: dict[str, Any]

    @property
    def num_samples(self) -> int:
        return int(self.meta["num_samples"])


def write_tokens(path: str | Path, codes: np.ndarray, meta: dict[str, Any], *, force: bool = False) -> Path:
    """Write a token file atomically. ``meta`` gets ``schema``, ``kind`` and ``codes_sha256`` added."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ProvenanceError(f"codes must be [K, T], got shape {list(codes.shape)}")
    full = {"schema": TOKEN_SCHEMA, "kind": TOKEN_KIND, **meta, "codes_sha256": codes_sha256(codes),
            "shape": list(codes.shape)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, codes=np.ascontiguousarray(codes, dtype="<i4"), meta=np.array(json.dumps(full)))
    write_bytes(path, buffer.getvalue(), force=force)
    return Path(path)


_REQUIRED = {"sample_rate": int, "frame_rate": int, "codebook_size": int, "num_codebooks": int, "channels": int,
             "num_samples": int}


def read_tokens(path: str | Path) -> Codes:
    """Read and check a token file.

    Raises:
        ProvenanceError: missing, truncated or non-npz file, unknown schema, or codes inconsistent with the
            metadata (shape, range, hash).
    """
    path = Path(path)
    if not path.is_file():
        raise ProvenanceError(f"{path}: no such token file")
    try:
        with np.load(path, allow_pickle=False) as data:
            codes = np.asarray(data["codes"])
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        reason = "truncated or damaged" if isinstance(error, (zipfile.BadZipFile, EOFError)) else (
            "not an .npz archive" if "pickle" in str(error) else type(error).__name__)
        raise ProvenanceError(f"{path}: not a readable token file ({reason})") from None
    meta = check_kind_and_schema(path, meta, kind=TOKEN_KIND, schema=TOKEN_SCHEMA, what="token file")
    for key, kind in _REQUIRED.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool) or meta[key] < 0:
            raise ProvenanceError(f"{path}: metadata field {key!r} must be a non-negative {kind.__name__}")
    if codes.ndim != 2 or codes.shape[0] != meta["num_codebooks"] or not np.issubdtype(codes.dtype, np.integer):
        raise ProvenanceError(f"{path}: codes of shape {list(codes.shape)} do not match num_codebooks "
                              f"{meta['num_codebooks']}")
    if codes.size and (codes.min() < 0 or codes.max() >= meta["codebook_size"]):
        raise ProvenanceError(f"{path}: codes fall outside the codebook [0, {meta['codebook_size']})")
    if meta.get("codes_sha256") not in (None, codes_sha256(codes)):
        raise ProvenanceError(f"{path}: codes do not match their recorded hash (the file was altered)")
    return Codes(codes=codes.astype(np.int64), meta=meta)


def token_meta(info: Any, *, num_samples: int, source_sha256: str | None = None) -> dict[str, Any]:
    """Metadata for codes made by a model described by ``info`` (a :class:`~workbench.core.take.ModelInfo`)."""
    bits = int(np.log2(info.codebook_size))
    return {
        "codec": {"model": info.name, "source": info.source if info.kind != "local" else Path(info.source).name,
                  "revision": info.revision},
        "sample_rate": info.sample_rate, "frame_rate": info.frame_rate, "codebook_size": info.codebook_size,
        "num_codebooks": info.num_codebooks, "channels": info.audio_channels,
        "bandwidth_kbps": info.num_codebooks * bits * info.frame_rate / 1000,
        "num_samples": int(num_samples), "source_sha256": source_sha256,
    }
