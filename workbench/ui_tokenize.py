"""The Tokenize tab: audio -> EnCodec tokens (grid image, bitrate), the reconstruction and its quality."""

from __future__ import annotations

import importlib
import importlib.util
import math
from types import SimpleNamespace
from typing import Any

import gradio as gr

from .atomic import write_bytes
from .audio import read_audio, resample, to_channels
from .ui_common import App, int16, model_name, ui_errors
from .uploads import token_path

UNAVAILABLE = "codec module not available: this build of the workbench has no `workbench.codec` yet"


def codec_module() -> Any:
    """``workbench.codec``, imported on first use (it may not be part of this build)."""
    if importlib.util.find_spec("workbench.codec") is None:
        raise gr.Error(UNAVAILABLE)
    return importlib.import_module("workbench.codec")


class TokenizeTab:
    """Handlers and layout of the Tokenize tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    @ui_errors
    def tokenize(self, audio: str | None, codec_name: str, model: str, folder: str,
                 progress: Any = gr.Progress()) -> tuple[Any, ...]:
        """Tokenize an upload: ``(grid image, facts, reconstruction, token file, quality)``."""
        codec = codec_module()
        if not audio:
            raise gr.Error("upload an audio file to tokenize")
        path = self.app.upload(audio)
        progress(None, desc="loading the codec")
        name = (codec_name or "").strip()
        codec_obj = codec.load_codec(name) if name else codec.codec_of(self.app.cache.get(model_name(model, folder)))
        progress(None, desc="encoding")
        token_file, codes = codec.tokenize_file(path, codec_obj, out=token_path(self.app.out, path), force=False)
        progress(None, desc="decoding")
        recon = codec.decode(codec_obj, codes)
        meta = codes.meta
        rate = int(meta["sample_rate"])
        source, source_rate = read_audio(path)
        ref = to_channels(resample(source, source_rate, rate), recon.shape[0])
        length = min(ref.shape[-1], recon.shape[-1])
        scores = codec.quality(ref[:, :length], recon[:, :length], rate)
        image = token_file.with_name(token_file.name.replace(".codes.npz", ".tokens.png"))
        write_bytes(image, codec.token_grid_image(codes.codes), force=True)
        return str(image), self._facts(codes, scores, token_file), (rate, int16(recon)), str(token_file), {
            **{k: round(float(v), 4) for k, v in scores.items()}, "shape": list(codes.codes.shape),
            "token_file": self.app.rel(token_file)}

    def _facts(self, codes: Any, scores: dict[str, float], token_file: Any) -> str:
        meta = codes.meta
        books, frames = codes.codes.shape
        kbps = meta.get("bandwidth_kbps") or books * math.log2(meta["codebook_size"]) * meta["frame_rate"] / 1000
        return (f"**{books} codebooks × {frames} frames** at {meta['frame_rate']} Hz · {kbps:g} kbps · "
                f"codebook of {meta['codebook_size']}  \nreconstruction: SNR **{scores['snr_db']:.1f} dB** · "
                f"STFT distance {scores['stft_distance']:.3f} · mel distance {scores['mel_distance']:.3f}  \n"
                f"`{self.app.rel(token_file)}`")

    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        available = importlib.util.find_spec("workbench.codec") is not None
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=280):
                w.audio = gr.Audio(label="Audio to tokenize", type="filepath", sources=["upload"])
                w.codec = gr.Textbox(label="Codec", placeholder="the model's own codec",
                                     info="Blank: the selected model's EnCodec; or a codec name")
                w.run = gr.Button("Tokenize", variant="primary", interactive=available)
                if not available:
                    gr.Markdown(f"⚠️ {UNAVAILABLE}.")
            with gr.Column(scale=5):
                w.image = gr.Image(label="Tokens (codebooks × frames)", type="filepath", interactive=False, height=220)
                w.facts = gr.Markdown("Upload audio to see its tokens.", elem_classes=["facts"])
                w.recon = gr.Audio(label="Reconstruction (decoded tokens)", interactive=False)
                with gr.Row():
                    w.file = gr.File(label="Token file (.codes.npz)", interactive=False)
                    w.quality = gr.JSON(label="Quality")
        w.event = w.run.click(self.tokenize, [w.audio, w.codec, shared.model, shared.folder],
                              [w.image, w.facts, w.recon, w.file, w.quality], api_name="tokenize",
                              concurrency_id="model", concurrency_limit=shared.concurrency)
        return w
