"""Load and concurrency against the run's live app (``live_app``: ``python app.py --model tiny``'s settings).

8 gradio_client clients x 5 requests: every request gets its own correct take, memory returns to its level
after warm-up, the history holds exactly their 40 rows; a full queue turns excess requests away with a clear
message; a UI request and a CLI batch (another process) writing one output folder at once corrupt nothing;
takes rendered two at a time (an app of the test's own at ``--concurrency 2``) equal the same requests alone.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")
Client = pytest.importorskip("gradio_client").Client

ROOT = Path(__file__).resolve().parents[1]
CLIENTS, REQUESTS = 8, 5


def generate(client: Client, text: str, seed: int) -> dict:
    *_, take = client.predict(text=text, seed=str(seed), duration=1.0, api_name="/generate")
    return take


def takes_of(out: Path, prompt_prefix: str) -> int:
    """History rows whose prompt starts with ``prompt_prefix`` (the live app is shared: each test its own)."""
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT COUNT(*) FROM takes WHERE prompt LIKE ?", (prompt_prefix + "%",)).fetchone()[0]


def test_eight_clients_five_requests_each(live_app):
    rss = psutil.Process()  # the app runs in this process
    started_rss = rss.memory_info().rss
    results: dict[tuple[int, int], dict] = {}
    errors: list[BaseException] = []
    warm = threading.Barrier(CLIENTS + 1)
    warm_rss: list[int] = []

    def client_loop(index: int) -> None:
        try:
            client = Client(live_app.url, verbose=False)
            for request in range(REQUESTS):
                text, seed = f"load client {index} request {request}, lofi drums", 1000 * index + request
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
        sidecar = json.loads((live_app.out / take["sidecar"]).read_text())
        assert sidecar["seed"] == 1000 * index + request == take["seed"]
        assert sidecar["prompt"]["text"] == f"load client {index} request {request}, lofi drums"
    assert takes_of(live_app.out, "load client ") == CLIENTS * REQUESTS
    growth_mb = (final_rss - warm_rss[0]) / 1e6
    print(f"\nRSS: start {started_rss / 1e6:.0f} MB, warm {warm_rss[0] / 1e6:.0f} MB, "
          f"after {CLIENTS * REQUESTS} requests {final_rss / 1e6:.0f} MB (+{growth_mb:.0f} MB)")
    assert growth_mb < 150, f"memory grew by {growth_mb:.0f} MB over {CLIENTS * REQUESTS} requests"


def test_ui_and_cli_batch_write_one_folder_at_once(live_app, workbench_process):
    out = live_app.out
    batch = workbench_process.start(
        "render", str(ROOT / "prompts" / "synthwave.toml"), "--model", "tiny", "--duration", "0.5", "--only", "grid",
        "--seeds", "1", "--batch-size", "2", "--out", str(out))
    client = Client(live_app.url, verbose=False)
    takes = [generate(client, f"concurrent ui take {i}", 70 + i) for i in range(3)]
    _, stderr = batch.communicate(timeout=600)
    assert batch.returncode == 0, stderr
    assert takes_of(out, "concurrent ui take ") == 3
    assert len(list((out / "synthwave").rglob("s1.json"))) == 8  # the batch's takes, each indexed below
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM takes WHERE library = 'synthwave'").fetchone()[0] == 8
    for take in takes:
        assert json.loads((out / take["sidecar"]).read_text())["seed"] == take["seed"]


def test_a_full_queue_turns_requests_away_clearly(live_app):
    """A sweep holds the one worker; as many requests as the app queues fill the queue behind it; 4 more are
    refused in words that say so. Then every job is cancelled, the queued ones first: none of them is written."""
    from gradio_client.utils import Status

    client = Client(live_app.url, verbose=False)
    running = {Status.PROCESSING, Status.PROGRESS, Status.ITERATING}
    blocker = client.submit(text="full queue blocker", seeds="1-2", duration=60.0, api_name="/compare")
    while blocker.status().code not in running:
        assert not blocker.done(), blocker.result()
        time.sleep(0.02)
    jobs = [client.submit(text=f"full queue {i}", seed=str(i), duration=8.0, api_name="/generate")
            for i in range(live_app.max_queue + 4)]
    outcomes = []
    for job in jobs:  # each either waits in the queue or was turned away
        while not job.done() and job.status().code != Status.IN_QUEUE:
            time.sleep(0.02)
        outcomes.append(str(job.exception(timeout=60)) if job.done() else "queued")
    for job in [*reversed(jobs), blocker]:  # the queued ones first: none of them may start
        job.cancel()
    refused = [o for o in outcomes if o != "queued"]
    assert outcomes.count("queued") == live_app.max_queue and len(refused) == 4, outcomes
    assert all("queue" in o.lower() and "full" in o.lower() for o in refused), refused
    with pytest.raises(Exception, match="prompt is empty"):  # served after everything before it has ended
        client.predict(text="   ", seed="1", api_name="/generate")
    written = [p for p in live_app.out.rglob("*") if "full-queue" in p.relative_to(live_app.out).as_posix()]
    assert written == [], "a cancelled job wrote"


def _concurrent_clients(clients: int, own_app, engines) -> None:
    """``clients`` clients at once, each sending 3 requests without waiting (different prompts, seeds and
    durations) to an app running ``clients`` jobs at a time (``--concurrency``): every take equals the same request
    rendered alone, none is lost or duplicated. With two workers a client's jobs may overlap, so they can finish in
    any order (the one-worker order is checked by
    ``test_ui_client.py::test_four_clients_get_their_own_takes_in_order``)."""
    from workbench.core.params import GenerationParams

    app = own_app(concurrency=clients, max_queue=64)
    requests = {(c, r): (f"client {c} request {r}, dub techno", 100 * c + r, 1.0 + 0.5 * ((c + r) % 3))
                for c in range(clients) for r in range(3)}
    results: dict[tuple[int, int], dict] = {}
    errors: list[BaseException] = []

    def client_loop(index: int) -> None:
        try:
            client = Client(app.url, verbose=False)
            jobs = [(r, client.submit(text=text, seed=str(seed), duration=duration, api_name="/generate"))
                    for (c, r), (text, seed, duration) in requests.items() if c == index]  # one after another
            for request, job in jobs:
                *_, take = job.result(timeout=600)
                results[(index, request)] = take
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    assert not errors, errors
    assert sorted(results) == sorted(requests)  # nothing lost
    assert len({take["sidecar"] for take in results.values()}) == len(requests)  # nothing duplicated
    alone = engines.load("tiny")
    for key, (text, seed, duration) in requests.items():
        [expected] = alone.generate(text, GenerationParams(duration_s=duration), [seed])
        assert results[key]["codes_sha256"] == expected.codes_sha256, key
    for key, take in results.items():  # each sidecar names the request that asked for it
        sidecar = json.loads((app.out / take["sidecar"]).read_text())
        assert (sidecar["prompt"]["text"], sidecar["seed"]) == requests[key][:2], key


def test_two_jobs_at_once_render_exactly_as_alone(own_app, engines):
    _concurrent_clients(2, own_app, engines)


@pytest.mark.slow
def test_four_jobs_at_once_render_exactly_as_alone(own_app, engines):
    _concurrent_clients(4, own_app, engines)
