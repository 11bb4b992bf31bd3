"""Takes written as WAV (16/24-bit, float), FLAC, MP3, OGG Vorbis and Opus through libsndfile: same codes whatever
the container, tags inside, the sidecar saying how the audio was encoded, reproduce comparing codes."""

import json
import re

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


def test_the_cli_picks_the_container_from_format_or_the_output_name(cli, tmp_path):
    def run(*args):
        done = cli(*args)
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


def _kbps(path, seconds: float) -> float:
    return path.stat().st_size * 8 / seconds / 1000


def test_mp3_bitrates_and_lossy_qualities_are_what_the_file_holds(tmp_path):
    """A constant MP3 bitrate is the file's size over its length (within 2 %, headers and tags included); a
    quality of 0 makes larger files than 9 for MP3, Vorbis and Opus; the sidecar says which was asked."""
    import numpy as np

    from workbench.core.audio import MP3_BITRATES, Encoding, write_audio

    audio = (np.random.default_rng(0).standard_normal((1, 32000 * 10)) * 0.1).astype(np.float32)
    for kbps in (MP3_BITRATES[0], 128, 192, 320):
        path = write_audio(tmp_path / f"c{kbps}.mp3", audio, 32000, subtype=Encoding(bitrate_kbps=kbps))
        assert _kbps(path, 10.0) == pytest.approx(kbps, rel=0.02)
    for ext in (".mp3", ".ogg", ".opus"):
        subtype = "OPUS" if ext == ".opus" else None
        best, smallest = (write_audio(tmp_path / f"q{q}{ext}", audio, 32000, subtype=Encoding(subtype, quality=q))
                          for q in (0, 9))
        assert best.stat().st_size > 2 * smallest.stat().st_size, ext


@pytest.mark.parametrize(("encoding", "name", "message"), [
    ({"bitrate_kbps": 100}, "t.mp3", "a bitrate is for MP3, one of 40, 48"),
    ({"bitrate_kbps": 128}, "t.flac", "a bitrate is for MP3"),
    ({"quality": 10}, "t.ogg", "a quality is 0 (best) to 9 (smallest)"),
    ({"quality": 3}, "t.wav", "a quality is 0 (best) to 9"),
    ({"quality": 3, "bitrate_kbps": 128}, "t.mp3", "not both"),
])
def test_bad_lossy_settings_are_refused_before_writing(tmp_path, encoding, name, message):
    import numpy as np

    from workbench.core.audio import Encoding, write_audio
    from workbench.core.errors import AudioFileError

    with pytest.raises(AudioFileError, match=re.escape(message)):
        write_audio(tmp_path / name, np.zeros((1, 3200), np.float32), 32000, subtype=Encoding(**encoding))
    assert list(tmp_path.iterdir()) == []


def test_prompt_files_choose_format_and_encoding_per_library_and_entry(tmp_path, tiny):
    from workbench.core.errors import PromptFileError
    from workbench.library.prompts import load_library, parse_library
    from workbench.render.batch import plan_jobs, render_jobs

    library = tmp_path / "fmt.toml"
    library.write_text('[library]\nname = "fmt"\nformat = "mp3"\nbitrate = 192\n'
                       '[[prompt]]\nid = "a"\ntext = "lofi piano"\n'
                       '[[prompt]]\nid = "b"\ntext = "dub techno"\nformat = "flac"\nbit_depth = 24\n')
    prompts = load_library(library).prompts
    jobs = plan_jobs(prompts, tmp_path / "out", seeds=[1], settings={"duration": 1.0})
    assert [job.path.suffix for job in jobs] == [".mp3", ".flac"]
    result = render_jobs(jobs, tmp_path / "out", load=lambda _name: tiny)
    records = {item.path.suffix: item.record["audio"] for item in result.done}
    assert records[".mp3"]["bitrate_kbps"] == 192 and records[".mp3"]["bitrate_mode"] == "constant"
    assert records[".flac"]["subtype"] == "PCM_24" and "bitrate_kbps" not in records[".flac"]
    assert _kbps(jobs[0].path, 1.0) == pytest.approx(192, rel=0.15)  # 1 s: the tags weigh more
    overridden = plan_jobs(prompts, tmp_path / "o2", seeds=[1], ext=".wav")
    assert [(job.path.suffix, job.encoding) for job in overridden] == [(".wav", None), (".wav", None)]
    for body, message in [('format = "m4a"', "format: must be one of wav, flac, mp3, ogg, opus, got 'm4a'"),
                          ('format = "ogg"\nbitrate = 128', "bitrate: a bitrate is for MP3"),
                          ('bit_depth = 24\nformat = "mp3"', "bit_depth: bit depth '24': WAV takes 16, 24 or float"),
                          ("quality = 1.5", "quality: must be a whole number, got 1.5")]:
        text = f'[[prompt]]\nid = "x"\ntext = "t"\n{body}\n'
        with pytest.raises(PromptFileError, match=re.escape(message)):
            parse_library(text, source=tmp_path / "bad.toml")


def test_the_cli_bitrate_and_quality_options(tmp_path, cli):
    def run(*args):
        return cli("generate", "lofi piano", "--model", "tiny", "--seed", "1", "--duration", "2", *args)

    done = run("-o", "c.mp3", "--bitrate", "256")
    assert done.returncode == 0, done.stderr
    assert read_sidecar(tmp_path / "c.json")["audio"]["bitrate_kbps"] == 256
    done = run("-o", "v.ogg", "--quality", "2")
    assert done.returncode == 0 and read_sidecar(tmp_path / "v.json")["audio"]["quality"] == 2
    for args, message in [(("-o", "x.flac", "--bitrate", "128"), "error: a bitrate is for MP3"),
                          (("--format", "mp3", "--quality", "12"), "error: a quality is 0 (best) to 9"),
                          (("--format", "mp3", "--bitrate", "128", "--quality", "2"), "not both")]:
        done = run(*args)
        assert done.returncode == 1 and message in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
