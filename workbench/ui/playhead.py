"""Where a ``gr.Audio`` player's playhead is, read in the browser (Gradio gives Python no playhead).

Gradio's player is WaveSurfer, whose ``<audio>`` element lives in a shadow root inside the component; its plain
``<audio>`` player is used when the waveform is off. This one module knows that layout: :func:`playhead_js`
reads the first of those that has moved, and when neither is found (Gradio changed) or the take has not been
played, it returns the time already typed, so the typed time always works (tested in tests/test_ui_browser.py).
"""

from __future__ import annotations

import json


def playhead_js(elem_id: str) -> str:
    """A Gradio ``js=`` function ``(typed) => seconds``: the playhead of the player ``#elem_id``, to 0.01 s."""
    return f"""(typed) => {{
    const root = document.getElementById({json.dumps(elem_id)});
    if (!root) return typed;
    const players = [];
    root.querySelectorAll('*').forEach((e) => {{
        if (e.shadowRoot) players.push(...e.shadowRoot.querySelectorAll('audio, video'));
    }});
    players.push(...root.querySelectorAll('audio'));
    const moved = players.find((p) => Number.isFinite(p.currentTime) && p.currentTime > 0);
    return moved ? Math.round(moved.currentTime * 100) / 100 : typed;
}}"""


__all__ = ["playhead_js"]
