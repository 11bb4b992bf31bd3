"""Shared pieces of the CLI: option groups injected into commands, progress bars, model loading."""

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from workbench.core.stems import STEM_HELP
from workbench.core.take import cost_summary

# piped output is read by people and tools alike: keep tables wide instead of wrapping at 80 columns
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class GenOpts:
    """Model, generation and output options shared by the rendering commands."""

    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Model: small (default), medium, melody..., "
                                                 "magnet-small, style (audiocraft backend), a Hub id, a folder, or "
                                                 "tiny (offline, untrained); see 'workbench models'.")] = None
    duration: Annotated[Optional[float], typer.Option("--duration", "-d", help="Seconds of audio, up to 300 "
                                                      "(default 8).")] = None
    guidance: Annotated[Optional[float], typer.Option(
        help="Classifier-free guidance scale (<=1: off; default 3, MAGNeT 10).")] = None
    temperature: Annotated[Optional[float], typer.Option(help="Sampling temperature (>0; default 1, MAGNeT 3).")] = None
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Top-k filter (0: off; default 250, MAGNeT 0).")
                     ] = None
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Nucleus filter in [0, 1] (1: off; default 1, "
                                                   "MAGNeT 0.9).")] = None
    stride: Annotated[Optional[float], typer.Option(help="New seconds per window beyond 30 s (default 18).")] = None
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda, mps (default: best available).")] = None
    dtype: Annotated[Optional[str], typer.Option(help="float32 (default), float16, bfloat16.")] = None
    low_memory: Annotated[bool, typer.Option("--low-memory", help="Keep the text encoder out of memory while "
                                             "decoding (same takes, less RAM).")] = False
    loudness: Annotated[Optional[float], typer.Option(help="Normalise to this LUFS, e.g. -14.")] = None
    format: Annotated[Optional[str], typer.Option(
        "--format", help="wav (default), flac, mp3, ogg (Vorbis) or opus; default: -o's extension, else wav.")] = None
    bit_depth: Annotated[Optional[str], typer.Option(
        "--bit-depth", help="WAV/FLAC: 16 (default), 24 or float (WAV only).")] = None
    bitrate: Annotated[Optional[int], typer.Option(
        "--bitrate", help="MP3: constant kbps, 40-320 (128, 192, 256, 320...).")] = None
    quality: Annotated[Optional[int], typer.Option(
        "--quality", help="MP3/Ogg/Opus: variable bitrate, 0 (best) to 9 (smallest); default: libsndfile's.")
                       ] = None
    out: Annotated[Path, typer.Option("--out", help="Output folder (and its history database).")] = Path("outputs")
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite existing files.")] = False

    @property
    def model_name(self) -> str:
        """``--model``, else the default model."""
        from workbench.models.registry import DEFAULT_MODEL

        return self.model or DEFAULT_MODEL

    def settings(self) -> dict[str, Any]:
        """The sampling options as given (None: not given), named as ``params_from_settings`` takes them."""
        return {"duration": self.duration, "guidance": self.guidance, "temperature": self.temperature,
                "top_k": self.top_k, "top_p": self.top_p, "stride": self.stride}

    def params(self) -> Any:
        """The model's default sampling with every option given applied."""
        from workbench.core.params import params_from_settings
        from workbench.models.registry import default_params

        return params_from_settings(default_params(self.model_name), **self.settings())

    def write_options(self, output: Optional[Path] = None) -> dict[str, Any]:
        """``save_takes`` settings for takes written to ``output`` (or to ``--format``'s extension)."""
        from workbench.store.history import History

        return {"force": self.force, "subtype": self.subtype(output), "loudness": self.loudness,
                "history": History(self.out)}

    def ext(self, output: Optional[Path] = None) -> str:
        """The audio extension: ``--format``'s, else ``output``'s, else ``.wav``; checked against each other."""
        from workbench.core.audio import format_ext
        from workbench.core.errors import ParamsError

        if self.format is not None:
            chosen = format_ext(self.format, "--format")
            if output is not None and output.suffix.lower() != chosen:
                raise ParamsError(f"--format {chosen[1:]} but -o {output} ends in {output.suffix or 'nothing'}: "
                                  "give one or make them agree")
            return chosen
        return output.suffix.lower() if output is not None and output.suffix else ".wav"

    def subtype(self, output: Optional[Path] = None) -> Any:
        """The encoding: ``--bit-depth`` for WAV/FLAC, Opus for .opus, else the format's default (None); with
        ``--bitrate`` / ``--quality`` an :class:`~workbench.core.audio.Encoding` carrying them (checked here)."""
        from workbench.core.audio import make_encoding

        return make_encoding(self.ext(output), self.bit_depth, self.bitrate, self.quality, what="--bit-depth")

    def chosen_ext(self) -> Optional[str]:
        """``--format``'s extension, or None to let each prompt file choose."""
        return self.ext() if self.format is not None else None

    def encoding_for(self) -> Optional[Callable[[str], Any]]:
        """``ext -> encoding`` from ``--bit-depth``/``--bitrate``/``--quality``, or None when none was given."""
        from workbench.core.audio import make_encoding

        if self.bit_depth is None and self.bitrate is None and self.quality is None:
            return None
        return lambda ext: make_encoding(ext, self.bit_depth, self.bitrate, self.quality, what="--bit-depth")

    def report(self, item: Any) -> None:
        take, audio = item.take, item.record["audio"]
        line = (f"wrote {item.path} ({take.duration_s:.2f} s, {take.sample_rate} Hz, seed {take.seed}, "
                f"peak {audio['peak_dbfs']} dBFS, {audio['loudness_lufs']} LUFS")
        if "melody_adherence" in take.extra:
            line += f", melody adherence {take.extra['melody_adherence']:.3f}"
        if "decoder" in take.extra:
            decoder = take.extra["decoder"]
            line += f", decoded by MultiBand Diffusion ({decoder['source']}, {decoder['wall_s']:.1f} s)"
        console.print(line + f") + {item.sidecar.name}")
        if take.segments:
            from workbench.core.segments import timeline

            console.print(f"  timeline: {timeline(take.text, take.segments, take.duration_s)}", markup=False)
        if take.cost:
            console.print(f"  cost: {cost_summary(take.cost)}")


