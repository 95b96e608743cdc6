"""The `window` policy (docs/format.md, section 11) as torch ops, bit-identical to
:mod:`facet.window`.

One function per stage of the model, each vectorized over blocks:

encoder   ``fields -> base -> classes -> histogram -> offset -> codes -> pack``
decoder   ``header -> unpack_codes -> precision -> unpack_planes -> reconstruct``

Per-value quantities are ``(blocks, N)`` integer tensors, int32 inside the codec (torch
shifts and compares int64 several times slower). As in the model, each value's planes are one
word, a shift of its significand: its low K bits are the full planes, which one bit transpose
(:func:`facet.torch.bits.to_planes`) turns into the stream's N-bit slots, and the bits above
them the fields of the two lists at the top of the block, which are added into place
(encoder) or gathered (decoder) a field at a time.
"""

import torch

from facet import window as model

from . import stages as st
from .bits import arange, from_planes, or_at, read_at, to_planes
from .policies import register

__all__ = ["base", "classes", "histogram", "offset", "codes", "pack", "header", "unpack_codes",
           "precision", "unpack_planes", "reconstruct", "Window"]

OFFSETS = model.OFFSETS
_W = model._W
_I32 = torch.int32


def _c(o):
    """c_j(o) for codes j = 0..3, shape ``o.shape + (4,)``: a value of code j stores the
    planes c_j < p <= P."""
    return torch.stack([torch.where(o > 0, -1, 0), o + 1, o + 2, o + 2], dim=-1)


def _nb(o):
    """n_b, the planes a code-0 value stores in the top list: 1 at o = 0, o + 2 above."""
    return torch.where(o > 0, o + 2, 1)


def _size(n0, n1, o, room, n):
    """``(p, left, low)`` at offset ``o`` from the counts of codes 0 and 1 (broadcast), as
    :func:`facet.window._size`."""
    c = _c(o)
    s = c[..., 0] * n0 + c[..., 1] * n1 + c[..., 2] * (n - n0 - n1)
    v = room + s
    p, left = torch.div(v, n, rounding_mode="floor"), torch.remainder(v, n)
    low = v < (o + 2) * n
    p1 = n0 <= room
    p = torch.where(low, p1.to(p.dtype), p)
    left = torch.where(low, room - torch.where(p1, n0, 0), left)
    return p, left, low


# -- encoder stages -----------------------------------------------------------------------

def base(exp, cfg):
    """The block base b: the largest exponent field of a finite value (0 if none)."""
    return torch.where(exp < cfg.fmt.exp_max, exp, 0).amax(dim=1)


def classes(exp, man, base_, cfg):
    """Each value's class: its distance below the base while under ``far``, else far (zeros
    and subnormals too); far + 1 for Inf and far + 2 for NaN."""
    f = model.far(cfg)
    dist = base_[:, None] - exp                        # >= 0 for a finite value
    cls = (dist + (exp == 0).to(dist.dtype) * f).clamp(max=f)
    special = (exp == cfg.fmt.exp_max).to(dist.dtype)
    return cls + special * (f + 1 + (man != 0).to(dist.dtype) - cls)


def histogram(cls, cfg):
    """``(counts, special)``: the values of classes 0 .. OFFSETS in each block, and whether it
    holds Inf or NaN."""
    counts = torch.stack([(cls == c).sum(dim=1) for c in range(OFFSETS + 1)], dim=1)
    return counts, (cls > model.far(cfg)).any(dim=1)


def offset(hist, special, cfg):
    """``(o, p, left)``: the allowed offset with the largest (P, bits over), the lowest on a
    tie; o = 0 and P = -1 for a block with Inf or NaN."""
    n = cfg.n
    o = arange(OFFSETS, hist)
    cum = torch.cumsum(hist, dim=1)
    p, left, low = _size(cum[:, :OFFSETS], hist[:, 1:], o, model.room(cfg), n)
    key = torch.where(low & (o > 0), -1, p * (2 * n) + left)
    best = key.argmax(dim=1)                           # the first of equal keys
    p = torch.gather(p, 1, best[:, None])[:, 0]
    left = torch.gather(left, 1, best[:, None])[:, 0]
    return (torch.where(special, 0, best), torch.where(special, -1, p),
            torch.where(special, 0, left))


def codes(cls, o, cfg):
    """Each value's code: by distance under offset ``o``; in a block with Inf or NaN, 0 for
    Inf, 1 for NaN and 3 for every finite value."""
    f = model.far(cfg)
    code = (cls - o[:, None].to(cls.dtype)).clamp(0, 3)
    special = (cls > f).any(dim=1, keepdim=True).to(cls.dtype)
    inf_nan = 3 - 3 * (cls == f + 1).to(cls.dtype) - 2 * (cls == f + 2).to(cls.dtype)
    return code + special * (inf_nan - code)


