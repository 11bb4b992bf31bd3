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
    guidance: Annotated[float, typer.Option(help="Classifier-free guidance scale (<=1: off).")] = 3.0
    temperature: Annotated[float, typer.Option(help="Sampling temperature (>0).")] = 1.0
    top_k: Annotated[int, typer.Option("--top-k", help="Top-k filter (0: off).")] = 250
    top_p: Annotated[float, typer.Option("--top-p", help="Nucleus filter in [0, 1] (1: off).")] = 1.0
    stride: Annotated[float, typer.Option(help="New seconds per window beyond 30 s.")] = 18.0
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda, mps (default: best available).")] = None
    dtype: Annotated[Optional[str], typer.Option(help="float32, float16, bfloat16 (default: fp16 on CUDA).")] = None
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

    def params(self) -> Any:
        from workbench.core.params import params_from_settings

        return params_from_settings(duration=self.duration, guidance=self.guidance, temperature=self.temperature,
                                    top_k=self.top_k, top_p=self.top_p, stride=self.stride)

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
    """Melody, chords, continuation and style draft options, and segments (texts that take over at a time)."""

    melody: Annotated[Optional[Path], typer.Option(help="Audio or MIDI draft whose melody to follow.")] = None
    melody_start: Annotated[float, typer.Option(help="Start of the melody window, s.")] = 0.0
    melody_end: Annotated[Optional[float], typer.Option(help="End of the melody window, s.")] = None
    melody_stem: Annotated[Optional[str], typer.Option(help=STEM_HELP)] = None
    midi_track: Annotated[Optional[str], typer.Option(help="MIDI track index or name.")] = None
    continue_from: Annotated[Optional[Path], typer.Option(help="Audio or .codes.npz to continue.")] = None
    prompt_seconds: Annotated[float, typer.Option(help="Seconds of --continue-from used.")] = 5.0
    include_prompt: Annotated[bool, typer.Option(help="Start the take with the prompt audio.")] = True
    chords: Annotated[Optional[str], typer.Option(
        help="Chord progression to follow instead of --melody, e.g. 'Am F C G' (N.C. = rest; melody models).")] = None
    bpm: Annotated[Optional[float], typer.Option(help="Tempo of --chords and --loop-bars, beats per minute.")] = None
    beats_per_chord: Annotated[Optional[float], typer.Option(help="Beats per chord (default: one bar).")] = None
    time_signature: Annotated[str, typer.Option(help="Time signature of --chords, e.g. 4/4, 3/4, 6/8.")] = "4/4"
    voicing: Annotated[str, typer.Option(
        help="What a chord becomes in the one-pitch-per-frame chroma: 'root', or 'arpeggio' (tones, one per beat).")
        ] = "root"
    style: Annotated[Optional[Path], typer.Option(
        help="Reference clip whose style to take (style models: style, tiny-style; audiocraft backend).")] = None
    segment: Annotated[Optional[list[str]], typer.Option(
        "--segment", help="From a time on, another text: '16:full drums, the drop' (repeatable, in time order; "
        "TEXT plays until the first).")] = None

    def segments(self, duration_s: float) -> Any:
        """``--segment`` values as checked segments (see :mod:`workbench.core.segments`)."""
        from workbench.core.segments import check_segments, parse_segment

        return check_segments([parse_segment(spec) for spec in self.segment or []], duration_s)


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
    """Load the engine named ``name`` (default ``--model``, else small) with a status line."""
    from workbench.models.hub import preflight
    from workbench.models.registry import DEFAULT_MODEL, resolve

    name = name or gen.model or DEFAULT_MODEL
    preflight(resolve(name))  # fail in seconds, before torch is even imported
    from workbench.engine.load import load_engine

    with console.status(f"loading model {name}"):
        return load_engine(name, device=gen.device, dtype=gen.dtype, low_memory=gen.low_memory)


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


def resolve_draft(engine: Any, opts: DraftOpts, params: Any, base: Path) -> Any:
    """Turn draft options into a :class:`workbench.drafts.prepare.Draft` (no draft: nothing to load)."""
    from workbench.drafts.prepare import prepare_draft

    return prepare_draft(engine, melody=opts.melody, melody_start=opts.melody_start, melody_end=opts.melody_end,
                         melody_stem=opts.melody_stem, midi_track=opts.midi_track, continue_from=opts.continue_from,
                         prompt_seconds=opts.prompt_seconds, include_prompt=opts.include_prompt,
                         chords=opts.chords, bpm=opts.bpm, beats_per_chord=opts.beats_per_chord,
                         time_signature=opts.time_signature, voicing=opts.voicing,
                         style=opts.style, duration_s=params.duration_s, record_base=base)
