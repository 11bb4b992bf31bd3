"""The delay pattern and the decoding loop's bookkeeping (no model needed)."""

from __future__ import annotations

import numpy as np
import torch

from workbench.engine.decoding import DelayPattern

PAD = 99


def test_pattern_layout_matches_musicgen_delays():
    # 4 codebooks, 2 context frames, 3 new: codebook q of frame t sits at 1 + t + q
    context = np.array([[[10, 11], [20, 21], [30, 31], [40, 41]]])
    pattern = DelayPattern(context, 3, audio_channels=1, pad=PAD, device=torch.device("cpu"))
    assert pattern.delay == 3 and pattern.steps == 6 and pattern.length == 1 + 2 + 3 + 3
    seq = pattern.sequence[0].tolist()
    assert seq[0] == [PAD, 10, 11, -1, -1, -1, PAD, PAD, PAD]
    assert seq[1] == [PAD, PAD, 20, 21, -1, -1, -1, PAD, PAD]
    assert seq[3] == [PAD, PAD, PAD, PAD, 40, 41, -1, -1, -1]
    assert pattern.prefill().tolist() == [[PAD, 10, 11], [PAD, PAD, 20], [PAD, PAD, PAD], [PAD, PAD, PAD]]


def test_place_keeps_known_positions_and_frames_undo_the_delay():
    context = np.array([[[10, 11], [20, 21], [30, 31], [40, 41]]])
    pattern = DelayPattern(context, 3, audio_channels=1, pad=PAD, device=torch.device("cpu"))
    fed = []
    for step in range(pattern.steps):
        sampled = torch.tensor([100 + step, 200 + step, 300 + step, 400 + step])
        fed.append(pattern.place(step, sampled)[:, 0].tolist())
    # step 0 writes position 3: codebook 0 samples; 1 and 2 keep their context frames 1 and 0; 3 its start pad
    assert fed[0] == [100, 21, 30, PAD]
    assert fed[-1] == [PAD, PAD, PAD, 405]  # the end padding wins over sampled tokens
    new = pattern.frames(2, 3)[0]
    assert new.tolist() == [[100, 101, 102], [201, 202, 203], [302, 303, 304], [403, 404, 405]]
    assert pattern.frames(0, 2)[0].tolist() == context[0].tolist()
    assert pattern.complete_frames(2) == 0 and pattern.complete_frames(5) == 2


def test_stereo_rows_share_their_delay():
    pattern = DelayPattern(np.zeros((2, 8, 0), dtype=np.int64), 4, audio_channels=2, pad=PAD,
                           device=torch.device("cpu"))
    assert pattern.delays == [0, 0, 1, 1, 2, 2, 3, 3] and pattern.steps == 7
    assert pattern.prefill().shape == (16, 1)
    for step in range(pattern.steps):
        pattern.place(step, torch.arange(16) + 16 * step)
    frames = pattern.frames(0, 4)
    assert frames.shape == (2, 8, 4)
    # row 2 of take 0 has delay 1: frame t was sampled at step t + 1
    assert frames[0, 2].tolist() == [2 + 16 * (t + 1) for t in range(4)]
