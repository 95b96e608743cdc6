"""Input conversion of the golden model: values to raw bit patterns of the format and back."""

import numpy as np

from ..config import FORMATS, Config

__all__ = ["to_bits", "to_float"]


# -- input conversion ---------------------------------------------------------------------

def _check(cfg):
    if not isinstance(cfg, Config):
        raise ValueError(f"cfg must be a facet.Config, not {type(cfg).__name__}")
    return cfg


def to_bits(values, cfg: Config):
    """Raw bit patterns of ``values`` in the config's format, as a ``(blocks, N)`` array.

    Unsigned integer input (``uint16`` for bf16/fp16, ``uint32`` for fp32) is taken as raw
    bit patterns. Float input is converted to float32 and then rounded to nearest even to
    the format (fp16 and bf16 overflow to Inf; NaN stays NaN).
    """
    fmt = _check(cfg).fmt
    values = np.asarray(values)
    if values.size % cfg.n:
        raise ValueError(f"{values.size} values are not a whole number of blocks of N={cfg.n}; "
                         "pad the input to a multiple of N")
    if values.dtype.kind == "u":
        if values.dtype.itemsize * 8 != fmt.width:
            raise ValueError(f"raw {cfg.format} values must be {fmt.dtype}, not {values.dtype}")
        raw = values.astype(fmt.dtype, copy=False)
    elif values.dtype.kind == "f":
        f32 = values.astype(np.float32, copy=False)
        if cfg.format == "fp32":
            raw = f32.view(np.uint32)
        elif cfg.format == "fp16":
            with np.errstate(over="ignore"):  # overflow to Inf is the rounding rule
                raw = f32.astype(np.float16).view(np.uint16)
        else:
            raw = _bf16_rne(f32)
    else:
        raise ValueError(f"values must be float or raw unsigned bit patterns, not {values.dtype}")
    return raw.reshape(-1, cfg.n)


def _bf16_rne(f32):
    bits = np.ascontiguousarray(f32).view(np.uint32)
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    rounded = (bits + (0x7FFF + ((bits >> 16) & 1))) >> 16
    # A NaN whose payload sits in the low half must stay NaN after the cut.
    return np.where(nan, (bits >> 16) | 0x40, rounded).astype(np.uint16)


def to_float(raw, fmt):
    """float32 values of raw bit patterns of ``fmt``: a :class:`Config` or a format name."""
    if isinstance(fmt, Config):
        fmt = fmt.format
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"fmt must be a facet.Config or one of {sorted(FORMATS)}, not {fmt!r}")
    raw = np.asarray(raw)
    if fmt == "fp32":
        return raw.astype(np.uint32).view(np.float32)
    if fmt == "fp16":
        return raw.astype(np.uint16).view(np.float16).astype(np.float32)
    return (raw.astype(np.uint32) << 16).view(np.float32)
