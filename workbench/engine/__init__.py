"""The engine: one loaded MusicGen model and the workbench's own decoding loop.

``load_engine`` (:mod:`.load`) returns an :class:`Engine` (:mod:`.engine`), whose ``generate`` plans the
windows and runs :mod:`.decoding` with :mod:`.conditioning` and :mod:`.sampling`; :mod:`.compat` holds the
version-specific calls, :mod:`.kernels` the CPU kernels, :mod:`.offload` low-memory mode, :mod:`.preview`
the audio streamed while rendering and :mod:`.resident` the one engine a long-running process keeps.
"""

from workbench.engine.engine import Engine, Progress
from workbench.engine.load import load_engine

__all__ = ["Engine", "Progress", "load_engine"]
