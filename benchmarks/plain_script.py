"""A plain transformers script: what a user writes by hand to render one take, timed as a whole process.

The model is the workbench's built-in random-weight one (``random-small``: musicgen-small's real size), built
by the same builder so that both sides load the same weights the same way; everything after that is plain
transformers: ``processor(text=...)``, ``model.generate(do_sample=True, guidance_scale=3, top_k=250)`` with the
process RNG, then the audio written with soundfile. ``benchmarks/cpu_check.py`` runs it against
``workbench generate``.

    python benchmarks/plain_script.py --model random-small --seconds 4 --out /tmp/plain.wav
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    import soundfile as sf
    import torch
    from texts import TEXT

    from workbench.models.builtin import build_builtin

    model, processor = build_builtin(args.model)
    rate = model.config.audio_encoder.frame_rate
    steps = round(args.seconds * rate) + model.decoder.config.num_codebooks - 1  # the delay pattern's extra steps
    inputs = processor(text=[TEXT], padding=True, return_tensors="pt")
    torch.manual_seed(args.seed)  # a script owns its process: seeding the global RNG is what users do
    audio = model.generate(**inputs, do_sample=True, guidance_scale=3.0, top_k=250, max_new_tokens=steps)
    sf.write(args.out, audio[0].T.numpy(), model.config.audio_encoder.sampling_rate)


if __name__ == "__main__":
    main()
