"""Bit-exact golden model of the `vlc` policy (docs/format.md, section 10).

One function per hardware stage, each vectorized over blocks:

encoder   ``fields -> base -> classes -> depth -> precision -> widths -> codewords -> pack``
decoder   ``header -> unpack_classes -> histogram -> cost -> precision -> widths ->
unpack_fields -> reconstruct``

Every value of a block is kept to the same absolute step, the finest that fits. A value's
exponent is coded by its distance below the block maximum in a short prefix code (its
*class*). Every codeword's length follows from its first two bits (its head), so the heads sit
in two N-bit planes and the rest of each codeword (its tail) follows value by value, and a
decoder reads them all at once; each value's sign and mantissa bits follow from the top of
the block down.
"""

import numpy as np

from .bitfield import get_fields, join_factor, join_fields, put_fields, split_fields, _words
from .config import VLC_OFFSETS, Config
from .model import fields, to_bits
from .vlc_code import (DEPTHS, INF, MODES, NAN, NCLASS, TAIL_MAX, ZERO, _BIG, _code_lookup,
                       _cost_lookup, codebook)

__all__ = ["base", "classes", "histogram", "depth", "precision", "widths", "codewords", "pack",
           "encoder_stages", "encode", "header", "unpack_classes", "cost", "unpack_fields",
           "reconstruct", "decode", "lossless_bits", "canonical", "codebook"]

# -- encoder stages -----------------------------------------------------------------------

def base(exp, cfg: Config):
    """The block base: the largest exponent field of a finite nonzero value (0 if none).

    Inf and NaN are left out, so they never lower the precision of their neighbours.
    """
    return np.where(exp < cfg.fmt.exp_max, exp, 0).max(axis=1)


def classes(exp, man, base_, cfg: Config):
    """Each value's class: its distance below the base (0..15), ZERO, INF or NAN.

    Zeros, subnormals and values more than ``cfg.max_depth`` binades below the base are ZERO.
    """
    fmt = cfg.fmt
    dist = base_[:, None].astype(np.int16) - exp.astype(np.int16)
    cls = np.where((exp > 0) & (dist <= cfg.max_depth), dist, ZERO).astype(np.uint8)
    special = exp == fmt.exp_max
    cls[special] = np.where(man[special] != 0, NAN, INF)
    return cls


def histogram(cls):
    """The number of values of each class in each block, shape (blocks, NCLASS)."""
    nb = cls.shape[0]
    idx = (np.arange(0, nb * NCLASS, NCLASS, dtype=np.intp)[:, None] + cls).ravel()
    return np.bincount(idx, minlength=nb * NCLASS).reshape(nb, NCLASS)


def _code_cost(hist, tree, cfg):
    """Header plus class codes and sign bits of each block under code ``tree``
    (``mode * DEPTHS + d``); ``tree`` may have a trailing axis of several codes."""
    _, _, _, codes, _ = _cost_lookup(cfg.fmt.man_bits, cfg.header_bits)
    h = hist if np.ndim(tree) == 1 else hist[:, None, :]
    return cfg.header_bits + (codes[tree] * h).sum(axis=-1)


def depth(hist, cfg: Config):
    """The significance depth D and the code mode of each block.

    D is the largest distance present in the block (0 when none is) for which some mode fits
    the budget with mantissas at precision D - 1; the mode is the cheapest one there, the
    lowest on a tie. Mode 3 is the only mode of a block holding Inf or NaN, and modes 0..2
    the only ones of other blocks.

    Returns ``(d, mode, cost)``, cost being the header and class codes plus sign bits.
    """
    nb = hist.shape[0]
    codes4, mant4, rank, _, _ = _cost_lookup(cfg.fmt.man_bits, cfg.header_bits)
    h = hist.astype(np.float32)
    key = h @ codes4
    k3 = key.reshape(nb, MODES, DEPTHS)
    k3 += (h[:, :DEPTHS] @ mant4)[:, None, :]                               # -4 x cost without H
    fits = key >= -4 * (cfg.budget - cfg.header_bits)
    # Largest D first, then the smallest cost, then the lowest mode: D * 2**14 dominates
    # 4 * cost + mode, since a cost that fits is at most B <= 2048. A column that breaks a
    # rule sits _BIG or more below every column that does not.
    special = (hist[:, INF] + hist[:, NAN]) > 0
    key += rank[special.astype(np.intp)]
    absent = hist[:, :DEPTHS] == 0
    absent[:, 0] = False
    k3 -= (absent * np.float32(_BIG))[:, None, :]
    np.copyto(key, np.float32(-np.inf), where=~fits)
    best = key.argmax(axis=1)
    mode, d = np.divmod(best, DEPTHS)
    cost = _code_cost(hist, best, cfg)
    return d, mode, cost


