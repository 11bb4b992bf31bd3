import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from workbench.core.atomic import clean_temp_files
from workbench.core.audio import (
    PEAK_CEILING,
    loudness_lufs,
    normalize_loudness,
    peak_safe,
    read_audio,
    read_tags,
    resample,
    to_channels,
    write_audio,
)
from workbench.core.errors import AudioFileError, OutputExistsError


def tone(seconds=1.0, rate=32000, freq=440.0, amp=0.5, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    return np.repeat((amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None], channels, axis=0)


@pytest.mark.parametrize(("name", "subtype", "expected"), [("a.wav", "PCM_16", "PCM_16"), ("a.wav", "PCM_24", "PCM_24"),
                                                          ("a.wav", "FLOAT", "FLOAT"), ("a.flac", "PCM_16", "PCM_16"),
                                                          ("a.flac", "PCM_24", "PCM_24")])
def test_write_formats(tmp_path, name, subtype, expected):
    path = write_audio(tmp_path / name, tone(channels=2), 32000, subtype=subtype)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (32000, 2, 32000, expected)
    audio, rate = read_audio(path)
    assert audio.shape == (2, 32000) and rate == 32000
    assert np.abs(audio - tone(channels=2)).max() < 1e-3


def test_bad_formats_and_overwrite(tmp_path):
    with pytest.raises(AudioFileError, match=r"cannot write \.m4a; use \.wav, \.flac, \.mp3, \.ogg, \.opus"):
        write_audio(tmp_path / "a.m4a", tone(), 32000)
    with pytest.raises(AudioFileError, match="MP3 cannot store PCM_24"):
        write_audio(tmp_path / "a.mp3", tone(), 32000, subtype="PCM_24")
    with pytest.raises(AudioFileError, match="FLOAT"):
        write_audio(tmp_path / "a.flac", tone(), 32000, subtype="FLOAT")
    write_audio(tmp_path / "a.wav", tone(), 32000)
    before = (tmp_path / "a.wav").read_bytes()
    with pytest.raises(OutputExistsError):
        write_audio(tmp_path / "a.wav", tone(amp=0.1), 32000)
    assert (tmp_path / "a.wav").read_bytes() == before
    write_audio(tmp_path / "a.wav", tone(amp=0.1), 32000, force=True)
    assert (tmp_path / "a.wav").read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temp files left


def test_tags_are_embedded(tmp_path):
    for name in ("t.wav", "t.flac"):
        write_audio(tmp_path / name, tone(), 32000, tags={"title": "lofi piano", "comment": "seed=3 model=tiny"})
        tags = read_tags(tmp_path / name)
        assert tags["title"] == "lofi piano" and "seed=3" in tags["comment"]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", broken)
    with pytest.raises(Exception, match="No space left"):
        write_audio(tmp_path / "a.wav", tone(), 32000)
    assert list(tmp_path.iterdir()) == []


def test_kill_during_write_never_leaves_a_partial_file(tmp_path):
    script = (
        "import numpy as np, sys\n"
        "from workbench.core.audio import write_audio\n"
        "a = np.random.default_rng(0).uniform(-.5, .5, (2, 32000 * 120)).astype('float32')\n"
        "print('ready', flush=True)\n"
        "write_audio(sys.argv[1], a, 32000, subtype='PCM_24')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "big.wav")], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # either no file at all, or (if the write won the race) a complete one
    if (tmp_path / "big.wav").exists():
        assert sf.info(tmp_path / "big.wav").frames == 32000 * 120
    clean_temp_files(tmp_path)  # the killed writer is gone: its temp file is stale
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_read_errors(tmp_path):
    with pytest.raises(AudioFileError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioFileError, match="empty"):
        read_audio(tmp_path / "empty.wav")
    (tmp_path / "text.wav").write_text("this is not audio\n" * 10)
    with pytest.raises(AudioFileError, match="readable formats"):
        read_audio(tmp_path / "text.wav")


def test_resample_and_channels():
    audio = tone(seconds=1.0, rate=44100, channels=8)
    mono = to_channels(audio, 1)
    assert mono.shape == (1, 44100)
    out = resample(mono, 44100, 32000)
    assert out.shape == (1, 32000)
    spectrum = np.abs(np.fft.rfft(out[0]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1  # 1 Hz bins: the tone survives resampling
    assert to_channels(mono, 2).shape == (2, 44100)


def test_loudness_normalisation_and_peak_safety():
    audio = tone(seconds=3, amp=0.05)
    loud = normalize_loudness(audio, 32000, -14.0)
    assert abs(loudness_lufs(loud, 32000) - -14.0) < 0.5 or np.abs(loud).max() <= PEAK_CEILING + 1e-6
    hot = normalize_loudness(tone(seconds=3, amp=0.5), 32000, -1.0)
    assert np.abs(hot).max() <= PEAK_CEILING + 1e-6  # never clips
    clipped = peak_safe(tone(amp=1.3))
    assert np.abs(clipped).max() <= PEAK_CEILING + 1e-6
    quiet = tone(amp=0.1)
    assert peak_safe(quiet) is quiet
    silent = np.zeros((1, 32000), np.float32)
    assert np.array_equal(normalize_loudness(silent, 32000, -14), silent)
