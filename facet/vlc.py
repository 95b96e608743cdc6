"""Bit-exact golden model of the `vlc` policy (docs/format.md, section 10).

One function per hardware stage, each vectorized over blocks:

encoder   ``fields -> base -> classes -> depth -> precision -> widths -> codewords -> pack``
decoder   ``header -> unpack_classes -> precision -> widths -> unpack_fields -> reconstruct``

Every value of a block is kept to the same absolute step, the finest that fits. A value's
exponent is coded by its distance below the block maximum in a short prefix code (its
*class*); the codes sit in the stream plane by plane, so a decoder can read all of them at
once, and each value's sign and mantissa bits follow from the top of the block down.
"""

import functools

import numpy as np

from .bitfield import get_fields, put_fields
from .config import VLC_OFFSETS, Config
from .model import fields, to_bits

__all__ = ["base", "classes", "depth", "precision", "widths", "codewords", "pack", "header",
           "unpack_classes", "unpack_fields", "reconstruct", "encode", "decode",
           "lossless_bits", "canonical", "codebook"]

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


# -- encoder stages -----------------------------------------------------------------------

def base(exp, cfg: Config):
    """The block base: the largest exponent field of a finite nonzero value (0 if none).

    Inf and NaN are left out, so they never lower the precision of their neighbours.
    """
    finite = (exp > 0) & (exp < cfg.fmt.exp_max)
    return np.where(finite, exp, 0).max(axis=1)


def classes(exp, man, base_, cfg: Config):
    """Each value's class: its distance below the base (0..15), ZERO, INF or NAN.

    Zeros, subnormals and values more than ``cfg.max_depth`` binades below the base are ZERO.
    """
    fmt = cfg.fmt
    dist = base_[:, None] - exp
    finite = (exp > 0) & (exp < fmt.exp_max)
    cls = np.where(finite & (dist <= cfg.max_depth), dist, ZERO)
    special = exp == fmt.exp_max
    cls = np.where(special, np.where(man != 0, NAN, INF), cls)
    return cls.astype(np.uint8)


def _histogram(cls):
    nb = cls.shape[0]
    idx = (np.arange(nb, dtype=np.int64)[:, None] * NCLASS + cls).ravel()
    return np.bincount(idx, minlength=nb * NCLASS).reshape(nb, NCLASS)


def depth(hist, cfg: Config):
    """The significance depth D and the code mode of each block.

    D is the largest distance present in the block (0 when none is) for which some mode fits
    the budget with mantissas at precision D - 1; the mode is the cheapest one there, the
    lowest on a tie. Mode 3 is the only mode of a block holding Inf or NaN, and modes 0..2
    the only ones of other blocks.

    Returns ``(d, mode, cost)``, cost being the header and class codes plus sign bits.
    """
    nb = hist.shape[0]
    table, _ = _cost_table(cfg.fmt.man_bits)
    total = cfg.header_bits + hist @ table.reshape(MODES * DEPTHS, NCLASS).T  # (nb, modes*depths)
    total = total.reshape(nb, MODES, DEPTHS)
    special = (hist[:, INF] + hist[:, NAN]) > 0
    offsets = np.array(VLC_OFFSETS + (0,))
    ok = (total <= cfg.budget) & (offsets[None, :, None] <= np.arange(DEPTHS))
    ok &= np.where(special[:, None], np.arange(MODES) == 3, np.arange(MODES) < 3)[:, :, None]
    present = hist[:, :DEPTHS] > 0
    present[:, 0] = True
    ok &= present[:, None, :]
    # Largest D first, then the smallest cost, then the lowest mode.
    key = np.where(ok, (np.arange(DEPTHS) << 40) - (total << 3) - np.arange(MODES)[:, None], -(1 << 62))
    best = key.reshape(nb, -1).argmax(axis=1)
    mode, d = np.divmod(best, DEPTHS)
    codes_only = cfg.header_bits + hist @ _code_table(cfg.fmt.man_bits).reshape(MODES * DEPTHS, NCLASS).T
    cost = codes_only.reshape(nb, MODES, DEPTHS)[np.arange(nb), mode, d]
    return d, mode, cost


