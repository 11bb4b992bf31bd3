"""Tests for prompt library files: parsing, validation messages, templates, selection, shipped prompts."""

from __future__ import annotations

import itertools
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workbench.core.errors import PromptFileError, WorkbenchError
from workbench.core.params import GenerationParams, field_names
from workbench.library.prompts import (
    Library,
    Prompt,
    is_slug,
    load_libraries,
    load_library,
    parse_library,
    slugify,
)
from workbench.library.selection import select, summarize

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"

SPEC_EXAMPLE = """\
[library]
name = "synthwave"
description = "Retro 80s"
model = "small"
seeds = [1, 2]

[library.defaults]
duration_s = 12.0

[[prompt]]
id = "night-drive"
text = "80s synthwave, night drive, 100 BPM"
tags = ["Night", "drive"]
seeds = [7, 8]
duration_s = 10
model = "melody"
melody = "drafts/hook.wav"
melody_start = 0.0
melody_end = 8.0
notes = "free text"

[[prompt]]
id = "continued"
text = "80s synthwave, continued"
continue_from = "drafts/x.wav"
prompt_seconds = 5.0
include_prompt = true

[[prompt]]
id = "grid"
template = "{mood} synthwave with a {lead} lead, {bpm} BPM"
tags = ["matrix"]
[prompt.slots]
mood = ["dark", "dreamy"]
lead = ["saw", "pluck"]
bpm = [90, 120]
"""


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "drafts").mkdir(exist_ok=True)
    for name in ("hook.wav", "x.wav", "take.wav", "reference.wav"):
        (tmp_path / "drafts" / name).write_bytes(b"RIFF")
    return tmp_path


def _problems(text: str, source: Path = Path("lib.toml"), **kwargs: object) -> list[str]:
    with pytest.raises(PromptFileError) as caught:
        parse_library(text, source=source, **kwargs)
    assert "\n" not in str(caught.value)
    return caught.value.problems


