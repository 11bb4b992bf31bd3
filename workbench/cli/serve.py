"""The ``workbench serve`` command: the browser workbench (``python app.py`` runs this command)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.models.registry import DEFAULT_MODEL


def serve(
    model: Annotated[str, typer.Option("--model", "-m", help="Model selected at start (tiny works offline).")
                     ] = DEFAULT_MODEL,
    host: Annotated[str, typer.Option(help="Address to bind; any other than loopback without --auth prints a warning "
                                           "(anyone who reaches it can render).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    out: Annotated[Path, typer.Option("--out", help="Output folder (takes, history).")] = Path("outputs"),
    prompts: Annotated[Path, typer.Option(help="Folder of prompt files.")] = Path("prompts"),
    share: Annotated[bool, typer.Option("--share", help="Public share link (use with --auth).")] = False,
    auth: Annotated[Optional[str], typer.Option(help="user:password required to open the app.")] = None,
    concurrency: Annotated[int, typer.Option(help="Model jobs run at once.")] = 1,
    max_queue: Annotated[int, typer.Option("--max-queue", help="Most jobs waiting in the queue.")] = 16,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest upload, MB.")] = 50.0,
    device: Annotated[Optional[str], typer.Option(help="cpu, cuda, mps (default: best available).")] = None,
    low_memory: Annotated[bool, typer.Option("--low-memory", help="Keep the text encoder out of memory between "
                                             "prompts (same takes, less RAM).")] = False,
    stems_model: Annotated[str, typer.Option("--stems-model", help="Demucs model a take's stems are split with "
                                             "(default htdemucs; offline: demucs_unittest, random weights).")
                           ] = "htdemucs",
) -> None:
    """Open the workbench in the browser: generate, compare seeds, libraries, batches, tokens, history."""
    from workbench.engine.resident import EngineCache
    from workbench.ui import build_ui, launch_options

    try:
        options = launch_options(out=out, host=host, port=port, share=share, auth=auth, max_upload_mb=max_upload_mb)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--auth") from None
    demo = build_ui(model=model, out=out, prompts=prompts, concurrency=concurrency, max_upload_mb=max_upload_mb,
                    device=device, cache=EngineCache(device=device, low_memory=low_memory), stems_model=stems_model)
    demo.queue(default_concurrency_limit=concurrency, max_size=max_queue).launch(**options)
