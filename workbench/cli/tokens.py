"""CLI commands over EnCodec tokens: tokenize, detokenize, codec-report."""

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from workbench.cli.options import console

CodecName = Annotated[Optional[str], typer.Option(
    "--model", "-m", help="Codec: a MusicGen model's (small by default; tiny offline, untrained) or an EnCodec "
    "checkpoint (encodec_24khz, encodec_32khz, encodec_48khz), a Hub id or a folder.")]
Force = Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output file.")]


def _early_checks(audio: Optional[Path], target: Path, force: bool) -> None:
    """Fail in a blink, before a codec loads: a missing input or an output that exists without --force."""
    from workbench.core.errors import AudioFileError
    from workbench.store.takes import refuse_existing

    if audio is not None and not audio.is_file():
        raise AudioFileError(f"{audio}: no such file")
    refuse_existing([target], force, companions=False)


def _load(name: Optional[str]) -> Any:
    from workbench.codec.load import load_codec
    from workbench.models.registry import DEFAULT_MODEL

    name = name or DEFAULT_MODEL
    with console.status(f"loading codec {name}"):
        return load_codec(name)


def tokenize(
    audio: Annotated[Path, typer.Argument(help="Audio file (any rate; resampled and mixed to the codec's).")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Token file (default: "
                                                   "AUDIO's stem + .codes.npz beside it).")] = None,
    model: CodecName = None,
    bandwidth: Annotated[Optional[float], typer.Option(help="kbit/s, one the codec offers (default: its "
                                                       "highest; MusicGen's codec: 2.2).")] = None,
    force: Force = False,
) -> None:
    """Encode AUDIO to EnCodec tokens ([K codebooks, T frames]) in a .codes.npz token file."""
    from workbench.render.tokenize import tokenize_file
    from workbench.store.naming import codes_path_for

    _early_checks(audio, output or codes_path_for(audio), force)
    codec = _load(model)
    path, codes = tokenize_file(audio, codec, out=output, bandwidth=bandwidth, force=force)
    k, t = codes.codes.shape
    console.print(f"wrote {path}: K={k} codebooks x T={t} frames at {codes.meta['frame_rate']} Hz, "
                  f"{codes.meta['bandwidth_kbps']:g} kbit/s (codec {codec.name})")


def detokenize(
    codes: Annotated[Path, typer.Argument(help="A .codes.npz token file (from tokenize or a take).")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="WAV to write (default: the token "
                                                   "file's name without .codes.npz, + .wav).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Codec to decode with (default: the one "
                                                 "the token file names).")] = None,
    force: Force = False,
) -> None:
    """Decode a token file back to audio of exactly the original length."""
    from workbench.codec.tokens import read_tokens
    from workbench.render.tokenize import detokenize_file
    from workbench.store.naming import audio_path_for

    _early_checks(None, output or audio_path_for(codes), force)
    name = model or (read_tokens(codes).meta.get("codec") or {}).get("model")
    path = detokenize_file(codes, codec=_load(name) if name else None, out=output, force=force)
    console.print(f"wrote {path}")


def codec_report(
    audio: Annotated[Path, typer.Argument(help="Audio file to round-trip through the codec.")],
    model: CodecName = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Reconstruction WAV (default: "
                                                   "AUDIO's stem + .recon.wav).")] = None,
    force: Force = False,
) -> None:
    """Hear what the codec keeps: encode + decode AUDIO, write the result, print SNR and distances."""
    from workbench.render.tokenize import codec_report as run
    from workbench.store.naming import reconstruction_path_for

    _early_checks(audio, output or reconstruction_path_for(audio), force)
    report = run(audio, _load(model), out=output, force=force)
    console.print(f"wrote {report['output']} ({report['codec']}: K={report['num_codebooks']} x "
                  f"T={report['num_frames']} at {report['frame_rate']} Hz, {report['bitrate_kbps']:g} kbit/s)")
    console.print(f"SNR {report['snr_db']:.2f} dB, multi-resolution STFT distance {report['stft_distance']:.4f}, "
                  f"log-mel distance {report['mel_distance']:.4f}")