def precision(hist, d, cost, cfg: Config):
    """The precision P: the largest P in [D - 1, D + M] whose mantissas fit.

    A value at distance t <= D keeps clamp(P - t, 0, M) mantissa bits. Returns ``(p, left)``,
    ``left`` being the bits the block has over at P.
    """
    _, _, _, _, ramp = _cost_lookup(cfg.fmt.man_bits, cfg.header_bits)
    nb = len(d)
    # Count values by how far they lie below D (s = D - t), so one table serves every D.
    s = np.arange(DEPTHS)
    src = d[:, None] - s
    below = np.take_along_axis(hist[:, :DEPTHS], np.maximum(src, 0), axis=1)
    below = np.where(src >= 0, below, 0).astype(np.float64)
    total = cost[:, None] + (below @ ramp).astype(np.int64)                # P = D - 1 .. D + M
    t = np.maximum((total <= cfg.budget).sum(axis=1) - 1, 0)   # total grows with P: a prefix fits
    return d - 1 + t, cfg.budget - total[np.arange(nb), t]


def widths(cls, d, p, left, cfg: Config):
    """Mantissa bits k_i of each value: clamp(P - t_i, 0, M) for a value at distance
    t_i <= D, then one more for each of the first ``left`` values that can take one (in
    element order: distance at most P and fewer than M bits)."""
    m = cfg.fmt.man_bits
    c = cls.astype(np.int8)
    sig = (cls < DEPTHS) & (c <= d.astype(np.int8)[:, None])
    k = np.where(sig, np.clip(p.astype(np.int8)[:, None] - c, 0, m), 0).astype(np.uint8)
    gain = sig & (c <= p.astype(np.int8)[:, None]) & (k < m)
    before = np.cumsum(gain, axis=1, dtype=np.uint8) - gain
    k += gain & (before < np.clip(left, 0, 255).astype(np.uint8)[:, None])
    return k


def codewords(cls, d, mode):
    """Each value's codeword ``h0 | h1 << 1 | g << 2`` (head bits h0, h1, tail index g) and
    its length 2 + f, f the width of the tail."""
    code, length, _, _ = _code_lookup()
    idx = ((mode * DEPTHS + d) * NCLASS).astype(np.int32)[:, None] + cls
    return code[idx], length[idx]


def _signed(cls, d):
    return ((cls < DEPTHS) & (cls <= d[:, None].astype(np.int8))) | (cls == INF) | (cls == NAN)


def _head_words(n):
    """Stream offsets (from H) and widths of the 64-bit words the two head planes fill."""
    pos = np.arange(0, 2 * n, 64)
    return pos, np.minimum(2 * n - pos, 64)


def pack(base_, d, mode, code, length, signed, sign, man, k, cfg: Config):
    """Header; the head planes from bit H (bit H + i: the first bit of value i's codeword,
    bit H + N + i: its second bit); from bit H + 2N the tails, value by value, each LSB first;
    and each value's field (sign above its k_i leading mantissa bits) from bit B - 1 down,
    value 0 at the top."""
    nb, n = code.shape
    fmt = cfg.fmt
    e, m = fmt.exp_bits, fmt.man_bits
    hdr = base_.astype(np.uint64) | (d.astype(np.uint64) << np.uint64(e)) \
        | (mode.astype(np.uint64) << np.uint64(e + 4))
    # Both head planes as one 2N-bit string, in 64-bit words.
    heads = np.concatenate([code & 1, (code >> 1) & 1], axis=1).astype(np.uint8)
    hb = np.packbits(heads, axis=1, bitorder="little")
    hb = np.concatenate([hb, np.zeros((nb, -hb.shape[1] % 8), np.uint8)], axis=1)
    hval = hb.view("<u8")
    hoff, _ = _head_words(n)
    hpos = np.broadcast_to(cfg.header_bits + hoff, hval.shape)
    # Tails, value i directly below value i + 1, joined into fields of at most 64 bits.
    f = (length - np.uint8(2)) * (length > 0)
    c = join_factor(TAIL_MAX, n)
    tpos = cfg.header_bits + 2 * n + np.cumsum(f, axis=1, dtype=np.int16) - f
    tval, _ = join_fields((code >> np.uint8(2)).astype(np.uint8), f, c, upper_first=False, max_width=TAIL_MAX)
    tpos = tpos[:, ::c]
    # Value fields, value 0 at the top: sign above the k_i leading mantissa bits.
    k8 = k.astype(np.uint8)
    width = (k8 + np.uint8(1)) * signed
    fdt = np.dtype(np.uint16 if m < 16 else np.uint32)
    field = (sign.astype(fdt) << k8) | (man.astype(fdt) >> (np.uint8(m) - k8))
    field *= signed
    top = np.cumsum(width, axis=1, dtype=np.int16)
    c = join_factor(m + 1, n)
    fval, _ = join_fields(field, width, c, upper_first=True, max_width=m + 1)
    fpos = cfg.budget - top[:, c - 1::c]
    # In stream order, as put_fields takes them fastest.
    return put_fields(nb, cfg.budget, np.concatenate([np.zeros((nb, 1), np.int64), hpos, tpos, fpos[:, ::-1]], axis=1),
                      np.concatenate([hdr[:, None], hval, tval, fval[:, ::-1]], axis=1))


