"""Bit-exact golden model of the `window` policy (docs/format.md, section 11).

One function per hardware stage, each vectorized over blocks:

encoder   ``fields -> base -> classes -> histogram -> offset -> codes -> pack``
decoder   ``header -> unpack_codes -> precision -> unpack_planes -> reconstruct``

Every value of a block is kept to the same absolute step 2^(b - bias - P), the finest that
fits, as block floating point does. A two-bit code per value says where its leading one lies
in a window of binades below the block maximum, so the leading zeros and the leading one of
most values cost nothing; with the code, a block's size is linear in P, so P is one division
by N and no search. The bits sit in bit-planes at fixed offsets, and only the few bits above
the window's last binade in two short lists at the top of the block.
"""

import numpy as np

from .config import Config
from .model import fields, to_bits

__all__ = ["OFFSETS", "WINDOW_TOP", "room", "far", "base", "classes", "histogram", "offset",
           "codes", "pack", "encoder_stages", "encode", "header", "unpack_codes", "precision",
           "unpack_planes", "reconstruct", "decode", "lossless_bits", "canonical"]

#: Window offsets o (the header's 2-bit field).
OFFSETS = 4
#: The decoder counts plane q as q - o + WINDOW_TOP (:func:`unpack_planes`): from plane
#: o - 3, the top of the window at the largest offset, so no stored plane counts below 0.
WINDOW_TOP = OFFSETS - 1


def room(cfg: Config):
    """R = B - H - 3N: the bits the planes share after the header, codes and signs."""
    return cfg.budget - cfg.header_bits - 3 * cfg.n


def far(cfg: Config):
    """The class of the values that store no bit: zeros, subnormals and values at least
    this far below the base (no block stores a plane past R div N + 6, as P <= (R + 5N) div N).
    Classes 0 .. far - 1 are distances, far + 1 is Inf and far + 2 NaN."""
    return room(cfg) // cfg.n + 7


def _special(cls, cfg):
    return cls > far(cfg)


# -- the code ------------------------------------------------------------------------------

def _c(o):
    """c_j(o) for codes j = 0..3: a value of code j stores the planes c_j < p <= P."""
    o = np.asarray(o, np.int64)
    return np.stack([np.where(o > 0, -1, 0), o + 1, o + 2, o + 2], axis=-1)


def _nb(o):
    """Planes c_0 + 1 .. o + 1 of a code-0 value, which only code-0 values store."""
    return o + 1 - _c(o)[..., 0]


def _code_of(cls, o):
    """Code of each class under offset ``o`` (broadcast): 0 at t <= o, 1 at o + 1,
    2 at o + 2, 3 else."""
    o = np.asarray(o)
    return np.where(cls <= o, 0, np.where(cls == o + 1, 1, np.where(cls == o + 2, 2, 3)))


def _size(counts, o, room, n):
    """``(p, left)`` at offset ``o`` from the counts of codes 0 and 1 (``counts[..., 0:2]``):
    the largest P whose planes fit in ``room`` bits, and the bits over.

    At P >= o + 2 every value stores P - c_j planes, so the size is N*P - S(o) and P is a
    division; below that only o = 0 is used, where P = 0 stores nothing and P = 1 stores one
    plane of each code-0 value.
    """
    c = _c(o)
    n0, n1 = counts[..., 0], counts[..., 1]
    s = c[..., 0] * n0 + c[..., 1] * n1 + c[..., 2] * (n - n0 - n1)
    v = room + s
    p, left = v // n, v % n
    low = v < (o + 2) * n
    p1 = n0 <= room
    p = np.where(low, p1.astype(np.int64), p)
    left = np.where(low, room - np.where(p1, n0, 0), left)
    return p, left, low


# -- encoder stages -----------------------------------------------------------------------

def base(exp, cfg: Config):
    """The block base b: the largest exponent field of a finite value (0 if none)."""
    return np.where(exp < cfg.fmt.exp_max, exp, 0).max(axis=1)


