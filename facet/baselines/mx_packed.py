"""Packed MX blocks: the 8-bit MX baselines as the bytes their hardware stores.

One block of ``block`` values packs into ``1 + block`` bytes, the E8M0 scale code first; the
RTL quantizers (:mod:`facet.rtl.mx`) are checked against these bytes bit for bit.
"""

import math

import numpy as np

from .formats import _element_format
from .mx import MXINT8_FRACTION_BITS, mx_encode, mxint8_encode

__all__ = ["MX_PACKED", "mx_scale_codes", "mx_element_codes", "mx_pack", "mx_unpack"]

#: The MX baselines with 8-bit elements, whose block packs into ``1 + block`` bytes.
MX_PACKED = ("mxint8", "mxfp8-e4m3", "mxfp8-e5m2")


def _mx_encode(x, codec, block=32, axis=-1):
    if codec not in MX_PACKED:
        raise ValueError(f"unknown packed MX codec {codec!r}; expected one of {MX_PACKED}")
    if codec == "mxint8":
        return mxint8_encode(x, block, axis)
    return mx_encode(x, "fp8_" + codec.split("-")[1], block, axis)


def mx_scale_codes(scales):
    """E8M0 codes of shared scales ``2**e`` (float64): ``e + 127``, and 255 for NaN."""
    scales = np.asarray(scales, dtype=np.float64)
    nan = np.isnan(scales)
    _, e = np.frexp(np.where(nan, 1.0, scales))
    return np.where(nan, 255, e - 1 + 127).astype(np.uint8)


def mx_element_codes(elements, codec):
    """8-bit codes of MX element values, as :func:`mx_encode` / :func:`mxint8_encode` give them.

    MXINT8: the two's complement byte of ``64 * element`` (``-0`` has no code of its own and
    becomes 0). FP8: sign, biased exponent and mantissa fields; a negative zero keeps its sign.
    The elements of a NaN block (all NaN) get code 0: the scale code 255 already makes the
    whole block NaN, so the element bits carry nothing.
    """
    v = np.asarray(elements, dtype=np.float64)
    nan = np.isnan(v)
    v = np.where(nan, 0.0, v)
    if codec == "mxint8":
        codes = (v * (1 << MXINT8_FRACTION_BITS)).astype(np.int64) & 0xFF
    else:
        fmt = _element_format("fp8_" + codec.split("-")[1])
        mag = np.abs(v)
        _, e = np.frexp(mag)
        exp = np.maximum(e - 1, fmt.emin)  # the subnormals share the exponent emin
        normal = mag >= math.ldexp(1.0, fmt.emin)
        man = np.ldexp(mag, fmt.man_bits - exp).astype(np.int64) - (normal << fmt.man_bits)
        field = np.where(normal, exp + fmt.bias, 0)
        codes = (np.signbit(v).astype(np.int64) << (fmt.width - 1)) | (field << fmt.man_bits) | man
    return np.where(nan, 0, codes).astype(np.uint8)


def mx_pack(x, codec="mxint8", block=32, axis=-1):
    """Packed MX blocks of ``x``: the E8M0 scale code, then the ``block`` element codes.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    codec : {"mxint8", "mxfp8-e4m3", "mxfp8-e5m2"}
        The MX baseline (:data:`BASELINES`) whose encoding is packed.
    block, axis
        As for :func:`mx_encode`.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(..., blocks, 1 + block)``: byte 0 the scale code
        (:func:`mx_scale_codes`), byte ``1 + i`` the code of element ``i``
        (:func:`mx_element_codes`). Read little-endian, byte ``j`` bit ``b`` is stream bit
        ``8j + b``. :func:`mx_unpack` decodes it.
    """
    scales, elements = _mx_encode(x, codec, block, axis)
    return np.concatenate([mx_scale_codes(scales)[..., None],
                           mx_element_codes(elements, codec)], axis=-1)


def mx_unpack(packed, codec="mxint8"):
    """Decoded values of packed MX blocks (:func:`mx_pack`), any bytes.

    Returns float32 of shape ``(..., blocks, block)``: ``element * 2**(scale - 127)``, exact
    (rounding to float32 happens only beyond its range). NaN (positive, quiet) throughout a
    block with scale code 255, and for an FP8 NaN element code. The values equal those of the
    fake quantizer (:data:`BASELINES`) except that MXINT8 cannot store a negative zero.
    """
    packed = np.asarray(packed, dtype=np.uint8)
    scale = packed[..., :1].astype(np.int64)
    codes = packed[..., 1:].astype(np.int64)
    if codec == "mxint8":
        values = np.ldexp(((codes ^ 0x80) - 0x80).astype(np.float64), -MXINT8_FRACTION_BITS)
        nan = np.zeros(codes.shape, bool)
    elif codec in MX_PACKED:
        fmt = _element_format("fp8_" + codec.split("-")[1])
        mb = fmt.man_bits
        field = (codes >> mb) & ((1 << fmt.exp_bits) - 1)
        man = codes & ((1 << mb) - 1)
        sig = np.where(field > 0, man + (1 << mb), man).astype(np.float64)
        values = np.ldexp(sig, np.maximum(field, 1) - fmt.bias - mb)
        values = np.where(codes >> (fmt.width - 1), -values, values)
        top = field == (1 << fmt.exp_bits) - 1
        nan = top & (man == (1 << mb) - 1) if not fmt.has_inf else top & (man != 0)
        if fmt.has_inf:
            values = np.where(top & (man == 0), np.copysign(np.inf, values), values)
    else:
        raise ValueError(f"unknown packed MX codec {codec!r}; expected one of {MX_PACKED}")
    with np.errstate(over="ignore"):
        out = (values * np.ldexp(1.0, scale - 127)).astype(np.float32)
    return np.where(nan | (scale == 255), np.float32(np.nan), out)