def _one(text: str, **kwargs: object) -> str:
    problems = _problems(text, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def _entry(body: str, header: str = "") -> str:
    return f"{header}[[prompt]]\n{body}\n"


# --- parsing the documented format ---------------------------------------------------------------


def test_spec_example_parses_with_every_field(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    lib = parse_library(SPEC_EXAMPLE, source=folder / "synthwave.toml")
    assert lib.name == "synthwave" and lib.description == "Retro 80s" and lib.model == "small"
    assert lib.seeds == (1, 2) and lib.defaults == {"duration_s": 12.0}
    assert len(lib.prompts) == 2 + 8
    night = lib.get("night-drive")
    assert night.tags == ("night", "drive")
    assert night.seeds == (7, 8)
    assert night.params == GenerationParams(duration_s=10)
    assert night.overrides == {"duration_s": 10}
    assert night.model == "melody"
    melody = night.conditions.melody
    assert melody.file == (folder / "drafts" / "hook.wav").resolve() and melody.file.is_absolute()
    assert (melody.start_s, melody.end_s) == (0.0, 8.0)
    assert night.notes == "free text" and night.line == 10 and night.library == "synthwave"
    assert night.template_id is None and night.slot_values == {}
    cont = lib.get("continued")
    continuation = cont.conditions.continuation
    assert continuation.file == (folder / "drafts" / "x.wav").resolve()
    assert continuation.prompt_seconds == 5.0 and continuation.include_prompt is True
    assert cont.seeds == (1, 2) and cont.model == "small"  # library defaults
    assert cont.params.duration_s == 12.0 and cont.overrides == {"duration_s": 12.0}
    assert cont.conditions.melody is None


def test_template_expands_in_slot_order_and_keeps_other_keys(tmp_path: Path) -> None:
    lib = parse_library(SPEC_EXAMPLE, source=_folder(tmp_path) / "synthwave.toml")
    grid = [p for p in lib.prompts if p.template_id == "grid"]
    assert [p.id for p in grid] == [
        "grid-dark-saw-90", "grid-dark-saw-120", "grid-dark-pluck-90", "grid-dark-pluck-120",
        "grid-dreamy-saw-90", "grid-dreamy-saw-120", "grid-dreamy-pluck-90", "grid-dreamy-pluck-120",
    ]
    first = grid[0]
    assert first.text == "dark synthwave with a saw lead, 90 BPM"
    assert first.slot_values == {"mood": "dark", "lead": "saw", "bpm": "90"}
    assert all(p.tags == ("matrix",) and p.seeds == (1, 2) and p.line == 29 for p in grid)
    assert lib.prompts[-1].id == "grid-dreamy-pluck-120"  # expansions sit where the template was


def test_defaults_name_from_stem_and_no_library_table() -> None:
    lib = parse_library(_entry('id = "a"\ntext = "piano"'), source=Path("some/dir/My Prompts.toml"))
    assert lib.name == "my-prompts" and lib.description == "" and lib.model is None and lib.seeds is None
    assert lib.prompts[0].params == GenerationParams() and lib.prompts[0].overrides == {}
    assert lib.prompts[0].seeds is None and lib.prompts[0].source == Path("some/dir/My Prompts.toml")


def test_number_slot_values_and_literal_braces() -> None:
    text = _entry('id = "t"\ntemplate = "{{x}} {v} mix"\n[prompt.slots]\nv = [0.5, 120.0, "Lo-Fi!"]')
    lib = parse_library(text, source=Path("t.toml"))
    assert [p.id for p in lib.prompts] == ["t-0-5", "t-120", "t-lo-fi"]
    assert [p.text for p in lib.prompts] == ["{x} 0.5 mix", "{x} 120 mix", "{x} Lo-Fi! mix"]


def test_prompts_are_hashable_and_equal_across_parses(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    one = parse_library(SPEC_EXAMPLE, source=folder / "s.toml")
    two = parse_library(SPEC_EXAMPLE, source=folder / "s.toml")
    assert one == two and hash(one) == hash(two)
    assert len(set(one.prompts) | set(two.prompts)) == len(one.prompts)
    with pytest.raises(AttributeError):
        one.prompts[0].text = "changed"  # type: ignore[misc]


# --- validation: every problem, with its line -----------------------------------------------------

BAD_FILE = """\
[library]
name = "Bad Name"
colour = 3
[library.defaults]
duration_s = -1

[[prompt]]
id = "Night/Drive"
text = "x"
seeds = [1, 1, -3]
melody = "../../etc/passwd"

[[prompt]]
id = "ok"
text = "a"
template = "b"
top_p = 2

[[prompt]]
id = "grid"
template = "{mood} {x}"
[prompt.slots]
mood = []
lead = ["a"]

[[prompt]]
id = "ok"
text = "dup"
durations = 3
"""


def test_every_problem_is_reported_at_once_with_lines_and_labels(tmp_path: Path) -> None:
    problems = _problems(BAD_FILE, source=tmp_path / "bad.toml")
    file = str(tmp_path / "bad.toml")
    expected = [
        (3, None, "library.colour"), (2, None, "library.name"), (5, None, "library.defaults.duration_s"),
        (8, "#1", "id"), (10, "#1", "seeds"), (11, "#1", "melody"),
        (16, "ok", "template"), (17, "ok", "top_p"),
        (23, "grid", "slots.mood"), (24, "grid", "slots.lead"), (21, "grid", "template"),
        (29, "ok", "durations"), (27, "ok", "id"),
    ]
    for line, label, key in expected:
        prefix = f"{file}:{line}: " + (f"[{label}] " if label else "") + f"{key}: "
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    assert len(problems) == len(expected) + 1  # seeds has two problems: -3 and the repeat
    assert any("did you mean 'duration_s'" in p for p in problems)
    assert any("duration_s must be in (0, 300]" in p for p in problems)  # GenerationParams' message


def test_summary_is_one_line_naming_count_and_first_problem() -> None:
    with pytest.raises(PromptFileError) as caught:
        parse_library(BAD_FILE, source=Path("prompts/x.toml"))
    message = str(caught.value)
    assert message.startswith(f"prompts/x.toml: {len(caught.value.problems)} problems (first: prompts/x.toml:3: ")
    assert len(message.splitlines()) == 1
    assert isinstance(caught.value, WorkbenchError)


def test_single_problem_message_is_the_problem_itself() -> None:
    with pytest.raises(PromptFileError) as caught:
        parse_library(_entry('id = "a"\ntext = "x"\ntop_k = -1'), source=Path("a.toml"))
    assert str(caught.value) == "a.toml:4: [a] top_k: top_k must be >= 0 (0 disables it), got -1"
    assert caught.value.problems == [str(caught.value)]


def test_invalid_toml_reports_tomllib_line() -> None:
    problem = _one('[library]\nname = "x"\n\n[[prompt]]\nid = \n')
    assert problem.startswith("lib.toml:5: invalid TOML: ") and "line 5" in problem


@pytest.mark.parametrize("bad_id", ["Night", "a/b", "../x", "a b", "", "-a", "a-", "a--b", "a_b", "x" * 65, "ünï"])
def test_ids_must_be_slugs(bad_id: str) -> None:
    problem = _one(_entry(f'id = "{bad_id}"\ntext = "x"'))
    assert problem.startswith("lib.toml:2: [#1] id: ") and "not a slug" in problem


def test_id_of_64_characters_is_accepted() -> None:
    lib = parse_library(_entry(f'id = "{"a" * 64}"\ntext = "x"'), source=Path("l.toml"))
    assert lib.prompts[0].id == "a" * 64


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ('text = "x"', "id", "missing"),
        ('id = 5\ntext = "x"', "id", "not a slug"),
        ('id = "a"', "text", "missing"),
        ('id = "a"\ntext = "x"\ntemplate = "{v}"\n[prompt.slots]\nv = [1]', "template", "not both"),
        ('id = "a"\ntext = 5', "text", "must be a string"),
        ('id = "a"\ntext = "  "', "text", "empty"),
        ('id = "a"\ntext = "x"\ntags = "night"', "tags", "list"),
        ('id = "a"\ntext = "x"\ntags = ["ok", ""]', "tags", "non-empty"),
        ('id = "a"\ntext = "x"\nseeds = "1"', "seeds", "list"),
        ('id = "a"\ntext = "x"\nseeds = []', "seeds", "non-empty"),
        ('id = "a"\ntext = "x"\nseeds = [1.5]', "seeds", "whole number"),
        ('id = "a"\ntext = "x"\nseeds = [3, 3]', "seeds", "repeats seed(s) 3"),
        ('id = "a"\ntext = "x"\nseeds = ["\u00b9"]', "seeds", "whole number"),  # "¹".isdigit() is True
        ('id = "a"\ntext = "x"\nduration_s = "10"', "duration_s", "must be a number"),
        ('id = "a"\ntext = "x"\ntemperature = 0', "temperature", "temperature must be > 0"),
        ('id = "a"\ntext = "x"\nmodel = ""', "model", "model name"),
        ('id = "a"\ntext = "x"\nnotes = 3', "notes", "must be a string"),
        ('id = "a"\ntext = "x"\ninclude_prompt = 1\ncontinue_from = "d.wav"', "include_prompt", "true or false"),
        ('id = "a"\ntext = "x"\nprompt_seconds = 2', "prompt_seconds", "only applies with continue_from"),
        ('id = "a"\ntext = "x"\nmelody_start = 1', "melody_start", "only applies with melody"),
        ('id = "a"\ntext = "x"\nslots = {v = [1]}', "slots", "need a template"),
        ('id = "a"\ntext = "x"\ncolor = "red"', "color", "unknown key"),
        ('id = "a"\ntext = "x"\ndecoder = "hifigan"', "decoder", "must be one of encodec, mbd, got 'hifigan'"),
        ('id = "a"\ntext = "x"\ndecoder = 1', "decoder", "must be one of encodec, mbd"),
        ('id = "a"\ntext = "x"\ndecoder = "mbd"\ncontinue_from = "d.wav"', "decoder", "not continuations"),
        ('id = "a"\ntext = "x"\nstyle = "d.wav"\nmelody = "d.wav"', "style", "not melody"),
        ('id = "a"\ntext = "x"\nstyle = "d.wav"\ncontinue_from = "d.wav"', "style", "not continue_from"),
        ('id = "a"\ntext = "x"\nstyle = "missing.wav"', "style", "not found"),
    ],
)
def test_entry_problems_name_the_key(tmp_path: Path, body: str, key: str, words: str) -> None:
    (tmp_path / "d.wav").write_bytes(b"RIFF")
    problems = _problems(_entry(body), source=tmp_path / "l.toml")
    matching = [p for p in problems if re.match(rf".*:\d+: \[(a|#1)\] {re.escape(key)}: ", p)]
    assert matching and any(words in p for p in matching), problems


@pytest.mark.parametrize(
    ("library", "key", "words"),
    [
        ('[library]\nname = "A B"', "library.name", "not a slug"),
        ('[library]\ndescription = 3', "library.description", "string"),
        ('[library]\nmodel = 3', "library.model", "model name"),
        ('[library]\nseeds = [1, 1]', "library.seeds", "repeats"),
        ('[library]\nmax_matrix = 0', "library.max_matrix", "whole number"),
        ('[library]\nmax_matrix = 100000', "library.max_matrix", "whole number"),
        ('[library]\ncolour = 1', "library.colour", "unknown key"),
        ('[library]\ndecoder = "diffusion"', "library.decoder", "must be one of encodec, mbd"),
        ('[library]\ndefaults = 3', "library.defaults", "table"),
        ('[library.defaults]\ntop_p = 1.5', "library.defaults.top_p", "top_p must be in [0, 1]"),
        ('[library.defaults]\nseed = 1', "library.defaults.seed", "unknown key"),
        ('library = 3', "library", "must be a table"),
        ('extra = 1', "extra", "unknown key"),
    ],
)
def test_library_problems_name_the_key(library: str, key: str, words: str) -> None:
    problems = _problems(library + "\n" + _entry('id = "a"\ntext = "x"'))
    assert any(p.startswith("lib.toml:") and f": {key}: " in p and words in p for p in problems), problems


def test_no_entries_and_prompt_not_a_table_list_are_problems() -> None:
    assert "no [[prompt]] entries" in _one('[library]\nname = "x"\n')
    assert "must be [[prompt]] tables" in _one('prompt = "x"\n')
    assert "[#2]" in _one('prompt = [{id = "a", text = "x"}, 3]\n')


def test_out_of_range_defaults_are_reported_once_not_per_entry() -> None:
    text = "[library.defaults]\nguidance_scale = -1\n" + _entry('id = "a"\ntext = "x"') + _entry('id = "b"\ntext = "y"')
    assert _one(text).startswith("lib.toml:2: library.defaults.guidance_scale: guidance_scale must be >= 0")


def test_huge_integer_param_is_a_problem_not_a_crash() -> None:
    assert "duration_s" in _one(_entry('id = "a"\ntext = "x"\nduration_s = 1' + "0" * 30))


def test_text_length_and_control_characters() -> None:
    assert "more than 2000" in _one(_entry(f'id = "a"\ntext = "{"x" * 2001}"'))
    parse_library(_entry(f'id = "a"\ntext = "{"x" * 2000}"'), source=Path("l.toml"))
    for escape in ("\\n", "\\t", "\\u0000", "\\u2028", "\\u001b"):
        problem = _one(_entry(f'id = "a"\ntext = "dark{escape}synth"'))
        assert "control character" in problem and "\n" not in problem


def test_control_character_in_multiline_text_is_one_problem_line() -> None:
    problem = _one(_entry('id = "a"\ntext = """dark\nsynth"""'))
    assert problem.startswith("lib.toml:3: [a] text: has a control character")


def test_duplicate_ids_plain_and_after_expansion() -> None:
    problem = _one(_entry('id = "a"\ntext = "x"') + _entry('id = "a"\ntext = "y"'))
    assert problem == "lib.toml:5: [a] id: 'a' is used twice (also at line 1)"
    text = _entry('id = "g-x"\ntext = "x"') + _entry('id = "g"\ntemplate = "{v}"\n[prompt.slots]\nv = ["x", "y"]')
    assert "'g-x' is used twice" in _one(text)
    same_slug = _entry('id = "g"\ntemplate = "{v}"\n[prompt.slots]\nv = ["Dark", "dark!"]')
    assert "'g-dark' is used twice" in _one(same_slug)


@pytest.mark.parametrize(
    ("template", "slots", "key", "words"),
    [
        ("{mood} {x}", 'mood = ["a"]', "template", "placeholder {x} has no slot"),
        ("{mood}", 'mood = ["a"]\nlead = ["b"]', "slots.lead", "not used"),
        ("{mood}", "mood = []", "slots.mood", "non-empty list"),
        ("{mood}", 'mood = "a"', "slots.mood", "non-empty list"),
        ("{mood}", 'mood = ["!!"]', "slots.mood", "no letters or digits"),
        ("{mood}", "mood = [true]", "slots.mood", "strings or finite numbers"),
        ("{mood}", "mood = [nan]", "slots.mood", "strings or finite numbers"),
        ("{mood", 'mood = ["a"]', "template", "invalid template"),
        ("{0}", 'mood = ["a"]', "template", "plain slot name"),
        ("{mood.x}", 'mood = ["a"]', "template", "plain slot name"),
        ("{mood:>4}", 'mood = ["a"]', "template", "plain slot name"),
        ("no slots", "", "template", "no {slot} placeholders"),
    ],
)
def test_template_problems(template: str, slots: str, key: str, words: str) -> None:
    problems = _problems(_entry(f'id = "g"\ntemplate = "{template}"\n[prompt.slots]\n{slots}'))
    assert any(f"[g] {key}: " in p and words in p for p in problems), problems


def test_template_without_slots_table() -> None:
    assert "needs a [prompt.slots] table" in _one(_entry('id = "g"\ntemplate = "{v}"'))


def test_matrix_limit_from_argument_and_file() -> None:
    body = _entry('id = "g"\ntemplate = "{a}{b}"\n[prompt.slots]\na = [1, 2, 3]\nb = [1, 2, 3]')
    assert "9 combinations, more than the limit of 8" in _one(body, max_matrix=8)
    assert len(parse_library(body, source=Path("l.toml"), max_matrix=9).prompts) == 9
    raised = "[library]\nmax_matrix = 9\n" + body
    assert len(parse_library(raised, source=Path("l.toml"), max_matrix=2).prompts) == 9
    assert "limit of 4" in _one("[library]\nmax_matrix = 4\n" + body)
    with pytest.raises(ValueError):
        parse_library(body, source=Path("l.toml"), max_matrix=0)


def test_expanded_id_longer_than_64_is_a_problem() -> None:
    problem = _one(_entry(f'id = "g"\ntemplate = "{{v}}"\n[prompt.slots]\nv = ["{"x" * 70}"]'))
    assert "longer than 64" in problem


def test_draft_paths_must_exist_inside_the_library_folder(tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    (lib_dir / "drafts").mkdir(parents=True)
    (lib_dir / "drafts" / "ok.wav").write_bytes(b"RIFF")
    (tmp_path / "outside.wav").write_bytes(b"RIFF")
    (lib_dir / "link.wav").symlink_to(tmp_path / "outside.wav")
    source = lib_dir / "l.toml"
    ok = parse_library(_entry('id = "a"\ntext = "x"\nmelody = "drafts/../drafts/ok.wav"'), source=source)
    assert ok.prompts[0].conditions.melody.file == (lib_dir / "drafts" / "ok.wav").resolve()
    for value, words in [
        ("drafts/missing.wav", "not found"),
        ("../outside.wav", "outside the library folder"),
        ("link.wav", "outside the library folder"),
        (str(tmp_path / "outside.wav"), "absolute"),
        ("/etc/passwd", "absolute"),
        ("drafts", "not found"),
        ("", "relative"),
    ]:
        for key in ("melody", "continue_from"):
            problem = _one(_entry(f'id = "a"\ntext = "x"\n{key} = "{value}"'), source=source)
            assert f"[a] {key}: " in problem and words in problem, (value, problem)


def test_style_and_decoder_keys_resolve_and_the_library_decoder_is_inherited(tmp_path: Path) -> None:
    (tmp_path / "ref.wav").write_bytes(b"RIFF")
    (tmp_path / "d.wav").write_bytes(b"RIFF")
    header = '[library]\ndecoder = "MBD"\n'
    lib = parse_library(header + _entry('id = "a"\ntext = "x"\nstyle = "ref.wav"\nmodel = "tiny-style"')
                        + _entry('id = "b"\ntext = "x"\ndecoder = "encodec"'), source=tmp_path / "l.toml")
    a, b = lib.prompts
    assert a.conditions.style == (tmp_path / "ref.wav").resolve() and a.conditions.decoder == "mbd"  # lowercased
    assert b.conditions.style is None and b.conditions.decoder == "encodec"  # the entry's: the model's own
    inherited = _one(header + _entry('id = "c"\ntext = "x"\ncontinue_from = "d.wav"'), source=tmp_path / "l.toml")
    assert "[c] decoder: " in inherited and "the library's decoder; set decoder = \"encodec\" here" in inherited
    assert parse_library(_entry('id = "a"\ntext = "x"'), source=tmp_path / "l.toml").prompts[0].conditions.decoder \
        == "encodec"


def test_melody_end_must_follow_melody_start(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    body = 'id = "a"\ntext = "x"\nmelody = "drafts/hook.wav"\nmelody_start = 4.0\nmelody_end = {}'
    assert "must be after melody_start (4 s)" in _one(_entry(body.format(4.0)), source=folder / "l.toml")
    assert "must be after melody_start" in _one(_entry(body.format(2)), source=folder / "l.toml")
    assert parse_library(_entry(body.format(4.5)), source=folder / "l.toml").prompts[0].conditions.melody.end_s == 4.5
    negative = 'id = "a"\ntext = "x"\nmelody = "drafts/hook.wav"\nmelody_start = -1'
    assert ">= 0" in _one(_entry(negative), source=folder / "l.toml")


# --- loading files and folders --------------------------------------------------------------------


def test_load_library_reads_utf8_with_bom_and_keeps_the_given_path(tmp_path: Path) -> None:
    path = tmp_path / "café.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _entry('id = "a"\ntext = "café jazz"').encode("utf-8"))
    lib = load_library(str(path))
    assert lib.name == "cafe" and lib.prompts[0].text == "café jazz" and lib.source == path


def test_load_library_refuses_non_utf8_and_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[[prompt]]\nid = "a"\ntext = "caf\xe9"\n')
    with pytest.raises(PromptFileError, match=r"latin\.toml:3: not UTF-8 text \(byte 0xe9\)"):
        load_library(path)
    with pytest.raises(PromptFileError, match="cannot read the prompt file"):
        load_library(tmp_path / "missing.toml")
    with pytest.raises(PromptFileError, match="cannot read the prompt file"):
        load_library(tmp_path)


def test_load_libraries_collects_problems_of_all_files(tmp_path: Path) -> None:
    good = tmp_path / "dir"
    good.mkdir()
    (good / "b.toml").write_text(_entry('id = "b"\ntext = "x"'))
    (good / "a.toml").write_text(_entry('id = "a"\ntext = "x"'))
    (good / "notes.txt").write_text("ignored")
    (good / "sub").mkdir()
    (good / "sub" / "c.toml").write_text("not toml at all = = =")  # not recursive
    libs = load_libraries([good, good / "a.toml"])
    assert [lib.name for lib in libs] == ["a", "b"]  # sorted; a.toml given twice is loaded once
    bad = tmp_path / "bad.toml"
    bad.write_text(_entry('id = "A"\ntext = "x"') + _entry('id = "b"'))
    clash = tmp_path / "clash.toml"
    clash.write_text('[library]\nname = "a"\n' + _entry('id = "z"\ntext = "x"'))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PromptFileError) as caught:
        load_libraries([good, bad, tmp_path / "nope.toml", clash, empty])
    problems = caught.value.problems
    assert len(problems) == 5, problems
    assert any(p.startswith(f"{bad}:2: [#1] id:") for p in problems)
    assert any(p.startswith(f"{bad}:4: [b] text: missing") for p in problems)
    assert any(p.startswith(f"{tmp_path / 'nope.toml'}: no such file") for p in problems)
    assert any(p.startswith(f"{clash}:2: library.name: 'a' is also the name of") for p in problems)
    assert any(p.startswith(f"{empty}: no *.toml") for p in problems)
    assert str(caught.value).startswith("prompt files: 5 problems (first: ")
    assert load_libraries([]) == []


# --- selection, lookup, summaries -----------------------------------------------------------------


@pytest.fixture()
def libs(tmp_path: Path) -> list[Library]:
    lib = parse_library(SPEC_EXAMPLE, source=_folder(tmp_path) / "synthwave.toml")
    other = parse_library(_entry('id = "night-drive"\ntext = "y"\ntags = ["DARK"]'), source=Path("other.toml"))
    return [lib, other]


def test_select_by_id_template_and_tags(libs: list[Library]) -> None:
    assert len(select(libs)) == 11
    assert [p.library for p in select(libs, only=["night-drive"])] == ["synthwave", "other"]
    assert [p.id for p in select(libs, only="continued")] == ["continued"]
    assert len(select(libs, only=["grid", "continued"])) == 9
    assert [p.id for p in select(libs, tags=["Drive", "nothing"])] == ["night-drive"]
    assert [p.library for p in select(libs, tags=["dark"])] == ["other"]
    assert [p.id for p in select(libs, only=["grid"], tags=["NIGHT"])] == []
    assert select(libs, tags=["nothing"]) == []


def test_select_unknown_ids_lists_them_with_close_matches(libs: list[Library]) -> None:
    with pytest.raises(PromptFileError) as caught:
        select(libs, only=["nite-drive", "grid", "zzz"])
    assert len(caught.value.problems) == 2
    assert "'nite-drive': did you mean night-drive?" in caught.value.problems[0]
    assert "'zzz'" in caught.value.problems[1]


def test_library_get(libs: list[Library]) -> None:
    assert libs[0].get("grid-dark-saw-90").slot_values["lead"] == "saw"
    with pytest.raises(PromptFileError, match="did you mean night-drive"):
        libs[0].get("night-driv")
    with pytest.raises(PromptFileError, match="'grid' is a template; its prompts are grid-dark-saw-90"):
        libs[0].get("grid")


def test_summarize(libs: list[Library]) -> None:
    rows = summarize(libs)
    assert rows[0] == {"name": "synthwave", "file": str(libs[0].source), "entries": 10, "templates": 1,
                       "tags": ["drive", "matrix", "night"], "description": "Retro 80s"}
    assert rows[1]["tags"] == ["dark"] and rows[1]["templates"] == 0 and rows[1]["name"] == "other"


def test_slugify_and_is_slug_examples() -> None:
    assert slugify("Dark / Moody!") == "dark-moody"
    assert slugify("  Café  Noir ") == "cafe-noir"
    assert slugify("120.5") == "120-5"
    assert slugify("!!!") == ""
    assert is_slug("night-drive") and is_slug("a1")
    assert not any(is_slug(x) for x in ("", "Night", "a--b", "-a", "a-", "a b", "a/b", None, 3))


def test_import_does_not_load_torch_or_numpy() -> None:
    code = "import sys, workbench.library.prompts; assert not {'torch', 'transformers', 'numpy'} & set(sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_readme_example_is_valid(tmp_path: Path) -> None:
    readme = (PROMPTS / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    lib = parse_library(example, source=_folder(tmp_path) / "example.toml")
    assert lib.name == "example" and len(lib.prompts) == 5 + 8
    styled = lib.get("styled")
    assert styled.conditions.style == (tmp_path / "drafts" / "reference.wav").resolve()
    assert styled.conditions.decoder == "encodec"
    chords = next(p for p in lib.prompts if p.id == "chord-loop")
    assert chords.text.endswith(", 100 BPM, in A minor") and chords.conditions.chords.chords == "Am F C G"
    assert chords.conditions.decoder == "mbd"
    assert lib.get("drop").conditions.segments == ((16.0, "full drums, the drop, 120 BPM"),)
    assert (chords.format, lib.get("night-drive").format) == (".mp3", ".flac")  # the library's, the entry's own


# --- shipped prompt files -------------------------------------------------------------------------

GENRES = ["synthwave", "lofi-hip-hop", "cinematic", "ambient", "house-techno", "jazz", "rock", "chiptune",
          "classical-piano", "hip-hop"]


def test_every_shipped_prompt_file_validates() -> None:
    libs = load_libraries([PROMPTS], max_matrix=12)
    names = {lib.name for lib in libs}
    assert set(GENRES) <= names and len(libs) >= 10
    for lib in libs:
        plain = [p for p in lib.prompts if p.template_id is None]
        assert len(plain) >= 5, lib.name
        assert lib.description, lib.name
        for prompt in lib.prompts:
            assert re.search(r"\b\d{2,3} BPM\b", prompt.text), (lib.name, prompt.id)  # tempo helps MusicGen
            assert re.search(r"\b[A-G]( sharp| flat)? (major|minor)\b", prompt.text), (lib.name, prompt.id)


def test_synthwave_library_has_the_promised_variants() -> None:
    lib = load_library(PROMPTS / "synthwave.toml")
    plain = [p.id for p in lib.prompts if p.template_id is None]
    assert len(plain) >= 10
    for word in ("night-drive", "outrun", "darksynth", "dream"):
        assert any(word in pid for pid in plain), word
    templates = {p.template_id for p in lib.prompts if p.template_id}
    assert templates and all(sum(p.template_id == t for p in lib.prompts) <= 12 for t in templates)


# --- property-based tests -------------------------------------------------------------------------

# WORKBENCH_FUZZ_EXAMPLES=5000 runs a longer fuzzing session locally.
SETTINGS = settings(max_examples=int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fuzz_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "d.wav").write_bytes(b"RIFF")
    return folder / "fuzz.toml"


def _check_outcome(text: str, source: Path) -> None:
    try:
        lib = parse_library(text, source=source)
    except PromptFileError as error:
        assert error.problems and all("\n" not in p and p.isprintable() for p in error.problems)
        assert len(str(error).splitlines()) == 1 and str(error).isprintable()
        return
    assert isinstance(lib, Library) and all(isinstance(p, Prompt) for p in lib.prompts)
    assert len({p.id for p in lib.prompts}) == len(lib.prompts)
    assert all(is_slug(p.id) and len(p.id) <= 64 for p in lib.prompts)


@SETTINGS
@given(text=st.text())
def test_any_text_parses_or_raises_prompt_file_error(fuzz_source: Path, text: str) -> None:
    _check_outcome(text, fuzz_source)


_LINES = st.sampled_from([
    "[library]", "[library.defaults]", "[[prompt]]", "[prompt.slots]", "[other]", "[[prompt.slots]]",
    'name = "x"', 'name = "Bad"', 'id = "a"', 'id = "b"', 'id = "../x"', 'text = "synth, 90 BPM"',
    'template = "{v} {w}"', 'template = "{v"', "v = [1, 2]", 'w = ["a", "A"]', "v = []", "seeds = [1, 1]",
    "seeds = [-1]", "duration_s = 0", "duration_s = 12", "top_k = 1.5", 'melody = "d.wav"',
    'melody = "../d.wav"', "melody_end = 0", 'continue_from = "d.wav"', "include_prompt = 1",
    "max_matrix = 1", "defaults = 3", 'tags = ["A", ""]', 'slots = {v = ["q"]}', "prompt = 3",
    'text = """', "x.y = 1", '"quoted key" = 2', "model = true", "notes = 1e400",
])


@SETTINGS
@given(lines=st.lists(_LINES, max_size=25))
def test_plausible_files_parse_or_raise_prompt_file_error(fuzz_source: Path, lines: list[str]) -> None:
    _check_outcome("\n".join(lines) + "\n", fuzz_source)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\U{ord(c):08x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


_KEYS = st.sampled_from(["id", "text", "template", "slots", "tags", "seeds", "model", "melody", "melody_start",
                         "melody_end", "continue_from", "prompt_seconds", "include_prompt", "notes", "name",
                         "description", "max_matrix", "defaults", *field_names(), "bogus"])
_SCALARS = (st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
            | st.text(max_size=12) | st.sampled_from(["a", "d.wav", "../d.wav", "{v}", "/abs", "Bad Id", "x" * 70]))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=5), inner, max_size=4),
    max_leaves=12)
_TABLES = st.dictionaries(_KEYS, _VALUES, max_size=8)
# Mostly valid entries with the odd wrong value, so that some documents parse and some fail deep inside.
_ENTRIES = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "grid", "a-1", "Bad"])},
    optional={
        "text": st.sampled_from(["synthwave, 100 BPM", "", "x" * 2001, "tab\there"]) | st.text(max_size=20),
        "template": st.sampled_from(["{v} synth", "{v} {w}", "{v"]),
        "slots": st.dictionaries(st.sampled_from(["v", "w", "z"]), st.lists(_SCALARS, max_size=3), max_size=2),
        "tags": st.lists(st.sampled_from(["Dark", "night", ""]), max_size=3),
        "seeds": st.lists(st.integers(-2, 3), max_size=3),
        "duration_s": st.sampled_from([0.5, 10, 301, -1]) | st.floats(),
        "top_k": st.integers(-1, 300), "top_p": st.floats(-1, 2),
        "melody": st.sampled_from(["d.wav", "../d.wav", "missing.wav", "/abs.wav"]),
        "melody_start": st.floats(-1, 10), "melody_end": st.floats(-1, 10),
        "continue_from": st.just("d.wav"), "prompt_seconds": st.floats(-1, 10),
        "include_prompt": st.booleans() | st.integers(0, 1), "model": st.sampled_from(["small", "", 3]),
        "notes": st.text(max_size=10),
    },
)


