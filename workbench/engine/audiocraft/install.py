"""Importing audiocraft: the one place that knows how it is installed and what it needs set on this machine.

audiocraft (the ``tts-webui-audiocraft`` fork, audiocraft 1.4 with torch unpinned) is optional. Its metadata asks
for numpy<2, torchtext and more, so it is installed without its dependencies from ``requirements-nodeps.txt``, and
the ``audiocraft`` extra installs the modules it imports.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from typing import Any

from workbench.core.errors import ModelNotFoundError

#: How to install the backend (the README's test command installs it too).
INSTALL = ("the audiocraft backend is not installed: "
           "pip install -c constraints.txt -e '.[audiocraft]' && pip install --no-deps -r requirements-nodeps.txt")


def audiocraft_module(name: str = "audiocraft.models") -> Any:
    """Import an audiocraft module, or raise a one-line :class:`ModelNotFoundError` saying how to install it.

    xformers' warning that its compiled kernels do not match this torch is silenced: where they do not run, the
    backend uses audiocraft's plain-torch attention (:func:`attention_backend`).
    """
    quiet = logging.getLogger("xformers")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError as error:
        raise ModelNotFoundError(f"{INSTALL} ({error})") from None
    finally:
        quiet.setLevel(level)


def attention_backend(device: Any) -> str:
    """Set audiocraft's attention backend (a module-level setting of ``audiocraft.modules.transformer``) for
    ``device`` and return it: ``xformers`` on CUDA where xformers' kernels run (a probe), else plain ``torch``
    (always on the CPU, where xformers cannot run). audiocraft's MAGNeT loader sets xformers whatever the device:
    call this after loading."""
    transformer = audiocraft_module("audiocraft.modules.transformer")
    backend = "xformers" if str(device).startswith("cuda") and xformers_runs(device) else "torch"
    transformer.set_efficient_attention_backend(backend)
    return backend


def xformers_runs(device: Any) -> bool:
    """Whether xformers' memory-efficient attention runs on ``device`` (its wheel's compiled kernels are built for
    one torch release; with another they may not load)."""
    import torch

    try:
        ops = audiocraft_module("xformers.ops")
        probe = torch.zeros(1, 8, 1, 8, device=device, dtype=torch.float16)
        ops.memory_efficient_attention(probe, probe, probe)
    except Exception:  # noqa: BLE001 - whatever fails, audiocraft's plain-torch attention is the fallback
        return False
    return True
