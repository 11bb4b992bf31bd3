"""Low-memory mode: a module's weights leave memory while unused and come back when needed.

The text encoder (T5) runs once per prompt and then sits idle for the whole decoding pass: 0.44 GB of
float32 weights for musicgen-small's T5-base, 1.4 GB for the large models' T5-large... Released
weights go to a temporary safetensors file on the CPU (read back with one sequential read per prompt)
or to host memory when the model lives on a GPU. Tied parameters stay tied: the same ``Parameter``
objects get their data back.
"""

from __future__ import annotations

import os
import tempfile
import weakref

import torch


class Offloader:
    """Moves ``module``'s parameters out of the way (:meth:`release`) and back (:meth:`restore`).

    Args:
        module: The module to manage; stays attached to its model.
        folder: Where the CPU spill file goes (default: the system temporary folder).
    """

    def __init__(self, module: torch.nn.Module, folder: str | None = None) -> None:
        self.module = module
        self.folder = folder
        self.resident = True
        self.path: str | None = None
        self._host: dict[str, torch.Tensor] = {}

    def _device(self) -> torch.device:
        return next(self.module.parameters()).device

    def release(self) -> None:
        """Free the parameters' memory (no-op if already released). If the spill file cannot be written
        (disk full, no temporary folder) the weights simply stay in memory: saving memory never fails a take."""
        if not self.resident:
            return
        params = dict(self.module.named_parameters())
        device = self._device()
        with torch.no_grad():
            if device.type == "cpu":
                if self.path is None and not self._spill(params):
                    return
            else:
                self._host = {name: p.detach().to("cpu") for name, p in params.items()}
            for p in params.values():
                p.data = torch.empty(0, dtype=p.dtype, device=p.device)
        self.resident = False

    def _spill(self, params: dict[str, torch.nn.Parameter]) -> bool:
        """Write the weights once (they never change); False if that is not possible."""
        from safetensors.torch import save_file

        path = None
        try:
            handle, path = tempfile.mkstemp(prefix="workbench-offload-", suffix=".safetensors", dir=self.folder)
            os.close(handle)
            save_file({name: p.detach().contiguous() for name, p in params.items()}, path)
        except OSError:
            if path is not None:
                _remove(path)
            return False
        weakref.finalize(self, _remove, path)
        self.path = path
        return True

    def restore(self) -> None:
        """Bring the parameters back, bit-exact (no-op if resident)."""
        if self.resident:
            return
        params = dict(self.module.named_parameters())
        device = next(iter(params.values())).device
        with torch.no_grad():
            if self.path is not None and device.type == "cpu":
                from safetensors.torch import load_file

                tensors = load_file(self.path)
            else:
                tensors = {name: t.to(device) for name, t in self._host.items()}
                self._host = {}
            for name, p in params.items():
                p.data = tensors[name]
        self.resident = True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
