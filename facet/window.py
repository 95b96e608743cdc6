"""Bit-exact golden model of the `window` policy (docs/format.md, section 11).

One function per hardware stage, each vectorized over blocks:

encoder   ``fields -> base -> classes -> histogram -> offset -> codes -> pack``
decoder   ``header -> unpack_codes -> precision -> unpack_planes -> reconstruct``, and
          ``list_ranks`` beside ``precision``: the hardware's rank networks need each value's
          place in the top lists, which :func:`unpack_planes` finds by summing field widths

Every value of a block is kept to the same absolute step 2^(b - bias - P), the finest that
fits, as block floating point does. A two-bit code per value says where its leading one lies
in a window of binades below the block maximum, so the leading zeros and the leading one of
most values cost nothing; with the code, a block's size is linear in P, so P is one division
by N and no search. The bits sit in bit-planes at fixed offsets, and only the few bits above
the window's last binade in two short lists at the top of the block.
"""

import functools

import numpy as np

from .bitfield import join_fields, load_fields, or_fields, split_fields
from .config import Config
from .model import fields, to_bits
from .model.transpose import WORD as _WORD, _code_dtype, _codes_to_words, _words_to_codes
from .window_layout import OFFSETS, WINDOW_TOP, far, room

__all__ = ["OFFSETS", "WINDOW_TOP", "room", "far", "base", "classes", "histogram", "offset",
           "codes", "pack", "encoder_stages", "encode", "header", "unpack_codes", "precision",
           "list_ranks", "unpack_planes", "reconstruct", "decode", "lossless_bits", "canonical"]

#: The planes a code-0 value stores in the top list, n_b, at o = 0 .. 3.
_NB = (1, 3, 4, 5)
#: The list fields (at most 5 bits each) joined into one field of at most 40 bits.
_JOIN = 8
_NB_OF = np.array(_NB, np.uint8)
_NB_MASK = (np.uint8(1) << _NB_OF) - np.uint8(1)


def _special(cls, cfg):
    return cls > far(cfg)


# -- the code ------------------------------------------------------------------------------

def _c(o):
    """c_j(o) for codes j = 0..3: a value of code j stores the planes c_j < p <= P."""
    o = np.asarray(o, np.int64)
    return np.stack([np.where(o > 0, -1, 0), o + 1, o + 2, o + 2], axis=-1)


def _code_of(cls, o):
    """Code of each class under offset ``o`` (broadcast): 0 at t <= o, 1 at o + 1,
    2 at o + 2, 3 else."""
    o = np.asarray(o)
    return np.where(cls <= o, 0, np.where(cls == o + 1, 1, np.where(cls == o + 2, 2, 3)))


def _size(n0, n1, o, room, n):
    """``(p, left, low)`` at offset ``o`` from the counts of codes 0 and 1 (arrays of one
    shape, or ``o`` a scalar): the largest P whose planes fit in ``room`` bits, the bits
    over, and whether P < o + 2.

    At P >= o + 2 every value stores P - c_j planes, so the size is N*P - S(o) and P is a
    division (a shift: N is a power of two); below that only o = 0 is used, where P = 0
    stores nothing and P = 1 stores one plane of each code-0 value.
    """
    s = (o + 2) * n - (o + 2 + (o > 0)) * n0 - n1             # S(o), the sum of the c_j
    v = room + s
    p, left = v >> (n.bit_length() - 1), v & (n - 1)
    low = v < (o + 2) * n
    p1 = n0 <= room
    return np.where(low, p1, p), np.where(low, room - p1 * n0, left), low


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
    counts = np.stack([_count(cls == c) for c in range(OFFSETS + 1)], axis=1)
    return counts, _count(_special(cls, cfg)) > 0


def offset(hist, special, cfg: Config):
    """The window offset o, the precision P and the bits over of each block.

    Each o gives the largest P that fits and the bits left over; o > 0 is allowed where
    P >= o + 2. The block takes the allowed o with the largest (P, left), the lowest on a
    tie. A block holding Inf or NaN takes o = 0, P = -1: it stores no planes.

    Returns ``(o, p, left)``.
    """
    n, r = cfg.n, room(cfg)
    counts = np.ascontiguousarray(hist.T)                 # a row per distance: long rows
    n0 = counts[0]
    best_o, best_p, best_left = np.zeros_like(n0), *_size(n0, counts[1], 0, r, n)[:2]
    for o in range(1, OFFSETS):                          # the four offsets of the format
        n0 = n0 + counts[o]
        p, left, low = _size(n0, counts[o + 1], o, r, n)
        better = ~low & ((p > best_p) | ((p == best_p) & (left > best_left)))
        best_o, best_p, best_left = (np.where(better, o, best_o), np.where(better, p, best_p),
                                     np.where(better, left, best_left))
    return np.where(special, 0, best_o), np.where(special, -1, best_p), np.where(special, 0, best_left)


