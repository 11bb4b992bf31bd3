"""The workbench's named API endpoints through ``gradio_client``, against the run's live app (``live_app``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("gradio")
Client = pytest.importorskip("gradio_client").Client

ROOT = Path(__file__).resolve().parents[1]
# model, folder, duration, guidance, temperature, top-k, top-p, loudness
SAMPLING = ("tiny", "", 1.0, 3.0, 1.0, 250, 1.0, "off")


@pytest.fixture(scope="module")
def server(live_app):
    """The run's live app (its prompt folder holds ``api-demo.toml``: entries ``pads`` and ``drums``)."""
    return live_app


def generate_args(text: str, seed: str) -> tuple:
    return (text, seed, "none", None, 0.0, None, None, 5.0, True, *SAMPLING)


def test_generate_and_compare_endpoints_match_the_cli(server, cli, tmp_path):
    client = Client(server.url, verbose=False)
    text = "api test, bright plucks, 110 BPM"
    _, cards, note, used_seed, files, facts = client.predict(*generate_args(text, "7"), api_name="/generate")
    assert used_seed == "7" and facts["seed"] == 7 and len(files) == 3 and f"take #{facts['take_id']}" in note
    assert f'data-take="{facts["take_id"]}"' in cards  # the take's card
    sidecar = json.loads((server.out / facts["sidecar"]).read_text())
    assert (server.out / facts["audio"]).is_file() and (server.out / facts["codes"]).is_file()
    assert sidecar["seed"] == 7 and sidecar["prompt"]["text"] == text and sidecar["model"]["name"] == "tiny"
    # the codes hash of ``workbench generate`` for the same prompt, seed and parameters
    assert cli("generate", text, "--model", "tiny", "--seed", "7", "--duration", "1", "-o", "cli.wav").returncode == 0
    expected = json.loads((tmp_path / "cli.json").read_text())["codes_sha256"]
    assert facts["codes_sha256"] == sidecar["codes_sha256"] == expected

    takes, status, files = client.predict(text, "6-8", *SAMPLING, api_name="/compare")
    assert [t["seed"] for t in takes] == [6, 7, 8] and len(files) == 7  # 3 x (audio + sidecar) + index.html
    for take in takes:
        record = json.loads((server.out / take["sidecar"]).read_text())
        assert record["seed"] == take["seed"] and record["codes_sha256"] == take["codes_sha256"]
        assert record["batch_size"] == 3  # one batched pass
    assert takes[1]["codes_sha256"] == expected  # seed 7 in a batch of three == seed 7 alone == the CLI


def test_a_chords_draft_through_the_api_matches_the_library(server, tiny_melody):
    client = Client(server.url, verbose=False)
    model, folder, *rest = SAMPLING
    *_, facts = client.predict("chord test", "5", "chords", None, 0.0, None, None, 5.0, True, "tiny-melody", folder,
                               *rest, chords="Am | F", bpm=90, beats_per_chord=2, time_signature="4/4",
                               voicing="arpeggio", api_name="/generate")
    record = json.loads((server.out / facts["sidecar"]).read_text())["draft"]["chords"]
    assert (record["chords"], record["bpm"], record["voicing"]) == ("Am F", 90.0, "arpeggio")
    from workbench.core.params import GenerationParams
    from workbench.drafts.prepare import prepare_draft

    draft = prepare_draft(tiny_melody, chords="Am F", bpm=90, beats_per_chord=2, voicing="arpeggio", duration_s=1.0)
    [take] = tiny_melody.generate("chord test", GenerationParams(duration_s=1.0), seeds=[5], **draft.generate_kwargs())
    assert facts["codes_sha256"] == take.codes_sha256 and facts["adherence"] is not None
    with pytest.raises(Exception, match="unknown chord 'H' at position 1"):
        client.predict("x", "1", "chords", None, 0.0, None, None, 5.0, True, "tiny-melody", folder, *rest,
                       chords="H", bpm=90, api_name="/generate")


