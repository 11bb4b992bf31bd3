import dataclasses
import math

import pytest

from workbench.core.errors import ParamsError, WorkbenchError
from workbench.core.params import GenerationParams, parse_seeds, validate_seed, validate_text


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("duration_s", 0, "duration_s"),
        ("duration_s", -1.0, "duration_s"),
        ("duration_s", math.nan, "duration_s"),
        ("duration_s", math.inf, "duration_s"),
        ("duration_s", 301, "duration_s"),
        ("duration_s", "8", "duration_s"),
        ("guidance_scale", -0.1, "guidance_scale"),
        ("temperature", 0.0, "temperature"),
        ("temperature", -1.0, "temperature"),
        ("top_k", -1, "top_k"),
        ("top_k", 2.5, "top_k"),
        ("top_p", -0.01, "top_p"),
        ("top_p", 1.01, "top_p"),
        ("extend_stride_s", 0.5, "extend_stride_s"),
    ],
)
def test_bad_params_name_the_field_and_value(field, value, needle):
    with pytest.raises(ParamsError) as caught:
        GenerationParams(**{field: value})
    message = str(caught.value)
    assert needle in message
    assert repr(value) in message or str(value) in message
    assert isinstance(caught.value, WorkbenchError) and isinstance(caught.value, ValueError)


def test_params_are_frozen_and_normalised():
    params = GenerationParams(duration_s=2, top_k=10.0)
    assert params.duration_s == 2.0 and isinstance(params.duration_s, float)
    assert params.top_k == 10 and isinstance(params.top_k, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.duration_s = 3  # type: ignore[misc]
    assert params.replace(duration_s=3).duration_s == 3.0
    assert GenerationParams.from_dict(params.to_dict()) == params


def test_params_from_dict_refuses_unknown_keys():
    with pytest.raises(ParamsError, match="unknown generation parameter"):
        GenerationParams.from_dict({"duration": 3})
    with pytest.raises(ParamsError, match="unknown generation parameter"):
        GenerationParams().replace(cfg=3)


@pytest.mark.parametrize("seed", [-1, "-3", 2**63, 1.5, "abc", None, True, "1e3"])
def test_bad_seeds(seed):
    with pytest.raises(ParamsError, match="seed"):
        validate_seed(seed)


def test_good_seeds():
    assert validate_seed(0) == 0
    assert validate_seed(2**63 - 1) == 2**63 - 1
    assert validate_seed("42") == 42
    assert validate_seed(7.0) == 7


def test_parse_seeds():
    assert parse_seeds("1-4") == [1, 2, 3, 4]
    assert parse_seeds("3,7, 11") == [3, 7, 11]
    assert parse_seeds("1-2,9") == [1, 2, 9]
    assert parse_seeds(5) == [5]
    for bad in ("4-1", "1,,2", "1,1", "", "a-b", "1-100000"):
        with pytest.raises(ParamsError):
            parse_seeds(bad)


def test_prompt_validation():
    assert validate_text("  lofi\n piano\t beat ") == "lofi piano beat"
    for bad, needle in (("", "empty"), ("   \n", "empty"), ("x" * 2001, "2001"), ("a\x00b", "control"),
                        ("a\x1b[31mb", "control"), ("bad \udcff", "invalid")):
        with pytest.raises(ParamsError, match=needle):
            validate_text(bad)
    with pytest.raises(ParamsError):
        validate_text(3)