def codes(cls, o, cfg: Config):
    """Each value's two-bit code: by distance under offset ``o``; in a block with Inf or
    NaN, 0 for Inf, 1 for NaN and 3 for every finite value."""
    f = far(cfg)
    o_ = _per_value(o, cls.shape[1], np.uint8)
    code = np.minimum(np.maximum(cls, o_) - o_, 3)          # 0 at t <= o, 1, 2, then 3
    special = np.flatnonzero(_count(_special(cls, cfg)))    # (few) blocks with Inf or NaN
    c = cls[special]
    code[special] = np.where(c == f + 1, 0, np.where(c == f + 2, 1, 3))
    return code


def _stored(code, o, p, left):
    """What each value stores (blocks, N): ``(top, keep0, ok1)``, the last plane P' of the
    planes c_j < p' <= P' it stores (P, or P + 1 for the first ``left`` values that store
    any), the bits of its code-0 list word it stores (planes c_0 + 1 .. o + 1, the first at
    bit n_b - 1; none for other codes), and whether it stores plane o + 2 (codes 0, 1)."""
    n = code.shape[1]
    p8 = np.asarray(p).astype(np.int8)
    o8 = np.asarray(o).astype(np.int8)
    # At P >= o + 2 every value stores all its planes above P: the first L values store
    # P + 1. Only other blocks (o = 0 and P <= 1, or P = -1) need the rule value by value.
    top = _per_value(p8, n, np.int8) + (np.arange(n) < np.asarray(left)[:, None])
    keep0 = (code == 0) * _per_value(_NB_MASK[o], n, np.uint8)
    ok1 = (code <= 1).view(np.uint8)
    odd = np.flatnonzero(p8 < o8 + 2)
    if odd.size:
        c, po, oo = code[odd], p8[odd, None], o8[odd, None]
        cj = np.where(c == 0, -(oo > 0).astype(np.int8), oo + 1 + (c >= 2))
        elig = cj <= po
        top[odd] = po + (elig & (_rank(elig) < np.asarray(left)[odd, None]))
        cut = np.clip(oo + 1 - top[odd], 0, 7).astype(np.uint8)      # planes past P'
        keep0[odd] = (keep0[odd] >> cut) << cut
        ok1[odd] = ok1[odd] & (oo + 2 <= top[odd])
    return top, keep0, ok1


