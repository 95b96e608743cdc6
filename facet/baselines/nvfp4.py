"""NVIDIA NVFP4: an fp32 tensor scale, a UE4M3 scale per 16 values and E2M1 elements."""

import math

import numpy as np

from .formats import ELEMENT_FORMATS, _as_f32, _as_f64, round_to_format
from .mx import _decode, _to_blocks

__all__ = ["NVFP4_BLOCK", "nvfp4_encode", "nvfp4_quantize"]


# -- NVFP4 --------------------------------------------------------------------------------

NVFP4_BLOCK = 16
_E4M3 = ELEMENT_FORMATS["fp8_e4m3"]
_E2M1 = ELEMENT_FORMATS["fp4_e2m1"]
_F32_MIN_SUBNORMAL = math.ldexp(1.0, -149)


def nvfp4_encode(x, axis=-1):
    """Encode to NVIDIA NVFP4: an fp32 tensor scale, a UE4M3 scale per 16 values, E2M1 elements.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    axis : int
        Axis along which 16 consecutive values form a block. The tail is padded with zeros.

    Returns
    -------
    tensor_scale : float
        ``s_t = amax / (6 * 448)`` rounded to float32, with ``amax`` the tensor's largest
        finite magnitude (``s_t = 1`` if it is 0), so that the largest block scale is about
        448, the top of E4M3. It is kept at least the smallest float32 subnormal.
    block_scales : numpy.ndarray
        float64, shape ``(..., blocks)``: ``s_b = E4M3(amax_block / 6 / s_t)``, rounded to
        nearest even and saturated at 448; NaN for a block holding a NaN or an Inf.
    elements : numpy.ndarray
        float64, shape ``(..., blocks, 16)``: ``E2M1(x / (s_b * s_t))``, nearest even,
        saturating to ±6. A block whose scale rounds to 0 has zero elements; a NaN block
        has NaN elements.

    Notes
    -----
    Decoding is ``element * s_b * s_t``. Non-finite values follow the MX convention of
    :func:`mx_encode`: they do not enter ``amax`` and their block decodes to NaN.
    """
    x = _as_f32(x)
    blocks = _as_f64(_to_blocks(x, NVFP4_BLOCK, axis))
    mag = np.abs(blocks)
    finite = np.isfinite(mag)
    fmag = np.where(finite, mag, 0.0)
    amax = float(fmag.max()) if fmag.size else 0.0
    s_t = float(np.float32(amax / (_E2M1.max_normal * _E4M3.max_normal))) if amax > 0 else 1.0
    s_t = max(s_t, _F32_MIN_SUBNORMAL)
    s_b = round_to_format(fmag.max(axis=-1) / _E2M1.max_normal / s_t, _E4M3)
    scale = s_b * s_t  # exact: 4 significant bits times 24
    with np.errstate(invalid="ignore", divide="ignore"):
        elements = round_to_format(blocks / np.where(scale > 0, scale, 1.0)[..., None], _E2M1)
    elements = np.where((scale > 0)[..., None], elements, 0.0)
    bad = ~finite.all(axis=-1)
    s_b[bad] = np.nan
    elements[bad] = np.nan
    return s_t, s_b, elements


def nvfp4_quantize(x, axis=-1):
    """Quantize to NVIDIA NVFP4 and back: the float32 array of the shape of ``x`` that the
    blocks of :func:`nvfp4_encode` (same parameters) decode to, ``element * s_b * s_t``.
    A block holding a NaN or an Inf decodes to NaN throughout.
    """
    x = _as_f32(x)
    s_t, s_b, elements = nvfp4_encode(x, axis)
    return _decode(s_b * s_t, elements, x, axis)
