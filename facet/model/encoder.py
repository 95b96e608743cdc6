"""Encoder stages of the golden model, shared by the ``plane`` and ``significance`` policies."""

import numpy as np

from ..config import Config
from .transpose import _code_dtype, _codes_to_words, _present_first, _words_to_codes

__all__ = ["fields", "base", "deltas", "planes", "from_planes", "mask", "pack"]


# -- encoder stages -----------------------------------------------------------------------

def fields(raw, cfg: Config):
    """Split raw values into sign, biased exponent and mantissa fields."""
    fmt = cfg.fmt
    raw = raw.astype(np.uint32, copy=False)
    sign = (raw >> (fmt.width - 1)).astype(np.uint8)
    exp = ((raw >> fmt.man_bits) & fmt.exp_max).astype(np.int32)
    man = raw & ((1 << fmt.man_bits) - 1)
    return sign, exp, man


def base(exp, cfg: Config):
    """The block base: its largest biased exponent."""
    return exp.max(axis=1)


def deltas(exp, man, base_, cfg: Config):
    """Exponent deltas with the flush rule and NaN canonicalization.

    Returns ``(delta, zero, man)``: a value is zero-marked when its exponent field is 0
    (zero or subnormal) or its delta does not fit in K bits; zero-marked values get delta 0
    and mantissa 0, and a NaN gets the canonical quiet mantissa ``100...0``.
    """
    fmt = cfg.fmt
    delta = base_[:, None] - exp
    zero = (exp == 0) | (delta >= (1 << cfg.k))
    nan = (exp == fmt.exp_max) & (man != 0)
    man = np.where(nan, 1 << (fmt.man_bits - 1), man)
    return np.where(zero, 0, delta), zero, np.where(zero, 0, man)


def planes(sign, delta, zero, man, cfg: Config):
    """Transpose the per-value fields into P bit-planes, in stream order.

    Stream order (zero, delta MSB..LSB, sign, mantissa MSB..LSB) is the reverse of the bit
    order of the code word ``man | sign << M | delta << M+1 | zero << M+K+1``, so one bit-matrix
    transpose and a reversal produce it.
    """
    m, k = cfg.fmt.man_bits, cfg.k
    cdt = _code_dtype(cfg.num_planes)
    codes = man.astype(cdt)
    codes |= sign.astype(cdt) << cdt.type(m)
    codes |= delta.astype(cdt) << cdt.type(m + 1)
    codes |= zero.astype(cdt) << cdt.type(m + k + 1)
    return _codes_to_words(codes, cfg.num_planes, cfg.n)[:, ::-1]


def from_planes(words, cfg: Config):
    """The inverse of :func:`planes`: ``(sign, delta, zero, man)`` of plane words.

    ``words`` may hold only the leading planes in stream order (the ``significance`` policy
    keeps zero, delta and sign as planes and the mantissas apart); the missing planes read as 0.
    """
    m, k, p = cfg.fmt.man_bits, cfg.k, words.shape[1]
    cdt = _code_dtype(cfg.num_planes)
    codes = _words_to_codes(np.ascontiguousarray(words[:, ::-1]), cfg.n).astype(cdt)
    codes <<= cdt.type(cfg.num_planes - p)  # the planes given are the top bits of the code
    sign = ((codes >> m) & 1).astype(np.uint8)
    delta = ((codes >> (m + 1)) & ((1 << k) - 1)).astype(np.int32)
    zero = (codes >> (m + k + 1)).astype(bool)
    return sign, delta, zero, (codes & ((1 << m) - 1)).astype(np.uint32)


def mask(words):
    """Presence mask: True for every plane that holds a one."""
    return words != 0


def pack(base_, present, words, cfg: Config, policy_field=None):
    """Concatenate header and present planes in stream order and cut at B bits.

    Returns the packed blocks as ``(blocks, B/8)`` uint8, stream bit ``j`` at bit ``j % 8``
    of byte ``j // 8``.
    """
    nb, p = words.shape
    n, h = cfg.n, cfg.header_bits
    # Absent planes are all-zero, so scattering present planes to their rank and leaving
    # zeros behind yields the concatenation followed by zero padding.
    weights = np.uint64(1) << np.arange(p, dtype=np.uint64)
    mask_int = present.astype(np.uint64) @ weights
    region = np.take_along_axis(words, _present_first(present, mask_int), axis=1)

    hdr = base_.astype(np.uint64) | (mask_int << np.uint64(cfg.fmt.exp_bits))
    if policy_field is not None:
        hdr |= policy_field.astype(np.uint64) << np.uint64(cfg.fmt.exp_bits + p)

    q, s = divmod(h, 8)
    nbytes = cfg.budget_bytes
    keep = nbytes - q  # region bytes that can reach the block
    rb = region.view(np.uint8)[:, :keep].astype(np.uint16) << s
    out = np.zeros((nb, max(nbytes, 8) + 1), np.uint8)
    out[:, q:q + rb.shape[1]] |= (rb & 0xFF).astype(np.uint8)
    out[:, q + 1:q + 1 + rb.shape[1]] |= (rb >> 8).astype(np.uint8)
    out[:, :8] |= hdr.astype("<u8").view(np.uint8).reshape(nb, 8)
    return out[:, :nbytes]