@functools.lru_cache(maxsize=None)
def _code_table(m):
    table, sig = _cost_table(m)
    _, length, _, _ = _tables()
    dist = np.arange(NCLASS)
    signed = ((dist < DEPTHS)[None, :] & sig) | (dist == INF) | (dist == NAN)
    return length.astype(np.int64) + signed[None]


def precision(hist, d, cost, cfg: Config):
    """The precision P: the largest P in [D - 1, D + M] whose mantissas fit.

    A value at distance t <= D keeps clamp(P - t, 0, M) mantissa bits. Returns ``(p, left)``,
    ``left`` being the bits the block has over at P.
    """
    m = cfg.fmt.man_bits
    dist = np.arange(DEPTHS)
    sig = dist[None, :] <= d[:, None]
    p = d[:, None] - 1 + np.arange(m + 2)[None, :]                         # (nb, M+2)
    kept = np.clip(p[:, :, None] - dist[None, None, :], 0, m) * sig[:, None, :]
    total = cost[:, None] + (kept * hist[:, None, :DEPTHS]).sum(axis=2)
    fits = total <= cfg.budget
    t = fits.sum(axis=1) - 1   # total grows with P, so the fitting P form a prefix
    t = np.maximum(t, 0)
    return d - 1 + t, cfg.budget - total[np.arange(len(d)), t]


def widths(cls, d, p, left, cfg: Config):
    """Mantissa bits k_i of each value: clamp(P - t_i, 0, M) for a value at distance
    t_i <= D, then one more for each of the first ``left`` values that can take one (in
    element order: distance at most P and fewer than M bits)."""
    m = cfg.fmt.man_bits
    sig = (cls < DEPTHS) & (cls <= d[:, None])
    k = np.where(sig, np.clip(p[:, None] - cls.astype(np.int64), 0, m), 0)
    gain = sig & (cls <= p[:, None]) & (k < m)
    before = np.cumsum(gain, axis=1) - gain
    return k + (gain & (before < np.maximum(left, 0)[:, None]))


def codewords(cls, d, mode):
    """Each value's codeword and its length."""
    code, length, _, _ = _tables()
    return code[mode[:, None], d[:, None], cls], length[mode[:, None], d[:, None], cls]


def _signed(cls, d):
    return ((cls < DEPTHS) & (cls <= d[:, None])) | (cls == INF) | (cls == NAN)


def pack(base_, d, mode, code, length, signed, sign, man, k, cfg: Config):
    """Header, the class region plane by plane from bit H up, and each value's field (sign
    above its k_i leading mantissa bits) from bit B - 1 down, value 0 at the top."""
    nb, n = code.shape
    fmt = cfg.fmt
    e = fmt.exp_bits
    hdr = base_.astype(np.uint64) | (d.astype(np.uint64) << np.uint64(e)) \
        | (mode.astype(np.uint64) << np.uint64(e + 4))
    pos, val, wid = [np.zeros((nb, 1), np.int64)], [hdr[:, None]], [np.full((nb, 1), cfg.header_bits)]
    off = np.full(nb, cfg.header_bits, np.int64)
    ln = length.astype(np.int64)
    code = code.astype(np.uint64)
    for t in range(int(ln.max(initial=0))):
        # Plane t: bit t (first bit first) of every codeword longer than t, in element order.
        active = ln > t
        bit = (code >> np.maximum(ln - 1 - t, 0).astype(np.uint64)) & active
        rank = np.cumsum(active, axis=1, dtype=np.int64) - active
        plane = (bit << rank.astype(np.uint64)).sum(axis=1, dtype=np.uint64)
        cnt = active.sum(axis=1)
        pos.append(off[:, None].copy())
        val.append(plane[:, None])
        wid.append(cnt[:, None])
        off += cnt
    m = fmt.man_bits
    width = np.where(signed, 1 + k, 0)
    field = (sign.astype(np.uint64) << k.astype(np.uint64)) | (man.astype(np.uint64) >> (m - k).astype(np.uint64))
    top = np.cumsum(width, axis=1, dtype=np.int64)          # sigma_i + width_i
    pos.append(cfg.budget - top)
    val.append(np.where(signed, field, 0))
    wid.append(width)
    return put_fields(nb, cfg.budget, np.concatenate(pos, axis=1), np.concatenate(val, axis=1),
                      np.concatenate(wid, axis=1))


