"""Pieces shared by the browser UI's tabs: the app context, widget-value conversions, errors, background runs."""

from __future__ import annotations

import io
import queue
import threading
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from workbench.analysis.separate import DEFAULT_MODEL as STEMS_MODEL
from workbench.core.errors import GenerationCancelled
from workbench.core.music import parse_bpm_range
from workbench.core.params import GenerationParams
from workbench.engine.resident import EngineCache
from workbench.models.catalog import model_inputs
from workbench.render.decoders import Decoders
from workbench.store.history import History
from workbench.ui.uploads import MAX_UPLOAD_MB, MAX_UPLOAD_S, check_upload

#: Loudness choices: label -> LUFS target ("off": peak-safe only).
LOUDNESS_CHOICES = [("off", "off"), ("-23 LUFS", "-23"), ("-16 LUFS", "-16"), ("-14 LUFS", "-14"),
                    ("-9 LUFS", "-9")]
#: Defaults of the sampling settings (the API's defaults too): those of ``GenerationParams``.
P = GenerationParams()
#: Most takes the Compare grid shows at once.
MAX_COMPARE = 8


@dataclass
class App:
    """What every handler needs: the output folder, the prompt folder, limits, the model cache, the history.

    Per-user values (Stop presses, selections) are ``gr.State`` passed to handlers, never fields here.
    """

    out: Path
    prompts: Path
    max_upload_mb: float = MAX_UPLOAD_MB
    max_upload_s: float = MAX_UPLOAD_S
    preview_streaming: bool = False
    #: The Demucs model a take's stems are split with.
    stems_model: str = STEMS_MODEL
    cache: EngineCache = field(default_factory=EngineCache)
    #: engine -> its decoders (MBD), loaded once per engine and gone with it
    decoders: Decoders = field(default_factory=Decoders, repr=False)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.prompts = Path(self.prompts)
        self.history = History(self.out)

    def upload(self, path: str | Path | None) -> Path | None:
        """An uploaded file checked against the limits (None stays None)."""
        if path is None or path == "":
            return None
        return check_upload(path, max_mb=self.max_upload_mb, max_s=self.max_upload_s)

    def rel(self, path: str | Path) -> str:
        """``path`` relative to the output folder (for display and API results)."""
        try:
            return Path(path).resolve().relative_to(self.out.resolve()).as_posix()
        except ValueError:
            return Path(path).name


def model_name(choice: str | None, folder: str | None) -> str:
    """The model to load: a local folder typed in wins over the selector."""
    return (folder or "").strip() or (choice or "").strip()


def inputs_shown(choice: str | None, folder: str | None) -> tuple[list[str], bool]:
    """The Generate tab's draft modes for this model ("none" first; only "none": no draft inputs) and whether it
    shows segments. A folder or Hub id: every MusicGen mode."""
    inputs = model_inputs(model_name(choice, folder))
    return ["none", *(m for m in ("melody", "chords", "continuation", "style") if m in inputs)], "segments" in inputs


def blank_number(label: str, **options: Any) -> gr.Textbox:
    """A number box that can stay blank (``gr.Number`` shows 0 for "no value"): read it with :func:`number`."""
    return gr.Textbox("", label=label, **options)


def number(value: Any, label: str) -> float | None:
    """A :func:`blank_number`'s value: None when blank, else the number; text that is no number is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise gr.Error(f"“{label}” must be a number or blank, got {value!r}") from None


def history_filters(text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
                    model: str | None = None, sort: str | None = "newest", bpm: str | None = None,
                    key: str | None = None) -> dict[str, Any]:
    """History's search widgets as :meth:`~workbench.store.history.History.search`'s arguments (blank: no filter;
    the tempo a range ``100-120`` or one tempo ``110``)."""
    return {"text": (text or "").strip() or None, "favorites": bool(favorites),
            "min_rating": int(min_rating) if min_rating else None, "model": (model or "").strip() or None,
            "sort": sort or "newest", "bpm": parse_bpm_range(bpm, "“Tempo”") if (bpm or "").strip() else None,
            "key": (key or "").strip() or None}


def loudness_target(choice: str | None) -> float | None:
    """The loudness selector's value as LUFS, or None for off."""
    if choice in (None, "", "off"):
        return None
    try:
        return float(choice)
    except ValueError:
        raise gr.Error(f"loudness must be 'off' or a LUFS number like -14, got {choice!r}") from None


def new_stops() -> dict[str, int]:
    """A session's Stop presses per tab (a ``gr.State`` value): a tab's Stop stops that tab's jobs, no other."""
    return {}


def go_to(section: str) -> dict[str, Any]:
    """The updates that open ``section`` (an id of ``workbench.ui.app.SECTIONS``): the tab, and the phone's section
    selector with it, so that the selector never names another section than the one shown."""
    return {"tabs": gr.Tabs(selected=section), "nav": section}


def stop_handler(tab: str) -> Callable[[dict[str, int]], None]:
    """The Stop button of ``tab``: every job of this session and tab started before the press stops at its next
    step (a job started after it runs)."""
    def press(stops: dict[str, int]) -> None:
        stops[tab] = stops.get(tab, 0) + 1

    return press