@SETTINGS
@given(library=st.just({}) | _TABLES, entries=st.lists(_ENTRIES | _ENTRIES | _TABLES | _VALUES, max_size=4),
       extra=st.dictionaries(st.text(max_size=6), _VALUES, max_size=2))
def test_arbitrary_dicts_parse_or_raise_prompt_file_error(fuzz_source: Path, library: dict, entries: list,
                                                          extra: dict) -> None:
    document = {**extra, "library": library, "prompt": entries}
    text = "\n".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in document.items()) + "\n"
    _check_outcome(text, fuzz_source)


_SLOT_VALUES = st.lists(st.text(min_size=1, max_size=8) | st.integers(0, 999), min_size=1, max_size=3)


@SETTINGS
@given(template_id=st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,4}){0,2}", fullmatch=True),
       slots=st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), _SLOT_VALUES, min_size=1,
                             max_size=3))
def test_template_expansion_ids_are_unique_slug_valid_and_stable(template_id: str, slots: dict) -> None:
    values = {name: [str(v) if isinstance(v, int) else v for v in vals] for name, vals in slots.items()}
    assume(all(slugify(v) and v.isprintable() for vals in values.values() for v in vals))
    template = " ".join(f"{{{name}}}" for name in slots) + " synth"
    text = _entry(f'id = "{template_id}"\ntemplate = {_toml_value(template)}\n[prompt.slots]\n'
                  + "".join(f"{name} = {_toml_value(vals)}\n" for name, vals in slots.items()))
    expected = math.prod(len(v) for v in slots.values())
    combos = [tuple(slugify(v) for v in combo) for combo in itertools.product(*values.values())]
    try:
        lib = parse_library(text, source=Path("t.toml"))
    except PromptFileError as error:
        too_long = any(len("-".join([template_id, *c])) > 64 for c in combos)
        assert len(set(combos)) < len(combos) or too_long, error.problems
        assert all(("used twice" in p) or ("longer than 64" in p) for p in error.problems), error.problems
        return
    ids = [p.id for p in lib.prompts]
    assert len(ids) == expected == len(set(ids))
    assert all(is_slug(i) and i.startswith(template_id + "-") for i in ids)
    assert ids == ["-".join([template_id, *c]) for c in combos]  # stable: a pure function of the inputs
    assert ids == [p.id for p in parse_library(text, source=Path("t.toml")).prompts]
    for prompt in lib.prompts:
        assert prompt.template_id == template_id and list(prompt.slot_values) == list(slots)
        assert prompt.text == " ".join(prompt.slot_values.values()) + " synth"


@SETTINGS
@given(st.text())
def test_slugify_gives_a_slug_or_nothing_and_is_idempotent(text: str) -> None:
    slug = slugify(text)
    assert slug == "" or is_slug(slug)
    assert slugify(slug) == slug
    if is_slug(text):
        assert slug == text

