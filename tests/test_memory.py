"""Peak memory: a process holds its model's weights once, its pass's KV cache and a fixed margin
(``workbench.engine.cost.PEAK_MARGIN_GB``), measured as the operating system counts it (peak RSS)."""

import json
import re
import sys
import textwrap

import pytest
import torch

from workbench.engine import compat, kernels
from workbench.engine.cost import PEAK_MARGIN_GB, kv_cache_bytes, peak_bound_gb

#: Packing swaps every weight for a packed copy, a layer at a time: the process's peak may pass its resident
#: memory before packing by one trimming chunk and the allocator's slack, never by the weights again.
PACKING_SLACK_BYTES = kernels.TRIM_EVERY_BYTES + 32 * 2**20

PACK_IN_A_FRESH_PROCESS = textwrap.dedent("""
    import json
    import psutil, torch
    from workbench.engine import kernels
    from workbench.engine.cost import peak_rss_bytes
    torch.manual_seed(0)
    with torch.no_grad():
        layers = torch.nn.Sequential(*[torch.nn.Linear(1024, 4096) for _ in range(24)]).eval()
    dense = kernels.weight_bytes(layers)
    before = psutil.Process().memory_info().rss
    count = kernels.pack_linears(layers)
    peak = peak_rss_bytes()
    print(json.dumps({"count": count, "dense": dense, "packed": kernels.weight_bytes(layers),
                      "before": before, "peak": peak}))
""")


@pytest.mark.skipif(compat.packed_linear_ops(torch.float32) is None or not sys.platform.startswith("linux"),
                    reason="needs oneDNN's packed kernels and Linux's peak RSS of the process alone (VmHWM)")
def test_packing_a_decoders_worth_of_weights_never_holds_them_twice(workbench_process):
    done = workbench_process.run_code(PACK_IN_A_FRESH_PROCESS)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["count"] == 24
    assert found["dense"] == found["packed"] == 24 * (4096 * 1024 + 4096) * 4  # 403 MB, counted the same packed
    assert found["peak"] - found["before"] <= PACKING_SLACK_BYTES, (
        f"packing {found['dense'] / 1e6:.0f} MB raised the peak by {(found['peak'] - found['before']) / 1e6:.0f} MB")


def test_kv_cache_bytes_count_keys_and_values_of_every_layer_row_and_position(tiny):
    config = tiny.model.decoder.config
    one = kv_cache_bytes(config, rows=1, positions=1)
    assert one == 2 * config.num_hidden_layers * config.hidden_size * 4
    assert kv_cache_bytes(config, rows=2, positions=50, encoder_positions=10) == one * 2 * 60
    assert kv_cache_bytes(config, rows=2, positions=50, itemsize=2) == one * 50


def test_weight_bytes_count_tied_tensors_once():
    embedding = torch.nn.Embedding(100, 8)
    head = torch.nn.Linear(8, 100, bias=False)
    head.weight = embedding.weight
    assert kernels.weight_bytes(torch.nn.ModuleList([embedding, head])) == 100 * 8 * 4


#: ``workbench`` in this interpreter, printing its own peak RSS (``peak_rss_bytes``) as it exits.
WORKBENCH_WITH_PEAK = ("import atexit, runpy, sys; from workbench.engine.cost import peak_rss_bytes; "
                       "atexit.register(lambda: print('peak', peak_rss_bytes(), file=sys.stderr)); "
                       "sys.argv[0] = 'workbench'; runpy.run_module('workbench', run_name='__main__')")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak RSS of the process alone (VmHWM)")
def test_a_generate_process_peaks_within_weights_cache_and_the_stated_margin(tiny, workbench_process):
    seconds = 2.0
    done = workbench_process.run_code(WORKBENCH_WITH_PEAK, "generate", "memory check, soft pads", "--model", "tiny",
                                      "--duration", f"{seconds:g}", "--seed", "3", "-o", "take.wav")
    assert done.returncode == 0, done.stderr
    peak_gb = int(re.search(r"^peak (\d+)$", done.stderr, re.MULTILINE).group(1)) / 1e9
    frames = tiny.frames_for(seconds) + tiny.num_codebooks  # the delay pattern's extra steps
    cache = kv_cache_bytes(tiny.model.decoder.config, rows=2, positions=frames, encoder_positions=64)
    bound = peak_bound_gb(kernels.weight_bytes(tiny.model), cache)
    assert 0.1 < peak_gb <= bound, f"peak {peak_gb:.2f} GB over the bound {bound:.2f} GB (margin {PEAK_MARGIN_GB} GB)"
    recorded = json.loads((workbench_process.cwd / "take.json").read_text())["cost"]["peak_rss_gb"]
    assert 0.1 < recorded <= peak_gb + 0.001  # the sidecar's peak is the same count, taken before the writing
