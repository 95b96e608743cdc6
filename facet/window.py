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

__all__ = ["OFFSETS", "room", "far", "base", "classes", "histogram", "offset", "codes",
           "pack", "encoder_stages", "encode", "header", "unpack_codes", "precision",
           "unpack_planes", "reconstruct", "decode", "lossless_bits", "canonical"]

#: Window offsets o (the header's 2-bit field).
OFFSETS = 4


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


def _positions(code, o, p, c, top, cfg):
    """Stream position of each value's bit of plane ``c + 1 + r`` for r = 0..R - 1: shape
    (blocks, N, R), where ``top`` (blocks, N) is the last plane each value stores.

    Planes o + 3 .. (full planes, every value) from H + 3N up, plane by plane; the planes
    c_0 + 1 .. o + 1 of code-0 values (nb each) from bit B - 1 down, value by value; below
    them plane o + 2 of the values of codes 0 and 1, one bit each.
    """
    n, h, bud = cfg.n, cfg.header_bits, cfg.budget
    nb = _nb(o)[:, None]
    is0 = code == 0
    is01 = code <= 1
    r0 = np.cumsum(is0, axis=1) - is0
    r01 = np.cumsum(is01, axis=1) - is01
    n0 = is0.sum(axis=1)[:, None]
    span = int((top - c).max()) if top.size else 0
    plane = c[:, :, None] + 1 + np.arange(max(span, 0))                  # (nb, N, R)
    oo = o[:, None, None]
    full = h + 3 * n + (plane - oo - 3) * n + np.arange(n)[None, :, None]
    ext_b = bud - 1 - (r0[:, :, None] * nb[:, :, None] + (plane - c[:, :, None] - 1))
    ext_a = bud - 1 - nb[:, :, None] * n0[:, :, None] - r01[:, :, None]
    pos = np.where(plane >= oo + 3, full, np.where(plane == oo + 2, ext_a, ext_b))
    return plane, pos, plane <= top[:, :, None]


def _plane_bits(exp, man, base_, plane, cfg):
    """Bit of each value at absolute plane ``plane`` (weight 2^(b - bias - plane))."""
    m = cfg.fmt.man_bits
    normal = (exp > 0) & (exp < cfg.fmt.exp_max)
    t = (base_[:, None].astype(np.int64) - exp.astype(np.int64))[:, :, None]
    j = plane - t
    bit = (man.astype(np.int64)[:, :, None] >> np.clip(m - j, 0, 63)) & 1
    bit = np.where(j == 0, 1, np.where((j > 0) & (j <= m), bit, 0))
    return np.where(normal[:, :, None], bit, 0)


def pack(base_, o, p, left, code, sign, exp, man, cfg: Config):
    """Header (b, o); planes h0 and h1 of the codes from bit H; the sign plane from H + 2N;
    the planes each value stores (:func:`_positions`); zeros between."""
    nb, n = code.shape
    e = cfg.fmt.exp_bits
    special = p < 0
    hdr = np.where(special, cfg.fmt.exp_max, base_).astype(np.int64) | (o.astype(np.int64) << e)
    bits = np.zeros((nb, cfg.budget), np.uint8)
    h = cfg.header_bits
    bits[:, :h] = (hdr[:, None] >> np.arange(h)) & 1
    bits[:, h:h + n] = code & 1
    bits[:, h + n:h + 2 * n] = code >> 1
    bits[:, h + 2 * n:h + 3 * n] = sign
    c, top = _stored(code, o, p, left)
    plane, pos, ok = _positions(code, o, p, c, top, cfg)
    val = _plane_bits(exp, man, base_, plane, cfg)
    rows = np.broadcast_to(np.arange(nb)[:, None, None], pos.shape)
    bits[rows[ok], pos[ok]] = val[ok]
    return np.packbits(bits, axis=1, bitorder="little")


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


#: Absolute plane of bit 0 of :func:`unpack_planes`' integers: every plane a block stores is
#: below T + 6 (P < (B + 5N) / N), and 2^46 is exact in a float64.
_W = 44


def unpack_planes(bits, code, o, p, left, cfg: Config):
    """Each value's stored planes as an integer (plane q at bit ``_W - q``), with the
    implied leading one of codes 1 and 2, and of code 0 at o = 0; and the last plane P'
    each value stores."""
    nb, n = code.shape
    c, top = _stored(code, o, p, left)
    plane, pos, ok = _positions(code, o, p, c, top, cfg)
    rows = np.broadcast_to(np.arange(nb)[:, None, None], pos.shape)
    bit = np.zeros(pos.shape, np.int64)
    bit[ok] = bits[rows[ok], pos[ok]]
    mag = (bit << (_W - plane).clip(0, 63)).sum(axis=2)
    lead = np.take_along_axis(np.stack([np.where(o > 0, -1, 0), o + 1, o + 2, np.full_like(o, -1)],
                                       axis=-1), code.astype(np.intp), axis=1)
    mag |= np.where(lead >= 0, np.int64(1) << (_W - lead).clip(0, 63), 0)
    return mag, top


def reconstruct(base_, code, sign, mag, top, cfg: Config):
    """Raw values: the leading one of ``mag`` gives the exponent, the next M bits the
    mantissa, and a value that keeps fewer than M bits below its leading one gets its first
    cut bit set (the midpoint of what was cut). No leading one, or an exponent outside the
    normal range, gives a zero of the value's sign. In a block whose base is 2^E - 1, code 0
    is Inf, code 1 the canonical NaN and codes 2 and 3 zero, each with its sign."""
    fmt = cfg.fmt
    m = fmt.man_bits
    out = np.dtype(fmt.dtype)
    hi = np.floor(np.log2(np.maximum(mag, 1).astype(np.float64))).astype(np.int64)
    hi = np.where(mag > 0, hi, 0)
    t = _W - hi                                                       # plane of the leading one
    man = np.where(hi >= m, mag >> np.maximum(hi - m, 0), mag << np.maximum(m - hi, 0)) & ((1 << m) - 1)
    kept = np.clip(top - t, 0, m)
    man |= np.where(kept < m, np.int64(1) << np.maximum(m - 1 - kept, 0), 0)
    e = base_[:, None] - t
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
    return reconstruct(b, code, sign, mag, top, cfg).reshape(-1)
