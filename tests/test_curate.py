"""Curating a history: notes and tags, the trash (delete, restore, empty), prune rules, export/import zips and
prompts imported from CSV / JSON Lines — library calls and the CLI's one-line errors."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workbench.core.errors import HistoryError, PromptFileError
from workbench.core.hashing import file_sha256
from workbench.core.params import GenerationParams
from workbench.library.importer import import_prompts
from workbench.library.prompts import load_library
from workbench.render.loops import write_loop
from workbench.store.archive import export_takes, import_takes
from workbench.store.history import History
from workbench.store.sidecar import read_sidecar
from workbench.store.takes import save_take
from workbench.store.trash import TRASH, Trash, parse_age, prune_candidates


@pytest.fixture(scope="module")
def takes(tiny, tmp_path_factory):
    """Three 3 s takes (seeds 1-3) made once; each test copies them into its own folder."""
    folder = tmp_path_factory.mktemp("made")
    made = tiny.generate("lofi piano, 120 BPM", GenerationParams(duration_s=3.0), [1, 2, 3])
    for take in made:
        save_take(take, folder / "lofi" / f"s{take.seed}.wav")
    return folder


@pytest.fixture()
def out(takes, tmp_path):
    """A fresh output folder holding the three takes, indexed (ids 1, 2, 3 by seed)."""
    import shutil

    root = tmp_path / "out"
    shutil.copytree(takes, root)
    history = History(root)
    for seed in (1, 2, 3):
        sidecar = root / "lofi" / f"s{seed}.json"
        history.add(sidecar, read_sidecar(sidecar))
    return root


def test_notes_and_tags_are_edited_searched_and_mirrored(out):
    history = History(out)
    row = history.update_user(2, notes="keeper, crisp hats", tags=["Drums", " lofi ", "drums"])
    assert row["tags"] == ["drums", "lofi"] and row["notes"] == "keeper, crisp hats"
    assert read_sidecar(out / "lofi" / "s2.json")["user"]["tags"] == ["drums", "lofi"]
    assert [r["id"] for r in history.search(tag="drums")] == [2]
    assert [r["id"] for r in history.search("crisp")] == [2]
    assert history.search(tag="drum") == []  # a whole tag, not a substring
    history.rebuild()  # the sidecar is the source of truth
    assert history.get(2)["tags"] == ["drums", "lofi"]
    for bad in (["a,b"], [""], "drums", ["x" * 41]):
        with pytest.raises(HistoryError, match="tag"):
            history.update_user(2, tags=bad)


def test_cli_edit_adds_and_removes_tags(out, cli):
    done = cli("edit", "3", "--tag", "Pads", "--tag", "night", "--notes", "slow", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "tags pads, night; notes 'slow'" in done.stdout
    done = cli("edit", "3", "--untag", "pads", "--out", str(out))
    assert History(out).get(3)["tags"] == ["night"]
    done = cli("edit", "3", "--untag", "pads", "--out", str(out))
    assert done.returncode == 1 and done.stderr == "error: take 3 has no tag 'pads'\n"
    done = cli("edit", "3", "--out", str(out))
    assert done.returncode == 1 and done.stderr.startswith("error: say what to change")


def test_delete_moves_every_file_to_the_trash_and_restore_brings_the_take_back(out):
    history, trash = History(out), Trash(History(out))
    history.update_user(1, rating=4, notes="first", tags=["keep"])
    write_loop(out / "lofi" / "s1.wav", bars=1, bpm=240)
    files = sorted(p.name for p in (out / "lofi").glob("s1.*"))
    assert files == ["s1.codes.npz", "s1.json", "s1.loop.json", "s1.loop.wav", "s1.wav"]
    hashes = {name: file_sha256(out / "lofi" / name) for name in files}
    item = trash.delete(1)
    assert not list((out / "lofi").glob("s1.*")) and history.count() == 2
    assert sorted(Path(rel).name for rel in item.files) == files
    assert history.rebuild() == (2, [])  # the trash is never indexed
    with pytest.raises(HistoryError, match=f"take 1 is already in the trash \\({item.name}"):
        trash.delete(1)
    assert trash.restore(item.name) == 1  # its old id, free again
    row = history.get(1)
    assert (row["rating"], row["notes"], row["tags"]) == (4, "first", ["keep"])
    assert {name: file_sha256(out / "lofi" / name) for name in files} == hashes
    assert trash.items() == [] and not list((out / TRASH).iterdir())


def test_a_deleted_take_leaves_its_contact_sheet_and_comes_back_with_restore(out):
    from workbench.store.contact import write_contact_sheet

    folder = out / "lofi"
    rows = [{"audio": folder / f"s{n}.wav", "image": folder / f"s{n}.png", "seed": n, "duration_s": 3.0,
             "sidecar": folder / f"s{n}.json"} for n in (1, 2, 3)]
    sheet = write_contact_sheet(folder, "lofi piano", rows)

    def hidden() -> list[str]:
        cards = [line for line in sheet.read_text().splitlines() if line.startswith("<figure")]
        assert len(cards) == 3
        return [card.split(' src="s')[2][0] for card in cards if card.startswith('<figure class="take" hidden>')]

    trash = Trash(History(out))
    item = trash.delete(2)
    assert hidden() == ["2"]  # seed 2's card is hidden, not pointing at a file in the trash
    trash.restore(item.name)
    assert hidden() == []


def test_restore_refuses_to_overwrite_and_empty_frees_the_space(out):
    trash = Trash(History(out))
    item = trash.delete("lofi/s2.wav")
    (out / "lofi" / "s2.wav").write_bytes(b"new")  # something else took its place
    with pytest.raises(HistoryError, match="cannot restore .*s2.wav exists again"):
        trash.restore("2")
    with pytest.raises(HistoryError, match="nothing named 'nope'"):
        trash.restore("nope")
    size = sum(p.stat().st_size for p in (out / TRASH / item.name).rglob("*") if p.is_file())
    assert trash.empty() == (1, size)
    assert trash.items() == []


def test_prune_selects_by_rating_and_age_never_favourites(out):
    history = History(out)
    history.update_user(1, rating=1)
    history.update_user(2, rating=1, favorite=True)
    assert [r["id"] for r in prune_candidates(history, below_rating=2)] == [1]  # 3 is unrated, 2 a favourite
    assert sorted(r["id"] for r in prune_candidates(history, below_rating=2, unrated=True)) == [1, 3]
    assert [r["id"] for r in prune_candidates(history, unrated=True)] == [3]
    later = datetime.now(UTC) + timedelta(days=31)
    assert prune_candidates(history, older_than=parse_age("30d")) == []
    assert sorted(r["id"] for r in prune_candidates(history, older_than=parse_age("30d"), now=later)) == [1, 3]
    with pytest.raises(HistoryError, match="say which takes"):
        prune_candidates(history)
    with pytest.raises(HistoryError, match="--older-than must be"):
        parse_age("30 days")


def test_cli_prune_lists_first_then_moves(out, cli):
    History(out).update_user(1, rating=1)
    dry = cli("prune", "--below-rating", "2", "--out", str(out))
    assert dry.returncode == 0 and "1 takes would go to the trash" in dry.stdout
    assert (out / "lofi" / "s1.wav").is_file()
    done = cli("prune", "--below-rating", "2", "--yes", "--out", str(out))
    assert done.returncode == 0 and not (out / "lofi" / "s1.wav").exists()
    listed = cli("history", "--trash", "--out", str(out))
    assert "take1" in listed.stdout and "lofi/s1.wav" in listed.stdout
    again = cli("delete", "1", "--out", str(out))
    assert again.returncode == 1 and again.stderr.startswith("error: take 1 is already in the trash")
    restored = cli("history", "--restore", "1", "--out", str(out))
    assert restored.returncode == 0 and "as take 1" in restored.stdout


def test_export_then_import_keeps_files_and_rows(out, tmp_path):
    history = History(out)
    history.update_user(1, rating=5, favorite=True, notes="the one", tags=["best"])
    history.update_user(3, tags=["best"])
    archive = tmp_path / "best.zip"
    export_takes(history, history.search(tag="best"), archive)
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        manifest = zipped.read("manifest.csv").decode().splitlines()
    assert {"takes/lofi/s1.wav", "takes/lofi/s1.json", "takes/lofi/s1.codes.npz", "takes/lofi/s3.wav"} <= names
    assert "takes/lofi/s2.wav" not in names and len(manifest) == 3 and manifest[0].startswith("id,audio,sidecar")
    other = History(tmp_path / "other")
    summary = import_takes(archive, other)
    assert len(summary.imported) == 2 and summary.skipped == []
    row = other.get("lofi/s1.wav")
    assert (row["rating"], row["favorite"], row["notes"], row["tags"]) == (5, True, "the one", ["best"])
    for seed in (1, 3):
        for suffix in (".wav", ".json", ".codes.npz"):
            name = f"s{seed}{suffix}"
            assert file_sha256(tmp_path / "other" / "lofi" / name) == file_sha256(out / "lofi" / name)
    assert sorted(import_takes(archive, other).skipped) == ["lofi/s1.json", "lofi/s3.json"]  # twice: nothing new


def exported_members(history: History, path: Path) -> dict[str, bytes]:
    """Export take 1 of ``history`` to ``path`` and return the zip's members by name."""
    export_takes(history, [history.get(1)], path)
    with zipfile.ZipFile(path) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for member, data in members.items():
            zipped.writestr(member, data)
    return path