def classes(exp, man, base_, cfg: Config):
    """Each value's class: its distance t below the base while t < :func:`far`, else far;
    far for zeros and subnormals; far + 1 for Inf and far + 2 for NaN."""
    fmt = cfg.fmt
    dist = base_[:, None].astype(np.int16) - exp.astype(np.int16)
    f = far(cfg)
    cls = np.where((exp > 0) & (dist < f), dist, f).astype(np.uint8)
    special = exp == fmt.exp_max
    cls[special] = np.where(man[special] != 0, f + 2, f + 1)
    return cls


def histogram(cls, cfg: Config):
    """The number of values of classes 0 .. OFFSETS (the distances the offsets look at) in
    each block, and whether it holds Inf or NaN: ``(counts (blocks, OFFSETS + 1), special)``."""
    counts = np.stack([(cls == c).sum(axis=1) for c in range(OFFSETS + 1)], axis=1)
    return counts, _special(cls, cfg).any(axis=1)


def offset(hist, special, cfg: Config):
    """The window offset o, the precision P and the bits over of each block.

    Each o gives the largest P that fits and the bits left over; o > 0 is allowed where
    P >= o + 2. The block takes the allowed o with the largest (P, left), the lowest on a
    tie. A block holding Inf or NaN takes o = 0, P = -1: it stores no planes.

    Returns ``(o, p, left)``.
    """
    n = cfg.n
    r = room(cfg)
    cum = np.cumsum(hist, axis=1)
    o = np.arange(OFFSETS)
    n0 = cum[:, o]                                   # t <= o
    n1 = hist[:, o + 1]                              # t == o + 1
    p, left, low = _size(np.stack([n0, n1], axis=-1), o, r, n)
    key = np.where(low & (o > 0), -1, p * (2 * n) + left)
    best = key.argmax(axis=1)
    rows = np.arange(len(best))
    return (np.where(special, 0, best), np.where(special, -1, p[rows, best]),
            np.where(special, 0, left[rows, best]))


def codes(cls, o, cfg: Config):
    """Each value's two-bit code: by distance under offset ``o``; in a block with Inf or
    NaN, 0 for Inf, 1 for NaN and 3 for every finite value."""
    f = far(cfg)
    code = _code_of(cls, o[:, None])
    special = _special(cls, cfg).any(axis=1)
    code = np.where(special[:, None], np.where(cls == f + 1, 0, np.where(cls == f + 2, 1, 3)), code)
    return code.astype(np.uint8)


def _stored(code, o, p, left):
    """Per value: c_i, the first extra plane's owner flag, for the planes it stores:
    c_i < p' <= P, and P + 1 for the first ``left`` values with c_i <= P."""
    c = np.take_along_axis(_c(o), code.astype(np.intp), axis=1)
    elig = c <= p[:, None]
    rank = np.cumsum(elig, axis=1) - elig
    extra = elig & (rank < left[:, None])
    return c, p[:, None] + extra