@dataclass(frozen=True)
class DraftOpts:
    """What conditions a take besides text and sampling: melody, chords, continuation and style drafts, segments (texts
    that take over at a time) and the decoder. Unset options are None: only what was given reaches the take, and an
    option given without the draft it belongs to is refused (see :mod:`workbench.core.conditions`)."""

    melody: Annotated[Optional[Path], typer.Option(help="Audio or MIDI draft whose melody to follow.")] = None
    melody_start: Annotated[Optional[float], typer.Option(help="Start of the melody window, s (default 0).")] = None
    melody_end: Annotated[Optional[float], typer.Option(help="End of the melody window, s (default: start + "
                                                        "--duration).")] = None
    melody_stem: Annotated[Optional[str], typer.Option(help=STEM_HELP)] = None
    midi_track: Annotated[Optional[str], typer.Option(help="MIDI track index or name (default: all but drums).")
                          ] = None
    continue_from: Annotated[Optional[Path], typer.Option(help="Audio or .codes.npz to continue.")] = None
    prompt_seconds: Annotated[Optional[float], typer.Option(help="Seconds of --continue-from used (default 5).")
                              ] = None
    include_prompt: Annotated[Optional[bool], typer.Option(
        "--include-prompt/--no-include-prompt", help="Start the take with the prompt audio (default: yes).")] = None
    chords: Annotated[Optional[str], typer.Option(
        help="Chord progression to follow instead of --melody, e.g. 'Am F C G' (N.C. = rest; melody models).")] = None
    bpm: Annotated[Optional[float], typer.Option(help="Tempo of --chords and --loop-bars, beats per minute.")] = None
    beats_per_chord: Annotated[Optional[float], typer.Option(help="Beats per chord (default: one bar).")] = None
    time_signature: Annotated[Optional[str], typer.Option(
        help="Time signature of --chords and --loop-bars, e.g. 4/4 (default), 3/4, 6/8.")] = None
    voicing: Annotated[Optional[str], typer.Option(
        help="What a chord becomes in the one-pitch-per-frame chroma: 'root' (default), or 'arpeggio' (tones, one per "
             "beat).")] = None
    style: Annotated[Optional[Path], typer.Option(
        help="Reference clip whose style to take (style models: style, tiny-style; audiocraft backend).")] = None
    segment: Annotated[Optional[list[str]], typer.Option(
        "--segment", help="From a time on, another text: '16:full drums, the drop' (repeatable, in time order; "
        "TEXT plays until the first).")] = None
    decoder: Annotated[Optional[str], typer.Option(
        help="encodec (the model's own, default) or mbd (MultiBand Diffusion, audiocraft backend; mono MusicGen).")
        ] = None

    def conditions(self, *, loop_bars: Optional[int] | bool = False) -> Any:
        """These options as :class:`~workbench.core.conditions.Conditions`, checked before anything loads.

        ``loop_bars``: the command's ``--loop-bars`` (None: not given; False: the command has none), which
        ``--bpm`` and ``--time-signature`` also serve.

        Raises:
            ParamsError: the first problem, naming the options as the command line does.
        """
        from workbench.core.errors import FieldError, ParamsError
        from workbench.core.fields import conditions_from_fields, flag_name
        from workbench.core.segments import parse_segment

        for name in ("bpm", "time_signature"):
            if getattr(self, name) is not None and self.chords is None and loop_bars in (None, False):
                users = "--chords" if loop_bars is False else "--chords or --loop-bars"
                raise ParamsError(f"{flag_name(name)} only applies with {users}")

        fields = {name: getattr(self, name) for name in CONDITION_OPTIONS}
        try:
            return conditions_from_fields(**fields, segments=[parse_segment(spec) for spec in self.segment or []])
        except FieldError as error:
            raise ParamsError(error.say(flag_name)) from None


