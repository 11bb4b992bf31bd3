"""The History tab: search takes (by text, rating, ♥, model, measured tempo and key) and see the first as cards, or
all of them in a table; the one picked opens in the take panel (:mod:`workbench.ui.takepanel`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.errors import WorkbenchError
from workbench.store.history import SORTS
from workbench.store.measured import versus_row
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.context import App, history_filters, stars
from workbench.ui.errors import ui_errors
from workbench.ui.takepanel import TakePanel

HEADERS = ["id", "created", "prompt", "seed", "model", "rating", "♥", "s", "tempo · key", "file"]
#: Most takes the gallery shows (the newest that match the search).
GALLERY = 12


class HistoryTab:
    """Handlers and layout of the History tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    @ui_errors
    def search(self, text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
               model: str | None = None, sort: str = "newest", bpm: str | None = None,
               key: str | None = None) -> list[list[Any]]:
        """Takes matching the filters (a measured tempo range ``100-120`` or one tempo; a key such as ``A minor``),
        in the order ``sort`` (newest, oldest, bpm, key), as table rows."""
        return [[r["id"], r["created"][:16].replace("T", " "), r["prompt"], str(r["seed"]), r["model"],
                 stars(r["rating"]), "♥" if r["favorite"] else "", round(r["duration_s"], 2),
                 versus_row(r).text(), r["audio"]]
                for r in self.app.history.search(**history_filters(text, favorites, min_rating, model, sort, bpm, key))]

    @ui_errors
    def browse(self, text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
               model: str | None = None, sort: str = "newest", bpm: str | None = None,
               key: str | None = None) -> tuple[Any, ...]:
        """``(table rows, cards of the first)`` for the filters."""
        rows = self.search(text, favorites, min_rating, model, sort, bpm, key)
        filtered = text or favorites or min_rating or model or bpm or key
        empty = "No take matches." if filtered else "No takes yet: render one."
        return rows, cards_html(self.app, [row[0] for row in rows[:GALLERY]], empty=empty)

    def _row(self, take: str | int) -> dict[str, Any]:
        if take in (None, ""):
            raise gr.Error("pick a take first: click a row of the table, or “Retake from…” on a card")
        return self.app.history.get(str(take).strip())

    @ui_errors
    def pick(self, evt: gr.SelectData) -> tuple[Any, ...]:
        """A clicked row: ``(take id, its card, rating, favourite, notes, tags)``."""
        row = self._row(evt.row_value[0])
        return (str(row["id"]), cards_html(self.app, [row["id"]]), *self.fields(row["id"]))

    def fields(self, take: str | int | None) -> tuple[Any, ...]:
        """The panel's boxes for the take it now holds, however it got there (a row, a card's "Retake from…", a
        typed id): ``(rating, favourite, notes, tags)``; blank for no such take, so that "Save notes & tags" never
        writes one take's notes over another's."""
        try:
            row = self.app.history.get(str(take).strip()) if str(take or "").strip() else None
        except (WorkbenchError, ValueError, OSError):  # an id half typed, or no such take
            row = None
        if row is None:
            return 0, False, "", ""
        return row["rating"] or 0, row["favorite"], row["notes"], ", ".join(row["tags"])

    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=False):
            w.text = gr.Textbox(label="Search", placeholder="prompt, library, entry, notes or tags", scale=4,
                                elem_id="hist-search")
            w.min_rating = gr.Dropdown([("any", 0), *((f"≥ {n}★", n) for n in range(1, 6))], value=0,
                                       label="Rating", scale=1, min_width=100)
            w.model = gr.Textbox(label="Model", placeholder="any", scale=1, min_width=100)
            with gr.Column(scale=1, min_width=140):
                w.favorites = gr.Checkbox(label="♥ favourites only")
                w.run = gr.Button("Search", variant="primary", elem_id="hist-run")
        with gr.Row(equal_height=False):
            w.sort = gr.Dropdown([(name, name) for name in SORTS], value="newest", label="Sort by", scale=1,
                                 min_width=100, elem_id="hist-sort")
            w.bpm_range = gr.Textbox(label="Tempo (measured)", placeholder="100-120, or 110", scale=1, min_width=100,
                                     elem_id="hist-bpm")
            w.key = gr.Textbox(label="Key (measured)", placeholder="A minor", scale=1, min_width=100,
                               elem_id="hist-key")
        w.gallery = TakeCards(self.app).build(elem_id="hist-gallery", empty="No takes yet: render one.",
                                              label="Newest takes")
        w.gallery_note = gr.HTML("", elem_classes=["facts"])
        with gr.Accordion("All matching takes (table): click one to open it below", open=False):
            w.table = gr.Dataframe(headers=HEADERS, type="array", interactive=False, wrap=True, max_height=380,
                                   column_widths=["4%", "11%", "24%", "7%", "7%", "6%", "3%", "4%", "16%", "18%"],
                                   label="Takes", elem_id="hist-table")
        search_in = [w.text, w.favorites, w.min_rating, w.model, w.sort, w.bpm_range, w.key]
        browse_out = [w.table, w.gallery]
        w.search_event = (self.browse, search_in, browse_out)
        w.panel = TakePanel(self.app, self._row)
        w.panel.build(w, shared, w.search_event)
        w.run.click(self.search, search_in, w.table, api_name="history", concurrency_limit=None).then(
            self.browse, search_in, browse_out, api_visibility="private", concurrency_limit=None)
        w.text.submit(self.browse, search_in, browse_out, api_visibility="private", concurrency_limit=None)
        boxes = [w.rating, w.favorite, w.kept.notes, w.kept.tags]
        w.table.select(self.pick, None, [w.take, w.selected, *boxes], api_visibility="private",
                       concurrency_limit=None)
        w.take.change(self.fields, w.take, boxes, api_visibility="private", concurrency_limit=None)
        return w
