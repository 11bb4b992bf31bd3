"""Turn benchmark result files (bench.py, cpu_check.py, loop_vs_baseline.py, kernel_agreement.py, gpu_check.py)
into docs/benchmarks.md and its plots.

    python benchmarks/report.py benchmarks/results/loop-vs-generate.json benchmarks/results/tiny.json \
        benchmarks/results/random-small.json --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cpu_process import NESTED

TARGETS = {"overhead": 0.05, "batch": 3.5, "preview": 0.25, "floor": 1.5}
#: Issue 28's targets for the CPU check (cpu_check.py).
CPU_TARGETS = {"f32_vs_plain": 0.9, "f32_vs_floor": 1.2, "bf16_speedup": 2.0, "process_vs_plain": 1.0, "batch": 3.5}


def _range(m: dict[str, Any]) -> str:
    return f"{m['median_s']:.2f} s ({m['min_s']:.2f}–{m['max_s']:.2f})"


def _ok(passed: bool) -> str:
    return "meets target" if passed else "**misses target**"


def plot(result: dict[str, Any], path: Path) -> None:
    """Step time vs KV length (with the linear fit) and throughput vs batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for run in result["sweep"]["duration"]:
        left.plot(run["step_times"], label=f"{run['seconds']:g} s take", linewidth=0.8)
    fit = result["sweep"]["fit"]
    steps = max(len(r["step_times"]) for r in result["sweep"]["duration"])
    left.plot([0, steps], [fit["intercept_s"], fit["intercept_s"] + fit["slope_s_per_step"] * steps], "k--",
              label="linear fit")
    left.set(xlabel="decoding step (KV cache length)", ylabel="seconds per step", title="step time vs length")
    left.legend()
    batches = result["sweep"]["batch"]
    right.plot([b["batch"] for b in batches], [b["takes_per_min"] for b in batches], "o-")
    right.set(xlabel="takes per batched pass", ylabel="takes per minute", title="throughput vs batch size")
    fig.suptitle(f"{result['model']} on {result['machine']['cpu']} ({result['machine']['threads']} threads)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _config_table(a: dict[str, Any], title: str, labels: list[str] | None = None) -> list[str]:
    """One row per (configuration, batch) of an ablation result; ``labels`` rename the configurations."""
    lines = ["", f"{title} Medians of {len(a['rows'][0]['runs'])} interleaved rounds; speed-up = median of the "
             f"per-round ratios to the first configuration. Codes identical across the configurations: "
             f"**{'yes' if a['identical_codes'] else 'NO'}**.", "",
             "| configuration | batch | wall | speed-up |", "|---|---|---|---|"]
    for index, row in enumerate(a["rows"]):
        label = labels[index % len(labels)] if labels else row["config"]
        lines.append(f"| {label} | {row['batch']} | {_range(row)} | {row['speedup']:.2f}× |")
    return lines


def ablation_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    if "ablation" in result:
        a = result["ablation"]
        lines += _config_table(a, f"Where the speed comes from: workbench `generate`, {a['seconds']:g} s takes, each "
                               "optimisation added in turn.")
    if "ablation_long" in result:
        a = result["ablation_long"]
        lines += _config_table(a, f"The KV cache alone on longer takes ({a['seconds']:g} s, packed kernels).",
                               ["transformers' KV cache (concatenated every step)", "preallocated KV cache"])
    return lines


def low_memory_lines(result: dict[str, Any]) -> list[str]:
    if "low_memory" not in result:
        return []
    m = result["low_memory"]
    lines = ["", f"`--low-memory` (text encoder out of memory between uses): {m['batch']} takes of {m['seconds']:g} s "
             "in one pass, each mode in a fresh process:", "",
             "| mode | RSS between takes | RSS while decoding | peak RSS in the take | take |", "|---|---|---|---|---|"]
    for mode in ("default", "low"):
        r = m[mode]
        lines.append(f"| {mode} | {r['idle_gb']:.2f} GB | {r['decoding_gb']:.2f} GB | {r['peak_gb']:.2f} GB | "
                     f"{r['take_s']:.2f} s |")
    return lines


def _overhead_rows(c: dict[str, Any]) -> list[str]:
    """The workbench's own cost (same kernels as plain) and its speed-up as loaded; older files had one mixed ratio."""
    if "workbench_reference_b1" not in c:
        return [f"| workbench vs plain transformers, optimisations included (median of paired runs; this file "
                f"predates the same-kernel overhead) | {c['overhead_vs_plain'] * 100:+.1f} % | |"]
    return [
        f"| workbench on the reference kernels and cache (batch 1) | {_range(c['workbench_reference_b1'])} | |",
        f"| overhead of the workbench's loop and per-take sampling vs plain (same kernels; median of paired runs) | "
        f"{c['overhead_vs_plain'] * 100:+.1f} % | ≤ +5 %: {_ok(c['overhead_vs_plain'] <= TARGETS['overhead'])} |",
        f"| speed-up of the workbench as loaded vs plain (median of paired runs) | {c['speedup_vs_plain']:.2f}× | |",
    ]


def section(result: dict[str, Any], out: Path) -> str:
    c, m, p = result["core"], result["machine"], result["preview"]
    b = c["batch"]
    lines = [
        f"## `{result['model']}` — {result['date'][:10]}",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores ({m['threads']} torch threads), {m['ram_gb']:.0f} GB RAM; "
        f"device {result['device']}, {result['dtype']}, {result.get('kernels', 'torch')} kernels; Python "
        f"{m['python']}, torch {m['torch']}, "
        f"transformers {m['transformers']}.",
        f"- Command: `{result['command']}` ({result['total_s'] / 60:.1f} min in all; model built in "
        f"{result['build_s']:.1f} s).",
        f"- Takes of {c['seconds']:g} s ({c['steps']} decoding steps); medians of {len(c['workbench_b1']['runs'])} "
        "runs with (min–max).",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| plain `model.generate` (batch 1) | {_range(c['plain_b1'])} | |",
        f"| workbench `generate` (batch 1) | {_range(c['workbench_b1'])} | |",
        *_overhead_rows(c),
        f"| {b} seeds in one pass | {_range(c[f'workbench_b{b}'])} | |",
        f"| throughput, {b} seeds in one pass vs {b} single renders (paired) | {c['batch_speedup']:.3f}× | ≥ 3.5×: "
        f"{_ok(c['batch_speedup'] >= TARGETS['batch'])} |",
        f"| seconds per decoder step (batch 1; median step, whole call ÷ steps) | {c['step_s_b1'] * 1000:.1f} ms, "
        f"{c.get('call_s_per_step_b1', c['step_s_b1']) * 1000:.1f} ms | |",
        f"| × slower than real time (batch 1) | {c['x_realtime_b1']:.2f}× | |",
        f"| takes per minute, batch 1 / batch {b} | {c['takes_per_min_b1']:.2f} / {c[f'takes_per_min_b{b}']:.2f} | |",
        f"| peak RSS, batch 1 / batch {b} | {c['workbench_b1']['peak_rss_gb']:.2f} / "
        f"{c[f'workbench_b{b}']['peak_rss_gb']:.2f} GB | |",
        f"| text-encoder rows for {b} seeds of one prompt: workbench / plain | {c['text_rows']['workbench']} / "
        f"{c['text_rows']['plain']} | once per prompt |",
        f"| time to first preview audio vs full render ({p.get('seconds', 8):g} s take, batch 1) | "
        f"{p['first_audio_s']:.2f} s / {p['full_render_s']:.2f} s = {p['ratio'] * 100:.0f} % | ≤ 25 %: "
        f"{_ok(p['ratio'] <= TARGETS['preview'])} |",
        f"| memory bandwidth (read, measured) | {c['bandwidth_gbs']:.1f} GB/s | |",
        f"| decoder weights read per step | {c['decoder_gb']:.3f} GB → floor {c['floor_step_s'] * 1000:.1f} ms | |",
        f"| step time vs bandwidth floor | {c['step_vs_floor']:.2f}× | ≤ 1.5×: "
        f"{_ok(c['step_vs_floor'] <= TARGETS['floor'])} |",
    ]
    lines += ablation_lines(result) + low_memory_lines(result)
    if "sweep" in result:
        s = result["sweep"]
        png = f"benchmark-{result['model']}.png"
        plot(result, out.parent / png)
        lines += ["", "Scaling (batch 1 by duration; by batch size at "
                  f"{c['seconds']:g} s):", "", "| take | wall | s/step (first → last 10 %) | peak RSS |",
                  "|---|---|---|---|"]
        for run in s["duration"]:
            times = run["step_times"]
            tenth = max(1, len(times) // 10)
            first, last = sum(times[:tenth]) / tenth, sum(times[-tenth:]) / tenth
            lines.append(f"| {run['seconds']:g} s | {run['wall_s']:.1f} s | {first * 1000:.0f} → {last * 1000:.0f} ms "
                         f"| {run['peak_rss_gb']:.2f} GB |")
        lines += ["", "| batch | wall | takes/min | peak RSS |", "|---|---|---|---|"]
        for run in s["batch"]:
            lines.append(f"| {run['batch']} | {run['wall_s']:.1f} s | {run['takes_per_min']:.2f} | "
                         f"{run['peak_rss_gb']:.2f} GB |")
        fit = s["fit"]
        lines += ["", f"Linear fit of step time vs step index (longest take): {fit['intercept_s'] * 1000:.1f} ms + "
                  f"{fit['slope_s_per_step'] * 1e6:.2f} µs × step → a 30 s take (1503 steps) ≈ "
                  f"{fit['predicted_30s_wall_s']:.0f} s at batch 1.", "", f"![scaling]({png})"]
    return "\n".join(lines)


def loop_section(result: dict[str, Any]) -> str:
    """A ``loop_vs_baseline.py`` result: the workbench's loop against the engine it replaced, case by case."""
    m, base, loop = result["machine"], result["baseline"], result["loop"]
    lines = [
        f"## The decoding loop vs the engine it replaced (`{result['model']}`, {result['date'][:10]})",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']:.0f} GB RAM; Python {m['python']}.",
        f"- Baseline: `{base['workbench']}`{' at ' + base['commit'] if base.get('commit') else ''} "
        f"(transformers {base['transformers']}, torch {base['torch']}, "
        f"{base['kernels']} kernels) — the engine that drove `model.generate`. Loop: this checkout (transformers "
        f"{loop['transformers']}, torch {loop['torch']}, {loop['kernels']} kernels).",
        f"- Command: `{result['command']}` ({result['total_s'] / 60:.1f} min in all). Each round runs every case "
        "on the baseline, then on the loop, one process at a time; ratios are medians of the per-round ratios "
        "(< 1: the loop is faster).",
        "",
        "| case | rounds | whole call: baseline → loop | ratio | median step: baseline → loop | ratio | "
        "prefill forwards (time) | same codes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['case']} | {r['rounds']} | {r['baseline_whole_s']:.2f} → {r['loop_whole_s']:.2f} s | "
            f"{r['whole_ratio']:.3f}× | {r['baseline_step_s'] * 1000:.1f} → {r['loop_step_s'] * 1000:.1f} ms | "
            f"{r['step_ratio']:.3f}× | {r['baseline_prefills']} ({r['baseline_prefill_s'] * 1000:.0f} ms) → "
            f"{r['loop_prefills']} ({r['loop_prefill_s'] * 1000:.0f} ms) | {'yes' if r['identical_codes'] else 'NO'} |")
    return "\n".join(lines)


def _head(result: dict[str, Any], title: str, machine: str, how: str) -> list[str]:
    """A section's heading, machine line and command line (``how`` follows the command's duration)."""
    return [f"## {title} (`{result['model']}`, {result['date'][:10]})", "", f"- Machine: {machine}.",
            f"- Command: `{result['command']}` ({result['total_s'] / 60:.1f} min in all){how}"]


def agreement_section(result: dict[str, Any]) -> str:
    """A ``kernel_agreement.py`` result: how often the packed kernels give the reference kernels' codes."""
    m = result["machine"]
    lines = _head(result, "Packed vs reference kernels, take by take",
                  f"{m['cpu']}, {m['cores']} cores, {m['ram_gb']:.0f} GB RAM; Python {m['python']}, torch "
                  f"{m['torch']}, transformers {m['transformers']}",
                  f". Each seed rendered alone on both kernels, {result['seconds']:g} s takes ({result['frames']} "
                  "frames).")
    lines += ["", f"**{result['identical']} of {result['takes']} takes identical.**"]
    differing = [r for r in result["rows"] if not r["identical"]]
    if differing:
        lines += ["", "| seed | first differing frame | codebook |", "|---|---|---|"]
        lines += [f"| {r['seed']} | {r['first_difference']['frame']} | {r['first_difference']['codebook']} |"
                  for r in differing]
    return "\n".join(lines)


def candidates_section(result: dict[str, Any]) -> str:
    """A ``kernel_candidates.py`` result: each linear product on a step's weights, per row count, against a read."""
    counts = [str(rows) for rows in result["row_counts"]]
    lines = [f"## Linear kernels on a step's weights, {result['cpu']} ({result['date'][:10]})", "",
             f"- Machine: {result['cpu']}, {result['threads']} torch threads; torch {result['torch']}.",
             f"- Command: `{result['command']}`. Each product over the weights one `random-small` step reads, at "
             + " and ".join(counts) + " rows (one take with guidance; four seeds), in alternating rounds; GB/s is "
             "the weights' bytes over the median time."]
    for dtype, found in result["dtypes"].items():
        read = found["candidates"]["sum (a read, no arithmetic)"]
        lines += ["", f"{dtype} ({found['step_weights_gb']:.3f} GB a step; reading them with a sum: "
                  f"{read['gb_per_s']:.1f} GB/s, {read['step_ms']:.1f} ms):", "",
                  "| kernel | batch-independent | " + " | ".join(f"{n} rows: GB/s (ms)" for n in counts) + " |",
                  "|---|---|" + "---|" * len(counts)]
        products = {name: c for name, c in found["candidates"].items() if "rows" in c}
        lines += [f"| {name} | {_yes(c['batch_independent'])} | " + " | ".join(
            f"{c['rows'][n]['gb_per_s']:.1f} ({c['rows'][n]['step_ms']:.1f})" for n in counts) + " |"
            for name, c in products.items()]
        for n in counts:
            eligible = {name: c["rows"][n]["gb_per_s"] for name, c in products.items() if c["batch_independent"]}
            best = max(eligible, key=eligible.__getitem__)
            lines.append(f"\nAt {n} rows the fastest batch-independent kernel is {best}: {eligible[best]:.1f} GB/s, "
                         f"{eligible[best] / read['gb_per_s']:.2f}× a read's speed.")
    return "\n".join(lines)


def gpu_section(result: dict[str, Any]) -> str:
    """A ``gpu_check.py`` result: speed, memory and code agreement of one model on one CUDA device."""
    m = result["machine"]
    passes = (f"the median of {result['repeats']} passes per row" if "repeats" in result else
              f"{result['seeds']} seeds alone and in consecutive batches, the median of a row's full passes")
    lines = _head(result, "On a GPU", f"{m['gpu']}; Python {m['python']}, torch {m['torch']} (CUDA {m['cuda']}), "
                  f"transformers {m.get('transformers', '?')}", f": {result['seconds']:g} s takes, {passes}.")
    lines += [
        "",
        "| dtype | batch | real-time factor | steps/s | peak CUDA GB | same codes alone and in the batch | "
        "same codes every repeat |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['dtype']} | {r['batch']} | {r['realtime_factor']:.3f} | {r['steps_per_s']:.1f} | "
              f"{_gb(r['peak_cuda_gb'])} | {_yes(r['same_codes_alone_and_in_batch'])} | "
              f"{_yes(r['same_codes_every_repeat'])} |" for r in result["rows"]]
    if "reproduce" in result:
        same = "identical" if result["reproduce"]["identical"] else "MISMATCH"
        lines.append(f"\n`reproduce` of a take in the default dtype: {same}; plain transformers `generate` at batch 1 "
                     f"on the same weights: {result['plain_generate']['steps_per_s']:.1f} steps/s.")
    lines += [f"\nNot measured: {s['dtype']} ({s['why']})." for s in result.get("skipped", [])]
    return "\n".join(lines)


def _yes(value: bool | None) -> str:
    return "–" if value is None else "yes" if value else "NO"


def _gb(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _spread(values: list[float], form: str) -> str:
    return f"{form.format(min(values))}–{form.format(max(values))}"


def _paired(r: dict[str, Any], name: str) -> str:
    return f"{r['paired'][name]['median']:.2f}× ({_spread(r['paired'][name]['runs'], '{:.2f}')})"


def cpu_section(result: dict[str, Any]) -> str:
    """A ``cpu_check.py`` result: issue 28's figures on one CPU, each against its target, and what holds there."""
    m, r, loads, floors = result["machine"], result["rounds"], result["loads"], result["floors"]
    p, agree, b = result["process"], result["agreement"], r["batch"]
    fast = m["bf16_fast_path"] or "none"
    lines = _head(result, f"CPU check on {m['cpu']}", f"{m['cpu']} (capability {m['capability']}, bfloat16 fast path: "
                  f"{fast}), {m['cores']} cores ({m['threads']} torch threads), {m['ram_gb']:.0f} GB RAM; Python "
                  f"{m['python']}, torch {m['torch']}, transformers {m['transformers']}",
                  f". In one process, {r['rounds']} rounds in alternating order ({', '.join(r['order'])}), "
                  f"{r['seconds']:g} s takes ({r['steps']} steps); ratios are medians of per-round ratios (min–max).")
    lines.append("- Kernels chosen at load (fresh cache, so measured in this run): " + "; ".join(
        f"{dtype}: **{c['kernels']}** ({c['how']}"
        + (", ms/step " + ", ".join(f"{k} {v:g}" for k, v in c["step_ms"].items()) if c["step_ms"] else "")
        + (", batch-independent: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in c["rows_independent"].items())
           if c["rows_independent"] else "") + ")" for dtype, c in loads.items())
        + f"; measuring took {result['first_load_measurement_s']:.1f} s (once per machine and model).")
    f32_floor = r["f32"]["median_step_s"] / floors["float32"]["floor_step_s"]
    reads = r["reads"]
    read_s = reads["f32_weights_read_s"]["median"]
    rows = [
        ("plain `model.generate`, per step / per call", f"{_ms(r['plain']['median_step_s'])} / "
         f"{r['plain']['median_call_s']:.2f} s", ""),
        ("workbench float32 batch 1, per step / per call", f"{_ms(r['f32']['median_step_s'])} / "
         f"{r['f32']['median_call_s']:.2f} s", ""),
        ("workbench float32 ÷ plain, per step", _paired(r, "f32_step_vs_plain"),
         f"≤ 0.9×: {_ok(r['paired']['f32_step_vs_plain']['median'] <= CPU_TARGETS['f32_vs_plain'])}"),
        ("workbench float32 ÷ plain, per call", _paired(r, "f32_call_vs_plain"), ""),
        (f"float32 bandwidth floor ({floors['float32']['decoder_gb']:.3f} GB a step at {result['bandwidth_gbs']:.1f} "
         f"GB/s, a 1 GB sum between rounds: {_spread(reads['bandwidth_gbs']['runs'], '{:.1f}')} GB/s)",
         _ms(floors["float32"]["floor_step_s"]), ""),
        ("workbench float32 step ÷ floor", f"{f32_floor:.2f}×",
         f"≤ 1.2×: {_ok(f32_floor <= CPU_TARGETS['f32_vs_floor'])}"),
        ("plain step ÷ floor", f"{r['plain']['median_step_s'] / floors['float32']['floor_step_s']:.2f}×", ""),
        ("reading a step's float32 weights alone (a sum of each, in the step's order, between rounds) ÷ floor",
         f"{_ms(read_s)} = {read_s / floors['float32']['floor_step_s']:.2f}×", ""),
        ("workbench float32 step ÷ reading its weights alone", f"{r['f32']['median_step_s'] / read_s:.2f}×", ""),
    ]
    split = r.get("f32_step_split")  # absent from results written before it was measured
    if split:
        floor_s = floors["float32"]["floor_step_s"]
        linear_s, rest_s = split["linear_s"]["median"], split["rest_s"]["median"]
        rows += [
            ("a float32 step with its linear layers timed by hooks (one pass a round): step = linear layers + the rest",
             f"{_ms(split['step_s']['median'])} = {_ms(linear_s)} ({floors['float32']['decoder_gb'] / linear_s:.1f} "
             f"GB/s) + {_ms(rest_s)}", ""),
            ("floor + the rest (the step if its linear layers read at the floor's speed) ÷ floor",
             f"{(floor_s + rest_s) / floor_s:.2f}×", ""),
        ]
    if "bf16" in r:
        bf16_floor = r["bf16"]["median_step_s"] / floors["bfloat16"]["floor_step_s"]
        target = (f"≥ 2× (AMX): {_ok(r['paired']['bf16_step_speedup']['median'] >= CPU_TARGETS['bf16_speedup'])}"
                  if m["amx"] else "≥ 2× applies to AMX CPUs")
        rows += [("workbench bfloat16 batch 1, per step / per call", f"{_ms(r['bf16']['median_step_s'])} / "
                  f"{r['bf16']['median_call_s']:.2f} s", ""),
                 ("bfloat16 steps per second ÷ float32's", _paired(r, "bf16_step_speedup"), target),
                 ("bfloat16 calls per second ÷ float32's", _paired(r, "bf16_call_speedup"), ""),
                 (f"bfloat16 step ÷ its floor ({floors['bfloat16']['decoder_gb']:.3f} GB)", f"{bf16_floor:.2f}×", "")]
    ratio = p["workbench_vs_plain"]["median"]
    rows += [
        (f"{b} seeds in one pass ÷ {b} single renders, takes per minute", _paired(r, "batch_speedup"),
         f"≥ 3.5×: {_ok(r['paired']['batch_speedup']['median'] >= CPU_TARGETS['batch'])}"),
        (f"whole process, {p['seconds']:g} s take: `workbench generate` / plain script (median of {p['rounds']})",
         f"{p['workbench']['median_wall_s']:.1f} s / {p['plain']['median_wall_s']:.1f} s = {ratio:.2f}×",
         f"≤ 1×: {_ok(ratio <= CPU_TARGETS['process_vs_plain'])}"),
        ("peak RSS: workbench / plain", f"{p['workbench']['max_peak_rss_gb']:.2f} / "
         f"{p['plain']['max_peak_rss_gb']:.2f} GB", ""),
        (f"workbench peak bound: weights {p['weights_gb']:.2f} + KV cache {p['cache_gb']:.3f} + margin "
         f"{p['peak_margin_gb']:g} GB", f"{p['peak_bound_gb']:.2f} GB",
         f"peak within it: {_ok(p['workbench']['max_peak_rss_gb'] <= p['peak_bound_gb'])}"),
    ]
    lines += ["", "| measure | value | target |", "|---|---|---|"] + [f"| {a} | {v} | {t} |" for a, v, t in rows]
    bat = r["batching"]
    lines += ["", f"Batching: a decoding step took {_ms(bat['step_s_b1'])} at batch 1 and "
              f"{_ms(bat[f'step_s_b{b}'])} at batch {b} ({bat[f'step_s_b{b}'] / bat['step_s_b1']:.2f}×); each take's "
              f"own EnCodec decode took {bat['encodec_decode_s_per_take']:.2f} s. Same seed, same codes every round: "
              f"{'yes' if r['f32_same_every_round'] else 'NO'}; alone and in the batch: "
              f"{'yes' if r['f32_alone_equals_batch'] else 'NO'}."]
    phases = p["breakdown"]["phases_s"]
    lines += ["", f"Where a `workbench generate` process's {p['breakdown']['wall_s']:.1f} s went (one more run, "
              "phases timed in it; nested ones indented):", "", "| phase | seconds |", "|---|---|"]
    lines += [f"| {'— ' if name in NESTED else ''}{name} | {value:.2f} |" for name, value in phases.items()]
    lines += ["", f"Agreement ({agree['seeds']} seeds, {agree['seconds']:g} s takes, each alone): "
              + "; ".join(f"{dtype.split('_')[0]} {kind} vs torch: {n}/{agree['seeds']} identical"
                          for dtype, found in agree.items() if dtype.endswith("_candidates")
                          for kind, n in found.items()) + "."]
    if "bf16_vs_f32" in agree:
        a = agree["bf16_vs_f32"]
        lines[-1] += (f" bfloat16 vs float32: {a['identical_takes']}/{agree['seeds']} takes identical, "
                      f"{a['equal_codes_fraction'] * 100:.1f} % of codes equal; a bfloat16 take alone and in a batch: "
                      f"{'identical' if agree['bf16_alone_equals_batch'] else 'NOT identical'}.")
    return "\n".join(lines)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--intro", type=Path, default=Path(__file__).with_name("intro.md"))
    args = parser.parse_args()
    parts = [args.intro.read_text().rstrip()] if args.intro.is_file() else ["# Benchmarks"]
    for path in args.results:
        result = json.loads(path.read_text())
        if "baseline" in result:
            parts.append(loop_section(result))
        elif result.get("cpu_check"):
            parts.append(cpu_section(result))
        elif "peak_cuda_gb" in (result.get("rows") or [{}])[0]:
            parts.append(gpu_section(result))
        elif "row_counts" in result:
            parts.append(candidates_section(result))
        elif "identical" in result:
            parts.append(agreement_section(result))
        else:
            parts.append(section(result, args.out))
    args.out.write_text("\n\n".join(parts) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
