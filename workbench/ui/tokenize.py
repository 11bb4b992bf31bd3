"""The Tokenize tab: audio -> EnCodec tokens (grid image, bitrate), the reconstruction and its quality."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.codec.codec import codec_of
from workbench.codec.load import load_codec
from workbench.codec.metrics import token_grid_image
from workbench.core.atomic import write_bytes
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.tokenize import codec_report, tokenize_file
from workbench.store.naming import reconstruction_path_for, token_image_path_for, token_path
from workbench.ui.context import App, model_name
from workbench.ui.errors import ui_errors

#: Standalone codecs offered besides the selected model's own (the Hub's EnCodec checkpoints).
CODEC_NAMES = ["encodec_24khz", "encodec_32khz", "encodec_48khz"]
class TokenizeTab:
    """Handlers and layout of the Tokenize tab."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._codec: tuple[str, Any] | None = None  # the last standalone codec: (name, codec), reused per click
        self._lock = threading.Lock()

    def _standalone(self, name: str) -> Any:
        """The codec named ``name``, loaded once and kept until another standalone codec is asked for."""
        with self._lock:
            if self._codec is None or self._codec[0] != name:
                self._codec = None  # release the old one before loading the next
                self._codec = (name, load_codec(name))
            return self._codec[1]

    @ui_errors
    def tokenize(self, audio: str | None, codec_name: str = "", model: str = DEFAULT_MODEL, folder: str = "",
                 progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Tokenize an upload: first the last result cleared, then ``(grid image, facts, reconstruction, token file,
        quality)``, under ``<out>/tokens``."""
        yield None, "Tokenizing…", None, None, None
        yield self._tokenize(audio, codec_name, model, folder, progress)

    def _tokenize(self, audio: str | None, codec_name: str, model: str, folder: str, progress: Any
                  ) -> tuple[Any, ...]:
        if not audio:
            raise gr.Error("upload an audio file to tokenize")
        path = self.app.upload(audio)
        progress(None, desc="loading the codec")
        name = (codec_name or "").strip()
        codec_obj = self._standalone(name) if name else codec_of(self.app.cache.get(model_name(model, folder)))
        progress(None, desc="encoding and decoding")
        target = token_path(self.app.out, path)
        # token_path picks a name no file has; force only matters if another process takes it meanwhile
        token_file, codes = tokenize_file(path, codec_obj, out=target, force=True)
        recon = reconstruction_path_for(target)
        report = codec_report(path, codec_obj, out=recon, force=True)
        image = token_image_path_for(target)
        write_bytes(image, token_grid_image(codes, codebook_size=report["codebook_size"]), force=True)
        scores = {key: round(report[key], 4) if isinstance(report[key], float) else report[key]
                  for key in ("snr_db", "stft_distance", "mel_distance", "bitrate_kbps", "num_codebooks",
                              "num_frames", "frame_rate", "codec")}
        return str(image), self._facts(report, token_file), str(report["output"]), str(token_file), {
            **scores, "token_file": self.app.rel(token_file)}

    def _facts(self, report: dict[str, Any], token_file: Any) -> str:
        return (f"**{report['num_codebooks']} codebooks × {report['num_frames']} frames** at {report['frame_rate']} Hz"
                f" · **{report['bitrate_kbps']:g} kbps** · codebook of {report['codebook_size']} · "
                f"{report['duration_s']:.2f} s at {report['sample_rate']} Hz  \nreconstruction: SNR "
                f"**{report['snr_db']:.1f} dB** · STFT distance {report['stft_distance']:.3f} · mel distance "
                f"{report['mel_distance']:.3f}  \n`{self.app.rel(token_file)}` · codec {report['codec']}")

    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=280):
                w.audio = gr.Audio(label="Audio to tokenize", type="filepath", sources=["upload"])
                w.codec = gr.Dropdown([("the selected model's codec", ""), *CODEC_NAMES], value="", label="Codec",
                                      allow_custom_value=True, info="Or a codec name, Hub id or folder")
                w.run = gr.Button("Tokenize", variant="primary", elem_id="tok-run")
            with gr.Column(scale=5):
                w.image = gr.Image(label="Tokens (codebooks × frames)", type="filepath", interactive=False, height=220)
                w.facts = gr.Markdown("Upload audio to see its tokens.", elem_classes=["facts"])
                w.recon = gr.Audio(label="Reconstruction (decoded tokens)", type="filepath", interactive=False)
                with gr.Row():
                    w.file = gr.File(label="Token file (.codes.npz)", interactive=False)
                    w.quality = gr.JSON(label="Quality")
        w.event = w.run.click(self.tokenize, [w.audio, w.codec, shared.model, shared.folder],
                              [w.image, w.facts, w.recon, w.file, w.quality], api_name="tokenize",
                              concurrency_id="model", concurrency_limit=shared.concurrency, show_progress_on=[w.facts])
        return w