def test_a_take_is_looped_and_retaken_from_the_history_tab(server):
    import numpy as np
    import soundfile

    from workbench.codec.tokens import read_tokens

    client = Client(server.url, verbose=False)
    model, folder, _, *rest = SAMPLING
    *_, facts = client.predict("loop and retake me", "3", "none", None, 0.0, None, None, 5.0, True, model, folder,
                               2.0, *rest, api_name="/generate")
    take = str(facts["take_id"])
    loop, message = client.predict(take, 1, 240, api_name="/loop")  # one bar of 4 beats at 240 BPM: 1 s
    assert soundfile.info(loop).frames == 32000 and "<b>1-bar loop</b>, 1.000 s at 240.00 BPM (as given)" in message
    files, message, cards = client.predict(take, 1.0, "5-6", api_name="/retake")
    names = sorted(Path(f).name for f in files)
    assert names == ["index.html", "s5.wav", "s6.wav"] and "2 retake(s) from 1 s" in message
    parent = read_tokens(server.out / facts["codes"]).codes
    folder_of = Path(facts["sidecar"]).with_suffix("").name + "-from-1s"
    for seed in (5, 6):
        retake = read_tokens(server.out / Path(facts["sidecar"]).parent / folder_of / f"s{seed}.codes.npz").codes
        assert retake.shape == (4, 100) and np.array_equal(retake[:, :50], parent[:, :50])
    with pytest.raises(Exception, match="is not inside the take"):
        client.predict(take, 5.0, "1", api_name="/retake")


def joined(job, timeout: float = 60.0):
    """``job`` once the server has put it in its queue (or begun it): submissions run in the client's threads, so
    two sent 0.3 s apart can still arrive the other way round on a busy machine."""
    from gradio_client.utils import Status

    deadline = time.time() + timeout
    while not job.done() and job.status().code < Status.IN_QUEUE:
        assert time.time() < deadline, job.status().code
        time.sleep(0.02)
    return job


def test_four_clients_get_their_own_takes_in_order(server):
    clients = [Client(server.url, verbose=False) for _ in range(4)]
    finished: list[int] = []
    lock, called = threading.Lock(), threading.Semaphore(0)
    jobs = []
    for index, client in enumerate(clients):
        def done(*_outputs, index=index):
            with lock:
                finished.append(index)
            called.release()

        jobs.append(joined(client.submit(*generate_args(f"client {index} tune, {60 + index} BPM", str(100 + index)),
                                         api_name="/generate", result_callbacks=[done])))  # a known arrival order
    results = [job.result(timeout=240) for job in jobs]
    for index, outputs in enumerate(results):
        facts = outputs[-1]
        record = json.loads((server.out / facts["sidecar"]).read_text())
        assert facts["seed"] == record["seed"] == 100 + index
        assert facts["prompt"] == record["prompt"]["text"] == f"client {index} tune, {60 + index} BPM"
    assert all(called.acquire(timeout=60) for _ in jobs)  # every result callback has run
    assert finished == [0, 1, 2, 3]  # the queue serves one generation at a time, first come first served


def test_history_rate_and_reproduce_endpoints_by_keyword(server):
    """The README's client example: keyword arguments, the rest defaulting to the app's settings."""
    client = Client(server.url, verbose=False)
    *_, seed, files, take = client.predict(text="history via api", seed="21", duration=1, api_name="/generate")
    assert seed == "21" and take["model"] == "tiny" and take["duration_s"] == 1.0
    table = client.predict(text="history via api", api_name="/history")
    assert [row[0] for row in table["data"]] == [take["take_id"]]
    message = client.predict(take=str(take["take_id"]), rating=5, favorite=True, api_name="/rate")
    assert "★★★★★" in message and "favourite" in message
    favourites = client.predict(favorites=True, min_rating=5, model="tiny", api_name="/history")
    assert take["take_id"] in [row[0] for row in favourites["data"]]
    assert "identical" in client.predict(take=str(take["take_id"]), api_name="/reproduce")


