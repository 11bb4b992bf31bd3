import json
import threading

import pytest

from workbench.core.errors import HistoryError
from workbench.core.params import GenerationParams
from workbench.render.prompt import render_prompt
from workbench.store.history import History


@pytest.fixture()
def store(tmp_path, tiny):
    history = History(tmp_path)
    render_prompt(tiny, "lofi piano", GenerationParams(duration_s=0.5), [1, 2], [tmp_path / "a" / "s1.wav",
                                                                                  tmp_path / "a" / "s2.wav"],
                  history=history)
    render_prompt(tiny, "dark techno", GenerationParams(duration_s=0.5), [3], [tmp_path / "b" / "s3.wav"],
                  history=history)
    return history


def test_search_rate_favorite_roundtrip(store, tmp_path):
    assert store.count() == 3
    assert [r["seed"] for r in store.search("techno")] == [3]
    rated = store.update_user("a/s2.wav", rating=5, notes="keeper")
    assert rated["rating"] == 5 and rated["notes"] == "keeper"
    store.update_user(rated["id"], favorite=True)
    assert [r["seed"] for r in store.search(favorites=True)] == [2]
    assert [r["seed"] for r in store.search(min_rating=4)] == [2]
    assert [r["seed"] for r in store.search("keeper")] == [2]
    sidecar = json.loads((tmp_path / "a" / "s2.json").read_text())
    assert sidecar["user"] == {"rating": 5, "favorite": True, "notes": "keeper", "tags": []}
    assert store.search(model="tiny") and not store.search(model="small")


def test_rebuild_from_sidecars_keeps_ratings(store, tmp_path):
    store.update_user("b/s3.wav", rating=2, favorite=True)
    before = {r["sidecar"]: (r["seed"], r["rating"], r["favorite"], r["codes_sha256"]) for r in store.search()}
    store.path.unlink()
    rebuilt = History(tmp_path)
    count, problems = rebuilt.rebuild()
    assert count == 3 and problems == []
    after = {r["sidecar"]: (r["seed"], r["rating"], r["favorite"], r["codes_sha256"]) for r in rebuilt.search()}
    assert after == before


def test_bad_ratings_and_unknown_takes(store):
    for stars in (0, 6, 2.5, True):
        with pytest.raises(HistoryError, match="1 to 5"):
            store.update_user("a/s1.wav", rating=stars)
    with pytest.raises(HistoryError, match="no take"):
        store.get("nope.wav")


def test_concurrent_writers_do_not_corrupt(store, tmp_path):
    record = json.loads((tmp_path / "a" / "s1.json").read_text())
    errors = []

    def writer(offset: int) -> None:
        try:
            for i in range(25):
                path = tmp_path / "c" / f"{offset}-{i}.json"
                History(tmp_path).add(path, {**record, "seed": offset * 100 + i})
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert History(tmp_path).count() == 3 + 100