#: The options of :class:`DraftOpts` that are fields of ``conditions_from_fields`` by the same name.
CONDITION_OPTIONS = ("melody", "melody_start", "melody_end", "melody_stem", "midi_track", "continue_from",
                     "prompt_seconds", "include_prompt", "chords", "bpm", "beats_per_chord", "time_signature",
                     "voicing", "style", "decoder")


def with_options(**groups: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the fields of option dataclasses to a command's signature and pass each group as one object.

    ``@with_options(gen=GenOpts)`` makes every ``GenOpts`` field a typer option of the command and calls
    it with ``gen=GenOpts(...)``.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command)
        own = [p for p in signature.parameters.values() if p.name not in groups]
        extra = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
                 for group in groups.values() for f in fields(group)]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            for name, group in groups.items():
                kwargs[name] = group(**{f.name: kwargs.pop(f.name) for f in fields(group)})
            return command(**kwargs)

        parameters = own + extra
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate


def load(gen: GenOpts, name: Optional[str] = None) -> Any:
    """Load the engine named ``name`` (default ``--model``, else the default model) with a status line."""
    from workbench.models.hub import preflight
    from workbench.models.registry import resolve

    name = name or gen.model_name
    preflight(resolve(name))  # fail in seconds, before torch is even imported
    from workbench.engine.load import load_engine
    from workbench.models.dtypes import agreement_note

    with console.status(f"loading model {name}"):
        engine = load_engine(name, device=gen.device, dtype=gen.dtype, low_memory=gen.low_memory)
    note = agreement_note(engine.device, engine.dtype)
    if note:
        err_console.print(f"note: --dtype {note}", soft_wrap=True)
    return engine


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar (steps, elapsed, ETA) on stderr; yields a ``progress(done, total)`` callback."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
