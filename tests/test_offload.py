"""Low-memory mode: the text encoder leaves memory between uses; takes stay identical."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from workbench.core.params import GenerationParams
from workbench.drafts.melody import CHROMA_RATE, Melody
from workbench.engine.load import load_engine
from workbench.engine.offload import Offloader


def _resident_bytes(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


def test_offloader_round_trip_is_bit_exact_and_keeps_ties(tiny):
    module = load_engine("tiny", kernels="torch").model.text_encoder
    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    assert module.shared.weight is module.encoder.embed_tokens.weight  # T5 ties its embeddings
    offloader = Offloader(module)
    offloader.release()
    assert _resident_bytes(module) == 0 and offloader.path is not None and Path(offloader.path).is_file()
    offloader.release()  # idempotent
    offloader.restore()
    assert module.shared.weight is module.encoder.embed_tokens.weight
    assert all(torch.equal(p, before[name]) for name, p in module.named_parameters())
    path = offloader.path
    del offloader
    assert not Path(path).exists()  # the spill file goes with its offloader


def test_offloader_keeps_the_weights_when_it_cannot_spill(tmp_path):
    module = torch.nn.Linear(4, 4)
    offloader = Offloader(module, folder=str(tmp_path / "missing"))  # no such folder: the spill file fails
    offloader.release()
    assert offloader.resident and offloader.path is None and module.weight.numel() == 16


def test_low_memory_engine_makes_the_same_takes_and_frees_the_encoder(tiny):
    lean = load_engine("tiny", low_memory=True, kernels="onednn-packed")
    params = GenerationParams(duration_s=1)
    encoder_bytes = _resident_bytes(tiny.model.text_encoder)
    assert encoder_bytes > 0
    for seeds in ([1], [2, 3]):
        fast = np.stack([t.codes for t in tiny.generate("lofi piano", params, seeds)])
        low = np.stack([t.codes for t in lean.generate("lofi piano", params, seeds)])
        assert np.array_equal(fast, low)
        assert _resident_bytes(lean.model.text_encoder) == 0  # released after each call
    assert _resident_bytes(tiny.model.text_encoder) == encoder_bytes


def test_low_memory_melody_engine(tiny_melody):
    lean = load_engine("tiny-melody", low_memory=True, kernels="onednn-packed")
    melody = Melody(np.eye(12, dtype=np.float32)[np.arange(30) % 12], CHROMA_RATE, {"kind": "test"})
    params = GenerationParams(duration_s=1)
    [a] = tiny_melody.generate("lofi", params, [4], melody=melody)
    [b] = lean.generate("lofi", params, [4], melody=melody)
    assert np.array_equal(a.codes, b.codes)
    assert _resident_bytes(lean.model.text_encoder) == 0


def test_cli_low_memory_flag_gives_the_same_take(cli, tmp_path):
    for name, extra in (("a.wav", []), ("b.wav", ["--low-memory"])):
        done = cli("generate", "lofi piano", "--model", "tiny", "--seed", "9", "--duration", "1", "-o", name, *extra)
        assert done.returncode == 0, done.stderr
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a["codes_sha256"] == b["codes_sha256"] and a["audio_sha256"] == b["audio_sha256"]


def test_the_weights_fingerprint_does_not_depend_on_memory_mode():
    normal, low = load_engine("tiny"), load_engine("tiny", low_memory=True)
    low.generate("lofi", GenerationParams(duration_s=0.2), [1])  # the text encoder's weights are released now
    assert low.weights_sha256() == normal.weights_sha256()


def test_concurrent_calls_on_one_engine_are_each_exact():
    """Threads sharing one low-memory engine (a UI with --concurrency > 1) each get the take they would alone."""
    import threading

    engine = load_engine("tiny", low_memory=True)
    params = GenerationParams(duration_s=0.5)
    requests = [("soft pads", 1), ("dark techno", 2), ("lofi piano", 3), ("glassy arps", 4)]
    alone = {r: engine.generate(r[0], params, [r[1]])[0].codes_sha256 for r in requests}
    together: dict = {}

    def render(request):
        together[request] = engine.generate(request[0], params, [request[1]])[0].codes_sha256

    threads = [threading.Thread(target=render, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone
