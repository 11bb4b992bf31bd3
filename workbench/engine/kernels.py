"""CPU kernels: the decoder's linear layers on oneDNN with pre-packed weights (float32 or bfloat16).

A MusicGen decoding step multiplies 2-16 rows (takes × the two halves of classifier-free guidance) by
every decoder weight matrix. PyTorch's default CPU path (MKL ``sgemm`` on the plain row-major weight)
streams the weights at a fraction of the machine's memory bandwidth for so few rows on some CPUs; oneDNN
with the weight reordered once into its blocked layout (what ``torch.compile``'s CPU freezing uses) runs
the same products faster there, slower on others: which of the two a model gets is measured on the
machine at load (:mod:`workbench.engine.autotune`), and recorded on every take.

The packed product sums in a different order than ``sgemm``, so logits differ in their last bits
(~1e-6); codes are compared against the reference kernels by ``tests/test_kernels.py``. Each row's
result is independent of the other rows of the batch (``sgemm``'s is not), which is what the workbench
wants: a take must not depend on its batch. In bfloat16 the packed weights run oneDNN's bfloat16 kernels
(AMX or AVX512-BF16).

The ops are private PyTorch calls; :func:`workbench.engine.compat.packed_linear_ops` probes them and the
decoder keeps ``nn.Linear`` where they are missing.

``state_dict()`` of a packed module holds the plain dense weights, so saving and the reference path
(:func:`unpack_linears`) see exactly the original tensors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

from workbench.engine import compat

#: Names recorded on takes: which kernels computed the decoder's linear layers.
PACKED = "onednn-packed"
REFERENCE = "torch"
#: Every name, the reference first.
KINDS = (REFERENCE, PACKED)

#: ``kernels="auto"`` measures decoders at least this wide; narrower ones (the ``tiny`` test models) get fixed
#: kernels without a measurement (``workbench.engine.load``): their layers are per-call overhead, and tests stay
#: deterministic.
PACK_MIN_HIDDEN = 512


class PackedLinear(torch.nn.Module):
    """``nn.Linear`` (inference only) on a oneDNN-packed weight; the dense weight is not kept."""

    def __init__(self, linear: torch.nn.Linear, rows_hint: int) -> None:
        super().__init__()
        ops = compat.packed_linear_ops(linear.weight.dtype)
        if ops is None:
            raise RuntimeError(f"packed linear kernels are not available for {linear.weight.dtype} in this build")
        reorder, self._linear = ops
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight_dtype = linear.weight.dtype
        self.packed = reorder(linear.weight.detach(), rows_hint)
        self.bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach(), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() == self.in_features:  # one row: oneDNN takes another kernel for M = 1, which sums differently
            two = self._linear(x.reshape(1, -1).repeat(2, 1), self.packed, self.bias)
            return two[:1].reshape(*x.shape[:-1], self.out_features)
        return self._linear(x, self.packed, self.bias)

    @property
    def weight(self) -> torch.Tensor:
        """The dense weight, rebuilt (bit-exact) from the packed one."""
        return self.packed.to_dense()

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str, keep_vars: bool) -> None:
        destination[prefix + "weight"] = self.weight
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def unpacked(self) -> torch.nn.Linear:
        linear = torch.nn.Linear(self.in_features, self.out_features, bias=self.bias is not None, device="meta")
        linear.weight = torch.nn.Parameter(self.weight, requires_grad=False)
        if self.bias is not None:
            linear.bias = self.bias
        return linear.eval()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


#: A probed row is computed alone, then in batches of these sizes, at the start and at the end of the probe's rows.
PROBE_BATCHES = (2, 3, 4, 6, 8, 12, 16, 32, 64)
#: Rows of one probe input, and inputs per layer shape (seeded draws).
PROBE_ROWS, PROBE_DRAWS = 64, 4


def _distinct_linears(module: torch.nn.Module) -> Iterator[tuple[torch.nn.Module, torch.dtype]]:
    """One linear layer (dense or packed) of each distinct shape and dtype under ``module``, with its dtype."""
    seen: set[tuple[Any, ...]] = set()
    for layer in module.modules():
        if isinstance(layer, (torch.nn.Linear, PackedLinear)):
            dtype = layer.weight_dtype if isinstance(layer, PackedLinear) else layer.weight.dtype
            shape = (layer.in_features, layer.out_features, dtype, layer.bias is not None)
            if shape not in seen:
                seen.add(shape)
                yield layer, dtype


def rows_independent(module: torch.nn.Module) -> bool:
    """Whether ``module``'s linear layers compute every row bit for bit the same alone and in a batch.

    A take's rows sit at other positions of a batch than alone; kernels that pick their summation order by the
    number of rows (MKL's float32 ``sgemm`` does, and PyTorch's bfloat16 matmul now and then, on the CPUs
    measured) make a take depend on its batch. One layer of each distinct shape is probed on its current kernels
    with seeded inputs (never the process RNG): each of :data:`PROBE_ROWS` rows alone, then in every batch size of
    :data:`PROBE_BATCHES`. Passing is evidence, not proof; failing is proof.
    """
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        return all(product_rows_independent(layer, layer.in_features, dtype, generator)
                   for layer, dtype in _distinct_linears(module))


def product_rows_independent(product: Callable[[torch.Tensor], torch.Tensor], in_features: int, dtype: torch.dtype,
                             generator: torch.Generator) -> bool:
    """Whether ``product`` (rows ``[n, in_features]`` in, rows out) gives each row bit for bit the same alone and in
    a batch: :data:`PROBE_DRAWS` seeded draws (from ``generator``) of :data:`PROBE_ROWS` rows, each row alone, then
    every batch size of :data:`PROBE_BATCHES` at the start and at the end of the draw's rows."""
    for _ in range(PROBE_DRAWS):
        x = torch.randn(PROBE_ROWS, in_features, generator=generator).to(dtype)
        alone = torch.cat([product(x[row:row + 1]) for row in range(PROBE_ROWS)])
        for rows in PROBE_BATCHES:
            for first in (0, PROBE_ROWS - rows):
                if not torch.equal(product(x[first:first + rows]), alone[first:first + rows]):
                    return False
    return True


