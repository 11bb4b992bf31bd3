"""``workbench branch``: retakes of a take from a point, one per seed, side by side with their parent."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.core.errors import ParamsError
from workbench.drafts.branch import branch_draft, check_branch_point
from workbench.drafts.prepare import follow_parent
from workbench.render.prompt import Rendered, contact_row, parent_row, render_prompt
from workbench.store.naming import branch_folder, seed_name
from workbench.store.sidecar import read_sidecar, sidecar_params


def render_branch(parent: str | Path, *, at_s: float, seeds: Sequence[int], engine: Any = None,
                  duration_s: float | None = None, text: str | None = None, folder: str | Path | None = None,
                  device: str | None = None, **options: Any) -> tuple[list[Rendered], Path]:
    """Keep the first ``at_s`` seconds of the take whose sidecar is ``parent`` and render the rest once per seed.

    Args:
        parent: The take's ``.json`` sidecar.
        at_s: The branch point, seconds from the take's start (its codes before it are kept exactly).
        seeds: One new take per seed, rendered in one batched pass.
        engine: An engine of the take's model (default: the recorded model is loaded, like ``reproduce``).
        duration_s: Length of each new take, kept part included (default: the parent's).
        text: Another prompt for the new part (default: the parent's).
        folder: Where the takes and ``index.html`` go (default: beside the parent, see
            :func:`workbench.store.naming.branch_folder`).
        device: Device for a loaded engine (default: the recorded one).
        **options: For :func:`workbench.render.prompt.render_prompt` (``force``, ``history``, ``progress``...).

    Returns:
        The new takes and the contact sheet, whose first card is the parent.
    """
    from workbench.render.reproduce import Environment
    from workbench.store.contact import write_contact_sheet

    parent = Path(parent)
    record = read_sidecar(parent)
    total = record["num_samples"] / record["sample_rate"]
    check_branch_point(at_s, total)  # before any model is loaded
    length = total if duration_s is None else duration_s
    if not (isinstance(length, (int, float)) and length > at_s):
        raise ParamsError(f"--duration {length!r} s must be longer than the branch point ({at_s!r} s)")
    params = sidecar_params(record).replace(duration_s=round(length - at_s, 6))
    if engine is None:
        from workbench.engine.load import load_engine

        env = Environment.of(record, parent, device=device)
        engine = load_engine(env.model, device=env.device, dtype=env.dtype, kernels=env.kernels)
    folder = Path(folder) if folder is not None else branch_folder(parent, at_s)
    draft = follow_parent(branch_draft(parent, record, at_s, engine, record_base=folder), record.get("draft"),
                          parent_base=parent.parent, base=folder, engine=engine)
    rendered = render_prompt(engine, text or record["prompt"]["text"], params, list(seeds),
                             [folder / seed_name(seed) for seed in seeds], draft=draft, **options)
    rows = [parent_row(parent, record, folder)]
    rows += [{**contact_row(item), "label": f"seed {item.take.seed} from {at_s:g} s"} for item in rendered]
    title = f"{text or record['prompt']['text']} — retakes from {at_s:g} s"
    return rendered, write_contact_sheet(folder, title, rows)