def _full(o, top, cfg):
    """The full planes: ``(plane, stored, k)``, plane ``o + 3 + k`` of slot k (blocks, 1, K),
    whether each value stores it (blocks, N, K), and K, the N-bit slots from H + 3N to the
    end of the block (value i of slot k at stream bit H + 3N + kN + i)."""
    k = -(-(cfg.budget - cfg.header_bits - 3 * cfg.n) // cfg.n)
    plane = (o[:, None, None] + 3 + np.arange(k)).astype(np.int32)
    return plane, plane <= top[:, :, None], k


def _lists(code, o, c, top, cfg):
    """The two lists at the top of the block: ``(list0, pos1, ok1)``.

    ``list0`` is ``(rows, cols, plane0, pos0, ok0)`` for the code-0 values only: block and
    value index, planes c_0 + 1 + j, where the code-0 list puts them (from bit B - 1 down,
    n_b bits a value) and whether the value stores them there. ``pos1``, ``ok1`` (blocks, N):
    where plane o + 2 of a value of code 0 or 1 lies (below the code-0 list) and whether the
    value stores it there.
    """
    nb = _nb(o)
    is0, is01 = code == 0, code <= 1
    r0 = np.cumsum(is0, axis=1) - is0
    r01 = np.cumsum(is01, axis=1) - is01
    rows, cols = np.nonzero(is0)
    j = np.arange(OFFSETS + 1)                                         # n_b <= o + 2 <= 5
    plane0 = c[rows, cols][:, None] + 1 + j
    pos0 = (cfg.budget - 1 - r0[rows, cols] * nb[rows])[:, None] - j
    ok0 = (j < nb[rows][:, None]) & (plane0 <= top[rows, cols][:, None])
    pos1 = cfg.budget - 1 - (nb * is0.sum(axis=1))[:, None] - r01
    return (rows, cols, plane0, pos0, ok0), pos1, is01 & ((o + 2)[:, None] <= top)


def _significands(exp, man, base_, cfg):
    """``(sig, t)``: each normal value's significand (leading one and mantissa) one bit up,
    so that a shift clamped at 0 (a plane past the mantissa) reads its zero bit 0; 0 for
    other values; and its distance t below the base."""
    m = cfg.fmt.man_bits
    exp, man = exp.astype(np.int32), man.astype(np.int32)   # a significand has < 31 bits
    normal = (exp > 0) & (exp < cfg.fmt.exp_max)
    return np.where(normal, (man | (1 << m)) << 1, 0), base_[:, None].astype(np.int32) - exp


def _plane_bits(sig, dist, plane, cfg):
    """Bit of each value at absolute plane ``plane`` (broadcast against ``sig[..., None]``),
    from :func:`_significands`: bit M - j of the significand at j = plane - t, 0 <= j <= M."""
    shift = np.clip((cfg.fmt.man_bits + 1 + dist)[..., None] - plane, 0, 31)   # M - j + 1
    return ((sig[..., None] >> shift) & 1).astype(np.uint8)


def pack(base_, o, p, left, code, sign, exp, man, cfg: Config):
    """Header (b, o); planes h0 and h1 of the codes from bit H; the sign plane from H + 2N;
    the full planes slot by slot from H + 3N; the two lists from B - 1 down (over the full
    planes' unstored tail); zeros between."""
    nblk, n = code.shape
    e, h = cfg.fmt.exp_bits, cfg.header_bits
    first = h + 3 * n
    hdr = np.where(p < 0, cfg.fmt.exp_max, base_).astype(np.int64) | (o.astype(np.int64) << e)
    c, top = _stored(code, o, p, left)
    sig, t = _significands(exp, man, base_, cfg)
    plane, stored, k = _full(o, top, cfg)
    bits = np.zeros((nblk, first + k * n + 1), np.uint8)
    spare = bits.shape[1] - 1                       # where the bits a value does not store go
    bits[:, first:spare] = (_plane_bits(sig, t, plane, cfg) & stored).transpose(0, 2, 1).reshape(nblk, -1)
    (rows, cols, plane0, pos0, ok0), pos1, ok1 = _lists(code, o, c, top, cfg)
    bits.reshape(-1)[(rows[:, None] * bits.shape[1] + np.where(ok0, pos0, spare)).reshape(-1)] = \
        _plane_bits(sig[rows, cols], t[rows, cols], plane0, cfg).reshape(-1)
    np.put_along_axis(bits, np.where(ok1, pos1, spare),
                      _plane_bits(sig, t, (o + 2)[:, None, None], cfg)[:, :, 0], axis=1)
    bits[:, :h] = (hdr[:, None] >> np.arange(h)) & 1
    bits[:, h:h + n] = code & 1
    bits[:, h + n:h + 2 * n] = code >> 1
    bits[:, h + 2 * n:first] = sign
    return np.packbits(bits[:, :cfg.budget], axis=1, bitorder="little")


def encoder_stages(values, cfg: Config):
    """Run the encoder chain on ``values``; a dict of every stage's results: ``sign``, ``exp``,
    ``man``, ``base``, ``cls``, ``hist``, ``special``, ``o``, ``p``, ``left``, ``code`` and
    ``packed``."""
    sign, exp, man = fields(to_bits(values, cfg), cfg)
    b = base(exp, cfg)
    cls = classes(exp, man, b, cfg)
    hist, special = histogram(cls, cfg)
    o, p, left = offset(hist, special, cfg)
    code = codes(cls, o, cfg)
    packed = pack(b, o, p, left, code, sign, exp, man, cfg)
    return dict(sign=sign, exp=exp, man=man, base=b, cls=cls, hist=hist, special=special, o=o,
                p=p, left=left, code=code, packed=packed)


def encode(values, cfg: Config):
    """Compress ``values`` into ``(blocks, B/8)`` uint8 packed blocks."""
    return encoder_stages(values, cfg)["packed"]


def lossless_bits(values, cfg: Config):
    """Each block's size when every value keeps all M mantissa bits: P = M + the largest
    distance of a finite normal value, at the cheapest allowed offset; H + 3N for a block
    without one, or with Inf or NaN."""
    sign, exp, man = fields(to_bits(values, cfg), cfg)
    b = base(exp, cfg)
    cls = classes(exp, man, b, cfg)
    normal = (exp > 0) & (exp < cfg.fmt.exp_max)
    t = np.where(normal, b[:, None].astype(np.int64) - exp, 0).max(axis=1)
    want = cfg.fmt.man_bits + t
    o = np.arange(OFFSETS)
    code = _code_of(cls[:, :, None].astype(np.int64), o)              # (nb, N, 4)
    c = _c(o)[o, code]
    size = np.maximum(0, want[:, None, None] - c).sum(axis=1)          # (nb, 4)
    size = np.where((o > 0) & (want[:, None] < o + 2), np.iinfo(np.int64).max, size)
    # A block with Inf or NaN, or without a finite normal value, stores no planes.
    empty = _special(cls, cfg).any(axis=1) | ~normal.any(axis=1)
    fixed = cfg.header_bits + 3 * cfg.n
    return fixed + np.where(empty, 0, size.min(axis=1))


def canonical(values, cfg: Config):
    """What a lossless round trip returns: subnormals become zeros of their sign, a NaN the
    canonical quiet NaN with its sign, and every finite value of a block holding Inf or NaN
    a zero of its sign."""
    raw = to_bits(values, cfg)
    fmt = cfg.fmt
    sign, exp, man = fields(raw, cfg)
    cls = classes(exp, man, base(exp, cfg), cfg)
    special = _special(cls, cfg).any(axis=1)
    man = np.where(cls == far(cfg) + 2, 1 << (fmt.man_bits - 1), man)
    mag = (exp.astype(np.uint32) << fmt.man_bits) | man
    zero = (exp == 0) | (special[:, None] & (exp < fmt.exp_max))
    out = (sign.astype(np.uint32) << (fmt.width - 1)) | np.where(zero, 0, mag)
    return out.astype(fmt.dtype).reshape(-1)


# -- decoder stages -----------------------------------------------------------------------

def _bits(blocks):
    return np.unpackbits(blocks, axis=1, bitorder="little")


def header(bits, cfg: Config):
    """``(base, o)`` from the first H bits."""
    e = cfg.fmt.exp_bits
    w = (bits[:, :cfg.header_bits].astype(np.int64) << np.arange(cfg.header_bits)).sum(axis=1)
    return w & ((1 << e) - 1), w >> e


def unpack_codes(bits, cfg: Config):
    """Each value's code (planes h0, h1) and sign (the sign plane)."""
    n, h = cfg.n, cfg.header_bits
    code = bits[:, h:h + n] | (bits[:, h + n:h + 2 * n] << 1)
    return code, bits[:, h + 2 * n:h + 3 * n]


def precision(code, base_, o, cfg: Config):
    """``(o, p, left)`` of each block from its codes, as :func:`offset` chose them: an offset
    that is not allowed for these codes (only foreign blocks have one) reads as 0, and a
    block whose base is 2^E - 1 (it holds Inf or NaN) has P = -1."""
    n = cfg.n
    r = room(cfg)
    counts = np.stack([(code == 0).sum(axis=1), (code == 1).sum(axis=1)], axis=-1)
    _, _, low = _size(counts, o, r, n)
    o = np.where(low & (o > 0), 0, o)
    p, left, _ = _size(counts, o, r, n)
    special = base_ == cfg.fmt.exp_max
    return o, np.where(special, -1, p), np.where(special, 0, left)


#: The bit of :func:`unpack_planes`' integers that holds plane 0 while it builds them (they
#: then count planes from the window, three bits lower at most): every plane a block stores
#: is below T + 6 (P < (B + 5N) / N), and 2^46 is exact in a float64.
_W = 44


def unpack_planes(bits, code, o, p, left, cfg: Config):
    """Each value's stored planes as an integer, with the implied leading one of codes 1
    and 2, and of code 0 at o = 0; and the last plane P' each value stores. Both count
    planes from the window: plane q is at bit ``_W - (q - o + 3)`` and P' is given as
    P' - o + 3, so that a plane o + 3 + k of the full-plane slot k has the same place at
    every offset (the hardware needs no choice by o there)."""
    nblk, n = code.shape
    first = cfg.header_bits + 3 * n
    c, top = _stored(code, o, p, left)
    plane, stored, k = _full(o, top, cfg)
    region = np.zeros((nblk, k * n), np.int64)
    region[:, :bits.shape[1] - first] = bits[:, first:]
    mag = ((region.reshape(nblk, k, n).transpose(0, 2, 1) & stored) << (_W - plane)).sum(axis=2)
    (rows, cols, plane0, pos0, ok0), pos1, ok1 = _lists(code, o, c, top, cfg)
    last = bits.shape[1] - 1
    flat = rows[:, None] * bits.shape[1] + np.clip(np.where(ok0, pos0, 0), 0, last)
    b0 = bits.reshape(-1)[flat].astype(np.int64) & ok0
    mag[rows, cols] += (b0 << np.clip(_W - plane0, 0, 63)).sum(axis=1)  # one entry a value
    b1 = np.take_along_axis(bits, np.clip(np.where(ok1, pos1, 0), 0, last), axis=1).astype(np.int64) & ok1
    mag |= b1 << (_W - 2 - o)[:, None]
    lead = np.take_along_axis(np.stack([np.where(o > 0, -1, 0), o + 1, o + 2, np.full_like(o, -1)],
                                       axis=-1), code.astype(np.intp), axis=1)
    mag |= np.where(lead >= 0, np.int64(1) << (_W - lead).clip(0, 63), 0)
    rel = (WINDOW_TOP - o)[:, None]         # bits 0 .. 2 hold no plane: every plane < _W - 3
    return mag >> rel, top + rel


def reconstruct(base_, o, code, sign, mag, top, cfg: Config):
    """Raw values from :func:`unpack_planes`' planes, which count from the window (plane q
    as q - o + 3): the leading one of ``mag`` gives the exponent, the next M bits the
    mantissa, and a value that keeps fewer than M bits below its leading one gets its first
    cut bit set (the midpoint of what was cut). No leading one, or an exponent outside the
    normal range, gives a zero of the value's sign. In a block whose base is 2^E - 1, code 0
    is Inf, code 1 the canonical NaN and codes 2 and 3 zero, each with its sign."""
    fmt = cfg.fmt
    m = fmt.man_bits
    out = np.dtype(fmt.dtype)
    hi = np.floor(np.log2(np.maximum(mag, 1).astype(np.float64))).astype(np.int64)
    hi = np.where(mag > 0, hi, 0)
    t = _W - hi                             # the leading one's plane, counted from the window
    man = np.where(hi >= m, mag >> np.maximum(hi - m, 0), mag << np.maximum(m - hi, 0)) & ((1 << m) - 1)
    kept = np.clip(top - t, 0, m)
    man |= np.where(kept < m, np.int64(1) << np.maximum(m - 1 - kept, 0), 0)
    e = (base_.astype(np.int64) + WINDOW_TOP - o)[:, None] - t
    ok = (mag > 0) & (e >= 1) & (e < fmt.exp_max)
    val = np.where(ok, (e << m) | man, 0)
    special = (base_ == fmt.exp_max)[:, None]
    val = np.where(special, np.where(code == 0, fmt.exp_max << m,
                                     np.where(code == 1, (fmt.exp_max << m) | (1 << (m - 1)), 0)), val)
    return ((sign.astype(np.int64) << (fmt.width - 1)) | val).astype(out)


def decode(blocks, cfg: Config):
    """Decompress ``(blocks, B/8)`` uint8 blocks into raw values, shape ``(blocks * N,)``."""
    bits = _bits(blocks)
    b, o = header(bits, cfg)
    code, sign = unpack_codes(bits, cfg)
    o, p, left = precision(code, b, o, cfg)
    mag, top = unpack_planes(bits, code, o, p, left, cfg)
    return reconstruct(b, o, code, sign, mag, top, cfg).reshape(-1)