def _analyse(raw, cfg):
    sign, exp, man = fields(raw, cfg)
    b = base(exp, cfg)
    cls = classes(exp, man, b, cfg)
    hist = _histogram(cls)
    d, mode, cost = depth(hist, cfg)
    return sign, man, b, cls, hist, d, mode, cost


def encode(values, cfg: Config):
    """Compress ``values`` into ``(blocks, B/8)`` uint8 packed blocks."""
    sign, man, b, cls, hist, d, mode, cost = _analyse(to_bits(values, cfg), cfg)
    p, left = precision(hist, d, cost, cfg)
    k = widths(cls, d, p, left, cfg)
    code, length = codewords(cls, d, mode)
    return pack(b, d, mode, code, length, _signed(cls, d), sign, man, k, cfg)


def lossless_bits(values, cfg: Config):
    """Each block's size when every value it keeps is kept exactly: all distances present
    significant, every one of them with M mantissa bits, in the cheapest mode."""
    raw = to_bits(values, cfg)
    sign, exp, man = fields(raw, cfg)
    cls = classes(exp, man, base(exp, cfg), cfg)
    hist = _histogram(cls)
    present = hist[:, :DEPTHS] > 0
    dmax = np.where(present.any(axis=1), DEPTHS - 1 - present[:, ::-1].argmax(axis=1), 0)
    code_bits = cfg.header_bits + hist @ _code_table(cfg.fmt.man_bits).reshape(MODES * DEPTHS, NCLASS).T
    code_bits = code_bits.reshape(-1, MODES, DEPTHS)[np.arange(len(dmax)), :, dmax]   # (nb, modes)
    special = (hist[:, INF] + hist[:, NAN]) > 0
    offsets = np.array(VLC_OFFSETS + (0,))
    ok = (offsets[None, :] <= dmax[:, None]) & np.where(special[:, None], np.arange(MODES) == 3,
                                                        np.arange(MODES) < 3)
    nsig = hist[:, :DEPTHS].sum(axis=1)
    return np.where(ok, code_bits, np.iinfo(np.int64).max).min(axis=1) + cfg.fmt.man_bits * nsig


def canonical(values, cfg: Config):
    """What a lossless round trip returns: zeros, subnormals and values more than
    ``cfg.max_depth`` binades below the block maximum become +0, and a NaN becomes the
    canonical quiet NaN with its sign."""
    raw = to_bits(values, cfg)
    fmt = cfg.fmt
    sign, exp, man = fields(raw, cfg)
    cls = classes(exp, man, base(exp, cfg), cfg)
    man = np.where(cls == NAN, 1 << (fmt.man_bits - 1), man)
    out = (sign.astype(np.uint32) << (fmt.width - 1)) | (exp.astype(np.uint32) << fmt.man_bits) | man
    return np.where(cls == ZERO, 0, out).astype(fmt.dtype).reshape(-1)


# -- decoder stages -----------------------------------------------------------------------

def header(blocks, cfg: Config):
    """``(base, d, mode)`` from the first H bits."""
    e = cfg.fmt.exp_bits
    hdr = get_fields(blocks, np.zeros((len(blocks), 1)), np.full((len(blocks), 1), cfg.header_bits))[:, 0]
    return ((hdr & np.uint64((1 << e) - 1)).astype(np.int64), ((hdr >> np.uint64(e)) & np.uint64(15)).astype(np.int64),
            (hdr >> np.uint64(e + 4)).astype(np.int64) & 3)


