"""On a CUDA device (skipped elsewhere): half-precision takes, batch independence and reproduce on the GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.core.params import GenerationParams
from workbench.engine.load import load_engine

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

PARAMS = GenerationParams(duration_s=1)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_gpu_take_is_the_same_alone_and_in_a_batch(dtype):
    engine = load_engine("tiny", device="cuda", dtype=dtype)
    assert str(engine.device).startswith("cuda") and str(engine.dtype) == f"torch.{dtype}"
    batch = engine.generate("lofi piano", PARAMS, [1, 2, 3])
    alone = engine.generate("lofi piano", PARAMS, [2])[0]
    assert batch[1].codes_sha256 == alone.codes_sha256
    assert batch[1].dtype == dtype and batch[1].device.startswith("cuda")
    assert np.isfinite(alone.audio).all()


def test_reproduce_a_gpu_take_on_the_gpu(tmp_path):
    from workbench.render.reproduce import reproduce
    from workbench.store.takes import save_take

    engine = load_engine("tiny", device="cuda")
    [take] = engine.generate("lofi piano", PARAMS, [5])
    save_take(take, tmp_path / "a.wav", weights_sha256=engine.weights_sha256())
    report = reproduce(tmp_path / "a.json")
    assert report.identical and report.take.device.startswith("cuda") and not report.warnings


def test_low_memory_on_the_gpu_keeps_the_text_encoder_on_the_host_and_the_takes():
    plain, low = load_engine("tiny", device="cuda"), load_engine("tiny", device="cuda", low_memory=True)
    assert low.generate("lofi", PARAMS, [1])[0].codes_sha256 == plain.generate("lofi", PARAMS, [1])[0].codes_sha256


def test_the_default_dtype_on_cuda_is_float32_and_said_of_no_other_line():
    from workbench.models.dtypes import agreement_note

    engine = load_engine("tiny")
    assert engine.device.type == "cuda" and engine.dtype == torch.float32
    assert agreement_note(engine.device, engine.dtype) is None
    assert agreement_note(engine.device, torch.bfloat16) is not None


def test_builtin_audiocraft_models_load_on_a_gpu_machine_without_a_device():
    pytest.importorskip("audiocraft")
    style, magnet = load_engine("tiny-style"), load_engine("tiny-magnet")
    assert style.device.type == "cpu" and magnet.device.type == "cuda"
    [take] = magnet.generate("lofi", GenerationParams(duration_s=1), [1])
    assert take.device.startswith("cuda") and np.isfinite(take.audio).all()
