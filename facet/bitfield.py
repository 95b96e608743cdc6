"""Vectorized bit-field access to packed blocks.

A packed block is a little-endian bit string (docs/format.md, section 3): stream bit ``j`` is
bit ``j % 8`` of byte ``j // 8``. These helpers write and read many variable-width fields at
variable positions of many blocks at once, without a Python loop over blocks or fields.
Fields are at most 64 bits wide.

Runs of adjacent fields (each one directly above or below the next) are first joined into a
few wide fields with :func:`join_fields`, so that placing them costs a handful of field
writes a block instead of one per value; :func:`split_fields` undoes the join after a read.
"""

import numpy as np

__all__ = ["put_fields", "get_fields", "join_fields", "split_fields", "join_factor"]

_U = np.uint64


def _pieces(pos, value):
    """Split each field into the three 32-bit words it can touch: ``(word, (lo, mid, hi))``."""
    word = (pos >> 5).astype(np.int64)
    sh = (pos & 31).astype(_U)
    value = value.astype(_U, copy=False)
    lo = (value << sh) & _U(0xFFFFFFFF)
    # value >> (32 - sh) >> 32 is value >> (64 - sh) without a shift by 64 when sh == 0.
    mid = value >> (_U(32) - sh)
    hi = mid >> _U(32)
    return word, (lo, mid & _U(0xFFFFFFFF), hi)


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
    value = np.asarray(value).astype(_U, copy=False)
    if width is not None:
        width = np.asarray(width).astype(_U)
        value = np.where(width >= _U(64), value, value & ((_U(1) << np.minimum(width, _U(63))) - _U(1)))
    nw = (nbits + 31) // 32 + 3
    pos = np.asarray(pos)
    word, parts = _pieces(pos, value)
    word += (np.arange(nblocks, dtype=np.int64) * nw)[:, None]
    np.clip(word, 0, nblocks * nw - 3, out=word)
    idx = np.concatenate([word.ravel(), word.ravel() + 1, word.ravel() + 2])
    weights = np.concatenate([p.ravel() for p in parts]).astype(np.float64)
    # Disjoint fields: the sum of their pieces is their OR, exact in float64 (< 2**53).
    out = np.bincount(idx, weights=weights, minlength=nblocks * nw)
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
    nb, nw = w.shape
    # A field reaching below bit 0 is read from 0 and shifted into place; its missing low
    # bits are zero, as are bits past the end (the padding words).
    below = np.clip(-pos, 0, 64)
    p = np.clip(pos, 0, nbits)
    flat = (p >> 5) + (np.arange(nb, dtype=np.int64) * nw)[:, None]
    sh = (p & 31).astype(_U)
    wf = w.reshape(-1)
    v = (wf[flat] >> sh) | (wf[flat + 1] << (_U(32) - sh)) | ((wf[flat + 2] << _U(31)) << (_U(33) - sh))
    if below.any():
        v = np.where(below >= 64, _U(0), v << below.astype(_U))
    return np.where(width >= 64, v, v & ((_U(1) << np.clip(width, 0, 63).astype(_U)) - _U(1)))


def join_factor(max_width, n):
    """How many adjacent fields of at most ``max_width`` bits :func:`join_fields` may join
    into one field of at most 64 bits: the largest power of two that fits, at most ``n``."""
    c = 1
    while 2 * c <= n and 2 * c * max_width <= 64:
        c *= 2
    return c


def join_fields(value, width, factor, upper_first=True):
    """Join each run of ``factor`` adjacent fields into one field.

    Columns ``j`` and ``j + 1`` are adjacent: with ``upper_first`` field ``j`` lies directly
    above field ``j + 1`` (its LSB at the MSB side of field ``j + 1``), otherwise directly
    below it. Joined fields sit where the lowest field of their run sits. ``value`` must be
    masked to ``width`` and the joined widths at most 64.

    Returns ``(value, width)`` of shape ``(blocks, k / factor)``.
    """
    value = value.astype(_U, copy=False)
    width = width.astype(_U, copy=False)
    while factor > 1:
        a, b = value[:, 0::2], value[:, 1::2]
        wa, wb = width[:, 0::2], width[:, 1::2]
        if upper_first:
            value = (a << wb) | b
        else:
            value = (b << wa) | a
        width = wa + wb
        factor //= 2
    return value, width


def split_fields(value, width, factor, upper_first=True):
    """Inverse of :func:`join_fields`: ``width`` holds the widths of the original fields."""
    width = width.astype(_U, copy=False)
    pyramid = [width]
    f = factor
    while f > 1:
        pyramid.append(pyramid[-1][:, 0::2] + pyramid[-1][:, 1::2])
        f //= 2
    value = value.astype(_U, copy=False)
    for level in range(len(pyramid) - 2, -1, -1):
        w = pyramid[level]
        wa, wb = w[:, 0::2], w[:, 1::2]
        lw = wb if upper_first else wa      # width of the lower field of each pair
        low = value & ((_U(1) << lw) - _U(1))  # each half is at most 32 bits wide
        high = value >> lw
        out = np.empty((value.shape[0], 2 * value.shape[1]), _U)
        out[:, 0::2], out[:, 1::2] = (high, low) if upper_first else (low, high)
        value = out
    return value
