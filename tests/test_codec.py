"""EnCodec tokenization: codes of files, token files of takes, mismatches, metrics, pictures and the CLI.

Everything runs offline on random weights, so these tests prove shapes, lengths, determinism and exactness,
never audio quality.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import workbench.codec as wc
from workbench.codec.tokens import read_tokens, token_meta, write_tokens
from workbench.core.errors import AudioFileError, CodecError, ModelNotFoundError, OutputExistsError, ProvenanceError
from workbench.core.hashing import codes_sha256, file_sha256
from workbench.render.tokenize import codec_report, detokenize_file, tokenize_file


def tone(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """float32 ``[channels, samples]``: a different pitch per channel plus a little noise."""
    t = np.arange(round(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    rows = [0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t) + 0.2 * np.sin(2 * np.pi * 330 * t)
            + 0.02 * rng.standard_normal(t.size) for c in range(channels)]
    return np.asarray(rows, dtype=np.float32)


def wav(path: Path, seconds: float, rate: int, channels: int = 1) -> Path:
    sf.write(path, tone(seconds, rate, channels).T, rate, subtype="FLOAT")
    return path


def small_encodec(**config: object):
    """A random EnCodec of the given layout, built in milliseconds, with non-zero codebooks."""
    import torch
    from transformers import EncodecConfig, EncodecModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = EncodecModel(EncodecConfig(num_filters=4, hidden_size=16, codebook_dim=16, num_lstm_layers=1,
                                           upsampling_ratios=[8, 5, 4, 2], codebook_size=1024, **config)).eval()
        with torch.no_grad():
            for layer in model.quantizer.layers:
                layer.codebook.embed.normal_()
    return model


@pytest.fixture(scope="module")
def enc24() -> wc.Codec:
    """A 24 kHz, 75 frames/s EnCodec with 1.5-24 kbit/s (the layout of facebook/encodec_24khz)."""
    model = small_encodec(sampling_rate=24000, target_bandwidths=[1.5, 3.0, 6.0, 12.0, 24.0])
    return wc.Codec(model=model, name="encodec-24k-test", source="test", kind="builtin")


# --- files: lengths, shapes, determinism -----------------------------------------------------------------

def test_tokenize_detokenize_32k_exact_length_and_deterministic(tiny, tmp_path):
    source = wav(tmp_path / "draft.wav", 3.0, 32000)
    path, codes = tokenize_file(source, tiny)
    assert path == tmp_path / "draft.codes.npz" and path.is_file()
    assert codes.codes.shape == (4, 150) and np.issubdtype(codes.codes.dtype, np.integer)
    assert codes.meta == read_tokens(path).meta  # exactly the file's metadata
    assert (codes.meta["num_samples"], codes.meta["frame_rate"], codes.meta["source_sha256"]) == (
        96000, 50, file_sha256(source))
    _, again = tokenize_file(source, wc.codec_of(tiny), out=tmp_path / "again.codes.npz")
    assert codes_sha256(again.codes) == codes_sha256(codes.codes)
    assert np.array_equal(codes.codes, tiny.encode(tone(3.0, 32000)))  # the engine's own tokens
    with pytest.raises(OutputExistsError, match="--force"):
        tokenize_file(source, tiny)
    with pytest.raises(OutputExistsError):  # default name draft.wav is the source itself
        detokenize_file(path, codec=tiny)

    decoded = detokenize_file(path, out=tmp_path / "decoded.wav")  # loads the codec the file names: tiny
    info = sf.info(decoded)
    assert (info.frames, info.samplerate, info.channels) == (96000, 32000, 1)
    # re-tokenizing the reconstruction: same shape and deterministic (random weights: no quality claim)
    audio, rate = sf.read(decoded, dtype="float32", always_2d=True)
    first, second = (wc.encode(tiny, audio.T, rate) for _ in range(2))
    assert first.codes.shape == (4, 150) and np.array_equal(first.codes, second.codes)


def test_44k_stereo_file_keeps_its_duration(tiny, tmp_path):
    source = wav(tmp_path / "stereo.wav", 3.0, 44100, channels=2)
    path, codes = tokenize_file(source, tiny)
    assert codes.codes.shape == (4, 150) and codes.meta["num_samples"] == 96000  # 3 s at the codec's 32 kHz
    out = detokenize_file(path, codec=tiny, out=tmp_path / "back.wav")
    info = sf.info(out)
    assert (info.frames, info.samplerate, info.channels) == (96000, 32000, 1)
    assert np.array_equal(tokenize_file(source, tiny, out=tmp_path / "b.codes.npz")[1].codes, codes.codes)


def test_stereo_musicgen_layout_interleaves_channels(tiny):
    mono = wc.codec_of(tiny)
    stereo = wc.Codec(model=mono.model, name="stereo-test", source="test", kind="builtin", channels=2)
    audio = tone(1.0, 32000, channels=2)
    codes = wc.encode(stereo, audio, 32000)
    assert codes.codes.shape == (8, 50) and stereo.num_codebooks == 8 and codes.meta["channels"] == 2
    left, right = (wc.encode(mono, audio[i:i + 1], 32000) for i in range(2))
    assert np.array_equal(codes.codes[0::2], left.codes) and np.array_equal(codes.codes[1::2], right.codes)
    both = wc.decode(stereo, codes)
    assert both.shape == (2, 32000) and both.dtype == np.float32
    assert np.array_equal(both[0], wc.decode(mono, left)[0]) and np.array_equal(both[1], wc.decode(mono, right)[0])


def test_take_token_file_detokenizes_bit_identically(tiny, tmp_path, short):
    from workbench.store.takes import save_take

    [take] = tiny.generate("warm pads", short, seeds=[7])
    save_take(take, tmp_path / "take.wav")  # writes take.codes.npz exactly as renders do
    tokens = read_tokens(tmp_path / "take.codes.npz")
    audio = wc.decode(tiny, tokens)
    assert audio.dtype == np.float32 and audio.shape == take.audio.shape
    assert np.array_equal(audio, take.audio)
    assert np.array_equal(wc.decode(wc.codec_of(tiny), tokens), take.audio)
    write_tokens(tmp_path / "direct.codes.npz", take.codes, token_meta(take.model, num_samples=take.num_samples))
    assert np.array_equal(wc.decode(tiny, read_tokens(tmp_path / "direct.codes.npz")), take.audio)
    # tokenize writes the same metadata fields a take does
    fresh = wc.encode(tiny, take.audio, take.sample_rate)
    assert fresh.meta == token_meta(take.model, num_samples=take.num_samples)


# --- refusals --------------------------------------------------------------------------------------------

def test_mismatched_codec_is_refused_naming_both(tiny, enc24, tmp_path):
    ours = wc.encode(tiny, tone(1.0, 32000), 32000)
    with pytest.raises(CodecError, match=r"'tiny'.*32000 Hz.*'encodec-24k-test'.*24000 Hz"):
        wc.decode(enc24, ours)
    theirs = wc.encode(enc24, tone(1.0, 24000), 24000, bandwidth=6)
    assert theirs.codes.shape == (8, 75) and theirs.meta["bandwidth_kbps"] == 6.0
    with pytest.raises(CodecError, match=r"'encodec-24k-test'.*24000 Hz.*1024.*'tiny'.*32000 Hz.*2048"):
        wc.decode(tiny, theirs)
    # a token file whose metadata claims another codec: refused with the file's name
    meta = dict(ours.meta, sample_rate=24000, codec={"model": "encodec_24khz", "source": "x", "revision": None})
    write_tokens(tmp_path / "edited.codes.npz", ours.codes, meta)
    with pytest.raises(CodecError, match=r"edited\.codes\.npz.*'encodec_24khz'.*24000 Hz.*'tiny'.*32000 Hz"):
        detokenize_file(tmp_path / "edited.codes.npz", codec=tiny, out=tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
    with pytest.raises(CodecError, match="bandwidth.*2.2"):
        wc.encode(tiny, tone(1.0, 32000), 32000, bandwidth=6.0)


def test_bad_token_files_are_refused_with_their_name(tiny, tmp_path):
    good = write_tokens(tmp_path / "good.codes.npz", np.zeros((4, 10), dtype=np.int64),
                        token_meta(tiny.info, num_samples=6400))
    truncated = tmp_path / "truncated.codes.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "notes.codes.npz"
    text.write_text("not an npz")
    future = tmp_path / "future.codes.npz"
    meta = {**json.loads(str(np.load(good)["meta"])), "schema": 2}
    buffer = io.BytesIO()
    np.savez(buffer, codes=np.zeros((4, 10), dtype="<i4"), meta=np.array(json.dumps(meta)))
    future.write_bytes(buffer.getvalue())
    for path, pattern in ((truncated, "truncated.codes.npz"), (text, "notes.codes.npz"),
                          (future, r"future\.codes\.npz.*schema 2")):
        with pytest.raises((CodecError, ProvenanceError), match=pattern):
            detokenize_file(path, codec=tiny, out=tmp_path / "out.wav")
    assert zipfile.is_zipfile(good) and not (tmp_path / "out.wav").exists()


def test_empty_audio_unknown_names_and_bad_shapes(tiny, tmp_path):
    with pytest.raises(CodecError, match="0 samples"):
        wc.encode(tiny, np.zeros((1, 0), dtype=np.float32), 32000)
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), dtype=np.float32), 32000)
    with pytest.raises((AudioFileError, CodecError), match="empty.wav"):
        tokenize_file(tmp_path / "empty.wav", tiny)
    with pytest.raises(ModelNotFoundError, match="encodec_24khz.*encodec_48khz.*tiny"):
        wc.load_codec("encodec_16khz")
    with pytest.raises(CodecError, match="channels, samples"):
        wc.encode(tiny, np.zeros((1, 2, 3), dtype=np.float32), 32000)
    with pytest.raises(CodecError, match="sample rate"):
        wc.encode(tiny, tone(0.1, 32000), 0)


# --- other codecs ----------------------------------------------------------------------------------------

def test_standalone_encodec_folder_loads_and_round_trips(enc24, tmp_path):
    from transformers import EncodecFeatureExtractor

    folder = tmp_path / "my-encodec"
    enc24.model.save_pretrained(folder)
    EncodecFeatureExtractor(feature_size=1, sampling_rate=24000).save_pretrained(folder)
    codec = wc.load_codec(str(folder), device="cpu")
    assert (codec.kind, codec.sample_rate, codec.frame_rate, codec.codebook_size) == ("local", 24000, 75, 1024)
    assert codec.bandwidths == [1.5, 3.0, 6.0, 12.0, 24.0] and codec.num_codebooks == 32
    assert codec.processor is not None and codec.at(1.5).num_codebooks == 2 and codec.at(1.5).bitrate_kbps == 1.5
    source = wav(tmp_path / "clip.wav", 1.0, 48000, channels=2)
    path, codes = tokenize_file(source, codec, bandwidth=3.0)
    assert codes.codes.shape == (4, 75) and codes.meta["codec"]["model"] == str(folder)
    out = detokenize_file(path, out=tmp_path / "back.wav")  # codec loaded from the file's metadata
    back, rate = sf.read(out, dtype="float32")
    assert (back.shape, rate) == ((24000,), 24000)
    assert np.allclose(back, np.clip(wc.decode(enc24, codes)[0], -1, 1), atol=1 / 32767)


def test_chunked_normalising_stereo_codec_keeps_scales_through_the_file(tmp_path):
    model = small_encodec(sampling_rate=48000, audio_channels=2, normalize=True, chunk_length_s=1.0, overlap=0.01,
                          target_bandwidths=[3.0, 6.0, 12.0, 24.0])
    codec = wc.Codec(model=model, name="encodec-48k-test", source="test", kind="builtin", channels=2)
    audio = tone(1.5, 48000, channels=2)
    codes = wc.encode(codec, audio, 48000, bandwidth=6.0)
    assert codes.codes.shape[0] == 4 and codes.meta["chunk_frames"] == 150 and len(codes.meta["audio_scales"][0]) > 1
    direct = wc.decode(codec, codes)
    assert direct.shape == (2, 72000) and direct.dtype == np.float32
    write_tokens(tmp_path / "s.codes.npz", codes.codes, codes.meta)
    assert np.array_equal(wc.decode(codec, read_tokens(tmp_path / "s.codes.npz")), direct)
    assert np.array_equal(wc.encode(codec, audio, 48000, bandwidth=6.0).codes, codes.codes)


def test_hub_name_loads_from_the_local_cache(enc24, tmp_path, monkeypatch):
    """``encodec_24khz`` resolves to facebook/encodec_24khz through the Hugging Face cache (a fake one here)."""
    import huggingface_hub.constants as constants
    from transformers import EncodecFeatureExtractor

    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--facebook--encodec_24khz"
    snapshot = repo / "snapshots" / revision
    enc24.model.save_pretrained(snapshot)
    EncodecFeatureExtractor(feature_size=1, sampling_rate=24000).save_pretrained(snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    codec = wc.load_codec("encodec_24khz", device="cpu")
    assert (codec.name, codec.source, codec.revision, codec.kind) == (
        "encodec_24khz", "facebook/encodec_24khz", revision, "hub")
    codes = wc.encode(codec, tone(0.5, 24000), 24000)
    assert codes.meta["codec"] == {"model": "encodec_24khz", "source": "facebook/encodec_24khz", "revision": revision}


# --- metrics and pictures --------------------------------------------------------------------------------

def test_quality_metrics_and_bitrate(tiny, tmp_path):
    clean = tone(1.0, 32000)
    same = wc.quality(clean, clean.copy(), 32000)
    assert same["snr_db"] >= 100 and same["stft_distance"] < 1e-6 and same["mel_distance"] < 1e-6
    rng = np.random.default_rng(1)
    light = wc.quality(clean, clean + 0.01 * rng.standard_normal(clean.shape).astype(np.float32), 32000)
    heavy = wc.quality(clean, clean + 0.3 * rng.standard_normal(clean.shape).astype(np.float32), 32000)
    assert 20 < light["snr_db"] < 100 and heavy["snr_db"] < light["snr_db"]
    assert 0 < light["stft_distance"] < heavy["stft_distance"] and 0 < light["mel_distance"] < heavy["mel_distance"]
    with pytest.raises(CodecError, match="same shape"):
        wc.quality(clean, clean[:, :-1], 32000)
    codec = wc.codec_of(tiny)
    assert codec.bitrate_kbps == pytest.approx(4 * 11 * 50 / 1000) == 2.2
    report = codec_report(wav(tmp_path / "r.wav", 1.0, 32000), tiny)
    assert report["output"] == tmp_path / "r.recon.wav" and sf.info(report["output"]).frames == 32000
    assert (report["num_codebooks"], report["num_frames"], report["frame_rate"]) == (4, 50, 50)
    assert report["bitrate_kbps"] == pytest.approx(2.2) and np.isfinite(report["snr_db"])


def test_token_grid_image_is_a_png_of_the_requested_size(tiny):
    from PIL import Image

    codes = wc.encode(tiny, tone(1.0, 32000), 32000).codes
    png = wc.token_grid_image(codes)
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size, image.mode) == ("PNG", (800, 200), "RGB")
    assert Image.open(io.BytesIO(wc.token_grid_image(codes, width=120, height=40))).size == (120, 40)
    assert wc.token_grid_image(codes) == png and wc.token_grid_image(np.roll(codes, 1, axis=0)) != png
    assert len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 4  # coloured by code value
    with pytest.raises(CodecError):
        wc.token_grid_image(codes[0])


# --- CLI -------------------------------------------------------------------------------------------------

def test_cli_tokenize_detokenize_report(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import workbench.cli.app as cli

    monkeypatch.chdir(tmp_path)
    wav(tmp_path / "a.wav", 1.0, 32000)
    runner = CliRunner()
    done = runner.invoke(cli.app, ["tokenize", "a.wav", "--model", "tiny"])
    assert done.exit_code == 0, done.output
    assert "K=4" in done.output and "T=50" in done.output and "50 Hz" in done.output and "2.2 kbit/s" in done.output
    assert read_tokens(tmp_path / "a.codes.npz").codes.shape == (4, 50)
    again = runner.invoke(cli.app, ["tokenize", "a.wav", "--model", "tiny"])
    assert again.exit_code != 0 and isinstance(again.exception, OutputExistsError)
    done = runner.invoke(cli.app, ["detokenize", "a.codes.npz", "-o", "b.wav"])
    assert done.exit_code == 0, done.output
    assert sf.info(tmp_path / "b.wav").frames == 32000
    done = runner.invoke(cli.app, ["codec-report", "a.wav", "--model", "tiny"])
    assert done.exit_code == 0, done.output
    assert "SNR" in done.output and "STFT" in done.output and (tmp_path / "a.recon.wav").is_file()


def test_cli_hub_codec_offline_fails_fast_in_one_line(tmp_path, cli, connections):
    """Fast: offline, refused without a connection attempt."""
    wav(tmp_path / "a.wav", 0.5, 32000)
    done = cli("tokenize", "a.wav", "--model", "encodec_32khz")
    assert connections == []
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "encodec_32khz" in done.stderr and "--model tiny" in done.stderr
    assert not (tmp_path / "a.codes.npz").exists()
