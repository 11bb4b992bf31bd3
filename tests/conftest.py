"""Shared fixtures: the run's engines (each built once), the CLI in this process and in a fresh one, one live app.

The Hub is offline for the whole run (an offline look-up otherwise hangs for minutes). Under pytest-xdist each
worker is a session of its own: it builds the engines it needs once, and the tests of the live app all run on one
worker (``xdist_group``), so a run starts one app.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
# Under pytest-xdist each worker is a process of its own: its share of the cores, or the workers' thread pools fight
# over the same ones (2 workers x 2 threads on 2 cores). Set before torch is imported, so subprocesses inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _share = (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _share)))
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# measured kernel choices and fingerprints go to a folder of this run, never to the user's cache
os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="workbench-cache-")
atexit.register(shutil.rmtree, os.environ["WORKBENCH_CACHE_DIR"], True)

import contextlib  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Properties are checked by examples, not by a clock: a busy machine must not fail them (counts: per test).
settings.register_profile("workbench", deadline=None)
settings.load_profile("workbench")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup``: the tests of the live app on one xdist worker (one app per run), every other
    file's tests together on one worker (its module fixtures built once, its order kept). No effect without xdist."""
    for item in items:
        live = "live_app" in getattr(item, "fixturenames", ())
        item.add_marker(pytest.mark.xdist_group("live_app" if live else item.path.name))


class Engines:
    """The run's engines: :meth:`load` takes ``load_engine``'s arguments and builds each (name, options) once.

    Tests get engines from here (``tiny``...), and the CLI run in this process (``cli``) and the live app load
    through it, so a run builds a model once instead of once per command. Engines are used, never changed.
    """

    def __init__(self) -> None:
        from workbench.engine.load import load_engine

        self._load_engine = load_engine
        self._built: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def load(self, name: str = "small", *, device: str | None = None, dtype: Any = None, kernels: str | None = None,
             low_memory: bool = False) -> Any:
        """What ``load_engine(name, ...)`` returns: built on first use, the same engine afterwards."""
        key = (str(name).strip(), device, None if dtype is None else str(dtype), kernels or "auto", low_memory)
        with self._lock:
            if key not in self._built:
                self._built[key] = self._load_engine(name, device=device, dtype=dtype, kernels=kernels,
                                                     low_memory=low_memory)
            return self._built[key]


@pytest.fixture(scope="session")
def engines() -> Engines:
    return Engines()


@pytest.fixture(scope="session")
def tiny(engines):
    """The built-in tiny MusicGen (random weights), loaded once per session, on the packed kernels (asked for:
    ``auto`` keeps models as narrow as tiny on the reference kernels, unmeasured)."""
    return engines.load("tiny", device="cpu", kernels="onednn-packed")


@pytest.fixture(scope="session")
def tiny_melody(engines):
    return engines.load("tiny-melody", device="cpu", kernels="onednn-packed")


@pytest.fixture()
def short():
    """Short generation parameters for fast tests (1 s)."""
    from workbench.core.params import GenerationParams

    return GenerationParams(duration_s=1.0)


@pytest.fixture()
def cli(tmp_path, monkeypatch, capsys, engines) -> Callable[..., subprocess.CompletedProcess]:
    """``cli(*args)``: the ``workbench`` command run in this process (``workbench.cli.app.main``) in ``tmp_path``,
    its models from :class:`Engines`; returns its exit status and what it printed, as a process would."""
    import workbench.engine.load as engine_load
    from workbench.cli.app import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(engine_load, "load_engine", engines.load)  # what every command loads through

    def run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()  # only this command's output
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else int(done.code is not None)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["workbench", *args], code, out, err)

    return run


