"""What a take cost, measured and recorded with it: sidecar, history, CLI line, contact sheet."""

import json
import sqlite3

import pytest

from workbench.core.params import GenerationParams
from workbench.core.take import cost_summary
from workbench.render.prompt import render_prompt, render_seeds
from workbench.store.history import History


def test_a_pass_records_its_wall_time_steps_real_time_factor_and_memory(tiny):
    params = GenerationParams(duration_s=1.0)
    takes = tiny.generate(["a", "b"], params, seeds=[1, 2])
    cost = takes[0].cost
    assert cost == takes[1].cost  # one pass, one cost
    assert cost["steps"] == 53 and cost["batch_size"] == 2 and cost["device"] == "cpu" and cost["dtype"] == "float32"
    assert cost["wall_s"] == pytest.approx(takes[0].wall_s, abs=1e-3) and cost["wall_s"] > 0
    assert cost["steps_per_s"] == pytest.approx(53 / cost["wall_s"], rel=0.01)
    assert cost["realtime_factor"] == pytest.approx(cost["wall_s"] / 2.0, rel=0.01)  # 2 takes of 1 s
    assert 0.1 < cost["peak_rss_gb"] < 64 and "peak_cuda_gb" not in cost
    line = cost_summary(cost)
    assert line.startswith(f"{cost['wall_s']:.1f} s · ") and "batch 2" in line and line.endswith("cpu float32")


def test_the_cost_reaches_the_sidecar_the_history_and_the_contact_sheet(tmp_path, tiny):
    history = History(tmp_path)
    rendered, index = render_seeds(tiny, "pads", GenerationParams(duration_s=1.0), [3, 4], tmp_path / "sweep",
                                   history=history)
    record = json.loads(rendered[0].sidecar.read_text())
    assert record["cost"] == rendered[0].take.cost and record["cost"]["batch_size"] == 2
    [row, _] = history.search("pads")
    assert row["cost"] == record["cost"]
    assert cost_summary(record["cost"]) in index.read_text()


def test_a_history_made_before_costs_were_recorded_gains_the_column(tmp_path, tiny):
    db = sqlite3.connect(tmp_path / "history.sqlite")
    db.executescript("""CREATE TABLE takes (id INTEGER PRIMARY KEY, sidecar TEXT NOT NULL UNIQUE, audio TEXT NOT NULL,
        prompt TEXT NOT NULL, library TEXT, entry_id TEXT, model TEXT NOT NULL, seed INTEGER NOT NULL,
        params TEXT NOT NULL, duration_s REAL NOT NULL, created TEXT NOT NULL, codes_sha256 TEXT NOT NULL,
        rating INTEGER, favorite INTEGER NOT NULL DEFAULT 0, notes TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]');
        INSERT INTO takes (sidecar, audio, prompt, model, seed, params, duration_s, created, codes_sha256)
        VALUES ('old.json', 'old.wav', 'an old take', 'tiny', 1, '{}', 1.0, '2026-11-01T00:00:00', 'x');""")
    db.close()
    history = History(tmp_path)
    [old] = history.search("old take")
    assert old["cost"] == {}
    [item] = render_prompt(tiny, "a new take", GenerationParams(duration_s=1.0), [1], [tmp_path / "new.wav"],
                           history=history)
    assert history.search("new take")[0]["cost"]["steps"] == 53
