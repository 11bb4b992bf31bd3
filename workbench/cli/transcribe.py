"""``workbench transcribe``: an audio draft to MIDI notes (Basic Pitch) and a piano-roll image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import console


def transcribe(
    draft: Annotated[Path, typer.Argument(help="An audio draft: hummed, played or mixed (WAV, FLAC, OGG, MP3).")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="MIDI file to write (default: DRAFT's "
                                                   "name with .mid, beside it).")] = None,
    start: Annotated[float, typer.Option(help="Start of the window to transcribe, s.")] = 0.0,
    end: Annotated[Optional[float], typer.Option(help="End of the window, s (default: the end of the file).")] = None,
    stem: Annotated[Optional[str], typer.Option(help="Separate first: 'harmonic', 'demucs' or 'demucs:NAME' "
                                                "(as --melody-stem).")] = None,
    piano_roll: Annotated[bool, typer.Option(help="Also write a PNG piano roll beside the MIDI file (the melody "
                                             "line in orange).")] = True,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Transcribe DRAFT to notes with Basic Pitch: a MIDI file with a 'notes' track (everything heard) and a
    'melody' track (the highest voice), the line `--melody-stem transcribe` conditions on."""
    from workbench.core.errors import OutputExistsError
    from workbench.drafts.transcribe import MELODY_TRACK, NOTES_TRACK, check_transcribable, transcribe_file
    from workbench.store.naming import companion, piano_roll_path_for

    check_transcribable(draft)
    midi = output if output is not None else companion(draft, ".mid")
    for path in (midi, piano_roll_path_for(midi)) if piano_roll else (midi,):
        if path.exists() and not force:  # before the work, so that nothing is half written
            raise OutputExistsError(f"{path} exists already; pass --force to overwrite it")
    with console.status(f"transcribing {draft} with Basic Pitch…"):
        notes = transcribe_file(draft, start_s=start, end_s=end, stem=stem)
    notes.write_midi(midi, force=force)
    image = notes.write_piano_roll(piano_roll_path_for(midi), force=force) if piano_roll else None
    also = f" and {image}" if image is not None else ""
    console.print(f"wrote {midi}{also}: {len(notes.notes)} notes in track '{NOTES_TRACK}', "
                  f"{len(notes.melody)} in track '{MELODY_TRACK}' ({notes.duration_s:.2f} s, {notes.transcriber})")
    console.print(f"follow it: workbench generate TEXT --model melody --melody {midi} --midi-track {MELODY_TRACK}")


__all__ = ["transcribe"]
