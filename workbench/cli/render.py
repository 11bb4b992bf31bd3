"""``workbench render``: prompt files (entry x seed) rendered resumably, locally or on Ray; plan, progress, summary."""

from typing import Annotated, Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from workbench.cli.library import LibraryPaths, read_libraries
from workbench.cli.options import GenOpts, console, err_console, load, with_options


@with_options(gen=GenOpts)
def render(
    paths: LibraryPaths,
    gen: GenOpts,
    only: Annotated[Optional[list[str]], typer.Option("--only", help="Entry or template ids.")] = None,
    tags: Annotated[Optional[list[str]], typer.Option("--tags", help="Keep entries with any of these tags.")] = None,
    seed_list: Annotated[Optional[str], typer.Option("--seeds", help="Override the files' seeds, e.g. 1-4.")] = None,
    batch_size: Annotated[int, typer.Option(help="Takes per batched pass.")] = 4,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; load no model.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Render on Ray (local instance unless --ray-address).")] = False,
    ray_address: Annotated[Optional[str], typer.Option(help="Ray cluster address, e.g. auto or ray://head:10001.")
                           ] = None,
    ray_workers: Annotated[Optional[int], typer.Option(help="Model actors (default: one per GPU, else 1).")] = None,
    ray_cpus: Annotated[int, typer.Option(help="CPUs per actor on CPU-only clusters.")] = 1,
    ray_write_on: Annotated[str, typer.Option(help="'driver' or 'workers' (shared output folder).")] = "driver",
    decoder: Annotated[Optional[str], typer.Option(
        help="encodec or mbd for every take (default: each prompt file's `decoder`, else encodec).")] = None,
) -> None:
    """Render prompt files (entry x seed), resumably, into OUT/<library>/<entry>/s<seed>.wav."""
    from workbench.core.decoders import check_decoder

    decoder = check_decoder(decoder) if decoder is not None else None
    runner = None
    if ray or ray_address:
        from workbench.render.distributed import RayRunner

        runner = RayRunner(address=ray_address, workers=ray_workers, cpus_per_worker=ray_cpus, device=gen.device,
                           dtype=gen.dtype, low_memory=gen.low_memory, write_on=ray_write_on)
    ok = run_render(read_libraries(paths), gen, only=only or [], tags=tags or [], seed_list=seed_list,
                    batch_size=batch_size, dry_run=dry_run, runner=runner, decoder=decoder)
    raise typer.Exit(0 if ok else 1)


def run_render(libraries: list, gen: GenOpts, *, only: list[str], tags: list[str], seed_list: str | None,
               batch_size: int, dry_run: bool, runner: Any = None, decoder: str | None = None) -> bool:
    """Render (or plan) the selected prompts; returns True when every job succeeded."""
    from workbench.core.params import parse_seeds
    from workbench.library.selection import select
    from workbench.render.batch import plan_jobs, render_jobs
    from workbench.store.history import History

    prompts = select(libraries, only=only, tags=tags)
    seeds = parse_seeds(seed_list) if seed_list else None
    jobs = plan_jobs(prompts, gen.out, seeds=seeds, model=gen.model, settings=gen.settings(), ext=gen.chosen_ext(),
                     encoding=gen.encoding_for(), decoder=decoder)
    if not jobs:
        console.print("nothing to render: no entry matches the selection")
        return True
    if dry_run:
        _print_plan(jobs)
        return True
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        takes = bar.add_task("takes", total=len(jobs))
        steps = bar.add_task("steps", total=None)
        result = render_jobs(
            jobs, gen.out, load=lambda name: load(gen, name), runner=runner, batch_size=batch_size, force=gen.force,
            history=History(gen.out), loudness=gen.loudness,
            on_take=lambda update: bar.update(takes, completed=update.done, description=f"takes ({update.job.label})"),
            step_progress=lambda done, total: bar.update(steps, completed=done, total=total))
    _print_summary(result)
    if getattr(runner, "retries", 0):
        console.print(f"{runner.retries} passes were retried after a worker was lost")
    return result.ok


def _print_plan(jobs: list) -> None:
    table = Table("library", "entry", "seed", "model", "seconds", "sampling", "decoder", "file",
                  title="plan (dry run: nothing rendered)")
    for job in jobs:
        p = job.params
        sampling = f"g{p.guidance_scale:g} t{p.temperature:g} k{p.top_k} p{p.top_p:g}"
        table.add_row(job.prompt.library, job.prompt.id, str(job.seed), job.model, f"{p.duration_s:g}", sampling,
                      job.conditions.decoder, str(job.path))
    console.print(table)
    seconds = sum(job.params.duration_s for job in jobs)
    console.print(f"{len(jobs)} takes, {seconds:g} s of audio ({seconds / 60:.1f} min)")


def _print_summary(result: Any) -> None:
    table = Table("entry", "seed", "status", "detail", title="render summary")
    for item in result.done:
        ref = item.record["prompt"]
        table.add_row(f"{ref['library']}/{ref['entry_id']}", str(item.record["seed"]), "done", str(item.path))
    for job in result.skipped:
        table.add_row(f"{job.prompt.library}/{job.prompt.id}", str(job.seed), "skipped", "finished earlier")
    for job, error in result.failed:
        table.add_row(f"{job.prompt.library}/{job.prompt.id}", str(job.seed), "[red]FAILED[/]", error)
    console.print(table)
    console.print(f"{len(result.done)} rendered, {len(result.skipped)} skipped, {len(result.failed)} failed; "
                  f"manifest: {result.manifest}")
