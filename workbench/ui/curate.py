"""The History tab's curation panel: notes and tags, delete / restore / empty the trash, prune by a rule (listed
first), export the listed takes as a zip and import one (each handler translates and calls :mod:`workbench.store`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.store.archive import export_takes, import_takes
from workbench.store.naming import export_path
from workbench.store.trash import Trash, parse_age, prune_candidates
from workbench.ui.context import App, history_filters
from workbench.ui.errors import ui_errors


class CuratePanel:
    """Handlers and layout of the curation accordion (inside the History tab)."""

    def __init__(self, app: App, row: Any) -> None:
        self.app, self._row = app, row  # ``row(take)``: the History tab's look-up, with its "pick a take" error

    def trash_choices(self) -> Any:
        items = Trash(self.app.history).items()
        return gr.Dropdown(choices=[(f"#{i.take_id} {i.prompt[:40]} ({i.deleted[:16].replace('T', ' ')})", i.name)
                                    for i in reversed(items)], value=None)

    @ui_errors
    def edit(self, take: str, notes: str = "", tags: str = "") -> str:
        """Replace a take's notes and tags (comma-separated)."""
        row = self._row(take)
        saved = self.app.history.update_user(str(row["id"]), notes=notes or "",
                                             tags=[t for t in (tags or "").split(",") if t.strip()])
        return f"take #{saved['id']}: notes and tags saved (tags: {', '.join(saved['tags']) or 'none'})"

    @ui_errors
    def delete(self, take: str) -> tuple[str, Any]:
        """Move a take to the trash: ``(message, trash choices)``."""
        if take in (None, "") or not str(take).strip():
            raise gr.Error("pick a take in the table first (or type its id)")
        item = Trash(self.app.history).delete(str(take).strip())
        return (f"take #{item.take_id} moved to the trash ({len(item.files)} files); restore it below",
                self.trash_choices())

    @ui_errors
    def restore(self, name: str | None) -> tuple[str, Any]:
        if not name:
            raise gr.Error("pick a deleted take in the trash list first")
        take_id = Trash(self.app.history).restore(name)
        return f"take #{take_id} restored", self.trash_choices()

    @ui_errors
    def empty(self) -> tuple[str, Any]:
        count, freed = Trash(self.app.history).empty()
        return f"trash emptied: {count} takes, {freed / 1e6:.1f} MB freed for good", self.trash_choices()

    def _prune_rows(self, below: float | None, older: str | None, unrated: bool) -> list[dict[str, Any]]:
        return prune_candidates(self.app.history, below_rating=int(below) if below else None, unrated=bool(unrated),
                                older_than=parse_age(older) if (older or "").strip() else None)

    @ui_errors
    def prune(self, below: float | None = None, older: str | None = "", unrated: bool = False,
              confirm: bool = False) -> tuple[str, Any]:
        """The takes a prune rule selects (favourites never): listed, or with ``confirm`` moved to the trash."""
        rows = self._prune_rows(below, older, unrated)
        if not confirm:
            listed = "".join(f"\n- #{r['id']} {'★' * (r['rating'] or 0) or 'unrated'} · {r['created'][:16]} · "
                             f"{r['prompt'][:50]}" for r in rows[:20])
            more = f"\n- … and {len(rows) - 20} more" if len(rows) > 20 else ""
            return f"**{len(rows)} takes** would go to the trash:{listed}{more}", gr.skip()
        trash = Trash(self.app.history)
        for row in rows:
            trash.delete(row["id"])
        return f"{len(rows)} takes moved to the trash", self.trash_choices()

    @ui_errors
    def export(self, text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
               model: str | None = None, sort: str | None = "newest", bpm: str | None = None,
               key: str | None = None) -> tuple[str, str]:
        """The takes the search lists, as one zip under ``<out>/exports/``: ``(zip, message)``."""
        rows = self.app.history.search(**history_filters(text, favorites, min_rating, model, sort, bpm, key),
                                       limit=1_000_000_000)
        path = export_path(self.app.out)
        size = export_takes(self.app.history, rows, path)
        return str(path), f"exported {len(rows)} takes ({size / 1e6:.1f} MB): `{self.app.rel(path)}`"

    @ui_errors
    def import_zip(self, upload: str | None) -> str:
        path = self.app.upload(upload)
        if path is None:
            raise gr.Error("upload a zip written by Export (or 'workbench export') first")
        summary = import_takes(path, self.app.history)
        return f"imported {len(summary.imported)} takes" + (
            f"; {len(summary.skipped)} were already here" if summary.skipped else "")

    def build(self, take: Any, message: Any, refresh: tuple[Any, list[Any], Any]) -> SimpleNamespace:
        """The accordion; ``refresh`` is the History tab's (search, inputs, table) to list takes again."""
        w = SimpleNamespace()
        with gr.Accordion("Notes, tags, trash, export", open=False):
            w.notes = gr.Textbox(label="Notes", lines=2, elem_id="hist-notes")
            w.tags = gr.Textbox(label="Tags", placeholder="comma-separated, e.g. drums, keeper", elem_id="hist-tags")
            with gr.Row():
                w.save = gr.Button("Save notes & tags", size="sm", elem_id="hist-edit")
                w.delete = gr.Button("Delete take", size="sm", variant="stop", elem_id="hist-delete")
            w.trash = gr.Dropdown([], label="Trash (deleted takes)", elem_id="hist-trash")
            with gr.Row():
                w.restore = gr.Button("Restore", size="sm")
                w.empty = gr.Button("Empty trash", size="sm", variant="stop")
            with gr.Row():
                w.below = gr.Dropdown([("any rating", 0), *((f"below {n}★", n) for n in range(2, 7))], value=0,
                                      label="Prune: rated", scale=2)
                w.older = gr.Textbox("", label="older than", placeholder="30d, 12h, 2w", scale=1)
                w.unrated = gr.Checkbox(label="unrated too", scale=1)
            with gr.Row():
                w.preview_prune = gr.Button("List what a prune takes", size="sm", elem_id="hist-prune")
                w.prune = gr.Button("Prune: move them to the trash", size="sm", variant="stop")
            w.export = gr.Button("Export the listed takes (zip)", size="sm", elem_id="hist-export")
            w.exported = gr.File(label="Exported zip", interactive=False, height=60)
            w.upload = gr.File(label="Import a zip (from Export or 'workbench export')", file_types=[".zip"],
                               type="filepath")
        search, search_in, table = refresh
        w.save.click(self.edit, [take, w.notes, w.tags], message, api_name="edit", concurrency_limit=None
                     ).then(search, search_in, table, api_visibility="private")
        w.delete.click(self.delete, take, [message, w.trash], api_name="delete", concurrency_limit=None
                       ).then(search, search_in, table, api_visibility="private")
        w.restore.click(self.restore, w.trash, [message, w.trash], api_name="restore", concurrency_limit=None
                        ).then(search, search_in, table, api_visibility="private")
        w.empty.click(self.empty, None, [message, w.trash], api_visibility="private", concurrency_limit=None)
        prune_in = [w.below, w.older, w.unrated]
        w.preview_prune.click(self.prune, prune_in, [message, w.trash], api_visibility="private",
                              concurrency_limit=None)
        w.prune.click(lambda *args: self.prune(*args, confirm=True), prune_in, [message, w.trash],
                      api_visibility="private", concurrency_limit=None
                      ).then(search, search_in, table, api_visibility="private")
        w.export.click(self.export, search_in, [w.exported, message], api_name="export")
        w.upload.upload(self.import_zip, w.upload, message, api_name="import"
                        ).then(search, search_in, table, api_visibility="private")
        return w
