"""Property-based tests: arbitrary input either parses or raises WorkbenchError, never anything else."""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import WorkbenchError
from workbench.core.params import GenerationParams, parse_seeds, validate_seed, validate_text
from workbench.store.sidecar import read_sidecar

anything = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=20), st.lists(st.integers(), max_size=3))


@given(duration=anything, guidance=anything, temperature=anything, top_k=anything, top_p=anything)
@settings(max_examples=300)
def test_params_validate_or_raise_workbench_errors(duration, guidance, temperature, top_k, top_p):
    try:
        params = GenerationParams(duration_s=duration, guidance_scale=guidance, temperature=temperature,
                                  top_k=top_k, top_p=top_p)
    except WorkbenchError:
        return
    assert 0 < params.duration_s <= 300 and math.isfinite(params.duration_s)
    assert params.temperature > 0 and params.top_k >= 0 and 0 <= params.top_p <= 1


@given(st.one_of(anything, st.text(alphabet="0123456789-, ¹٣", max_size=30)))
@settings(max_examples=300)
def test_seed_parsing_never_crashes(spec):
    for parse in (validate_seed, parse_seeds):
        try:
            out = parse(spec)
        except WorkbenchError:
            continue
        values = out if isinstance(out, list) else [out]
        assert all(isinstance(v, int) and 0 <= v < 2**63 for v in values)


@given(st.text(max_size=300))
@settings(max_examples=300)
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


@given(st.dictionaries(st.sampled_from(SIDECAR_KEYS), json_values, max_size=len(SIDECAR_KEYS)),
       st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sidecar_reader_accepts_or_raises(tmp_path, record, valid_header):
    if valid_header:
        record.update(schema=1, kind="musicgen-workbench.take")
    path = tmp_path / "take.json"
    path.write_text(json.dumps(record))
    try:
        read_sidecar(path)
    except WorkbenchError:
        pass


@given(st.binary(max_size=200))
@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sidecar_reader_on_raw_bytes(tmp_path, data):
    path = tmp_path / "raw.json"
    path.write_bytes(data)
    try:
        read_sidecar(path)
    except WorkbenchError:
        pass