def full_slots(cfg: Config):
    """K: the N-bit plane slots from H + 3N to the end of the block (the last one possibly
    cut at B); slot k holds plane o + 3 + k, value i at stream bit H + 3N + kN + i."""
    return -(-room(cfg) // cfg.n)


# -- vectorization helpers ----------------------------------------------------------------
# NumPy is several times slower on (blocks, 1) columns broadcast against (blocks, N) than on
# arrays of one shape, and on reductions along a short last axis than on a matrix product:
# per-block quantities are repeated once per value, and counts and ranks are products with
# a vector or a triangular matrix of ones (exact in float32, N <= 64).

def _per_value(x, n, dtype):
    """A per-block quantity (blocks,) repeated for each of the N values (blocks, N)."""
    return np.repeat(np.asarray(x).astype(dtype), n).reshape(-1, n)


def _count(mask):
    """Per block, how many of its values ``mask`` (blocks, N) holds."""
    return (mask.astype(np.float32) @ np.ones(mask.shape[1], np.float32)).astype(np.int64)


@functools.cache
def _before(n, inclusive=False):
    """The matrix whose product counts, per column, the columns before it (or up to it)."""
    return np.triu(np.ones((n, n), np.float32), 0 if inclusive else 1)


def _rank(mask):
    """Per value, how many values before it in its block ``mask`` holds."""
    return (mask.astype(np.float32) @ _before(mask.shape[1])).astype(np.int16)


# -- pack ---------------------------------------------------------------------------------

def _list_fields(code, o, cfg):
    """``(widths, at, joined)``: the widths of the two lists' fields (blocks, 2N), the code-0
    words then the plane-(o + 2) bits, in stream order from B - 1 down; the positions and
    widths of the groups of eight adjacent fields that are written as one (blocks, 2N / 8)."""
    n = cfg.n
    widths = np.concatenate([(code == 0) * _per_value(_NB_OF[o], n, np.uint8), code <= 1],
                            axis=1, dtype=np.uint8)
    # The sum of each eight uint8 (< 256) by one product: lane 7 of v * 0x0101... .
    joined = (widths.view(np.uint64) * np.uint64(0x0101010101010101)) >> np.uint64(56)
    at = cfg.budget - (joined.astype(np.float32) @ _before(joined.shape[1], True)).astype(np.int64)
    return widths, at, joined


def _word_dtype(cfg: Config):
    """The unsigned dtype of :func:`_significands`: the significand (M + 1 bits) shifted up
    by K + 5, so that the K full planes and the six above them are right shifts of it."""
    # Bit 31 stays clear, so that the shift of a value far below the base (clamped at 31)
    # clears it.
    return np.dtype(np.uint32) if cfg.fmt.man_bits + full_slots(cfg) + 6 < 32 else np.dtype(np.uint64)


def _significands(exp, man, base_, cfg):
    """``(sig, t)``: each normal value's significand (leading one and mantissa), 0 for
    zeros, subnormals, Inf and NaN, shifted up by K + 5; its distance t below the base
    (int16)."""
    dt = _word_dtype(cfg)
    normal = (exp > 0) & (exp < cfg.fmt.exp_max)
    sig = (man.astype(dt) | dt.type(1 << cfg.fmt.man_bits)) * normal
    t = _per_value(base_, exp.shape[1], np.int16) - exp.astype(np.int16)
    return sig << dt.type(full_slots(cfg) + 5), t


def _planes(sig, t, o, cfg):
    """Planes o - 3 .. o + 2 + K of values of :func:`_significands` ``(sig, t)``, ``o`` per
    value: a word whose bit ``K + 5 - j`` is plane ``o - 3 + j``, the first plane most
    significant. Bits 0 .. K - 1 are the full planes (slot k at bit K - 1 - k), bit K is
    plane o + 2, and bits K + 1 .. K + n_b a code-0 value's list word."""
    s = t - (o - cfg.fmt.man_bits - 3)                  # >= 0 for a normal value
    # A negative shift (zeros, Inf and NaN, whose sig is 0) wraps to a large one.
    right = np.minimum(s.astype(np.uint16), 8 * sig.dtype.itemsize - 1).astype(sig.dtype)
    return sig >> right


def _stored_slots(full, o, top, k):
    """Full-plane words (slot k at bit K - 1 - k) with the slots past each value's last
    plane ``top`` cleared; ``o`` per value."""
    cut = np.minimum(np.maximum((k + 2) + o - top, 0), k).astype(full.dtype)
    return (full >> cut) << cut


def _plane_words(bits, n):
    """(blocks, N) 0/1 values -> (blocks,) N-bit words, value i at bit i."""
    return np.packbits(bits, axis=1, bitorder="little").view(_WORD[n])[:, 0]


def _put_fixed(hdr, words, cfg):
    """Blocks holding the H-bit header ``hdr`` at bit 0 and the N-bit ``words`` (blocks, k)
    one after the other from bit H, cut at B: a byte copy and a shift by H mod 8."""
    q, r = divmod(cfg.header_bits, 8)
    s = np.ascontiguousarray(words, _WORD[cfg.n]).view(np.uint8)
    out = np.zeros((len(hdr), q + s.shape[1] + 1), np.uint8)
    out[:, q:-1] = s << r
    if r:
        out[:, q + 1:] |= s >> (8 - r)
    hdr = hdr.astype(np.uint16)
    out[:, 0] |= (hdr & 0xFF).astype(np.uint8)
    out[:, 1] |= (hdr >> 8).astype(np.uint8)
    return out[:, :cfg.budget // 8]


def _get_fixed(blocks, k, cfg):
    """Inverse of :func:`_put_fixed`: the ``k`` N-bit words from bit H (bits past B read 0)."""
    q, r = divmod(cfg.header_bits, 8)
    nbytes = k * cfg.n // 8
    buf = np.zeros((len(blocks), nbytes + 1), np.uint8)
    have = blocks[:, q:q + nbytes + 1]
    buf[:, :have.shape[1]] = have
    s = (buf[:, :-1] >> r) | (buf[:, 1:] << (8 - r)) if r else buf[:, :-1]
    return np.ascontiguousarray(s).view(_WORD[cfg.n])


def pack(base_, o, p, left, code, sign, exp, man, cfg: Config):
    """Header (b, o); planes h0 and h1 of the codes from bit H; the sign plane from H + 2N;
    the full planes slot by slot from H + 3N; the two lists from B - 1 down (over the full
    planes' unstored tail); zeros between."""
    n, e = cfg.n, cfg.fmt.exp_bits
    k = full_slots(cfg)
    top, keep0, ok1 = _stored(code, o, p, left)
    sig, t = _significands(exp, man, base_, cfg)
    o_ = _per_value(o, n, np.int16)
    # Per value its planes o - 3 .. o + 2 + K in one word. The full planes: its low K bits,
    # the slots past the value's last plane cleared, then a bit transpose.
    planes = _planes(sig, t, o_, cfg)
    full = _stored_slots(planes & planes.dtype.type((1 << k) - 1), o_, top, k)
    slots = _codes_to_words(full.astype(_code_dtype(k)), k, n)[:, ::-1]
    hdr = np.where(p < 0, cfg.fmt.exp_max, base_) | (o << e)
    words = np.concatenate([np.stack([_plane_words(code & 1, n), _plane_words(code >> 1, n),
                                      _plane_words(sign, n)], axis=1), slots], axis=1)
    out = _put_fixed(hdr, words, cfg)
    # The lists: the code-0 words (bits K + 1 .. K + n_b), then the plane-(o + 2) bits (bit
    # K), each directly below the last, written eight fields at a time.
    top6 = (planes >> planes.dtype.type(k)).astype(np.uint8)
    widths, at, _ = _list_fields(code, o, cfg)
    words, _ = join_fields(np.concatenate([(top6 >> 1) & keep0, top6 & ok1], axis=1), widths,
                           _JOIN, max_width=max(_NB))
    return or_fields(out, at, words)


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

def header(blocks, cfg: Config):
    """``(base, o)`` from the first H bits of packed ``blocks`` (blocks, B/8)."""
    e = cfg.fmt.exp_bits
    w = (blocks[:, 0].astype(np.int64) | (blocks[:, 1].astype(np.int64) << 8)) & ((1 << cfg.header_bits) - 1)
    return w & ((1 << e) - 1), w >> e


def unpack_codes(blocks, cfg: Config):
    """Each value's code (planes h0, h1) and sign (the sign plane)."""
    planes = np.unpackbits(_get_fixed(blocks, 3, cfg).view(np.uint8).reshape(len(blocks), 3, -1),
                           axis=2, bitorder="little")
    return planes[:, 0] | (planes[:, 1] << 1), planes[:, 2]


def precision(code, base_, o, cfg: Config):
    """``(o, p, left)`` of each block from its codes, as :func:`offset` chose them: an offset
    that is not allowed for these codes (only foreign blocks have one) reads as 0, and a
    block whose base is 2^E - 1 (it holds Inf or NaN) has P = -1."""
    n = cfg.n
    r = room(cfg)
    n0, n1 = _count(code == 0), _count(code == 1)
    o = np.where(_size(n0, n1, o, r, n)[2], 0, o)    # at o = 0 the low regime is allowed
    p, left, _ = _size(n0, n1, o, r, n)
    special = base_ == cfg.fmt.exp_max
    return o, np.where(special, -1, p), np.where(special, 0, left)


def list_ranks(code, cfg: Config):
    """Each value's place in the two top lists (docs/format.md, 11.3), and where the second
    starts: ``(rank0, rank1, len0)``, the number of code-0 values before value i, the number
    of values of code 0 or 1 before it (its k in the code-0 list and in the plane-(o + 2)
    list; meaningful for the values a list holds), and per block the bits n_b*n_0 the
    code-0 list takes at each offset o = 0 .. 3 (blocks, 4). They do not depend on o, P or
    L: the offset only picks one of the four lengths."""
    return _rank(code == 0), _rank(code <= 1), _count(code == 0)[:, None] * _NB_OF


#: The bit of :func:`unpack_planes`' integers that holds plane 0 while it builds them (they
#: then count planes from the window, three bits lower at most): every plane a block stores
#: is below T + 6 (P < (B + 5N) / N), and 2^46 is exact in a float64.
_W = 44


def unpack_planes(blocks, code, o, p, left, cfg: Config):
    """Each value's stored planes as an integer, with the implied leading one of codes 1
    and 2, and of code 0 at o = 0; and the last plane P' each value stores. Both count
    planes from the window: plane q is at bit ``_W - (q - o + 3)`` and P' is given as
    P' - o + 3, so that a plane o + 3 + k of the full-plane slot k has the same place at
    every offset (the hardware needs no choice by o there)."""
    n = cfg.n
    k = full_slots(cfg)
    top, keep0, ok1 = _stored(code, o, p, left)
    o_ = _per_value(o, n, np.int8)
    # A word per value, window plane q' at bit K + 5 - q': the full planes (window planes
    # 6 ..) at bits K - 1 .. 0, plane o + 2 (window plane 5) at bit K, the code-0 list word
    # (window planes 4, 3, ...) above it.
    dt = _word_dtype(cfg)
    full = _words_to_codes(np.ascontiguousarray(_get_fixed(blocks, 3 + k, cfg)[:, :2:-1]), n)
    word = _stored_slots(full, o_, top, k).astype(dt)
    widths, at, joined = _list_fields(code, o, cfg)
    lists = split_fields(load_fields(blocks, at) & ((np.uint64(1) << joined) - np.uint64(1)), widths,
                         _JOIN, max_width=max(_NB), narrow=True)
    # Bits K .. K + 5: plane o + 2 (list bit, or the implied leading one of code 2), the
    # code-0 list word above it; the implied leading ones of code 1 at plane o + 1 and of
    # code 0 at plane 0 when o = 0.
    upper = ((lists[:, :n] & keep0) << 1) | (lists[:, n:] & ok1) | (code == 2).view(np.uint8)
    upper |= ((code == 1).view(np.uint8) << 1) | (((code == 0) & (o_ == 0)).view(np.uint8) << 2)
    word |= upper.astype(dt) << dt.type(k)
    return word.astype(np.int64) << (_W - 5 - k), top + (WINDOW_TOP - o_)


def reconstruct(base_, o, code, sign, mag, top, cfg: Config):
    """Raw values from :func:`unpack_planes`' planes, which count from the window (plane q
    as q - o + 3): the leading one of ``mag`` gives the exponent, the next M bits the
    mantissa, and a value that keeps fewer than M bits below its leading one gets its first
    cut bit set (the midpoint of what was cut). No leading one, or an exponent outside the
    normal range, gives a zero of the value's sign. In a block whose base is 2^E - 1, code 0
    is Inf, code 1 the canonical NaN and codes 2 and 3 zero, each with its sign."""
    fmt = cfg.fmt
    m, n = fmt.man_bits, code.shape[1]
    # mag < 2^53 is exact in a float64, whose exponent is the leading one's bit and whose
    # fraction's first M bits are the bits after it.
    f = mag.astype(np.float64).view(np.uint64)
    t = (_W + 1023) - (f >> np.uint64(52)).astype(np.int16)      # the leading one's plane
    man = (f >> np.uint64(52 - m)).astype(np.uint32) & np.uint32((1 << m) - 1)
    kept = np.minimum(np.maximum(top - t, 0), m).astype(np.uint32)
    man |= (np.uint32(1) << (np.uint32(m) - kept)) >> np.uint32(1)   # the first cut bit
    e = _per_value(base_.astype(np.int16) + (WINDOW_TOP - o), n, np.int16) - t
    ok = (mag > 0) & (e >= 1) & (e < fmt.exp_max)
    val = ((e.astype(np.uint32) << np.uint32(m)) | man) * ok
    special = np.flatnonzero(base_ == fmt.exp_max)               # (few) blocks with Inf or NaN
    c = code[special]
    val[special] = np.where(c == 0, fmt.exp_max << m, np.where(c == 1, (fmt.exp_max << m) | (1 << (m - 1)), 0))
    return ((sign.astype(np.uint32) << np.uint32(fmt.width - 1)) | val).astype(fmt.dtype)


def decode(blocks, cfg: Config):
    """Decompress ``(blocks, B/8)`` uint8 blocks into raw values, shape ``(blocks * N,)``."""
    b, o = header(blocks, cfg)
    code, sign = unpack_codes(blocks, cfg)
    o, p, left = precision(code, b, o, cfg)
    mag, top = unpack_planes(blocks, code, o, p, left, cfg)
    return reconstruct(b, o, code, sign, mag, top, cfg).reshape(-1)