@dataclass
class Run:
    """One long action of a session: stopped by its tab's Stop button or when its client goes away.

    Attributes:
        stops: The session's Stop presses (see :func:`new_stops`).
        tab: Which tab's Stop button stops it.
        started: The tab's count of presses when the job started.
        cancel: Set when the client disconnects or the handler ends early (see :func:`run_in_background`).
    """

    stops: dict[str, int]
    tab: str
    started: int
    cancel: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, stops: dict[str, int] | None, tab: str) -> Run:
        stops = stops if stops is not None else {}
        return cls(stops, tab, stops.get(tab, 0))

    def should_stop(self) -> bool:
        return self.cancel.is_set() or self.stops.get(self.tab, 0) != self.started


#: Seconds between heartbeats of a background job: gradio notices a client that went away at a yield.
HEARTBEAT_S = 1.0
#: A job's progress reaches the page at most this often (and at its last step): every step (50-100 a second on
#: ``tiny`` or a GPU) kept a busy browser re-drawing the progress until it lagged the render by tens of seconds,
#: and a Stop clicked there landed after the take had ended.
PROGRESS_EVERY_S = 0.2


def skips(count: int) -> tuple[Any, ...]:
    """``count`` unchanged outputs: what a handler yields on a heartbeat."""
    return tuple(gr.skip() for _ in range(count))


def int16(audio: np.ndarray) -> np.ndarray:
    """``[channels, samples]`` float audio -> ``[samples, channels]`` int16 for ``gr.Audio`` (no float warning)."""
    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    return (clipped.T * 32767).round().astype(np.int16)


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """16-bit WAV bytes of ``[channels, samples]`` audio (one chunk of a streaming player)."""
    frames = int16(audio)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(frames.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(frames.tobytes())
    return buffer.getvalue()


def stars(rating: int | None) -> str:
    return "★" * rating if rating else ""


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def run_in_background(work: Callable[[Callable[[str, Any], None]], Any], progress: Any, *, desc: str,
                      cancel: threading.Event) -> Iterator[tuple[str, Any]]:
    """Run ``work(emit)`` in a thread; yield what it emits as ``(kind, payload)``, then ``("result", value)``.

    ``emit("progress", (done, total))`` updates ``progress`` (a ``gr.Progress``) from the handler's own
    thread, where gradio can see it: the first at once, then the latest at most every :data:`PROGRESS_EVERY_S`
    seconds (one left waiting goes out at the next heartbeat), the last step always. ``("tick", None)`` comes at
    least every :data:`HEARTBEAT_S` seconds so that the handler yields and gradio can stop it when its client is
    gone. The work's exception is raised here. If the consumer stops iterating (client gone, error) and closes
    this generator, ``cancel`` is set so that the work's ``should_stop`` ends it.
    """
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work(lambda kind, payload: events.put((kind, payload)))
        except BaseException as error:  # noqa: BLE001 - re-raised in the handler's thread
            outcome["error"] = error
        finally:
            events.put(("done", None))

    thread = threading.Thread(target=target, name="workbench-job", daemon=True)
    thread.start()
    beat, shown = time.monotonic(), -PROGRESS_EVERY_S  # the first progress is shown at once
    pending: tuple[int, int] | None = None  # the latest progress not yet shown
    try:
        while True:
            try:
                kind, payload = events.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                kind, payload = "tick", None
            if kind == "progress":
                pending = payload
            if pending is not None and (pending[0] >= pending[1] or time.monotonic() - shown >= PROGRESS_EVERY_S):
                progress(pending, desc=desc, unit="steps")
                pending, shown = None, time.monotonic()
            if kind == "done":
                break
            if kind == "progress":
                if time.monotonic() - beat < HEARTBEAT_S:
                    continue
                kind, payload = "tick", None
            beat = time.monotonic()
            yield kind, payload
    finally:
        cancel.set()
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    yield "result", outcome.get("value")


def relay(work: Callable[[Callable[[str, Any], None]], Any], progress: Any, *, desc: str, job: Run, outputs: int,
          result: Callable[[Any], Any], stopped: Any, event: Callable[[str, Any], Any] | None = None
          ) -> Iterator[Any]:
    """What a long handler yields: ``work`` run by :func:`run_in_background`, its events turned into outputs.

    A heartbeat yields ``outputs`` unchanged values; the end yields ``result(value)``; any other event (a preview
    chunk, a take's status) yields ``event(kind, payload)`` when given; a Stop yields ``stopped``, or
    ``stopped(error)`` when it is callable (the :class:`GenerationCancelled` may offer what was made so far).
    """
    unchanged = gr.skip() if outputs == 1 else skips(outputs)
    with closing(run_in_background(work, progress, desc=desc, cancel=job.cancel)) as events:
        try:
            for kind, payload in events:
                if kind == "tick":
                    yield unchanged
                elif kind == "result":
                    yield result(payload)
                elif event is not None:
                    yield event(kind, payload)
        except GenerationCancelled as error:
            yield stopped(error) if callable(stopped) else stopped