def _word_dtype(cfg):
    """The dtype of :func:`_significands`' words: int32 when the significand shifted up by
    K + 5 stays below its sign bit, else int64 (torch shifts int32 several times faster)."""
    return torch.int32 if cfg.fmt.man_bits + model.full_slots(cfg) + 6 < 31 else torch.int64


def _stored(code, o, p, left):
    """What each value stores, as :func:`facet.window._stored`: ``(top, keep0, ok1)``, the
    last plane P' of the planes c_j < p' <= P' it stores (P + 1 for the first ``left``
    values with c_j <= P), the bits of its code-0 list word it stores (planes
    c_0 + 1 .. o + 1, the first at bit n_b - 1; none for other codes) and whether it stores
    plane o + 2 (codes 0 and 1); int32, as the other helpers of pack and unpack_planes."""
    code, oo, pp = code.to(_I32), o.to(_I32)[:, None], p.to(_I32)[:, None]
    is0 = (code == 0).to(_I32)
    # At P >= o + 2 every value stores all its planes above P, and the first L values P + 1.
    # Only other blocks (o = 0 and P <= 1, or P = -1) need the rule value by value.
    top = pp + (arange(code.shape[1], code) < left.to(_I32)[:, None]).to(_I32)
    keep0 = is0 * ((1 << _nb(oo)) - 1)
    ok1 = (code <= 1).to(_I32)
    odd = (pp[:, 0] < oo[:, 0] + 2).nonzero()[:, 0]
    if odd.numel():
        c0, o0, p0, is00 = code[odd], oo[odd], pp[odd], is0[odd]
        # c_j: -1 (o > 0) or 0 for code 0, o + 1 for code 1, o + 2 for codes 2 and 3.
        c = (1 - is00) * (o0 + 1 + (c0 >= 2).to(_I32)) - is00 * (o0 > 0).to(_I32)
        e = (c <= p0).to(_I32)
        t0 = p0 + e * ((torch.cumsum(e, dim=1, dtype=_I32) - e) < left.to(_I32)[odd, None]).to(_I32)
        cut = (o0 + 1 - t0).clamp(0, 7)                                # list planes past P'
        top[odd] = t0
        keep0[odd] = (keep0[odd] >> cut) << cut
        ok1[odd] = ok1[odd] & (o0 + 2 <= t0).to(_I32)
    return top, keep0, ok1


def _significands(exp, man, base_, cfg):
    """``(sig, t)``: each normal value's significand (leading one and mantissa), 0 for
    zeros, subnormals, Inf and NaN, shifted up by K + 5 (:func:`_word_dtype`); its distance
    t below the base (int32)."""
    dt, m = _word_dtype(cfg), cfg.fmt.man_bits
    normal = ((exp > 0) & (exp < cfg.fmt.exp_max)).to(dt)
    sig = ((man.to(dt) | (1 << m)) * normal) << (model.full_slots(cfg) + 5)
    return sig, (base_[:, None] - exp).to(_I32)


def _planes(sig, t, o, cfg):
    """Planes o - 3 .. o + 2 + K of each value as one word, plane o - 3 + j at bit
    K + 5 - j (:func:`facet.window._planes`): the full planes are its low K bits (slot k at
    bit K - 1 - k), plane o + 2 is bit K and a code-0 value's list word the bits above."""
    shift = (t - (o.to(_I32)[:, None] - cfg.fmt.man_bits - 3)).clamp(0, 8 * sig.element_size() - 1)
    return sig >> shift.to(sig.dtype)


def _stored_slots(full, o, top, k):
    """Full-plane words (slot k at bit K - 1 - k) with the slots past each value's last
    plane ``top`` cleared."""
    cut = ((k + 2) + o.to(_I32)[:, None] - top).clamp(0, k).to(full.dtype)
    return (full >> cut) << cut


def _list_fields(code, o, cfg):
    """``(widths, index, shift)`` of the two lists' fields (blocks, 2N), the code-0 words
    then the plane-(o + 2) bits, in stream order from B - 1 down: each field's width, and
    the byte and bit of its lowest stream bit, in a stream moved up by :func:`_list_pad`
    bytes so that the fields of blocks that store none of their bits can lie below bit 0. A
    field (at most 5 bits) lies in that byte and the next."""
    code = code.to(_I32)
    widths = torch.cat([(code == 0).to(_I32) * _nb(o.to(_I32))[:, None], (code <= 1).to(_I32)],
                       dim=1)
    at = (cfg.budget + 8 * _list_pad(cfg)) - torch.cumsum(widths, dim=1, dtype=_I32)
    return widths, (at >> 3).to(torch.int64), at & 7


