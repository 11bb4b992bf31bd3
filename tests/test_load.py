"""Load and concurrency against a real server process (``python app.py --model tiny``) on localhost.

8 gradio_client clients x 5 requests: every request gets its own correct take, the server's memory
returns to its level after warm-up, the history holds exactly 40 rows; a bounded queue turns excess
requests away with a clear message; a UI request and a CLI batch writing one output folder at once
corrupt nothing.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")
Client = pytest.importorskip("gradio_client").Client

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, REQUESTS = 8, 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(out: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--model", "tiny", "--port", str(port),
                             "--out", str(out), "--prompts", str(ROOT / "prompts"), *extra],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


def generate(client: Client, text: str, seed: int) -> dict:
    *_, take = client.predict(text=text, seed=str(seed), duration=1.0, api_name="/generate")
    return take


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("load") / "out"
    proc, url = start_server(out, "--max-queue", "64")
    try:
        yield proc, url, out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_eight_clients_five_requests_each(server):
    proc, url, out = server
    rss = psutil.Process(proc.pid)
    started_rss = rss.memory_info().rss
    results: dict[tuple[int, int], dict] = {}
    errors: list[BaseException] = []
    warm = threading.Barrier(CLIENTS + 1)
    warm_rss: list[int] = []

    def client_loop(index: int) -> None:
        try:
            client = Client(url, verbose=False)
            for request in range(REQUESTS):
                text, seed = f"client {index} request {request}, lofi drums", 1000 * index + request
                results[(index, request)] = generate(client, text, seed)
                if request == 0:
                    warm.wait(timeout=600)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
            warm.abort()

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    warm.wait(timeout=600)  # every client got its first take: the model is loaded and warm
    warm_rss.append(rss.memory_info().rss)
    for thread in threads:
        thread.join(timeout=900)
    final_rss = rss.memory_info().rss
    assert not errors, errors
    assert len(results) == CLIENTS * REQUESTS
    for (index, request), take in results.items():
        sidecar = json.loads((out / take["sidecar"]).read_text())
        assert sidecar["seed"] == 1000 * index + request == take["seed"]
        assert sidecar["prompt"]["text"] == f"client {index} request {request}, lofi drums"
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == CLIENTS * REQUESTS
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    growth_mb = (final_rss - warm_rss[0]) / 1e6
    print(f"\nserver RSS: start {started_rss / 1e6:.0f} MB, warm {warm_rss[0] / 1e6:.0f} MB, "
          f"after {CLIENTS * REQUESTS} requests {final_rss / 1e6:.0f} MB (+{growth_mb:.0f} MB)")
    assert growth_mb < 150, f"memory grew by {growth_mb:.0f} MB over {CLIENTS * REQUESTS} requests"


def test_ui_and_cli_batch_write_one_folder_at_once(server):
    _, url, out = server
    before = sqlite3.connect(out / "history.sqlite").execute("SELECT COUNT(*) FROM takes").fetchone()[0]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    batch = subprocess.Popen(
        [sys.executable, "-m", "workbench", "render", str(ROOT / "prompts" / "synthwave.toml"), "--model", "tiny",
         "--duration", "0.5", "--only", "grid", "--seeds", "1", "--batch-size", "2", "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = Client(url, verbose=False)
    takes = [generate(client, f"concurrent ui take {i}", 70 + i) for i in range(3)]
    _, stderr = batch.communicate(timeout=600)
    assert batch.returncode == 0, stderr
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM takes").fetchone()[0] == before + 3 + 8
    for take in takes:
        assert json.loads((out / take["sidecar"]).read_text())["seed"] == take["seed"]


def test_a_full_queue_turns_requests_away_clearly(tmp_path):
    proc, url = start_server(tmp_path / "out", "--max-queue", "2")
    try:
        client = Client(url, verbose=False)
        jobs = [client.submit(text=f"queued {i}", seed=str(i), duration=8.0, api_name="/generate") for i in range(8)]
        outcomes = []
        for job in jobs:
            try:
                job.result(timeout=600)
                outcomes.append("ok")
            except Exception as error:  # noqa: BLE001 - the message is what we check
                outcomes.append(str(error))
        refused = [o for o in outcomes if o != "ok"]
        assert refused, outcomes
        assert all("queue" in o.lower() and "full" in o.lower() for o in refused), refused
        assert outcomes.count("ok") >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _concurrent_clients(clients: int, tmp_path: Path) -> None:
    """``clients`` clients at once, each sending 3 requests without waiting (different prompts, seeds and
    durations) to a server running ``clients`` jobs at a time: every take equals the same request rendered alone,
    none is lost or duplicated. With two workers a client's jobs may overlap, so they can finish in any order (the
    one-worker order is checked by ``test_ui_client.py::test_four_clients_get_their_own_takes_in_order``)."""
    from workbench.core.params import GenerationParams
    from workbench.engine.load import load_engine

    proc, url = start_server(tmp_path / "out", "--concurrency", str(clients), "--max-queue", "64")
    requests = {(c, r): (f"client {c} request {r}, dub techno", 100 * c + r, 1.0 + 0.5 * ((c + r) % 3))
                for c in range(clients) for r in range(3)}
    results: dict[tuple[int, int], dict] = {}
    errors: list[BaseException] = []

    def client_loop(index: int) -> None:
        try:
            client = Client(url, verbose=False)
            jobs = []
            for (c, r), (text, seed, duration) in requests.items():
                if c == index:  # sent one after another, as fast as a person clicks, without waiting
                    jobs.append((r, client.submit(text=text, seed=str(seed), duration=duration, api_name="/generate")))
                    time.sleep(0.1)
            for request, job in jobs:
                *_, take = job.result(timeout=600)
                results[(index, request)] = take
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    try:
        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not errors, errors
    assert sorted(results) == sorted(requests)  # nothing lost
    assert len({take["sidecar"] for take in results.values()}) == len(requests)  # nothing duplicated
    alone = load_engine("tiny")
    for key, (text, seed, duration) in requests.items():
        [expected] = alone.generate(text, GenerationParams(duration_s=duration), [seed])
        assert results[key]["codes_sha256"] == expected.codes_sha256, key
    out = tmp_path / "out"
    for key, take in results.items():  # each sidecar names the request that asked for it
        sidecar = json.loads((out / take["sidecar"]).read_text())
        assert (sidecar["prompt"]["text"], sidecar["seed"]) == requests[key][:2], key


def test_two_jobs_at_once_render_exactly_as_alone(tmp_path):
    _concurrent_clients(2, tmp_path)


@pytest.mark.slow
def test_four_jobs_at_once_render_exactly_as_alone(tmp_path):
    _concurrent_clients(4, tmp_path)
