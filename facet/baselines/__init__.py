"""Baseline quantizers to compare the compressor against at (roughly) equal storage.

Every baseline is a "fake quantizer": it takes a float32 array of any shape, quantizes it to
the baseline's storage format and returns the dequantized values as a float32 array of the
same shape. All of them are pure NumPy and vectorized.

=================  =========================================================  ============
name               format                                                     bits/value
=================  =========================================================  ============
``bf16``           bfloat16, round to nearest even                            16
``fp8-e4m3``       OCP FP8 E4M3, saturating                                   8
``fp8-e5m2``       OCP FP8 E5M2, saturating                                   8
``fp8-*-scaled``   the same, after dividing by a per-tensor scale             8
``mxfp8-e4m3``     OCP MX v1.0, E4M3 elements, 32-value blocks, E8M0 scale    8.25
``mxfp8-e5m2``     OCP MX v1.0, E5M2 elements                                 8.25
``mxfp6-e2m3``     OCP MX v1.0, FP6 E2M3 elements                             6.25
``mxfp6-e3m2``     OCP MX v1.0, FP6 E3M2 elements                             6.25
``mxfp4``          OCP MX v1.0, FP4 E2M1 elements                             4.25
``mxint8``         OCP MX v1.0 MXINT8, 8-bit two's complement elements        8.25
``nvfp4``          NVIDIA NVFP4: 16-value blocks, E2M1 elements, UE4M3 block  4.5
                   scale, fp32 tensor scale (not counted)
=================  =========================================================  ============

All of the small float formats go through one rounding routine, :func:`round_to_format`.
The package is split by format family: ``formats`` (the formats and the rounding),
``casts`` (bf16, FP8), ``mx`` (MX and MXINT8), ``mx_packed`` (the bytes of an 8-bit MX
block) and ``nvfp4``; this module holds the registry.
"""

import functools

from .casts import bf16_round, fp8_cast
from .formats import BF16, ELEMENT_FORMATS, FloatFormat, round_to_format
from .mx import mx_encode, mx_quantize, mxint8_encode, mxint8_quantize
from .mx_packed import MX_PACKED, mx_element_codes, mx_pack, mx_scale_codes, mx_unpack
from .nvfp4 import NVFP4_BLOCK, nvfp4_encode, nvfp4_quantize

__all__ = [
    "FloatFormat", "ELEMENT_FORMATS", "BF16", "round_to_format", "bf16_round", "fp8_cast",
    "mx_encode", "mx_quantize", "mxint8_encode", "mxint8_quantize", "nvfp4_encode",
    "nvfp4_quantize", "bits_per_value", "BASELINES", "MX_PACKED", "mx_scale_codes",
    "mx_element_codes", "mx_pack", "mx_unpack",
]


# -- registry -----------------------------------------------------------------------------

#: Family -> (element bits, block-scale bits, fixed block size or None for the caller's).
_STORAGE = {"bf16": (16, 0, None), "fp8": (8, 0, None), "mxfp8": (8, 8, None),
            "mxfp6": (6, 8, None), "mxfp4": (4, 8, None), "mxint8": (8, 8, None),
            "nvfp4": (4, 8, NVFP4_BLOCK)}

BASELINES = {
    "bf16": bf16_round,
    "fp8-e4m3": functools.partial(fp8_cast, fmt="e4m3"),
    "fp8-e5m2": functools.partial(fp8_cast, fmt="e5m2"),
    "fp8-e4m3-scaled": functools.partial(fp8_cast, fmt="e4m3", scale="tensor"),
    "fp8-e5m2-scaled": functools.partial(fp8_cast, fmt="e5m2", scale="tensor"),
    "mxfp8-e4m3": functools.partial(mx_quantize, elem="fp8_e4m3"),
    "mxfp8-e5m2": functools.partial(mx_quantize, elem="fp8_e5m2"),
    "mxfp6-e2m3": functools.partial(mx_quantize, elem="fp6_e2m3"),
    "mxfp6-e3m2": functools.partial(mx_quantize, elem="fp6_e3m2"),
    "mxfp4": functools.partial(mx_quantize, elem="fp4_e2m1"),
    "mxint8": mxint8_quantize,
    "nvfp4": nvfp4_quantize,
}
"""Baseline name -> fake quantizer of one float32 array."""


def bits_per_value(method, block=32):
    """Storage of a baseline in bits per value.

    Parameters
    ----------
    method : str
        A key of :data:`BASELINES`, or a family name: ``"bf16"``, ``"fp8"``, ``"mxfp8"``,
        ``"mxfp6"``, ``"mxfp4"``, ``"mxint8"`` or ``"nvfp4"``.
    block : int
        MX block size; each block adds one 8-bit E8M0 scale. NVFP4 always has blocks of 16
        with one 8-bit UE4M3 scale each.

    Returns
    -------
    float
        Bits per value. Per-tensor scales (``fp8-*-scaled``, the fp32 scale of ``nvfp4``) are
        one float per tensor and are not counted.

    Raises
    ------
    ValueError
        On an unknown method.
    """
    family = method.split("-")[0] if method in BASELINES else method
    if family not in _STORAGE:
        raise ValueError(f"unknown baseline {method!r}; expected one of {sorted(BASELINES)} "
                         f"or a family in {sorted(_STORAGE)}")
    elem, scale, fixed = _STORAGE[family]
    return float(elem + (scale / (fixed or block) if scale else 0))