def unpack_classes(blocks, d, mode, cfg: Config, words=None):
    """Walk every value's codeword through the block's code, one plane at a time.

    Returns ``(cls, end)``: each value's class and the stream bit after the class region.
    """
    _, _, child, leaf = _tables()
    nb, n = len(blocks), cfg.n
    tree = (mode * DEPTHS + d)[:, None]
    node = np.zeros((nb, n), np.int64)
    active = np.ones((nb, n), bool)
    off = np.full(nb, cfg.header_bits, np.int64)
    for _ in range(child.shape[1]):
        cnt = active.sum(axis=1)
        if not cnt.any():
            break
        plane = get_fields(blocks, off[:, None], np.minimum(cnt, 64)[:, None], words)[:, 0]
        rank = np.cumsum(active, axis=1, dtype=np.int64) - active
        bit = ((plane[:, None] >> rank.astype(np.uint64)) & np.uint64(1)).astype(np.int64)
        node = np.where(active, child[tree, node, bit], node)
        active = leaf[tree, node] < 0
        off += cnt
    return leaf[tree, node].astype(np.uint8), off


def unpack_fields(blocks, signed, k, cfg: Config, words=None):
    """Each value's sign and its k_i kept mantissa bits, from the top of the block down."""
    width = np.where(signed, 1 + k, 0)
    top = np.cumsum(width, axis=1, dtype=np.int64)
    field = get_fields(blocks, cfg.budget - top, width, words)
    sign = (field >> k.astype(np.uint64)) & np.uint64(1)
    kept = field & ((np.uint64(1) << k.astype(np.uint64)) - np.uint64(1))
    return np.where(signed, sign, 0).astype(np.uint8), kept


def reconstruct(base_, cls, d, k, sign, kept, cfg: Config):
    """Raw values: a kept mantissa gets its first cut bit set (the midpoint of what was cut);
    ZERO gives +0; a value whose exponent falls outside the normal range (foreign blocks
    only) gives a signed zero."""
    fmt = cfg.fmt
    m = fmt.man_bits
    out = np.dtype(fmt.dtype)
    dist = cls.astype(np.int64)
    sig = (dist < DEPTHS) & (dist <= d[:, None])
    e = base_[:, None] - dist
    k = k.astype(np.uint64)
    man = (kept << (np.uint64(m) - k)) | np.where(k < m, np.uint64(1) << (np.uint64(m - 1) - np.minimum(k, m - 1)), 0)
    mag = (e.astype(np.uint64) << np.uint64(m)) | man
    mag = np.where(sig & (e >= 1) & (e < fmt.exp_max), mag, 0)
    mag = np.where(dist == INF, fmt.exp_max << m, mag)
    mag = np.where(dist == NAN, (fmt.exp_max << m) | (1 << (m - 1)), mag)
    return ((sign.astype(np.uint64) << np.uint64(fmt.width - 1)) | mag).astype(out)


def decode(blocks, cfg: Config):
    """Decompress ``(blocks, B/8)`` uint8 blocks into raw values, shape ``(blocks * N,)``."""
    from .bitfield import _words
    words = _words(blocks, 3)
    b, d, mode = header(blocks, cfg)
    mode = np.where(np.array(VLC_OFFSETS + (0,))[mode] > d, 0, mode)
    cls, _ = unpack_classes(blocks, d, mode, cfg, words)
    hist = _histogram(cls)
    cost = (cfg.header_bits + hist @ _code_table(cfg.fmt.man_bits).reshape(MODES * DEPTHS, NCLASS).T)
    cost = cost.reshape(-1, MODES, DEPTHS)[np.arange(len(d)), mode, d]
    p, left = precision(hist, d, cost, cfg)
    k = widths(cls, d, p, left, cfg)
    sign, kept = unpack_fields(blocks, _signed(cls, d), k, cfg, words)
    return reconstruct(b, cls, d, k, sign, kept, cfg).reshape(-1)
