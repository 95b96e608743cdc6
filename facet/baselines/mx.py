"""OCP Microscaling (MX v1.0): a shared E8M0 scale per block, float or MXINT8 elements."""

import numpy as np

from .formats import E8M0_EMAX, E8M0_EMIN, _as_f32, _as_f64, _element_format, round_to_format

__all__ = ["mx_encode", "mx_quantize", "mxint8_encode", "mxint8_quantize"]


# -- MX -----------------------------------------------------------------------------------

def _to_blocks(x, block, axis):
    """View ``x`` as ``(..., blocks, block)`` along ``axis``, zero-padding the tail."""
    if not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a positive integer, not {block!r}")
    moved = np.moveaxis(x, axis, -1)
    pad = -moved.shape[-1] % block
    padded = np.pad(moved, [(0, 0)] * (moved.ndim - 1) + [(0, pad)])
    return padded.reshape(*moved.shape[:-1], -1, block)


def _shared_scales(blocks, emax):
    """E8M0 scales ``2**(floor(log2(amax)) - emax)`` of ``(..., blocks, block)`` float64 values.

    ``amax`` is the block's largest finite magnitude; the exponent is clamped to [-127, 127],
    ``X = 1`` for an all-zero block and ``X = NaN`` for a block holding a NaN or an Inf.
    """
    mag = np.abs(blocks)
    finite = np.isfinite(mag)
    amax = np.where(finite, mag, 0.0).max(axis=-1)
    _, e = np.frexp(amax)  # exact, unlike log2
    exp = np.clip(e - 1 - emax, E8M0_EMIN, E8M0_EMAX)
    exp = np.where(amax > 0, exp, 0)
    scales = np.ldexp(1.0, exp)
    scales[~finite.all(axis=-1)] = np.nan
    return scales


def _from_blocks(values, x, axis):
    """Inverse of :func:`_to_blocks` for decoded ``values``: float32 of the shape of ``x``."""
    flat = values.reshape(*values.shape[:-2], -1)
    n = x.shape[axis]
    return np.moveaxis(flat[..., :n], -1, axis).astype(np.float32)


def _decode(scales, elements, x, axis):
    """``elements * scales`` of blocks encoded from ``x``, back in the shape of ``x`` (float32)."""
    return _from_blocks(elements * scales[..., None], x, axis)


def mx_encode(x, elem="fp8_e4m3", block=32, axis=-1):
    """Encode to OCP Microscaling (MX v1.0) blocks: one shared scale per ``block`` values.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    elem : str
        Element format, one of :data:`ELEMENT_FORMATS`.
    block : int
        Values per block along ``axis``. The tail is padded with zeros.
    axis : int
        Axis along which consecutive values form a block.

    Returns
    -------
    scales : numpy.ndarray
        float64, shape ``(..., blocks)`` (``axis`` moved last and split into blocks): the
        E8M0 scale ``X = 2**(floor(log2(amax)) - emax_elem)``, with ``amax`` the block's
        largest magnitude, ``X = 1`` for an all-zero block and the exponent clamped to
        [-127, 127]. NaN for a block holding a NaN or an Inf (see Notes).
    elements : numpy.ndarray
        float64, shape ``(..., blocks, block)``: ``x / X`` rounded to the element format,
        nearest even, saturating to ``±max_normal``. NaN throughout a NaN block.

    Notes
    -----
    The spec makes X NaN when the block holds a NaN, so the whole block decodes to NaN.
    An Inf is treated the same way, for every element format: the FP6/FP4 elements and
    E4M3 cannot hold it, and a shared scale derived from Inf is meaningless anyway. Because
    ``amax`` sets X by its exponent alone, values up to just below ``2**(emax + 1) * X`` can
    exceed ``max_normal * X`` and are clamped, as the spec prescribes.
    """
    fmt = _element_format(elem)
    blocks = _as_f64(_to_blocks(_as_f32(x), block, axis))
    scales = _shared_scales(blocks, fmt.emax)
    elements = round_to_format(blocks / scales[..., None], fmt)
    return scales, elements


def mx_quantize(x, elem="fp8_e4m3", block=32, axis=-1):
    """Quantize to OCP Microscaling (MX v1.0) and back: the float32 array of the shape of ``x``
    that the blocks of :func:`mx_encode` (same parameters) decode to, ``element * X``.

    A block holding a NaN or an Inf decodes to NaN throughout.

    Raises
    ------
    ValueError
        On an unknown element format or an invalid block size.
    """
    x = _as_f32(x)
    return _decode(*mx_encode(x, elem, block, axis), x, axis)


# -- MXINT8 -------------------------------------------------------------------------------

#: MXINT8 elements: two's complement with an implicit scale of 2**-6 (1 integer, 6 fraction
#: bits), so the element exponent emax is 0.
MXINT8_FRACTION_BITS = 6
MXINT8_MAX_CODE = 127


def mxint8_encode(x, block=32, axis=-1):
    """Encode to OCP MX v1.0 MXINT8: an E8M0 scale and ``block`` 8-bit integers.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    block : int
        Values per block along ``axis`` (32 in the spec). The tail is padded with zeros.
    axis : int
        Axis along which consecutive values form a block.

    Returns
    -------
    scales : numpy.ndarray
        float64, shape ``(..., blocks)``: ``X = 2**floor(log2(amax))`` (element emax 0),
        exponent clamped to [-127, 127], ``X = 1`` for an all-zero block, NaN for a block
        holding a NaN or an Inf, as in :func:`mx_encode`.
    elements : numpy.ndarray
        float64, shape ``(..., blocks, block)``: the element values
        ``clip(round_half_even(x / X * 64), -127, 127) / 64``. NaN throughout a NaN block.

    Notes
    -----
    The saturation is symmetric, to ``±127/64``: the code -128 (-2.0) is never produced,
    which is what the spec recommends so that negation stays exact. The block maximum lies
    in ``[1, 2) * X``, so it can round up to 128 and is clamped to 127.
    """
    blocks = _as_f64(_to_blocks(_as_f32(x), block, axis))
    scales = _shared_scales(blocks, 0)
    one = 1 << MXINT8_FRACTION_BITS
    # X is a power of two, so x / X * 64 is exact and rint rounds it half to even.
    with np.errstate(invalid="ignore"):
        codes = np.clip(np.rint(blocks / scales[..., None] * one), -MXINT8_MAX_CODE, MXINT8_MAX_CODE)
    return scales, codes / one


def mxint8_quantize(x, block=32, axis=-1):
    """Quantize to OCP MX v1.0 MXINT8 and back: the float32 array of the shape of ``x`` that
    the blocks of :func:`mxint8_encode` (same parameters) decode to, including its symmetric
    saturation to ``±127/64 * X``. A block holding a NaN or an Inf decodes to NaN throughout.
    """
    x = _as_f32(x)
    return _decode(*mxint8_encode(x, block, axis), x, axis)
