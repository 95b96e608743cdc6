"""The prefix code of the `vlc` policy (docs/format.md, section 10.2) and the tables the
model derives from it once: codewords, the decoding trie, and the cost tables of the depth
search."""

import functools

import numpy as np

from .config import VLC_OFFSETS

__all__ = ["ZERO", "INF", "NAN", "NCLASS", "MODES", "DEPTHS", "codebook"]

#: Class indices besides the distances 0..15: a zero (or flushed) value, Inf, NaN.
ZERO, INF, NAN = 16, 17, 18
NCLASS = 19
MODES = 4          # modes 0..2: window offset VLC_OFFSETS[mode]; mode 3: offset 0 with specials
DEPTHS = 16


# -- the code -----------------------------------------------------------------------------

def _window_code(j):
    """Codewords (bit strings, first bit first) of window classes 0..j-1 and of ZERO."""
    if j == 1:
        return {0: "1"}, "0"
    if j == 2:
        return {1: "10", 0: "11"}, "0"
    if j == 3:
        return {1: "00", 2: "01", 0: "10"}, "11"
    code = {1: "00", 2: "01", 0: "100", 3: "101"}
    code.update({t: "1" * (t - 2) + "0" for t in range(4, j)})
    return code, "1" * (j - 2)


@functools.lru_cache(maxsize=None)
def codebook(mode, d):
    """The prefix code of one block: ``{class: codeword}`` for mode ``mode`` and depth ``d``.

    Classes are distances 0..d below the block maximum, ``ZERO`` and, in mode 3, ``INF``
    and ``NAN``. A mode whose offset exceeds the depth is read as mode 0 (only foreign blocks
    have one).
    """
    o = VLC_OFFSETS[mode] if mode < 3 else 0
    if o > d:
        return codebook(0, d)
    window, zero = _window_code(d + 1 - o)
    book = {o + t: c for t, c in window.items()}
    if o:
        c0 = book[o]
        book[o] = c0 + "0"
        eb = (o - 1).bit_length()
        for dist in range(o):  # values above the window: escape, then o-1-dist in eb bits
            book[dist] = c0 + "1" + format(o - 1 - dist, f"0{eb}b")
    if mode == 3:
        if d == 0:
            book, zero, special = {0: "01"}, "00", "1"
        else:
            special, zero = zero + "1", zero + "0"
        book[INF], book[NAN] = special + "0", special + "1"
    book[ZERO] = zero
    return book


@functools.lru_cache(maxsize=None)
def _tables():
    """Encoder tables ``(code, length)`` of shape (MODES, DEPTHS, NCLASS); distances beyond
    the depth take the ZERO codeword. Decoder trie ``(child, leaf)``: child[tree, node, bit]
    and the class of each leaf node (-1 inside the tree)."""
    code = np.zeros((MODES, DEPTHS, NCLASS), np.uint32)
    length = np.zeros((MODES, DEPTHS, NCLASS), np.uint8)
    tries = []
    for m in range(MODES):
        for d in range(DEPTHS):
            book = codebook(m, d)
            for c in range(NCLASS):
                w = book.get(c, book[ZERO] if c < DEPTHS else "")
                code[m, d, c] = int(w, 2) if w else 0
                length[m, d, c] = len(w)
            tries.append(book)
    nodes = 2 * max(len(b) for b in tries) + 2 * 16
    child = np.zeros((MODES * DEPTHS, nodes, 2), np.uint8)
    leaf = np.full((MODES * DEPTHS, nodes), -1, np.int8)
    for t, book in enumerate(tries):
        count = 1
        for c, w in book.items():
            node = 0
            for i, bit in enumerate(w):
                nxt = child[t, node, int(bit)]
                if nxt == 0:
                    nxt = child[t, node, int(bit)] = count
                    count += 1
                node = nxt
            leaf[t, node] = c
        # Branches no codeword uses end in a ZERO leaf, so every bit string decodes.
        for node in range(count):
            for bit in (0, 1):
                if leaf[t, node] < 0 and child[t, node, bit] == 0:
                    child[t, node, bit] = count
                    leaf[t, count] = ZERO
                    count += 1
        assert count <= nodes
    return code, length, child, leaf


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
    ``(mode * DEPTHS + d) * NCLASS + class``, and the decoder trie of every tree as doubled
    states ``2 * s``: ``step[2 * s + bit]`` is the next doubled state, leaves step to
    themselves, and ``leaf[2 * s]`` is a leaf's class. States inside a tree are numbered
    first, so a value is still inside its codeword when its doubled state is below
    ``2 * inner``. ``root[tree]`` is the doubled state of each tree's root."""
    code, length, child, leaf = _tables()
    trees, nodes = leaf.shape
    flat_leaf = leaf.reshape(-1)
    order = np.argsort(flat_leaf >= 0, kind="stable")     # inner states first
    new = np.empty_like(order)
    new[order] = np.arange(order.size)
    nxt = child.astype(np.int64) + (np.arange(trees) * nodes)[:, None, None]
    state = np.arange(trees * nodes).reshape(trees, nodes)
    nxt = np.where((leaf >= 0)[:, :, None], state[:, :, None], nxt).reshape(-1, 2)
    step = (2 * new[nxt[order]]).reshape(-1).astype(np.int32)
    cls = np.repeat(flat_leaf[order], 2)
    inner = int((flat_leaf < 0).sum())
    root = (2 * new[np.arange(trees) * nodes]).astype(np.int32)
    return code.reshape(-1).astype(np.uint16), length.reshape(-1), step, cls, 2 * inner, root


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
def _byte_tables():
    """pext and pdep of one byte, indexed by ``mask << 8 | data``, and byte popcounts."""
    mask = np.arange(256)[:, None]
    data = np.arange(256)[None, :]
    ext = np.zeros((256, 256), np.int64)
    dep = np.zeros((256, 256), np.int64)
    rank = np.zeros((256, 1), np.int64)
    for b in range(8):
        on = (mask >> b) & 1
        ext |= ((data >> b) & 1 & on) << rank
        dep |= ((data >> rank) & 1 & on) << b
        rank = rank + on
    return ext.astype(np.uint8).reshape(-1), dep.astype(np.uint8).reshape(-1), rank[:, 0].astype(np.uint8)


@functools.lru_cache(maxsize=None)
def _code_table(m):
    table, sig = _cost_table(m)
    _, length, _, _ = _tables()
    dist = np.arange(NCLASS)
    signed = ((dist < DEPTHS)[None, :] & sig) | (dist == INF) | (dist == NAN)
    return length.astype(np.int64) + signed[None]
