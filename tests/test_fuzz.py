"""Property-based tests: arbitrary input either parses or raises WorkbenchError, never anything else.

No deadline (conftest's profile): a busy machine must not fail a property. Example counts follow each input's
variety: a few hundred for the mixed-type values and the sidecar's fields, fewer for raw bytes (almost none of
which is JSON at all)."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import WorkbenchError
from workbench.core.params import GenerationParams, parse_seeds, validate_seed, validate_text
from workbench.store.sidecar import read_sidecar

anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=20), st.lists(st.integers(), max_size=3))


@given(duration=anything, guidance=anything, temperature=anything, top_k=anything, top_p=anything)
@settings(max_examples=200)
def test_params_validate_or_raise_workbench_errors(duration, guidance, temperature, top_k, top_p):
    try:
        params = GenerationParams(duration_s=duration, guidance_scale=guidance, temperature=temperature,
                                  top_k=top_k, top_p=top_p)
    except WorkbenchError:
        return
    assert 0 < params.duration_s <= 300 and math.isfinite(params.duration_s)
    assert params.temperature > 0 and params.top_k >= 0 and 0 <= params.top_p <= 1


@given(st.one_of(anything, st.text(alphabet="0123456789-, ¹٣", max_size=30)))
@settings(max_examples=200)
def test_seed_parsing_never_crashes(spec):
    for parse in (validate_seed, parse_seeds):
        try:
            out = parse(spec)
        except WorkbenchError:
            continue
        values = out if isinstance(out, list) else [out]
        assert all(isinstance(v, int) and 0 <= v < 2**63 for v in values)


@given(st.text(max_size=300))
@settings(max_examples=150)
def test_prompt_text_validates_or_raises(text):
    try:
        cleaned = validate_text(text)
    except WorkbenchError:
        return
    assert cleaned and cleaned == cleaned.strip() and len(cleaned) <= 2000


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=10)),
                           lambda children: st.one_of(st.lists(children, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), children, max_size=4)),
                           max_leaves=20)
SIDECAR_KEYS = ["schema", "kind", "seed", "prompt", "params", "model", "device", "dtype", "sample_rate",
                "num_samples", "codes_sha256", "audio_sha256", "audio", "codes", "created"]


VALID_SIDECAR = {
    "schema": 1, "kind": "musicgen-workbench.take", "seed": 7, "prompt": {"text": "lofi piano"},
    "params": {"duration_s": 1.0}, "model": {"name": "tiny"}, "device": "cpu", "dtype": "float32",
    "sample_rate": 32000, "num_samples": 32000, "codes_sha256": "0" * 64, "audio_sha256": "0" * 64,
    "audio": {"file": "a.wav"}, "codes": {"file": "a.codes.npz"}, "created": "2026-12-03T00:00:00+00:00",
}


def _assert_a_usable_record(record):
    """What every accepted sidecar guarantees to the code that reads it."""
    from workbench.store.sidecar import sidecar_params

    assert record["schema"] == 1 and record["kind"] == "musicgen-workbench.take"
    assert isinstance(record["seed"], int) and not isinstance(record["seed"], bool)
    assert isinstance(record["prompt"]["text"], str) and isinstance(record["model"]["name"], str)
    assert isinstance(record["audio"]["file"], str) and isinstance(record["codes"]["file"], str)
    sidecar_params(record)  # the parameters rebuild (reproduce depends on it)


def test_the_valid_sidecar_of_the_fuzz_tests_is_accepted(tmp_path):
    path = tmp_path / "take.json"
    path.write_text(json.dumps(VALID_SIDECAR))
    _assert_a_usable_record(read_sidecar(path))


@given(st.dictionaries(st.sampled_from(SIDECAR_KEYS), json_values, max_size=3), st.sampled_from(["drop", "keep"]))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_sidecar_is_either_usable_or_refused_in_one_line(tmp_path, changes, header):
    """A valid sidecar with some fields replaced by arbitrary JSON (or its header dropped): read_sidecar returns a
    record the rest of the code can use, or refuses it with one ProvenanceError line naming the file."""
    record = {**VALID_SIDECAR, **changes}
    if header == "drop":
        record.pop("kind")
    path = tmp_path / "take.json"
    path.write_text(json.dumps(record))
    try:
        accepted = read_sidecar(path)
    except WorkbenchError as error:
        assert str(path) in str(error) and "\n" not in str(error)
        assert header == "drop" or set(changes) & set(SIDECAR_KEYS)
        return
    assert header == "keep"
    _assert_a_usable_record(accepted)


@given(st.binary(max_size=200))
@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_raw_bytes_are_refused_in_one_line(tmp_path, data):
    path = tmp_path / "raw.json"
    path.write_bytes(data)
    with pytest.raises(WorkbenchError) as refused:  # no bytes this short make a whole sidecar
        read_sidecar(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)
