"""Per-value casts without block scales: bfloat16 and OCP FP8 (optionally per-tensor scaled)."""

import math

import numpy as np

from .formats import BF16, ELEMENT_FORMATS, _as_f32, _as_f64, round_to_format

__all__ = ["bf16_round", "fp8_cast"]


# -- bf16 ---------------------------------------------------------------------------------

def bf16_round(x):
    """Round float32 to bfloat16, nearest even, and back.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.

    Returns
    -------
    numpy.ndarray
        float32 array of the same shape. Values past the largest bf16 overflow to ``±Inf``
        as IEEE round-to-nearest prescribes; NaN stays NaN.
    """
    return round_to_format(_as_f32(x), BF16, saturate=False).astype(np.float32)


# -- FP8 ----------------------------------------------------------------------------------

def _fp8_format(fmt):
    names = {"e4m3": "fp8_e4m3", "e5m2": "fp8_e5m2"}
    if fmt not in names:
        raise ValueError(f"unknown FP8 format {fmt!r}; expected one of {sorted(names)}")
    return ELEMENT_FORMATS[names[fmt]]


def _tensor_scale(x, fmt, scale):
    """The divisor ``s`` of :func:`fp8_cast` for its ``scale`` argument."""
    if scale is None:
        return 1.0
    if isinstance(scale, str):
        if scale != "tensor":
            raise ValueError(f"scale must be None, 'tensor' or a positive float, not {scale!r}")
        finite = x[np.isfinite(x)]
        amax = float(np.abs(finite).max()) if finite.size else 0.0
        return amax / fmt.max_normal if amax > 0 else 1.0
    s = float(scale)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"scale must be a positive finite float, not {scale!r}")
    return s


def fp8_cast(x, fmt="e4m3", scale=None):
    """Cast to OCP FP8 with round to nearest even and saturation, and back.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    fmt : {"e4m3", "e5m2"}
        E4M3 (bias 7, max 448, no Inf, NaN is S.1111.111) or E5M2 (bias 15, max 57344,
        IEEE-like Inf and NaN).
    scale : None, "tensor" or float
        ``None`` casts directly. ``"tensor"`` divides by ``s = amax / max_normal``, with
        ``amax`` the largest finite magnitude (``s = 1`` if it is 0), so the tensor's range
        fills the format's, then multiplies back. A float is used as ``s`` itself.

    Returns
    -------
    numpy.ndarray
        float32 array of the same shape. Finite values beyond the format's range clamp to
        ``±max_normal * s``. E4M3, having no Inf, also clamps infinities; E5M2 keeps them
        infinite, since it can represent them. NaN stays NaN.

    Raises
    ------
    ValueError
        On an unknown format or an invalid scale.
    """
    f = _fp8_format(fmt)
    x = _as_f32(x)
    s = _tensor_scale(x, f, scale)
    # In float64 so that dividing by s adds no rounding of its own in all but freak cases.
    return (round_to_format(_as_f64(x) / s, f) * s).astype(np.float32)