def test_import_refuses_other_schemas_unsafe_paths_and_damaged_audio(out, tmp_path):
    parts = exported_members(History(out), tmp_path / "one.zip")
    index = json.loads(parts["workbench-export.json"])

    def variant(name: str, **changes: bytes) -> Path:
        return write_zip(tmp_path / name, {**parts, **changes})

    target = History(tmp_path / "target")
    with pytest.raises(HistoryError, match="another schema \\('musicgen-workbench.export' version 2\\)"):
        import_takes(variant("v2.zip", **{"workbench-export.json": json.dumps({**index, "version": 2}).encode()}),
                     target)
    escape = {**index, "takes": [{**index["takes"][0], "files": ["../evil.wav"]}]}
    with pytest.raises(HistoryError, match="unsafe path '../evil.wav'"):
        import_takes(variant("escape.zip", **{"workbench-export.json": json.dumps(escape).encode()}), target)
    with pytest.raises(HistoryError, match="does not match the hash its sidecar records"):
        import_takes(variant("damaged.zip", **{"takes/lofi/s1.wav": b"RIFF not the take"}), target)
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zipped:
        zipped.writestr("a.txt", "hi")
    with pytest.raises(HistoryError, match="not a workbench export"):
        import_takes(plain, target)
    assert target.count() == 0 and not list((tmp_path / "target").rglob("*.wav"))  # nothing partial


