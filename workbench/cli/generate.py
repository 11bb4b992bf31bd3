"""``workbench generate`` and ``workbench seeds``: one prompt rendered with one seed, or several side by side."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.options import DraftOpts, GenOpts, console, load, progress_bar, with_options


@with_options(gen=GenOpts, draft=DraftOpts)
def generate(
    text: Annotated[str, typer.Argument(help="What the music should be, e.g. '80s synthwave, 110 BPM'.")],
    gen: GenOpts,
    draft: DraftOpts,
    seed: Annotated[Optional[str], typer.Option(help="Sampling seed (default: a fresh one, shown).")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Audio file (.wav, .flac, .mp3, .ogg, "
                                                                           ".opus).")] = None,
    loop_bars: Annotated[Optional[int], typer.Option(
        help="Also write NAME.loop.wav: this many bars at --bpm (else estimated), seamless.")] = None,
) -> None:
    """Render one take of TEXT to a file (+ a JSON provenance sidecar and a token file)."""
    from workbench.core.music import COMMON_TIME
    from workbench.core.params import random_seed, validate_seed, validate_text
    from workbench.store.naming import adhoc_path
    from workbench.store.takes import check_outputs

    validate_text(text)  # every cheap check before torch is imported and the model loaded
    params, conditions = gen.params(), draft.conditions(loop_bars=loop_bars)
    seed_value = validate_seed(seed) if seed is not None else random_seed()
    conditions.check_length(params.duration_s)
    signature = draft.time_signature or COMMON_TIME
    if loop_bars is not None:
        from workbench.render.loops import check_loop_request

        check_loop_request(loop_bars, params.duration_s, draft.bpm, signature)
    path = output or adhoc_path(gen.out, text, seed_value, gen.ext(output))
    check_outputs([path], force=gen.force, subtype=gen.subtype(output))
    from workbench.render.prompt import render_prompt

    engine = load(gen)
    with progress_bar(f"seed {seed_value}") as progress:
        [item] = render_prompt(engine, text, params, [seed_value], [path], conditions=conditions, progress=progress,
                               **gen.write_options(output))
    gen.report(item)
    if loop_bars is not None:
        from workbench.cli.loop import report
        from workbench.render.loops import write_loop

        report(*write_loop(item.sidecar, bars=loop_bars, bpm=draft.bpm, time_signature=signature))


@with_options(gen=GenOpts, draft=DraftOpts)
def seeds(
    text: Annotated[str, typer.Argument(help="The prompt.")],
    gen: GenOpts,
    draft: DraftOpts,
    seed_list: Annotated[str, typer.Option("--seeds", help="Seeds, e.g. '1-4' or '3,7,11'.")] = "1-4",
    folder: Annotated[Optional[Path], typer.Option("--dir", help="Folder for the takes and index.html.")] = None,
) -> None:
    """Render TEXT with several seeds in one batched pass, side by side, with an HTML contact sheet."""
    from workbench.core.params import parse_seeds, validate_text
    from workbench.store.naming import adhoc_folder, seed_name
    from workbench.store.takes import check_outputs

    validate_text(text)
    params, conditions, seed_values = gen.params(), draft.conditions(), parse_seeds(seed_list)
    conditions.check_length(params.duration_s)
    folder = folder or adhoc_folder(gen.out, text)
    ext = gen.ext()
    check_outputs([folder / seed_name(seed, ext) for seed in seed_values], force=gen.force, subtype=gen.subtype())
    from workbench.render.prompt import render_seeds

    engine = load(gen)
    with progress_bar(f"{len(seed_values)} seeds") as progress:
        rendered, index = render_seeds(engine, text, params, seed_values, folder, progress=progress, ext=ext,
                                       conditions=conditions, **gen.write_options())
    for item in rendered:
        gen.report(item)
    console.print(f"contact sheet: {index}")
