"""Store the tensors autograd saves for backward in a compressed or fake-quantized format.

A *storage method* turns a saved tensor into what is kept until backward, and back:

- ``"fp32"``: the tensor as it is (the reference);
- ``"bf16"``: a bfloat16 copy (PyTorch's rounding, nearest even);
- a :class:`facet.Config`: facet blocks from :func:`facet.torch.encode`;
- any other name: a baseline of :data:`facet.baselines.BASELINES`, looked up when the method
  is made, applied as a fake quantizer. It runs in NumPy on a CPU copy; its bytes are
  counted by :func:`facet.baselines.bits_per_value`.
"""

from dataclasses import dataclass, field
import math

import torch

from facet.config import Config

from .codec import decode, encode

__all__ = ["Method", "method", "compress_saved_tensors"]


class Method:
    """A storage format for saved tensors: ``pack`` / ``unpack`` and the bytes it keeps."""

    name = "method"

    def pack(self, t):
        """What to keep for tensor ``t``: ``(payload, bytes)``."""
        raise NotImplementedError

    def unpack(self, payload, shape, dtype):
        """The tensor of ``shape`` and ``dtype`` rebuilt from ``payload``."""
        raise NotImplementedError

    def __repr__(self):
        return f"<storage {self.name}>"


class Float32(Method):
    name = "fp32"

    def pack(self, t):
        return t, t.numel() * t.element_size()

    def unpack(self, payload, shape, dtype):
        return payload


class BFloat16(Method):
    name = "bf16"

    def pack(self, t):
        return t.to(torch.bfloat16), 2 * t.numel()

    def unpack(self, payload, shape, dtype):
        return payload.to(dtype)


class Facet(Method):
    """facet blocks; header and the padding of the last block are counted."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.name = cfg.name

    def pack(self, t):
        blocks = encode(t.detach(), self.cfg)
        return blocks, blocks.numel()

    def unpack(self, payload, shape, dtype):
        return decode(payload, self.cfg, shape, dtype)


class Baseline(Method):
    """A fake quantizer of :data:`facet.baselines.BASELINES`, applied in NumPy on the CPU."""

    def __init__(self, name):
        from facet import baselines
        if name not in baselines.BASELINES:
            raise ValueError(f"unknown storage method {name!r}; expected fp32, bf16, a facet "
                             f"Config or one of {sorted(baselines.BASELINES)}")
        self.name = name
        self.quantize = baselines.BASELINES[name]
        self.bits = baselines.bits_per_value(name)

    def pack(self, t):
        q = self.quantize(t.detach().to(torch.float32).cpu().numpy())
        return torch.from_numpy(q).to(device=t.device, dtype=t.dtype), math.ceil(t.numel() * self.bits / 8)

    def unpack(self, payload, shape, dtype):
        return payload


def method(spec):
    """The storage :class:`Method` for ``spec``: a Method, a Config, ``"fp32"``, ``"bf16"``
    or a baseline name."""
    if isinstance(spec, Method):
        return spec
    if isinstance(spec, Config):
        return Facet(spec)
    if spec == "fp32":
        return Float32()
    if spec == "bf16":
        return BFloat16()
    return Baseline(spec)


def _layout(t):
    """The strides to give back to a non-contiguous tensor, or None (contiguous, or
    broadcast: a stride of 0 cannot be written to)."""
    if t.is_contiguous() or any(st == 0 for st, sz in zip(t.stride(), t.shape) if sz > 1):
        return None
    return t.stride()


@dataclass
class _Packed:
    payload: object
    shape: torch.Size
    dtype: torch.dtype
    stride: tuple | None    # of a tensor that was not contiguous, to give it back its layout


@dataclass
class Stats:
    """Tensors and bytes seen by :class:`compress_saved_tensors`."""

    tensors: int = 0            # saved tensors stored with the method
    stored_bytes: int = 0       # what the method kept for them
    raw_bytes: int = 0          # what they would have taken as they were
    skipped: int = 0            # integer, tiny or excluded tensors kept as they were
    skipped_bytes: int = 0
    by_dtype: dict = field(default_factory=dict)

    def as_dict(self):
        d = dict(self.__dict__)
        d["ratio"] = self.raw_bytes / self.stored_bytes if self.stored_bytes else None
        return d


class compress_saved_tensors:
    """Context manager: every floating-point tensor saved for backward is stored with ``spec``.

    Parameters
    ----------
    spec : facet.Config, str or Method
        The storage method (see :func:`method`).
    min_numel : int
        Tensors with fewer elements are kept as they are (biases, norms, scalars).
    exclude : iterable of torch.Tensor, optional
        Tensors kept as they are whenever a saved tensor shares their storage, typically
        ``model.parameters()``: autograd saves weights as well as activations, and weights
        stay in memory anyway.

    Notes
    -----
    Each save is stored on its own, as the hooks see it: a tensor saved by two operations is
    counted (and stored) twice. ``stats()`` returns the counts so far; they accumulate over
    every forward pass run inside the context.

    Examples
    --------
    >>> with compress_saved_tensors(facet.Config("bf16", 32, 8)) as ctx:
    ...     loss = model(x).sum()
    >>> loss.backward()
    >>> ctx.stats()["ratio"]
    """

    def __init__(self, spec, min_numel=1024, exclude=None):
        self.method = method(spec)
        self.min_numel = min_numel
        self._exclude = {t.untyped_storage().data_ptr() for t in (exclude or ())}
        self._stats = Stats()
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)

    def _keep(self, t):
        return (not t.is_floating_point() or t.numel() < self.min_numel
                or t.untyped_storage().data_ptr() in self._exclude)

    def _pack(self, t):
        s = self._stats
        if self._keep(t):
            s.skipped += 1
            s.skipped_bytes += t.numel() * t.element_size()
            return t
        payload, nbytes = self.method.pack(t)
        s.tensors += 1
        s.stored_bytes += nbytes
        s.raw_bytes += t.numel() * t.element_size()
        key = str(t.dtype).removeprefix("torch.")
        s.by_dtype[key] = s.by_dtype.get(key, 0) + 1
        return _Packed(payload, t.shape, t.dtype, _layout(t))

    def _unpack(self, p):
        if not isinstance(p, _Packed):
            return p
        t = self.method.unpack(p.payload, p.shape, p.dtype)
        if p.stride is not None and t.stride() != p.stride:
            # Backward kernels may take a different path, and round differently, for a
            # different memory layout; the layout comes back with the values.
            t = torch.empty_strided(p.shape, p.stride, dtype=t.dtype, device=t.device).copy_(t)
        return t

    def stats(self):
        """Counts so far: tensors, stored_bytes, raw_bytes, ratio (raw / stored), skipped."""
        return self._stats.as_dict()

    def __enter__(self):
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        return self._hooks.__exit__(*exc)
