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
"""

from dataclasses import dataclass
import functools
import math

import numpy as np

__all__ = [
    "FloatFormat", "ELEMENT_FORMATS", "BF16", "round_to_format", "bf16_round", "fp8_cast",
    "mx_encode", "mx_quantize", "mxint8_encode", "mxint8_quantize", "nvfp4_encode",
    "nvfp4_quantize", "bits_per_value", "BASELINES", "MX_PACKED", "mx_scale_codes",
    "mx_element_codes", "mx_pack", "mx_unpack",
]


# -- formats ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FloatFormat:
    """A sign-magnitude binary float format with subnormals.

    Parameters
    ----------
    name : str
        Format name.
    exp_bits, man_bits : int
        Widths of the exponent and the (trailing) mantissa fields.
    bias : int
        Exponent bias; the smallest normal exponent is ``1 - bias``.
    max_normal : float
        Largest finite magnitude. Given explicitly because formats differ in how much of the
        top exponent they spend on Inf and NaN (E4M3 keeps all but one code of it).
    has_inf : bool
        Whether the format encodes infinities.
    has_nan : bool
        Whether the format encodes NaN.
    """

    name: str
    exp_bits: int
    man_bits: int
    bias: int
    max_normal: float
    has_inf: bool = False
    has_nan: bool = False

    @property
    def width(self):
        return 1 + self.exp_bits + self.man_bits

    @property
    def emin(self):
        """Unbiased exponent of the smallest normal, also the exponent of the subnormals."""
        return 1 - self.bias

    @property
    def emax(self):
        """Unbiased exponent of ``max_normal``."""
        return math.frexp(self.max_normal)[1] - 1

    @property
    def min_subnormal(self):
        return math.ldexp(1.0, self.emin - self.man_bits)


#: Element formats of OCP FP8 (OFP8 v1.0) and of OCP Microscaling (MX v1.0).
ELEMENT_FORMATS = {
    "fp8_e4m3": FloatFormat("fp8_e4m3", 4, 3, 7, 448.0, has_inf=False, has_nan=True),
    "fp8_e5m2": FloatFormat("fp8_e5m2", 5, 2, 15, 57344.0, has_inf=True, has_nan=True),
    "fp6_e2m3": FloatFormat("fp6_e2m3", 2, 3, 1, 7.5),
    "fp6_e3m2": FloatFormat("fp6_e3m2", 3, 2, 3, 28.0),
    "fp4_e2m1": FloatFormat("fp4_e2m1", 2, 1, 1, 6.0),
}

BF16 = FloatFormat("bf16", 8, 7, 127, math.ldexp(2.0 - 2.0 ** -7, 127), has_inf=True, has_nan=True)

#: The E8M0 shared scale of MX encodes 2**e for e in [-127, 127] (code 255 is NaN).
E8M0_EMIN, E8M0_EMAX = -127, 127


def _element_format(name):
    try:
        return ELEMENT_FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown element format {name!r}; "
                         f"expected one of {sorted(ELEMENT_FORMATS)}") from None


def _as_f32(x):
    return np.asarray(x, dtype=np.float32)


def _as_f64(x):
    # Widening a signalling NaN raises "invalid"; it just becomes a quiet NaN, which is fine.
    with np.errstate(invalid="ignore"):
        return np.asarray(x, dtype=np.float64)


# -- generic rounding ---------------------------------------------------------------------

def round_to_format(x, fmt, saturate=True):
    """Round to the nearest value of a small float format, ties to even.

    Parameters
    ----------
    x : array_like
        Values, converted to float64 (exact for float32 input).
    fmt : FloatFormat or str
        Target format, or the name of one of :data:`ELEMENT_FORMATS`.
    saturate : bool
        If true, finite values that round beyond ``max_normal`` become ``±max_normal``, and so
        do infinities when the format has no Inf. If false they overflow to ``±Inf``, or to
        NaN when the format has no Inf.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape holding exact values of the format. NaN stays NaN
        (also for formats without NaN: there is no better answer for a fake quantizer).
        Infinities stay infinite in formats that have them, whatever ``saturate`` says.
    """
    if isinstance(fmt, str):
        fmt = _element_format(fmt)
    x = _as_f64(x)
    mag = np.abs(x)
    with np.errstate(invalid="ignore", over="ignore"):
        # frexp is exact, unlike log2, which is off by one just below powers of two.
        _, e = np.frexp(mag)
        exp = np.maximum(e - 1, fmt.emin)  # below the normal range the quantum stays fixed
        quantum = np.ldexp(1.0, exp - fmt.man_bits)
        # Scaling by a power of two is exact in float64, and rint rounds half to even.
        # A value that rounds up to the next binade lands on its first value, which is right.
        out = np.rint(mag / quantum) * quantum
    over = out > fmt.max_normal
    if saturate:
        out = np.where(over, fmt.max_normal, out)
    else:
        out = np.where(over, np.inf if fmt.has_inf else np.nan, out)
    if fmt.has_inf:
        out = np.where(np.isinf(mag), np.inf, out)
    out = np.where(np.isnan(x), np.nan, out)
    return np.copysign(out, x)


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
    """Quantize to OCP Microscaling (MX v1.0) and back.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    elem : {"fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp6_e3m2", "fp4_e2m1"}
        Element format.
    block : int
        Values per shared scale along ``axis`` (32 in the spec).
    axis : int
        Axis along which consecutive values form a block.

    Returns
    -------
    numpy.ndarray
        float32 array of the shape of ``x``. A block holding a NaN or an Inf decodes to
        NaN throughout; see :func:`mx_encode` for the encoding.

    Raises
    ------
    ValueError
        On an unknown element format or an invalid block size.
    """
    x = _as_f32(x)
    scales, elements = mx_encode(x, elem, block, axis)
    return _from_blocks(elements * scales[..., None], x, axis)


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
    """Quantize to OCP MX v1.0 MXINT8 and back.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    block : int
        Values per shared scale along ``axis`` (32 in the spec).
    axis : int
        Axis along which consecutive values form a block.

    Returns
    -------
    numpy.ndarray
        float32 array of the shape of ``x``; see :func:`mxint8_encode` for the encoding,
        including the symmetric saturation to ``±127/64 * X``. A block holding a NaN or an
        Inf decodes to NaN throughout.
    """
    x = _as_f32(x)
    scales, elements = mxint8_encode(x, block, axis)
    return _from_blocks(elements * scales[..., None], x, axis)


# -- MX packed blocks ---------------------------------------------------------------------

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
    """Quantize to NVIDIA NVFP4 and back.

    Parameters
    ----------
    x : array_like
        Values, converted to float32.
    axis : int
        Axis along which 16 consecutive values form a block.

    Returns
    -------
    numpy.ndarray
        float32 array of the shape of ``x``; see :func:`nvfp4_encode`. A block holding a
        NaN or an Inf decodes to NaN throughout.
    """
    x = _as_f32(x)
    s_t, s_b, elements = nvfp4_encode(x, axis)
    return _from_blocks(elements * (s_b * s_t)[..., None], x, axis)


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
