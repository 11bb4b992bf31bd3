"""Conditioning for the decoding loop: prompts (and melodies) to the states the decoder reads.

Text models (``MusicgenForConditionalGeneration``) cross-attend to the T5 states of the prompt. Each
distinct prompt is encoded once per call, alone (no padding from other prompts), then laid out for the
batch with zero padding and a mask; the unconditional half of classifier-free guidance is all zeros
with a zero mask, as in transformers' and audiocraft's MusicGen.

Melody models (``MusicgenMelodyForConditionalGeneration``) read a prefix instead: the melody's chroma
(projected, repeated to ``chroma_length`` frames) followed by the projected text states. The text is
encoded once per call; the chroma slides with each window. The unconditional half is zero text states
and a "no melody" chroma (pitch class C in every frame), as in transformers' MusicGen-Melody.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from workbench.engine.decoding import Conditioning


def _project(model: Any, states: torch.Tensor) -> torch.Tensor:
    """The text encoder's states in the decoder's width (``enc_to_dec_proj`` where the widths differ)."""
    needs = model.text_encoder.config.hidden_size != model.decoder.config.hidden_size
    if not model.config.model_type == "musicgen_melody":
        needs = needs and model.decoder.config.cross_attention_hidden_size is None
    return model.enc_to_dec_proj(states) if needs else states


def text_states(model: Any, tokenizer: Any, texts: list[str], guided: bool, dtype: torch.dtype,
                device: torch.device) -> Conditioning:
    """Cross-attention conditioning of a text model for ``texts`` (one per take): ``2B`` rows when ``guided``."""
    encoded: dict[str, tuple[int, torch.Tensor]] = {}
    with torch.inference_mode():
        for text in dict.fromkeys(texts):
            ids = tokenizer([text], return_tensors="pt").input_ids.to(device)
            encoded[text] = (ids.shape[1], model.text_encoder(input_ids=ids).last_hidden_state[0])
        length = max(n for n, _ in encoded.values())
        width = next(iter(encoded.values()))[1].shape[-1]
        mask = torch.zeros((len(texts), length), dtype=torch.long, device=device)
        hidden = torch.zeros((len(texts), length, width), dtype=dtype, device=device)
        for row, text in enumerate(texts):
            n, states = encoded[text]
            mask[row, :n] = 1
            hidden[row, :n] = states
        if guided:
            hidden = torch.cat([hidden, torch.zeros_like(hidden)])
            mask = torch.cat([mask, torch.zeros_like(mask)])
        states = _project(model, hidden) * mask[..., None]
    return Conditioning(states=states, mask=mask, prefix=False)


class MelodyConditioner:
    """Prefix conditioning of a melody model: text encoded once, chroma window per pass.

    Args:
        model: A ``MusicgenMelodyForConditionalGeneration``.
        tokenizer: Its tokenizer.
        texts: One prompt per take (padded together, as transformers' processor does).
        guided: Whether the unconditional half is appended.
    """

    def __init__(self, model: Any, tokenizer: Any, texts: list[str], guided: bool) -> None:
        self.model, self.guided, self.batch = model, guided, len(texts)
        device, dtype = model.device, model.dtype
        self.device, self.dtype = device, dtype
        inputs = tokenizer(texts, return_tensors="pt", padding=True).to(device)
        mask = inputs.attention_mask
        with torch.inference_mode():
            states = _project(model, model.text_encoder(input_ids=inputs.input_ids, attention_mask=mask)
                              .last_hidden_state)
            if guided:
                states = torch.cat([states, torch.zeros_like(states)])
                mask = torch.cat([mask, torch.zeros_like(mask)])
            self.text = states * mask[..., None]

    def window(self, chroma: np.ndarray | None) -> Conditioning:
        """The prefix for one pass: ``chroma`` ``[frames, 12]`` (None: no melody), then the text states."""
        config = self.model.config
        with torch.inference_mode():
            if chroma is None:
                melody = None
                null = torch.zeros((self.batch, 1, config.num_chroma), dtype=self.dtype, device=self.device)
            else:
                melody = torch.as_tensor(chroma, dtype=self.dtype, device=self.device)[None].expand(self.batch, -1, -1)
                null = torch.zeros_like(melody)
            null[:, :, 0] = 1
            audio = null if melody is None else melody
            if self.guided:
                audio = torch.cat([audio, null])
            if config.num_chroma != self.model.decoder.config.hidden_size:
                audio = self.model.audio_enc_to_dec_proj(audio)
            if audio.shape[1] < config.chroma_length:
                audio = audio.repeat(1, math.ceil(config.chroma_length / audio.shape[1]), 1)
            audio = audio[:, :config.chroma_length]
            prefix = torch.cat([audio, self.text], dim=1)
        return Conditioning(states=prefix, mask=None, prefix=True)