def test_prompts_imported_from_csv_and_jsonl(tmp_path):
    csv_file = tmp_path / "sheet.csv"
    csv_file.write_text('text,tags,seeds,duration_s,bpm,key\n"warm pads, slow",ambient;calm,1;2,4,70,A minor\n'
                        'dry drums,,,,,\nwarm pads slow,,,,,\n')
    assert import_prompts(csv_file, tmp_path / "sheet.toml") == 3
    library = load_library(tmp_path / "sheet.toml")
    first = library.prompts[0]
    assert [p.id for p in library.prompts] == ["warm-pads-slow", "dry-drums", "warm-pads-slow-2"]
    assert (first.tags, first.seeds, first.params.duration_s, first.bpm) == (("ambient", "calm"), (1, 2), 4.0, 70.0)
    assert first.text == "warm pads, slow, 70 BPM, in A minor" and library.name == "sheet"
    lines = tmp_path / "pipe.jsonl"
    lines.write_text('{"id": "a", "text": "acid line", "top_k": 50}\n\n{"id": "b", "text": "303", "seeds": [4]}\n')
    assert import_prompts(lines, tmp_path / "pipe.toml", name="acid") == 2
    assert load_library(tmp_path / "pipe.toml").get("a").params.top_k == 50
    with pytest.raises(PromptFileError, match="exists; pass --force"):
        import_prompts(lines, tmp_path / "pipe.toml")


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ("prompt,tags\nx,y\n", ".csv", "the header needs a 'text' column"),
    ("text,colour\nx,red\n", ".csv", "unknown: colour"),
    ("text,seeds\nx,one\n", ".csv", ":2: seeds: 'one' is not a list of whole numbers"),
    ("text,duration_s\nx,-3\n", ".csv", "[x] duration_s: duration_s must be in (0, 300]"),
    ('{"text": "a"}\n[1]\n', ".jsonl", ":2: each line must be one JSON object"),
    ('{"text": "a", "colour": 1}\n', ".jsonl", ":1: unknown key(s) colour"),
    ('{"text": "a"\n', ".jsonl", ":1: not JSON"),
    ("text\n", ".csv", "no prompts in it"),
    ("text\nx\n", ".txt", "import reads .csv or .jsonl files"),
])
def test_bad_prompt_imports_are_one_line_and_write_nothing(tmp_path, content, suffix, message):
    source = tmp_path / f"in{suffix}"
    source.write_text(content)
    with pytest.raises(PromptFileError) as error:
        import_prompts(source, tmp_path / "out.toml")
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "out.toml").exists()


def test_a_take_whose_files_were_gone_leaves_the_history_and_cannot_be_restored(out):
    trash = Trash(History(out))
    for path in (out / "lofi").glob("s3.*"):
        path.unlink()
    item = trash.delete(3)  # a stale row: dropped, nothing to move
    assert item.files == () and History(out).count() == 2
    with pytest.raises(HistoryError, match="holds no sidecar .* --empty-trash' removes it"):
        trash.restore(item.name)


def test_an_import_the_strict_sidecar_reader_refuses_leaves_nothing(out, tmp_path):
    parts = exported_members(History(out), tmp_path / "one.zip")
    record = json.loads(parts["takes/lofi/s1.json"])
    record["seed"] = "one"  # the audio still matches its hash; the field's type does not
    archive = write_zip(tmp_path / "one.zip", {**parts, "takes/lofi/s1.json": json.dumps(record).encode()})
    target = History(tmp_path / "target")
    with pytest.raises(HistoryError, match="field 'seed' must be int.*nothing of that take imported"):
        import_takes(archive, target)
    assert target.count() == 0 and not [p for p in (tmp_path / "target").rglob("*") if p.is_file()
                                        and p.name not in ("history.sqlite", ".history.lock")
                                        and not p.name.startswith("history.sqlite")]
