"""Contact sheets: an ``index.html`` with a player, spectrogram and facts for each take of a seed sweep."""

from __future__ import annotations

import html
import io
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.atomic import write_bytes
from workbench.core.take import cost_summary
from workbench.store.naming import contact_sheet_path, spectrogram_path_for

# anchor colours of a dark-to-bright palette (black, purple, red, orange, pale yellow)
_ANCHORS = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], dtype=np.float32)


def _palette() -> np.ndarray:
    x = np.linspace(0, len(_ANCHORS) - 1, 256)
    low = np.floor(x).astype(int).clip(0, len(_ANCHORS) - 2)
    frac = (x - low)[:, None]
    return ((1 - frac) * _ANCHORS[low] + frac * _ANCHORS[low + 1]).astype(np.uint8)


def spectrogram_image(audio: np.ndarray, sample_rate: int, *, width: int = 600, height: int = 160) -> bytes:
    """A PNG of the log-magnitude spectrogram (0-8 kHz, 80 dB range) of ``[channels, samples]`` audio."""
    from PIL import Image

    mono = np.asarray(audio, dtype=np.float32).mean(axis=0)
    n_fft = 1024
    hop = max(1, (len(mono) - n_fft) // max(width - 1, 1)) if len(mono) > n_fft else 1
    padded = np.pad(mono, (0, max(0, n_fft - len(mono))))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:width]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=-1))
    top_bin = int(8000 / (sample_rate / 2) * (n_fft // 2))
    db = 20 * np.log10(spectrum[:, :top_bin] + 1e-9)
    db = np.clip(db - db.max(), -80, 0)
    levels = ((db + 80) / 80 * 255).astype(np.uint8).T[::-1]  # frequency up
    image = Image.fromarray(_palette()[levels]).resize((width, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_spectrogram(path: str | Path, audio: np.ndarray, sample_rate: int, *, force: bool = True) -> Path:
    """Write :func:`spectrogram_image` atomically."""
    write_bytes(path, spectrogram_image(audio, sample_rate), force=force)
    return Path(path)


def take_spectrogram(sidecar: str | Path, record: dict[str, Any] | None = None) -> Path:
    """The spectrogram PNG beside a take (``x.png``), drawn from its audio the first time it is asked for."""
    from workbench.core.audio import read_audio
    from workbench.store.sidecar import read_sidecar

    sidecar = Path(sidecar)
    image = spectrogram_path_for(sidecar)
    if not image.is_file():
        record = record if record is not None else read_sidecar(sidecar)
        audio, rate = read_audio(sidecar.parent / record["audio"]["file"])
        write_spectrogram(image, audio, rate)
    return image


def reproduce_command(sidecar: Path, base: Path) -> str:
    return f"workbench reproduce {shlex.quote(os.path.relpath(sidecar, base))}"


def write_contact_sheet(folder: str | Path, title: str, rows: Sequence[dict[str, Any]]) -> Path:
    """Write ``folder/index.html``.

    Args:
        folder: Where the sheet goes; every path in it is relative to this folder.
        title: Heading (the prompt).
        rows: One per take: ``audio`` (Path), ``image`` (Path), ``seed``, ``duration_s``, ``peak_dbfs``,
            ``loudness_lufs``, ``adherence`` (or None), ``sidecar`` (Path), and optionally ``label`` (the
            card's heading instead of ``seed N``) and ``cost`` (what rendering it cost, see
            :func:`workbench.core.take.cost_summary`).
    """
    folder = Path(folder)
    cards = []
    for row in rows:
        audio_rel = html.escape(os.path.relpath(row["audio"], folder))
        image_rel = html.escape(os.path.relpath(row["image"], folder))
        facts = [f"{row['duration_s']:.2f} s", f"peak {_fmt(row.get('peak_dbfs'))} dBFS",
                 f"{_fmt(row.get('loudness_lufs'))} LUFS"]
        if row.get("adherence") is not None:
            facts.append(f"melody adherence {row['adherence']:.3f}")
        label = row.get("label") or f"seed {row['seed']}"
        if row.get("cost"):
            facts.append(cost_summary(row["cost"]))
        cards.append(
            f'<figure class="take"><figcaption>{html.escape(label)}</figcaption>'
            f'<img src="{image_rel}" alt="spectrogram of seed {row["seed"]}" width="600" height="160">'
            f'<audio controls preload="none" src="{audio_rel}"></audio>'
            f'<p>{html.escape(" · ".join(facts))}</p>'
            f'<code>{html.escape(reproduce_command(row["sidecar"], folder))}</code></figure>')
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:2em}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:1.5em}}
.take{{background:#1c1c24;padding:1em;border-radius:8px;margin:0}} img{{display:block;max-width:100%}}
audio{{width:100%;margin:.5em 0}} code{{color:#9cf;font-size:.85em}} figcaption{{font-weight:bold}}</style>
</head><body><h1>{html.escape(title)}</h1><div class="grid">
{chr(10).join(cards)}
</div></body></html>
"""
    path = contact_sheet_path(folder)
    write_bytes(path, page.encode(), force=True)
    return path


def show_card(audio: str | Path, shown: bool) -> bool:
    """Hide (``shown=False``) or show again the card of the take ``audio`` in the contact sheet of its folder, as
    a take moves to the trash and back; returns whether the sheet had the card. Other sheets are left alone."""
    audio = Path(audio)
    sheet = contact_sheet_path(audio.parent)
    if not sheet.is_file():
        return False
    src = f' src="{html.escape(audio.name)}"></audio>'
    lines = sheet.read_text(encoding="utf-8").split("\n")
    found = False
    for i, line in enumerate(lines):
        if line.startswith('<figure class="take"') and src in line:
            found = True
            head = '<figure class="take">' if shown else '<figure class="take" hidden>'
            lines[i] = head + line.split(">", 1)[1]
    if found:
        write_bytes(sheet, "\n".join(lines).encode("utf-8"), force=True)
    return found


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