def weight_bytes(module: torch.nn.Module) -> int:
    """Bytes of every parameter and buffer under ``module``, packed weights counted at their dense size (packing
    keeps one copy, in another layout); tensors shared by several modules (tied embeddings) once."""
    seen: set[int] = set()
    total = 0
    for layer in module.modules():
        if isinstance(layer, PackedLinear):
            total += layer.in_features * layer.out_features * layer.weight_dtype.itemsize
        for tensor in (*layer.parameters(recurse=False), *layer.buffers(recurse=False)):
            if tensor.data_ptr() not in seen:
                seen.add(tensor.data_ptr())
                total += tensor.numel() * tensor.element_size()
    return total


def kind(module: torch.nn.Module) -> str:
    """Which kernels ``module``'s linear layers run on now: :data:`PACKED` or :data:`REFERENCE`."""
    return PACKED if any(isinstance(m, PackedLinear) for m in module.modules()) else REFERENCE


def can_pack(model: Any) -> bool:
    """True when packing applies: float32 or bfloat16 weights on the CPU and oneDNN ops that compute them."""
    try:
        parameter = next(model.parameters())
    except StopIteration:
        return False
    if parameter.device.type != "cpu" or parameter.dtype not in (torch.float32, torch.bfloat16):
        return False
    return compat.packed_linear_ops(parameter.dtype) is not None  # probed once per dtype: some builds lack them


def candidates(model: Any) -> list[str]:
    """The kernels ``model``'s decoder can run on here: the reference always, packed where :func:`can_pack`."""
    return [REFERENCE, PACKED] if can_pack(model) else [REFERENCE]


def _replace(module: torch.nn.Module, convert: Any, kind: type) -> int:
    count = 0
    for name in [name for name, _ in module.named_children()]:  # names only: a swapped layer's weight is freed
        child = getattr(module, name)                               # before the next one is converted
        if isinstance(child, kind):
            setattr(module, name, convert(child))
            count += 1
        else:
            count += _replace(child, convert, kind)
        del child
    return count


#: While swapping layers, free heap pages go back to the system after this many bytes of weights: packing's
#: peak memory stays within ~0.1 GB of the weights' size (0.4 GB above it when trimmed only at the end).
TRIM_EVERY_BYTES = 64 * 2**20


def _swap_all(module: torch.nn.Module, convert: Any, kind: type) -> int:
    """:func:`_replace` with the heap trimmed every :data:`TRIM_EVERY_BYTES` of swapped weights and at the end."""
    pending = 0

    def swap(layer: Any) -> Any:
        nonlocal pending
        dtype = layer.weight_dtype if isinstance(layer, PackedLinear) else layer.weight.dtype
        pending += layer.in_features * layer.out_features * dtype.itemsize
        if pending >= TRIM_EVERY_BYTES:
            compat.release_free_memory()
            pending = 0
        return convert(layer)

    with torch.no_grad():
        count = _replace(module, swap, kind)
    if count:
        compat.release_free_memory()
    return count


def pack_linears(module: torch.nn.Module, rows_hint: int = 2) -> int:
    """Swap every ``nn.Linear`` under ``module`` for a :class:`PackedLinear`; returns how many."""
    return _swap_all(module, lambda linear: PackedLinear(linear, rows_hint), torch.nn.Linear)


def unpack_linears(module: torch.nn.Module) -> int:
    """Undo :func:`pack_linears` (bit-exact weights); returns how many modules were restored."""
    return _swap_all(module, lambda packed: packed.unpacked(), PackedLinear)


def use(module: torch.nn.Module, kernels: str) -> None:
    """Put ``module``'s linear layers on ``kernels`` (:data:`PACKED` or :data:`REFERENCE`), packing or unpacking."""
    if kernels not in KINDS:
        raise ValueError(f"kernels must be one of {', '.join(KINDS)}, got {kernels!r}")
    if kernels == PACKED:
        pack_linears(module)
    else:
        unpack_linears(module)


@contextlib.contextmanager
def reference_kernels(module: torch.nn.Module) -> Iterator[None]:
    """Run a block on PyTorch's default kernels (re-packing afterwards if ``module`` was packed)."""
    restored = unpack_linears(module)
    try:
        yield
    finally:
        if restored:
            pack_linears(module)