def encoder_stages(values, cfg: Config):
    """Run the encoder chain on ``values`` (anything :func:`~facet.model.to_bits` takes).

    Returns a dict of every stage's results under the names the stage functions give them:
    ``sign``, ``exp``, ``man`` (fields), ``base``, ``cls``, ``hist``, ``d``, ``mode``, ``cost``
    (depth), ``p``, ``left`` (precision), ``k`` (widths), ``code``, ``length`` (codewords), the
    ``signed`` marks of the values that keep a sign, and ``packed``, the ``(blocks, B/8)`` blocks.
    """
    sign, exp, man = fields(to_bits(values, cfg), cfg)
    b = base(exp, cfg)
    cls = classes(exp, man, b, cfg)
    hist = histogram(cls)
    d, mode, cost = depth(hist, cfg)
    p, left = precision(hist, d, cost, cfg)
    k = widths(cls, d, p, left, cfg)
    code, length = codewords(cls, d, mode)
    signed = _signed(cls, d)
    packed = pack(b, d, mode, code, length, signed, sign, man, k, cfg)
    return dict(sign=sign, exp=exp, man=man, base=b, cls=cls, hist=hist, d=d, mode=mode, cost=cost,
                p=p, left=left, k=k, code=code, length=length, signed=signed, packed=packed)


def encode(values, cfg: Config):
    """Compress ``values`` into ``(blocks, B/8)`` uint8 packed blocks."""
    return encoder_stages(values, cfg)["packed"]


def lossless_bits(values, cfg: Config):
    """Each block's size when every value it keeps is kept exactly: all distances present
    significant, every one of them with M mantissa bits, in the cheapest mode."""
    raw = to_bits(values, cfg)
    sign, exp, man = fields(raw, cfg)
    cls = classes(exp, man, base(exp, cfg), cfg)
    hist = histogram(cls)
    present = hist[:, :DEPTHS] > 0
    dmax = np.where(present.any(axis=1), DEPTHS - 1 - present[:, ::-1].argmax(axis=1), 0)
    code_bits = _code_cost(hist, dmax[:, None] + np.arange(0, MODES * DEPTHS, DEPTHS), cfg)  # (nb, modes)
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
    """``(base, d, mode)`` from the first H bits; a mode whose offset exceeds D reads as
    mode 0 (only foreign blocks have one), so every later stage sees a valid code."""
    e = cfg.fmt.exp_bits
    hdr = get_fields(blocks, np.zeros((len(blocks), 1)), np.full((len(blocks), 1), cfg.header_bits))[:, 0]
    d = ((hdr >> np.uint64(e)) & np.uint64(15)).astype(np.int64)
    mode = (hdr >> np.uint64(e + 4)).astype(np.int64) & 3
    mode = np.where(np.array(VLC_OFFSETS + (0,))[mode] > d, 0, mode)
    return (hdr & np.uint64((1 << e) - 1)).astype(np.int64), d, mode


