"""Conversions between the golden model's arrays and the RTL's port values.

The encoder's input and the decoder's output carry a block of N raw values as the N*W-bit
integer with value ``i`` in bits ``[i*W, (i+1)*W)``; the packed block is the B-bit integer with
stream bit ``j`` on bit ``j``, which is the model's ``(B/8,)`` uint8 row read little-endian
(docs/format.md, section 3). The Amaranth-simulator tests use these to drive and check the
ports.
"""

import numpy as np

__all__ = ["array_to_int", "int_to_array", "int_to_values", "int_to_packed"]


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



def int_to_values(value, cfg):
    """The decoder's output payload -> N raw bit patterns (the model's dtype)."""
    return int_to_array(value, cfg.fmt.width, cfg.n, np.dtype(cfg.fmt.dtype))



def int_to_packed(value, cfg):
    """A B-bit payload -> the packed block as ``(B/8,)`` uint8."""
    return np.frombuffer(int(value).to_bytes(cfg.budget_bytes, "little"), dtype=np.uint8).copy()
