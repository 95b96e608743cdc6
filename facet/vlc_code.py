"""The prefix code of the `vlc` policy (docs/format.md, section 10.2) and the tables the
model derives from it once: codewords, the head-and-tail decoding tables, and the cost
tables of the depth search."""

import functools

import numpy as np

from .config import VLC_OFFSETS

__all__ = ["ZERO", "INF", "NAN", "NCLASS", "MODES", "DEPTHS", "TAIL_MAX", "codebook"]

#: Class indices besides the distances 0..15: a zero (or flushed) value, Inf, NaN.
ZERO, INF, NAN = 16, 17, 18
NCLASS = 19
MODES = 4          # modes 0..2: window offset VLC_OFFSETS[mode]; mode 3: offset 0 with specials
DEPTHS = 16
#: The longest tail: head 11 in mode 3 at D = 15 has 15 classes, 4 bits.
TAIL_MAX = 4


# -- the code -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def codebook(mode, d):
    """The prefix code of one block: ``{class: codeword}`` for mode ``mode`` and depth ``d``,
    each codeword a string, first bit first: a two-bit head, then the tail, the class's index
    in its head's group, MSB first in the string (the stream stores the tail LSB first).

    Classes are distances 0..d below the block maximum, ``ZERO`` and, in mode 3, ``INF``
    and ``NAN``. A mode whose offset exceeds the depth is read as mode 0 (only foreign blocks
    have one).
    """
    o = VLC_OFFSETS[mode] if mode < 3 else 0
    if o > d:
        return codebook(0, d)
    if mode == 3 and d == 0:
        # Two bits a value, no tails: what keeps every block fitting at depth 0.
        return {ZERO: "00", 0: "01", INF: "10", NAN: "11"}
    j = d + 1 - o
    book = {}
    if j > 1:
        book[o + 1] = "00"
    if j > 2:
        book[o + 2] = "01"
    g10 = [o] + ([o + 3] if j > 3 else []) + list(range(o))
    g11 = list(range(o + 4, d + 1)) + [ZERO] + ([INF, NAN] if mode == 3 else [])
    for head, group in (("10", g10), ("11", g11)):
        f = (len(group) - 1).bit_length()
        for g, cls in enumerate(group):
            book[cls] = head + (format(g, f"0{f}b") if f else "")
    return book


def _split(word):
    """``(head, tail, f)`` of a codeword string: head h0 | h1 << 1, the tail index, its width."""
    return int(word[0]) | int(word[1]) << 1, int(word[2:] or "0", 2), len(word) - 2


@functools.lru_cache(maxsize=None)
def _tables():
    """Tables of every code ``mode * DEPTHS + d``.

    Encoder ``(code, length)``, shape (MODES, DEPTHS, NCLASS): code = h0 | h1 << 1 | g << 2,
    length = 2 + f; distances beyond the depth take the ZERO codeword, specials outside mode 3
    have none (length 0). Decoder ``(tail, cls)``: the tail width of each head, shape
    (MODES * DEPTHS, 4), and the class of each head and tail index, shape
    (MODES * DEPTHS, 4, 2**TAIL_MAX), ZERO on every branch no codeword uses."""
    code = np.zeros((MODES, DEPTHS, NCLASS), np.uint8)
    length = np.zeros((MODES, DEPTHS, NCLASS), np.uint8)
    tail = np.zeros((MODES * DEPTHS, 4), np.uint8)
    cls = np.full((MODES * DEPTHS, 4, 1 << TAIL_MAX), ZERO, np.uint8)
    for m in range(MODES):
        for d in range(DEPTHS):
            book = codebook(m, d)
            for c in range(NCLASS):
                w = book.get(c, book[ZERO] if c < DEPTHS else None)
                if w is not None:
                    head, g, f = _split(w)
                    code[m, d, c], length[m, d, c] = head | g << 2, 2 + f
            for c, w in book.items():
                head, g, f = _split(w)
                assert f <= TAIL_MAX and tail[m * DEPTHS + d, head] in (0, f)
                tail[m * DEPTHS + d, head] = f
                cls[m * DEPTHS + d, head, g] = c
    return code, length, tail, cls


@functools.lru_cache(maxsize=None)
def _cost_table(m):
    """Bits a value of each class costs at every (mode, depth), mantissa at P = depth - 1
    included: shape (MODES, DEPTHS, NCLASS), and the mantissa part alone."""
    _, length, _, _ = _tables()
    dist = np.arange(NCLASS)
    depth = np.arange(DEPTHS)[:, None]
    sig = (dist[None, :] < DEPTHS) & (dist[None, :] <= depth)
    mant = np.where(sig, np.clip(depth - 1 - dist[None, :], 0, m), 0)
    signed = sig | (dist[None, :] == INF) | (dist[None, :] == NAN)
    return length.astype(np.int64) + signed + mant[None], sig


@functools.lru_cache(maxsize=None)
def _code_lookup():
    """Flat tables for one-index lookups: codes and lengths by
    ``(mode * DEPTHS + d) * NCLASS + class``, tail widths by ``(mode * DEPTHS + d) * 4 + head``
    and classes by ``((mode * DEPTHS + d) * 4 + head) * 2**TAIL_MAX + tail``."""
    code, length, tail, cls = _tables()
    return code.reshape(-1), length.reshape(-1), tail.reshape(-1), cls.reshape(-1)


#: A penalty no fitting cost reaches, small enough to keep every key exact in float32.
_BIG = float(1 << 21)


@functools.lru_cache(maxsize=None)
def _cost_lookup(m, header_bits):
    """Tables of the depth search, one column per ``mode * DEPTHS + d``, as float32 (exact:
    small integers). The key of a column is ``D * 2**14 - 4 * cost - mode`` (cost: header,
    codes and signs, mantissas at D - 1), less ``_BIG`` for each rule it breaks. Returns
    ``(codes4, mant4, rank, codes, ramp)``: -4 x the code and sign bits of each class, -4 x
    the mantissa bits of each distance at each D, the rest of the key for blocks without
    and with Inf/NaN (2, columns), the code and sign bits as integers, and the mantissa
    bits ``clip(u + s, 0, M)`` of a value ``s`` binades below the depth at precision
    ``D + u``, ``u = -1 .. M``."""
    codes = _code_table(m).reshape(MODES * DEPTHS, NCLASS)
    t, dd = np.arange(DEPTHS)[:, None], np.arange(DEPTHS)[None, :]
    mant = np.where(t <= dd, np.clip(dd - 1 - t, 0, m), 0)                  # (distance, D)
    mode, d = np.divmod(np.arange(MODES * DEPTHS), DEPTHS)
    offsets = np.array(VLC_OFFSETS + (0,))[mode]
    rank = d * 2.0 ** 14 - 4 * header_bits - mode - _BIG * (offsets > d)
    rank = np.stack([rank - _BIG * (mode == 3), rank - _BIG * (mode < 3)])
    ramp = np.clip(np.arange(-1, m + 1)[None, :] + np.arange(DEPTHS)[:, None], 0, m).astype(np.float64)
    return ((-4 * codes.T).astype(np.float32), (-4 * mant).astype(np.float32), rank.astype(np.float32),
            codes, ramp)


@functools.lru_cache(maxsize=None)
def _code_table(m):
    """Code and sign bits a value of each class costs at every (mode, depth): shape
    (MODES, DEPTHS, NCLASS)."""
    _, sig = _cost_table(m)
    _, length, _, _ = _tables()
    dist = np.arange(NCLASS)
    signed = ((dist < DEPTHS)[None, :] & sig) | (dist == INF) | (dist == NAN)
    return length.astype(np.int64) + signed[None]
