"""Bit-matrix transposes between per-value code words and N-bit plane words, and the plane
compaction order of Pack. Shared by both policies and by :mod:`facet.vlc`."""

import functools

import numpy as np

__all__ = []

WORD = {8: np.dtype("<u1"), 16: np.dtype("<u2"), 32: np.dtype("<u4"), 64: np.dtype("<u8")}


# -- bit-matrix transpose -----------------------------------------------------------------

def _transpose8(x):
    """Transpose each uint64 as an 8x8 bit matrix: bit ``8r + c`` moves to bit ``8c + r``."""
    x = x.copy()
    for shift, m in ((7, 0x00AA00AA00AA00AA), (14, 0x0000CCCC0000CCCC), (28, 0x00000000F0F0F0F0)):
        s, m = np.uint64(shift), np.uint64(m)
        t = (x ^ (x >> s)) & m
        x ^= t ^ (t << s)
    return x


def _code_dtype(nbits):
    """Narrowest unsigned dtype holding a code word of ``nbits`` bits."""
    return next(np.dtype(f"<u{w}") for w in (2, 4, 8) if nbits <= 8 * w)


def _codes_to_words(codes, nbits, n):
    """(blocks, N) codes -> (blocks, nbits) words, word ``c`` = bit ``c`` of every code."""
    nb, cw = codes.shape[0], codes.dtype.itemsize
    lanes, groups = -(-nbits // 8), n // 8
    by = codes.view(np.uint8).reshape(nb, groups, 8, cw)[..., :lanes]
    x = np.ascontiguousarray(by.transpose(0, 3, 1, 2)).view("<u8")[..., 0]
    y = _transpose8(x).view(np.uint8).reshape(nb, lanes, groups, 8)
    words = np.ascontiguousarray(y.transpose(0, 1, 3, 2)).view(WORD[n])
    return words.reshape(nb, lanes * 8)[:, :nbits]


def _words_to_codes(words, n):
    """Inverse of :func:`_codes_to_words`."""
    nb, nbits = words.shape
    lanes, groups = -(-nbits // 8), n // 8
    cdt = _code_dtype(nbits)
    padded = np.zeros((nb, lanes * 8), WORD[n])
    padded[:, :nbits] = words
    by = padded.view(np.uint8).reshape(nb, lanes, 8, groups)
    x = np.ascontiguousarray(by.transpose(0, 1, 3, 2)).view("<u8")[..., 0]
    y = _transpose8(x).view(np.uint8).reshape(nb, lanes, groups, 8)
    codes = np.zeros((nb, groups, 8, cdt.itemsize), np.uint8)
    codes[..., :lanes] = y.transpose(0, 2, 3, 1)
    return codes.view(cdt).reshape(nb, n)


@functools.lru_cache(maxsize=None)
def _compaction_table(p):
    """For every P-bit presence mask, the plane order with present planes first."""
    masks = np.arange(1 << p, dtype=np.uint32)
    absent = ((masks[:, None] >> np.arange(p, dtype=np.uint32)) & 1) == 0
    return np.argsort(absent, axis=1, kind="stable").astype(np.uint8)


def _present_first(present, mask_int):
    """Per block, the plane order that moves present planes to the front (stable)."""
    if present.shape[1] <= 16:
        return _compaction_table(present.shape[1])[mask_int]
    return np.argsort(~present, axis=1, kind="stable")