def _list_pad(cfg):
    """Bytes below bit 0 that fields of :func:`_list_fields` may reach: the lists hold at
    most (5 + 1) N bits."""
    return -(-cfg.n * (OFFSETS + 2) // 8) + 1


def _region_planes(blocks, k, cfg, dtype=torch.int64):
    """Per value its bit of the code planes h0 and h1, the sign plane and the ``k`` full
    slots (blocks, N): h0 at bit K + 2, h1, the sign, then slot s at bit K - 1 - s."""
    n = cfg.n
    data = read_at(blocks, cfg.header_bits, (3 + k) * n // 8)
    return from_planes(data.reshape(blocks.shape[0], 3 + k, n // 8), dtype)


def pack(base_, o, p, left, code, sign, exp, man, cfg):
    """Header (b, o); planes h0 and h1 of the codes from bit H; the sign plane from H + 2N;
    the full planes slot by slot from H + 3N; the two lists from B - 1 down (over the full
    planes' unstored tail), as ``(blocks, B/8)`` bytes."""
    nblk, n = code.shape
    k, nbytes = model.full_slots(cfg), cfg.budget_bytes
    top, keep0, ok1 = _stored(code, o, p, left)
    sig, t = _significands(exp, man, base_, cfg)
    # Per value its planes o - 3 .. o + 2 + K in one word; the full planes are its low K
    # bits, the slots past its last plane cleared. Above them the code and sign planes: one
    # bit transpose makes the stream from bit H.
    planes = _planes(sig, t, o, cfg)
    dt = planes.dtype
    code_ = code.to(dt)
    word = (((code_ & 1) << (k + 2)) | ((code_ >> 1) << (k + 1)) | (sign.to(dt) << k)
            | _stored_slots(planes & ((1 << k) - 1), o, top, k))
    out = torch.zeros((nblk, nbytes + 1), dtype=_I32, device=code.device)
    or_at(out, cfg.header_bits, to_planes(word, k + 3).reshape(nblk, -1))
    hdr = torch.where(p < 0, cfg.fmt.exp_max, base_) | (o << cfg.fmt.exp_bits)
    out[:, 0] |= (hdr & 0xFF).to(_I32)
    out[:, 1] |= (hdr >> 8).to(_I32)
    # The lists: the code-0 words (bits K + 1 .. K + n_b), then the plane-(o + 2) bits (bit
    # K), each directly below the last. Fields do not overlap, so adding them ORs them.
    top6 = (planes >> k).to(_I32)
    widths, index, shift = _list_fields(code, o, cfg)
    placed = torch.cat([(top6 >> 1) & keep0, top6 & ok1], dim=1) << shift
    pad = _list_pad(cfg)
    lists = out.new_zeros((nblk, pad + nbytes + 2))
    lists.scatter_add_(1, index, placed & 0xFF)
    lists.scatter_add_(1, index + 1, placed >> 8)
    return (out[:, :nbytes] | lists[:, pad:pad + nbytes]).to(torch.uint8)


# -- decoder stages -----------------------------------------------------------------------

def header(blocks, cfg):
    """``(base, o)`` from the first H bits of packed ``blocks`` (blocks, B/8)."""
    e = cfg.fmt.exp_bits
    w = (blocks[:, 0].to(torch.int64) | (blocks[:, 1].to(torch.int64) << 8)) & ((1 << cfg.header_bits) - 1)
    return w & ((1 << e) - 1), w >> e


def unpack_codes(blocks, cfg):
    """``(code, sign)`` of each value, from the code planes and the sign plane."""
    w = _region_planes(blocks, 0, cfg, _I32)
    return ((w >> 2) & 1) | (w & 2), w & 1


def precision(code, base_, o, cfg):
    """``(o, p, left)`` from the codes: an offset the codes do not allow reads as 0; a block
    whose base is 2^E - 1 has P = -1."""
    n, r = cfg.n, model.room(cfg)
    n0, n1 = (code == 0).sum(dim=1), (code == 1).sum(dim=1)
    _, _, low = _size(n0, n1, o, r, n)
    o = torch.where(low & (o > 0), 0, o)
    p, left, _ = _size(n0, n1, o, r, n)
    special = base_ == cfg.fmt.exp_max
    return o, torch.where(special, -1, p), torch.where(special, 0, left)


def unpack_planes(blocks, code, o, p, left, cfg):
    """``(mag, top)``: each value's stored planes as an integer, implied leading ones
    included, and the last plane each value stores, both counted from the window (plane q at
    bit ``_W - (q - o + 3)``, P' as P' - o + 3), as the model's."""
    nblk, n = code.shape
    k, nbytes, pad = model.full_slots(cfg), cfg.budget_bytes, _list_pad(cfg)
    top, keep0, ok1 = _stored(code, o, p, left)
    full = _region_planes(blocks, k, cfg, _word_dtype(cfg)) & ((1 << k) - 1)
    word = _stored_slots(full, o, top, k)
    widths, index, shift = _list_fields(code, o, cfg)
    ext = blocks.new_zeros((nblk, pad + nbytes + 2))
    ext[:, pad:pad + nbytes] = blocks[:, :nbytes]
    pair = torch.gather(ext, 1, index).to(_I32) | (torch.gather(ext, 1, index + 1).to(_I32) << 8)
    vals = (pair >> shift) & ((1 << widths) - 1)
    # Bits K .. K + 5: plane o + 2 (list bit, or the implied leading one of code 2), the
    # code-0 list word above it; the implied leading ones of code 1 at plane o + 1 and of
    # code 0 at plane 0 when o = 0.
    code, oo = code.to(_I32), o.to(_I32)[:, None]
    upper = (((vals[:, :n] & keep0) << 1) | (vals[:, n:] & ok1) | (code == 2).to(_I32)
             | ((code == 1).to(_I32) << 1) | (((code == 0) & (oo == 0)).to(_I32) << 2))
    word = word | (upper.to(word.dtype) << k)
    return (word.to(torch.int64) << (_W - 5 - k),
            (top + (model.WINDOW_TOP - oo)).to(torch.int64))


def reconstruct(base_, o, code, sign, mag, top, cfg):
    """Raw values: exponent from the leading one of ``mag``, the next M bits the mantissa,
    the first cut bit set when fewer than M are kept; zero where there is no leading one or
    the exponent leaves the normal range; Inf, NaN and zeros in a block with base 2^E - 1."""
    fmt = cfg.fmt
    m = fmt.man_bits
    # frexp of an integer below 2^53 is exact: mag = f * 2^x with 0.5 <= f < 1, so the M
    # bits after the leading one are those of f * 2^(M + 1).
    fr = torch.frexp(mag.to(torch.float64))
    t = (_W + 1) - fr.exponent                                       # _W - the leading one
    man = (fr.mantissa * float(1 << (m + 1))).to(_I32) & ((1 << m) - 1)
    kept = (top.to(_I32) - t).clamp(0, m)
    man = man | ((kept < m).to(_I32) << (m - 1 - kept).clamp(min=0))
    e = (base_ + model.WINDOW_TOP - o).to(_I32)[:, None] - t
    ok = ((mag > 0) & (e >= 1) & (e < fmt.exp_max)).to(_I32)
    val = ok * ((e << m) | man)
    # A block whose base is 2^E - 1: Inf (code 0), NaN (code 1) or zero.
    special = (base_ == fmt.exp_max).to(_I32)[:, None]
    code = code.to(_I32)
    inf = (code <= 1).to(_I32) * ((fmt.exp_max << m) | ((code == 1).to(_I32) << (m - 1)))
    val = val + special * (inf - val)
    return (sign.to(torch.int64) << (fmt.width - 1)) | val.to(torch.int64)


# -- the codec ----------------------------------------------------------------------------

@register
class Window:
    """A two-bit code per value for where its leading one lies in a window below the block
    maximum, every value kept to the same step (docs/format.md section 11)."""

    name = "window"

    def encode(self, raw, cfg):
        sign, exp, man = (v.to(_I32) for v in st.fields(raw, cfg))
        b = base(exp, cfg)
        cls = classes(exp, man, b, cfg)
        hist, special = histogram(cls, cfg)
        o, p, left = offset(hist, special, cfg)
        code = codes(cls, o, cfg)
        return pack(b, o, p, left, code, sign, exp, man, cfg)

    def decode(self, blocks, cfg):
        b, o = header(blocks, cfg)
        code, sign = unpack_codes(blocks, cfg)
        o, p, left = precision(code, b, o, cfg)
        mag, top = unpack_planes(blocks, code, o, p, left, cfg)
        return reconstruct(b, o, code, sign, mag, top, cfg)