@pytest.fixture()
def connections(monkeypatch) -> list[tuple[Any, float | None]]:
    """Every TCP connection this process opens during the test, as ``(address, timeout)`` (then opened): how a
    test shows that a failure came without touching the network, or after one bounded probe."""
    opened: list[tuple[Any, float | None]] = []
    real = socket.create_connection

    def spy(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        opened.append((address, kwargs.get("timeout", args[0] if args else None)))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    return opened


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the Hub offline and this checkout's ``workbench`` first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": path, **extra}


class WorkbenchProcess:
    """The real ``workbench`` command in a fresh process (``python -m workbench``), for what needs a process: the
    entry point itself, Ctrl-C, kill -9, ``--debug``'s traceback, two processes writing one folder.

    Args:
        cwd: Working folder of every command.
    """

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    @staticmethod
    def command(*args: str) -> list[str]:
        return [sys.executable, "-m", "workbench", *args]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run to the end; its exit status and output (text)."""
        return self._complete(self.command(*args), env, timeout)

    def run_code(self, code: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """``python -c CODE ARGS`` in a fresh process like :meth:`run`'s: for a measurement taken inside one."""
        return self._complete([sys.executable, "-c", code, *args], None, timeout)

    def _complete(self, argv: list[str], env: dict[str, str] | None, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.cwd, env=process_env(**(env or {})), capture_output=True, text=True,
                              timeout=timeout)

    def start(self, *args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
        """Start it and return at once (output piped, text, unless ``popen`` says otherwise)."""
        options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
        return subprocess.Popen(self.command(*args), cwd=self.cwd, env=process_env(**(env or {})), **options)


@pytest.fixture()
def workbench_process(tmp_path) -> WorkbenchProcess:
    """``workbench_process.run(*args)`` / ``.start(*args)``: ``workbench`` in a fresh process, in ``tmp_path``."""
    return WorkbenchProcess(tmp_path)


def free_port() -> int:
    """A TCP port free on localhost now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The live app's own prompt file beside the shipped ones (its file pickers list what is there at start).
LIVE_APP_LIBRARY = """
[library]
name = "api-demo"
[[prompt]]
id = "pads"
text = "soft pads, 70 BPM"
[[prompt]]
id = "drums"
text = "dry drums, 100 BPM"
"""


@contextlib.contextmanager
def serving(root: Path, engines: Engines, *, concurrency: int = 1, max_queue: int = 16) -> Iterator[SimpleNamespace]:
    """The app as ``python app.py --model tiny --concurrency C --max-queue Q`` serves it (its defaults: one job at a
    time, a queue of 16), on a free localhost port, in this process, its models from :class:`Engines`.

    Yields ``url``, ``out`` (its output folder, ``root/out``), ``root`` (not served), ``prompts`` (its prompt folder:
    the shipped prompt files and ``api-demo.toml``, two entries) and ``max_queue``; closes the app on exit.
    """
    pytest.importorskip("gradio")
    from workbench.engine.resident import EngineCache
    from workbench.ui.app import build_ui, launch_options

    out, prompts = root / "out", root / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    (prompts / "api-demo.toml").write_text(LIVE_APP_LIBRARY, encoding="utf-8")
    demo = build_ui(model="tiny", out=out, prompts=prompts, concurrency=concurrency,
                    cache=EngineCache(loader=engines.load))
    demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    port = free_port()
    demo.launch(prevent_thread_lock=True, **launch_options(out=out, port=port, quiet=True))
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", out=out, root=root, prompts=prompts,
                              max_queue=max_queue)
    finally:
        demo.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, engines) -> Iterator[SimpleNamespace]:
    """The run's live app (see :func:`serving`), started once per run. Tests that share it keep to their own prompts
    and sub-folders, and leave nothing running or queued."""
    with serving(tmp_path_factory.mktemp("live-app"), engines) as app:
        yield app


@pytest.fixture()
def own_app(tmp_path, engines) -> Iterator[Callable[..., SimpleNamespace]]:
    """``own_app(concurrency=..., max_queue=...)``: an app of the test's own, for settings other than the live
    app's (see :func:`serving`), in ``tmp_path``; closed after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda **settings: stack.enter_context(serving(tmp_path, engines, **settings))