def unpack_classes(blocks, d, mode, cfg: Config, words=None):
    """Each value's class from its head (planes 0 and 1) and its tail, read at H + 2N plus
    the tail widths of the values before it; bits at or past B read as 0, and a tail index
    past its group's end gives ZERO.

    Returns ``(cls, end)``: each value's class and the stream bit after the class region.
    """
    _, _, tail, dec = _code_lookup()
    nb, n, h = len(blocks), cfg.n, cfg.header_bits
    words = _words(blocks, 3) if words is None else words
    hoff, hwid = _head_words(n)
    planes = get_fields(blocks, np.broadcast_to(h + hoff, (nb, len(hoff))), np.broadcast_to(hwid, (nb, len(hoff))), words)
    bits = np.unpackbits(np.ascontiguousarray(planes).view(np.uint8), axis=1, count=2 * n, bitorder="little")
    head = ((mode * DEPTHS + d) * 4).astype(np.int32)[:, None] + bits[:, :n] + (bits[:, n:] << 1)
    f = tail[head]
    # Tails as unpack_fields reads fields: runs of adjacent tails in one read, then split.
    c = join_factor(TAIL_MAX, n)
    start = np.cumsum(f, axis=1, dtype=np.int16) - f
    run = f.reshape(nb, n // c, c).sum(axis=2, dtype=np.int64)
    chunk = get_fields(blocks, h + 2 * n + start[:, ::c], run, words)
    g = split_fields(chunk, f, c, upper_first=False, max_width=TAIL_MAX, narrow=True)
    cls = dec[(head << TAIL_MAX) + g]
    return cls, h + 2 * n + start[:, -1].astype(np.int64) + f[:, -1]


def cost(hist, d, mode, cfg: Config):
    """Header, class codes and sign bits of each decoded block in its own code (D, mode):
    what :func:`depth` gives the encoder, which :func:`precision` starts from."""
    return _code_cost(hist, mode * DEPTHS + d, cfg)


def unpack_fields(blocks, signed, k, cfg: Config, words=None):
    """Each value's sign and its mantissa with the k_i kept bits in place (the cut bits 0),
    from the top of the block down."""
    m = cfg.fmt.man_bits
    k8 = k.astype(np.uint8)
    width = np.where(signed, k8 + np.uint8(1), np.uint8(0))
    top = np.cumsum(width, axis=1, dtype=np.int64)
    c = join_factor(m + 1, cfg.n)
    cw = top[:, c - 1::c] - np.concatenate([np.zeros((len(top), 1), np.int64), top[:, c - 1:-1:c]], axis=1)
    chunk = get_fields(blocks, cfg.budget - top[:, c - 1::c], cw, words)
    field = split_fields(chunk, width, c, upper_first=True, max_width=m + 1, narrow=True)
    kept = (field & ((np.ones(1, field.dtype) << k8) - 1)) << (np.uint8(m) - k8)
    return (field >> k8).astype(np.uint8) & signed, kept


def reconstruct(base_, cls, d, k, sign, man, cfg: Config):
    """Raw values: a kept mantissa (``man``, as :func:`unpack_fields` gives it) gets its first
    cut bit set (the midpoint of what was cut);
    ZERO gives +0; a value whose exponent falls outside the normal range (foreign blocks
    only) gives a signed zero."""
    fmt = cfg.fmt
    m = fmt.man_bits
    out = np.dtype(fmt.dtype)
    k = k.astype(np.uint8)
    # The midpoint bit of a value that keeps k bits: bit M - 1 - k, none when k = M.
    midpoint = np.array([1 << (m - 1 - j) for j in range(m)] + [0], out)
    man = man.astype(out) | midpoint[k]
    e = base_.astype(np.int16)[:, None] - cls
    normal = (cls < DEPTHS) & (cls <= d.astype(np.int16)[:, None]) & (e >= 1) & (e < fmt.exp_max)
    mag = np.where(normal, (e.astype(out) << out.type(m)) | man, out.type(0))
    special = cls >= INF
    if special.any():
        mag[special] = np.where(cls[special] == NAN, (fmt.exp_max << m) | (1 << (m - 1)), fmt.exp_max << m)
    return (sign.astype(out) << out.type(fmt.width - 1)) | mag


def decode(blocks, cfg: Config):
    """Decompress ``(blocks, B/8)`` uint8 blocks into raw values, shape ``(blocks * N,)``."""
    words = _words(blocks, 3)
    b, d, mode = header(blocks, cfg)
    cls, _ = unpack_classes(blocks, d, mode, cfg, words)
    hist = histogram(cls)
    p, left = precision(hist, d, cost(hist, d, mode, cfg), cfg)
    k = widths(cls, d, p, left, cfg)
    sign, man = unpack_fields(blocks, _signed(cls, d), k, cfg, words)
    return reconstruct(b, cls, d, k, sign, man, cfg).reshape(-1)