def test_batch_and_library_render_endpoints(server):
    client = Client(server.url, verbose=False)
    table, summary, cards = client.predict("api-demo.toml", None, "1", "api-batch", 4, 1, "tiny", "", "off",
                                           api_name="/batch")
    assert [row[3] for row in table["data"]] == ["done", "done"] and "2 rendered" in summary
    assert (server.out / "api-batch" / "api-demo" / "pads" / "s1.wav").is_file()
    assert cards.count('<article class="wb-card"') == 2  # the batch's takes as cards
    results, summary = client.predict(["api-demo.toml"], None, ["api-demo/drums"], "2", 1, "tiny", "", "off",
                                      api_name="/library_render")
    assert results["data"][0][:3] == ["api-demo/drums", 2, "done"]
    assert (server.out / "api-demo" / "drums" / "s2.wav").is_file()


def test_tokenize_endpoint(server, tmp_path):
    import numpy as np
    import soundfile
    from gradio_client import handle_file

    wav = tmp_path / "tone.wav"
    soundfile.write(str(wav), 0.3 * np.sin(np.linspace(0, 880 * np.pi, 32000)).astype(np.float32), 32000)
    client = Client(server.url, verbose=False)
    image, facts, recon, token_file, quality = client.predict(handle_file(str(wav)), "", "tiny", "",
                                                              api_name="/tokenize")
    assert Path(token_file).name.endswith(".codes.npz") and Path(recon).is_file() and Path(image).is_file()
    assert quality["num_codebooks"] == 4 and (server.out / quality["token_file"]).is_file()


def test_errors_reach_the_client_as_one_line(server):
    client = Client(server.url, verbose=False)
    with pytest.raises(Exception, match="prompt is empty"):
        client.predict(*generate_args("   ", "1"), api_name="/generate")


def test_files_outside_the_output_folder_are_not_served(server):
    import httpx

    secret = server.root / "secret.txt"
    secret.write_text("not for the browser")
    response = httpx.get(f"{server.url}gradio_api/file={secret}")
    assert response.status_code in (403, 404)
    response = httpx.get(f"{server.url}gradio_api/file={ROOT / 'pyproject.toml'}")
    assert response.status_code in (403, 404)
    take = server.out / "served" / "take.txt"  # the output folder itself is served
    take.parent.mkdir(parents=True, exist_ok=True)
    take.write_text("a file of the output folder")
    assert httpx.get(f"{server.url}gradio_api/file={take.resolve()}").status_code == 200


def test_a_client_that_goes_away_cancels_its_running_and_queued_jobs(server):
    """Cancelling (what closing the page does) stops the running job (a seed sweep that yields nothing until it
    ends but its heartbeats) and drops the queued ones: none of them is written, and the next client is served."""
    import httpx
    from gradio_client.utils import Status

    # the cancel request is a plain POST with httpx's 5 s default timeout; on 2 busy cores the server, decoding the
    # sweep, can answer later than that (a CI run timed out there): give it a minute
    client = Client(server.url, verbose=False, httpx_kwargs={"timeout": 60})
    running = {Status.PROCESSING, Status.PROGRESS, Status.ITERATING}

    def queued() -> int:  # events waiting in the server's queue (gradio's public queue status route)
        return httpx.get(f"{server.url}gradio_api/queue/status").json()["queue_size"]

    def wait_for(condition: Callable[[], bool]) -> None:
        deadline = time.time() + 60
        while not condition():
            assert time.time() < deadline, ([job.status().code for job in jobs], queued())
            time.sleep(0.05)

    # The sweep first (submissions from one client race each other), then two takes queued behind it.
    jobs = [client.submit(text="abandoned sweep", seeds="1-2", duration=60.0, api_name="/compare")]
    wait_for(lambda: jobs[0].status().code in running)
    jobs += [client.submit(text=f"abandoned take {i}", seed=str(500 + i), duration=60.0, api_name="/generate")
             for i in range(2)]
    wait_for(lambda: queued() == 2)
    wait_for(lambda: jobs[0].status().code == Status.PROGRESS)  # the sweep is decoding: a step has run
    for job in jobs:
        job.cancel()
    other = Client(server.url, verbose=False)
    *_, take = other.predict(text="the next client", seed="9", duration=1.0, api_name="/generate")
    assert take["seed"] == 9 and queued() == 0  # the next client is served; nothing is left queued
    written = [p.relative_to(server.out).as_posix() for p in server.out.rglob("*")
               if p.is_file() and "abandoned" in p.relative_to(server.out).as_posix()]
    assert written == [], written
