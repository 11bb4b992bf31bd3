"""Takes written as WAV (16/24-bit, float), FLAC, MP3, OGG Vorbis and Opus through libsndfile: same codes whatever
the container, tags inside, the sidecar saying how the audio was encoded, reproduce comparing codes."""

import json
import os
import subprocess
import sys

import pytest
import soundfile as sf

from workbench.core.audio import read_tags
from workbench.core.params import GenerationParams
from workbench.render.prompt import render_prompt
from workbench.render.reproduce import reproduce
from workbench.store.sidecar import read_sidecar

CASES = [  # name, subtype asked, (format, subtype) recorded, file rate, lossy
    ("t.wav", "PCM_24", ("WAV", "PCM_24"), 32000, False),
    ("t.flac", None, ("FLAC", "PCM_16"), 32000, False),
    ("t.mp3", None, ("MP3", "MPEG_LAYER_III"), 32000, True),
    ("t.ogg", None, ("OGG", "VORBIS"), 32000, True),
    ("t.opus", None, ("OGG", "OPUS"), 48000, True),
]


@pytest.mark.parametrize(("name", "subtype", "recorded", "rate", "lossy"), CASES, ids=[c[0] for c in CASES])
def test_every_format_keeps_the_codes_tags_and_a_true_sidecar(tmp_path, tiny, name, subtype, recorded, rate, lossy):
    params = GenerationParams(duration_s=1.0)
    [item] = render_prompt(tiny, "lofi piano", params, [5], [tmp_path / name], subtype=subtype)
    [reference] = tiny.generate("lofi piano", params, seeds=[5])
    assert item.take.codes_sha256 == reference.codes_sha256  # the container never touches the codes
    info = sf.info(item.path)
    assert (info.samplerate, info.channels) == (rate, 1) and info.frames == rate  # exactly 1 s, decoded
    audio = read_sidecar(item.sidecar)["audio"]
    assert (audio["format"], audio["subtype"], audio["sample_rate"], audio["lossy"]) == (*recorded, rate, lossy)
    tags = read_tags(item.path)
    assert tags["title"] == "lofi piano" and "seed=5" in tags["comment"]
    assert "reproduce: workbench reproduce <the .json beside this file>" in tags["comment"]
    assert reproduce(item.sidecar, engine=tiny).identical


def test_the_cli_picks_the_container_from_format_or_the_output_name(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def run(*args):
        done = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("generate", "x", "--model", "tiny", "--seed", "1", "--duration", "1", "--format", "mp3")
    [mp3] = (tmp_path / "outputs" / "takes").glob("*.mp3")
    assert json.loads(mp3.with_suffix(".json").read_text())["audio"]["subtype"] == "MPEG_LAYER_III"
    run("generate", "x", "--model", "tiny", "--seed", "1", "--duration", "1", "-o", "y.flac", "--bit-depth", "24")
    assert sf.info(tmp_path / "y.flac").subtype == "PCM_24"
    out = run("seeds", "x", "--model", "tiny", "--seeds", "1-2", "--duration", "1", "--format", "ogg", "--dir", "s")
    assert sorted(p.name for p in (tmp_path / "s").glob("s*.ogg")) == ["s1.ogg", "s2.ogg"]
    assert 'src="s1.ogg"' in (tmp_path / "s" / "index.html").read_text() and "contact sheet" in out
