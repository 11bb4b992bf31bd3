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

    xformers' warning that its compiled kernels do not match this torch is silenced: the backend runs audiocraft's
    plain-torch attention (:func:`attention_backend`), never those kernels.
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


def attention_backend(device: Any) -> None:
    """audiocraft's attention backend (a module-level setting of ``audiocraft.modules.transformer``): xformers only
    on CUDA (its loaders set it for every MAGNeT model), plain torch elsewhere, where xformers cannot run."""
    transformer = audiocraft_module("audiocraft.modules.transformer")
    transformer.set_efficient_attention_backend("xformers" if str(device).startswith("cuda") else "torch")
