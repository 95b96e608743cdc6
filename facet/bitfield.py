"""Vectorized bit-field access to packed blocks.

A packed block is a little-endian bit string (docs/format.md, section 3): stream bit ``j`` is
bit ``j % 8`` of byte ``j // 8``. These helpers write and read many variable-width fields at
variable positions of many blocks at once, without a Python loop over blocks or fields.
Fields are at most 64 bits wide.
"""

import numpy as np

__all__ = ["put_fields", "get_fields"]

_U = np.uint64


def _pieces(pos, value):
    """Split each field into the three 32-bit words it can touch: ``(word, (lo, mid, hi))``."""
    word = (pos >> 5).astype(np.int64)
    sh = (pos & 31).astype(_U)
    value = value.astype(_U)
    lo = (value << sh) & _U(0xFFFFFFFF)
    # numpy leaves shifts by 64 undefined, so the sh == 0 cases are spelled out.
    mid = np.where(sh == 0, value >> _U(32), (value >> (_U(32) - sh)) & _U(0xFFFFFFFF))
    hi = np.where(sh == 0, _U(0), value >> (_U(64) - sh))
    return word, (lo, mid, hi)


def put_fields(nblocks, nbits, pos, value, width=None):
    """Blocks holding ``value`` at stream bit ``pos``, all other bits zero.

    Parameters
    ----------
    nblocks, nbits : int
        Number of blocks and their size in bits (a multiple of 8).
    pos, value : ndarray, shape ``(nblocks, k)``
        Field positions (LSB of the field) and field values. Fields must not overlap; a field
        of width 0 or value 0 writes nothing.
    width : ndarray or None
        Field widths; when given, each value is masked to its width first.

    Returns
    -------
    ndarray, shape ``(nblocks, nbits / 8)``, uint8
    """
    value = np.asarray(value).astype(_U)
    if width is not None:
        width = np.asarray(width).astype(_U)
        value = np.where(width >= _U(64), value, value & ((_U(1) << np.minimum(width, _U(63))) - _U(1)))
    nw = (nbits + 31) // 32 + 3
    word, parts = _pieces(np.asarray(pos), value)
    base = (np.arange(nblocks, dtype=np.int64) * nw)[:, None]
    out = np.zeros(nblocks * nw)
    for i, part in enumerate(parts):
        idx = np.clip(word + i, 0, nw - 1) + base
        # Disjoint fields: the sum of their pieces is their OR, exact in float64 (< 2**53).
        out += np.bincount(idx.ravel(), weights=part.ravel().astype(np.float64), minlength=nblocks * nw)
    words = out.astype(np.uint32).reshape(nblocks, nw)
    return words.view(np.uint8)[:, :nbits // 8].copy()


def _words(blocks, extra):
    """Blocks as uint64-widened 32-bit words with ``extra`` zero words of padding."""
    nb, nbytes = blocks.shape
    nw = (nbytes + 3) // 4
    buf = np.zeros((nb, 4 * (nw + extra)), np.uint8)
    buf[:, :nbytes] = blocks
    return buf.view("<u4").astype(_U)


def get_fields(blocks, pos, width, words=None):
    """Read fields of ``width`` bits at stream bit ``pos``; bits outside the block read as 0.

    Parameters
    ----------
    blocks : ndarray, shape ``(nblocks, nbytes)``, uint8
    pos, width : ndarray, shape ``(nblocks, k)``
        Positions may lie anywhere, negative or past the block.
    words : ndarray or None
        The result of a previous call's word view of the same blocks, to skip rebuilding it.

    Returns
    -------
    ndarray of uint64, shape ``(nblocks, k)``
    """
    pos = np.asarray(pos).astype(np.int64)
    width = np.asarray(width).astype(np.int64)
    nbits = blocks.shape[1] * 8
    w = _words(blocks, 3) if words is None else words
    # A field reaching below bit 0 is read from 0 and shifted into place; its missing low
    # bits are zero, as are bits past the end (the padding words).
    below = np.clip(-pos, 0, 64)
    p = np.clip(pos, 0, nbits)
    word = p >> 5
    sh = (p & 31).astype(_U)
    take = lambda i: np.take_along_axis(w, np.minimum(word + i, w.shape[1] - 1), axis=1)
    v = (take(0) >> sh) | (take(1) << (_U(32) - sh)) | np.where(sh == 0, _U(0), take(2) << (_U(64) - sh))
    v = np.where(below >= 64, _U(0), v << below.astype(_U))
    return np.where(width >= 64, v, v & ((_U(1) << np.clip(width, 0, 63).astype(_U)) - _U(1)))
