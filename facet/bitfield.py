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

__all__ = ["put_fields", "get_fields", "load_fields", "or_fields", "join_fields", "split_fields",
           "join_factor"]

_U = np.uint64


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
    nw = nbits // 64 + 2
    pos = np.clip(np.asarray(pos), 0, nbits).astype(np.int64)  # an empty field may sit at B
    word = ((pos >> 6) + (np.arange(nblocks, dtype=np.int64) * nw)[:, None]).reshape(-1)
    sh = (pos & 63).astype(_U).reshape(-1)
    value = value.reshape(-1)
    lo = value << sh
    hi = (value >> (_U(63) - sh)) >> _U(1)     # value >> (64 - sh), 0 when sh == 0
    if word.size > 1 and not (word[1:] >= word[:-1]).all():
        order = np.argsort(word, kind="stable")
        word, lo, hi = word[order], lo[order], hi[order]
    # Fields sorted by word. Disjoint pieces OR by adding, so each run of equal words sums
    # to the difference of a running sum at its ends (exact modulo 2**64).
    out = np.zeros(nblocks * nw, _U)
    if word.size:
        last = np.flatnonzero(np.concatenate([word[1:] != word[:-1], [True]]))
        for piece, shift in ((lo, 0), (hi, 1)):
            run = np.cumsum(piece, dtype=_U)[last]
            run[1:] -= run[:-1].copy()
            out[word[last] + shift] |= run
    return out.reshape(nblocks, nw).view(np.uint8)[:, :nbits // 8].copy()


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


def _byte_windows(blocks):
    """``(buf, win)``: a copy of ``blocks`` padded by 8 bytes a block, and a flat uint64
    view of it at every byte: ``win[b * stride + j]`` is bytes j .. j + 7 of block b."""
    nblk, nbytes = blocks.shape
    buf = np.zeros((nblk, nbytes + 8), np.uint8)
    buf[:, :nbytes] = blocks
    return buf, np.ndarray((buf.size - 7,), "<u8", buf, strides=(1,))


def load_fields(blocks, pos):
    """At least the 57 bits from stream bit ``pos`` (blocks, k) of each block, bits outside
    the block read as 0: one unaligned 64-bit load a field, for fields of at most 57 bits
    (faster than :func:`get_fields`; the caller masks them to their widths)."""
    buf, win = _byte_windows(blocks)
    p = np.clip(pos, 0, 8 * blocks.shape[1])       # from the end on, the padding: zeros
    at = (p >> 3) + np.arange(len(buf))[:, None] * buf.shape[1]
    return (win[at] >> (p & 7).astype(np.uint64)) << np.minimum(p - pos, 63).astype(np.uint64)


def or_fields(blocks, pos, values):
    """A copy of ``blocks`` with each of ``values`` (blocks, k; at most 57 bits) ORed in at
    stream bit ``pos``, bits outside the block dropped: one unaligned 64-bit
    read-modify-write a field, a column at a time, as two fields of a block may share bytes
    (faster than :func:`put_fields`, and fields may overlap bits that are 0)."""
    buf, win = _byte_windows(blocks)
    end = 8 * blocks.shape[1]
    p = np.clip(pos, 0, end)                       # a field past the end: 0 into the padding
    v = (values >> np.minimum(p - pos, 63).astype(np.uint64)) << (p & 7).astype(np.uint64)
    v = np.where(pos < end, v, np.uint64(0)).T.copy()
    at = ((p >> 3) + np.arange(len(buf))[:, None] * buf.shape[1]).T.copy()
    for j in range(pos.shape[1]):
        win[at[j]] |= v[j]
    return buf[:, :blocks.shape[1]]


def join_factor(max_width, n):
    """How many adjacent fields of at most ``max_width`` bits :func:`join_fields` may join
    into one field of at most 64 bits: the largest power of two that fits, at most ``n``."""
    c = 1
    while 2 * c <= n and 2 * c * max_width <= 64:
        c *= 2
    return c


def _uint(bits):
    """Narrowest unsigned dtype of at least ``bits`` bits."""
    return np.dtype(next(f"<u{w}" for w in (1, 2, 4, 8) if bits <= 8 * w or w == 8))


def join_fields(value, width, factor, upper_first=True, max_width=64):
    """Join each run of ``factor`` adjacent fields into one field.

    Columns ``j`` and ``j + 1`` are adjacent: with ``upper_first`` field ``j`` lies directly
    above field ``j + 1`` (its LSB at the MSB side of field ``j + 1``), otherwise directly
    below it. Joined fields sit where the lowest field of their run sits. ``value`` must be
    masked to ``width``, fields at most ``max_width`` bits wide and the joined widths at most
    64 (see :func:`join_factor`); the joins run in the narrowest dtype that holds them.

    Returns ``(value, width)`` of shape ``(blocks, k / factor)``.
    """
    width = width.astype(np.uint8)
    mw = max_width
    while factor > 1:
        mw *= 2
        dt = _uint(mw)
        a, b = value[:, 0::2], value[:, 1::2]
        wa, wb = width[:, 0::2], width[:, 1::2]
        value = (a.astype(dt) << wb) | b if upper_first else (b.astype(dt) << wa) | a
        width = wa + wb
        factor //= 2
    return value, width


def split_fields(value, width, factor, upper_first=True, max_width=64, narrow=False):
    """Inverse of :func:`join_fields`: ``width`` holds the widths of the original fields.

    Returns the fields as uint64, or with ``narrow`` in the narrowest dtype that holds
    ``max_width`` bits.
    """
    pyramid = [width.astype(np.uint8)]
    f = factor
    while f > 1:
        pyramid.append(pyramid[-1][:, 0::2] + pyramid[-1][:, 1::2])
        f //= 2
    mw = max_width * factor
    for level in range(len(pyramid) - 2, -1, -1):
        mw //= 2
        dt = _uint(mw)
        w = pyramid[level]
        lw = w[:, 1::2] if upper_first else w[:, 0::2]   # width of the lower field of each pair
        # Each half is at most 32 bits wide, so neither shift reaches the word size.
        low = (value & ((np.ones(1, value.dtype) << lw) - 1)).astype(dt)
        high = (value >> lw).astype(dt)
        out = np.empty((value.shape[0], 2 * value.shape[1]), dt)
        out[:, 0::2], out[:, 1::2] = (high, low) if upper_first else (low, high)
        value = out
    return value if narrow else value.astype(_U, copy=False)
