"""The engine: one loaded model and the workbench's own decoding loop.

``load_engine`` (:mod:`.load`) returns an :class:`Engine` (the contract, :mod:`.protocol`): for MusicGen a
:class:`~.engine.MusicgenEngine` (:mod:`.engine`), whose ``generate`` plans the windows and runs :mod:`.decoding`
with :mod:`.conditioning` and :mod:`.sampling`; :mod:`.compat` holds the version-specific calls, :mod:`.kernels`
the CPU kernels, :mod:`.offload` low-memory mode, :mod:`.preview` the audio streamed while rendering and
:mod:`.resident` the one engine a long-running process keeps; :mod:`.audiocraft` the optional audiocraft engine.
"""

from workbench.engine.load import load_engine
from workbench.engine.protocol import Engine, Progress

__all__ = ["Engine", "Progress", "load_engine"]
