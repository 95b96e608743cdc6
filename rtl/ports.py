"""Conversions between the golden model's arrays and the RTL's port values.

The encoder's input and the decoder's output carry a block of N raw values as the N*W-bit
integer with value ``i`` in bits ``[i*W, (i+1)*W)``; the packed block is the B-bit integer with
stream bit ``j`` on bit ``j``, which is the model's ``(B/8,)`` uint8 row read little-endian
(docs/format.md, section 3). Testbenches use these to drive and check the ports.
"""

import numpy as np

from ._common import check_config

__all__ = ["values_to_int", "int_to_values", "packed_to_int", "int_to_packed",
           "array_to_int", "int_to_array"]


def array_to_int(values, width):
    """The integer with ``values[i]`` (each ``width`` bits) in bits ``[i*width, (i+1)*width)``."""
    out = 0
    for i, v in enumerate(np.asarray(values).reshape(-1).tolist()):
        out |= (int(v) & ((1 << width) - 1)) << (i * width)
    return out


def int_to_array(value, width, count, dtype=np.uint64):
    """Inverse of :func:`array_to_int`: ``count`` fields of ``width`` bits."""
    mask = (1 << width) - 1
    return np.array([(value >> (i * width)) & mask for i in range(count)], dtype=dtype)


def values_to_int(raw, cfg):
    """One block of N raw bit patterns -> the encoder's input payload."""
    cfg = check_config(cfg)
    raw = np.asarray(raw).reshape(-1)
    if raw.size != cfg.n:
        raise ValueError(f"a block has N={cfg.n} values, not {raw.size}")
    return array_to_int(raw, cfg.fmt.width)


def int_to_values(value, cfg):
    """The decoder's output payload -> N raw bit patterns (the model's dtype)."""
    cfg = check_config(cfg)
    return int_to_array(value, cfg.fmt.width, cfg.n, np.dtype(cfg.fmt.dtype))


def packed_to_int(row):
    """A packed block as ``(B/8,)`` uint8 (the model's encode output) -> B-bit payload."""
    return int.from_bytes(np.asarray(row, dtype=np.uint8).tobytes(), "little")


def int_to_packed(value, cfg):
    """A B-bit payload -> the packed block as ``(B/8,)`` uint8."""
    cfg = check_config(cfg)
    return np.frombuffer(int(value).to_bytes(cfg.budget_bytes, "little"), dtype=np.uint8).copy()
