"""Contact sheets: an ``index.html`` with a player, spectrogram and facts for each take of a seed sweep, the
measured tempo and key against the asked ones among them; the page sorts and filters its cards by them."""

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
from workbench.core.music import key_rank
from workbench.core.take import cost_summary
from workbench.store.measured import Versus
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
            card's heading instead of ``seed N``), ``cost`` (what rendering it cost, see
            :func:`workbench.core.take.cost_summary`) and ``versus`` (its measured tempo and key against the asked
            ones, a :class:`workbench.store.measured.Versus`: the page sorts and filters by them).
    """
    folder = Path(folder)
    cards = []
    keys: set[str] = set()
    measured = any(row.get("versus") is not None for row in rows)
    for order, row in enumerate(rows):
        audio_rel = html.escape(os.path.relpath(row["audio"], folder))
        image_rel = html.escape(os.path.relpath(row["image"], folder))
        facts = [f"{row['duration_s']:.2f} s", f"peak {_fmt(row.get('peak_dbfs'))} dBFS",
                 f"{_fmt(row.get('loudness_lufs'))} LUFS"]
        if row.get("adherence") is not None:
            facts.append(f"melody adherence {row['adherence']:.3f}")
        label = row.get("label") or f"seed {row['seed']}"
        if row.get("cost"):
            facts.append(cost_summary(row["cost"]))
        versus: Versus | None = row.get("versus")
        if versus is not None:
            keys.update([versus.key] if versus.key else [])
        cards.append(
            f'<figure class="take"><figcaption>{html.escape(label)}</figcaption>'
            f'<img src="{image_rel}" alt="spectrogram of seed {row["seed"]}" width="600" height="160">'
            f'<audio controls preload="none" src="{audio_rel}"></audio>'
            f'<p>{html.escape(" · ".join(facts))}</p>{_measured(versus, order)}'
            f'<code>{html.escape(reproduce_command(row["sidecar"], folder))}</code></figure>')
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:2em}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:1.5em}}
.take{{background:#1c1c24;padding:1em;border-radius:8px;margin:0}} img{{display:block;max-width:100%}}
audio{{width:100%;margin:.5em 0}} code{{color:#9cf;font-size:.85em}} figcaption{{font-weight:bold}}
.off{{color:#f97}} .tools{{margin-bottom:1em}} .tools *{{margin-right:.4em}}</style>
</head><body><h1>{html.escape(title)}</h1>{_tools(keys) if measured else ""}<div class="grid">
{chr(10).join(cards)}
</div>{_SCRIPT}</body></html>
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


def _measured(versus: Versus | None, order: int) -> str:
    """The card's tempo-and-key line; its data attributes are what the page sorts and filters by."""
    if versus is None:
        return ""
    rank = "" if versus.key is None else str(key_rank(versus.key))
    return (f'<p class="measured{" off" if versus.flagged else ""}" data-order="{order}" '
            f'data-bpm="{"" if versus.bpm is None else versus.bpm}" data-key="{html.escape(versus.key or "")}" '
            f'data-key-rank="{rank}" data-flagged="{int(versus.flagged)}">{html.escape(versus.text())}</p>')


def _tools(keys: set[str]) -> str:
    """The sort and filter bar over the cards' tempo-and-key lines; ``keys``: the keys measured on the sheet."""
    options = "".join(f'<option>{html.escape(key)}</option>'
                      for key in sorted(keys, key=key_rank))
    return ('<form class="tools" onsubmit="return false">sort <select id="sort"><option value="order">as rendered'
            '</option><option value="bpm">tempo</option><option value="key">key</option></select>'
            'tempo <input id="bpm-min" type="number" placeholder="min" style="width:5em">'
            '<input id="bpm-max" type="number" placeholder="max" style="width:5em">'
            f'key <select id="key"><option value="">any</option>{options}</select>'
            '<label><input id="flagged" type="checkbox">flagged only</label></form>')


# sorts the cards by a data attribute of their tempo-and-key line (unknown last) and hides those the filters reject
_SCRIPT = """<script>
(() => {
  const grid = document.querySelector(".grid"), get = (id) => document.getElementById(id);
  if (!get("sort")) return;
  const cards = [...grid.children].filter((card) => card.querySelector(".measured"));
  const data = (card) => card.querySelector(".measured").dataset;
  const num = (value) => (value === "" ? Infinity : Number(value));
  function update() {
    const by = get("sort").value, low = num(get("bpm-min").value || "-1e9"), high = num(get("bpm-max").value);
    const key = get("key").value, flagged = get("flagged").checked;
    const rank = (card) => num(by === "key" ? data(card).keyRank : by === "bpm" ? data(card).bpm : data(card).order);
    cards.sort((a, b) => rank(a) - rank(b) || num(data(a).order) - num(data(b).order));
    for (const card of cards) {
      const d = data(card), bpm = d.bpm === "" ? NaN : Number(d.bpm);
      const bpmOk = (get("bpm-min").value === "" && get("bpm-max").value === "") || (bpm >= low && bpm <= high);
      card.style.display = bpmOk && (!key || d.key === key) && (!flagged || d.flagged === "1") ? "" : "none";
      grid.appendChild(card);
    }
  }
  for (const id of ["sort", "bpm-min", "bpm-max", "key", "flagged"]) get(id).addEventListener("input", update);
})();
</script>"""


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
