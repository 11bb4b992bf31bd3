"""The ``workbench render`` command's work: plan, dry run, progress bars and the summary table."""

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .cli_support import GenOpts, console, err_console, load


def run_render(libraries: list, gen: GenOpts, *, only: list[str], tags: list[str], seed_list: str | None,
               batch_size: int, dry_run: bool, runner: Any = None) -> bool:
    """Render (or plan) the selected prompts; returns True when every job succeeded."""
    from .batch import plan_jobs, render_jobs
    from .history import History
    from .library import select
    from .params import parse_seeds

    prompts = select(libraries, only=only, tags=tags)
    seeds = parse_seeds(seed_list) if seed_list else None
    jobs = plan_jobs(prompts, gen.out, seeds=seeds, model=gen.model, duration_s=gen.duration)
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
            history=History(gen.out), subtype=gen.format, loudness=gen.loudness,
            on_take=lambda done, total, label: bar.update(takes, completed=done, description=f"takes ({label})"),
            step_progress=lambda done, total: bar.update(steps, completed=done, total=total))
    _print_summary(result)
    if getattr(runner, "retries", 0):
        console.print(f"{runner.retries} passes were retried after a worker was lost")
    return result.ok


def _print_plan(jobs: list) -> None:
    table = Table("library", "entry", "seed", "model", "seconds", "file", title="plan (dry run: nothing rendered)")
    for job in jobs:
        table.add_row(job.prompt.library, job.prompt.id, str(job.seed), job.model, f"{job.params.duration_s:g}",
                      str(job.path))
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
