"""The `window` policy (docs/format.md, section 11) as torch ops, bit-identical to
:mod:`facet.window`.

One function per stage of the model, each vectorized over blocks:

encoder   ``fields -> base -> classes -> histogram -> offset -> codes -> pack``
decoder   ``header -> unpack_codes -> precision -> unpack_planes -> reconstruct``

Per-value quantities are ``(blocks, N)`` int64 tensors. The full planes are N-bit slots at
fixed stream positions, so they are written and read as one reshaped region; only the two
short lists at the top of the block are scattered (encoder) or gathered (decoder), the
code-0 list on the code-0 values alone.
"""

import torch

from facet import window as model

from . import stages as st
from .bits import arange, bits_to_bytes, bytes_to_bits
from .policies import register

__all__ = ["base", "classes", "histogram", "offset", "codes", "pack", "header", "unpack_codes",
           "precision", "unpack_planes", "reconstruct", "Window"]

OFFSETS = model.OFFSETS
_W = model._W


def _c(o):
    """c_j(o) for codes j = 0..3, shape ``o.shape + (4,)``: a value of code j stores the
    planes c_j < p <= P."""
    return torch.stack([torch.where(o > 0, -1, 0), o + 1, o + 2, o + 2], dim=-1)


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
    dist = base_[:, None] - exp
    cls = torch.where((exp > 0) & (dist < f), dist, f)
    return torch.where(exp == cfg.fmt.exp_max, torch.where(man != 0, f + 2, f + 1), cls)


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
    oo = o[:, None]
    code = torch.where(cls <= oo, 0, torch.where(cls == oo + 1, 1, torch.where(cls == oo + 2, 2, 3)))
    special = (cls > f).any(dim=1, keepdim=True)
    return torch.where(special, torch.where(cls == f + 1, 0, torch.where(cls == f + 2, 1, 3)), code)


def _stored(code, o, p, left):
    """``(c, top)``: c_i, and the last plane each value stores (P + 1 for the first ``left``
    values with c_i <= P)."""
    c = torch.gather(_c(o), 1, code)
    elig = c <= p[:, None]
    e = elig.to(torch.int64)
    extra = elig & (torch.cumsum(e, dim=1) - e < left[:, None])
    return c, p[:, None] + extra.to(torch.int64)


def _full(o, top, cfg):
    """The full planes: ``(plane, stored, k)``, plane ``o + 3 + k`` of slot k (blocks, 1, K),
    whether each value stores it (blocks, N, K), and K, the N-bit slots from H + 3N to the
    end of the last byte (value i of slot k at stream bit H + 3N + kN + i)."""
    k = -(-(8 * cfg.budget_bytes - cfg.header_bits - 3 * cfg.n) // cfg.n)
    plane = o[:, None, None] + 3 + arange(k, o)
    return plane, plane <= top[:, :, None], k


def _lists(code, o, c, top, cfg):
    """The two lists at the top of the block: ``(list0, pos1, ok1)``.

    ``list0`` is ``(rows, cols, plane0, pos0, ok0)`` for the code-0 values only (a few of the
    block's values: their (M, 5) grids are far smaller than (blocks, N, 5) ones): block and
    value index, planes c_0 + 1 + j, where the code-0 list puts them (from bit B - 1 down,
    n_b bits a value) and whether the value stores them there. ``pos1``, ``ok1`` (blocks, N):
    where plane o + 2 of a value of code 0 or 1 lies (below the code-0 list) and whether the
    value stores it there."""
    bud = cfg.budget
    nb = o + 1 - _c(o)[:, 0]
    is0, is01 = code == 0, code <= 1
    i0, i01 = is0.to(torch.int64), is01.to(torch.int64)
    r0 = torch.cumsum(i0, dim=1) - i0
    r01 = torch.cumsum(i01, dim=1) - i01
    rows, cols = is0.nonzero(as_tuple=True)
    j = arange(OFFSETS + 1, code)                                     # n_b <= o + 2 <= 5
    plane0 = c[rows, cols][:, None] + 1 + j
    pos0 = (bud - 1 - r0[rows, cols] * nb[rows])[:, None] - j
    ok0 = (j < nb[rows][:, None]) & (plane0 <= top[rows, cols][:, None])
    pos1 = bud - 1 - (nb * i0.sum(dim=1))[:, None] - r01
    return (rows, cols, plane0, pos0, ok0), pos1, is01 & ((o + 2)[:, None] <= top)


def _plane_bits(sig, dist, plane, cfg):
    """Bit of each value at absolute plane ``plane`` (broadcast against ``sig[..., None]``),
    from :func:`_significands`: bit M - j of the significand at j = plane - t, 0 <= j <= M."""
    shift = ((cfg.fmt.man_bits + 1 + dist)[..., None] - plane).clamp(0, 63)    # M - j + 1
    return (sig[..., None] >> shift) & 1


def _significands(exp, man, base_, cfg):
    """``(sig, t)``: each normal value's significand (leading one and mantissa) one bit up,
    so that a shift clamped at 0 (a plane past the mantissa) reads its zero bit 0; 0 for
    other values; and its distance t below the base."""
    m = cfg.fmt.man_bits
    normal = (exp > 0) & (exp < cfg.fmt.exp_max)
    return torch.where(normal, (man | (1 << m)) << 1, 0), base_[:, None] - exp


def pack(base_, o, p, left, code, sign, exp, man, cfg):
    """Header (b, o), the two code planes, the sign plane, the full planes slot by slot from
    H + 3N, and the two lists from B - 1 down (over the full planes' unstored tail), as
    ``(blocks, B/8)`` bytes."""
    nblk, n = code.shape
    e, h = cfg.fmt.exp_bits, cfg.header_bits
    width, first = 8 * cfg.budget_bytes, h + 3 * n
    hdr = torch.where(p < 0, cfg.fmt.exp_max, base_) | (o << e)
    c, top = _stored(code, o, p, left)
    sig, t = _significands(exp, man, base_, cfg)
    plane, stored, k = _full(o, top, cfg)
    full = _plane_bits(sig, t, plane, cfg) & stored                     # (blocks, N, K)
    bits = code.new_zeros((nblk, first + k * n + 1))
    bits[:, first:first + k * n] = full.transpose(1, 2).reshape(nblk, k * n)
    (rows, cols, plane0, pos0, ok0), pos1, ok1 = _lists(code, o, c, top, cfg)
    spare = bits.shape[1] - 1                       # where the bits a value does not store go
    flat = rows[:, None] * bits.shape[1] + torch.where(ok0, pos0, spare)
    bits.view(-1).index_put_((flat.reshape(-1),),
                             _plane_bits(sig[rows, cols], t[rows, cols], plane0, cfg).reshape(-1))
    bits.scatter_(1, torch.where(ok1, pos1, spare), _plane_bits(sig, t, (o + 2)[:, None, None], cfg)[:, :, 0])
    bits[:, :h] = (hdr[:, None] >> arange(h, hdr)) & 1
    bits[:, h:h + n] = code & 1
    bits[:, h + n:h + 2 * n] = code >> 1
    bits[:, h + 2 * n:first] = sign
    return bits_to_bytes(bits[:, :width])


# -- decoder stages -----------------------------------------------------------------------

def header(bits, cfg):
    """``(base, o)`` from the first H stream bits."""
    e, h = cfg.fmt.exp_bits, cfg.header_bits
    w = (bits[:, :h] << arange(h, bits)).sum(dim=1)
    return w & ((1 << e) - 1), w >> e


def unpack_codes(bits, cfg):
    """``(code, sign)`` of each value, from the code planes and the sign plane."""
    n, h = cfg.n, cfg.header_bits
    return bits[:, h:h + n] | (bits[:, h + n:h + 2 * n] << 1), bits[:, h + 2 * n:h + 3 * n]


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


def unpack_planes(bits, code, o, p, left, cfg):
    """``(mag, top)``: each value's stored planes as an integer, implied leading ones
    included, and the last plane each value stores, both counted from the window (plane q at
    bit ``_W - (q - o + 3)``, P' as P' - o + 3), as the model's."""
    nblk, n = code.shape
    first = cfg.header_bits + 3 * n
    c, top = _stored(code, o, p, left)
    plane, stored, k = _full(o, top, cfg)
    region = bits.new_zeros((nblk, k * n))
    region[:, :bits.shape[1] - first] = bits[:, first:]
    full = region.reshape(nblk, k, n).transpose(1, 2) & stored
    mag = (full << (_W - plane)).sum(dim=2)
    (rows, cols, plane0, pos0, ok0), pos1, ok1 = _lists(code, o, c, top, cfg)
    last = bits.shape[1] - 1
    b0 = torch.take(bits, rows[:, None] * bits.shape[1] + torch.where(ok0, pos0, 0).clamp(0, last)) & ok0
    mag.index_put_((rows, cols), (b0 << (_W - plane0).clamp(0, 63)).sum(dim=1), accumulate=True)
    b1 = torch.gather(bits, 1, torch.where(ok1, pos1, 0).clamp(0, last)) & ok1
    mag = mag | (b1 << (_W - 2 - o)[:, None])
    lead = torch.gather(torch.stack([torch.where(o > 0, -1, 0), o + 1, o + 2, torch.full_like(o, -1)],
                                    dim=-1), 1, code)
    mag = mag | torch.where(lead >= 0, 1 << (_W - lead).clamp(0, 63), 0)
    rel = (model.WINDOW_TOP - o)[:, None]
    return mag >> rel, top + rel


def reconstruct(base_, o, code, sign, mag, top, cfg):
    """Raw values: exponent from the leading one of ``mag``, the next M bits the mantissa,
    the first cut bit set when fewer than M are kept; zero where there is no leading one or
    the exponent leaves the normal range; Inf, NaN and zeros in a block with base 2^E - 1."""
    fmt = cfg.fmt
    m = fmt.man_bits
    # frexp of an integer below 2^53 is exact: mag = f * 2^x with 0.5 <= f < 1.
    hi = torch.where(mag > 0, torch.frexp(mag.to(torch.float64)).exponent.to(torch.int64) - 1, 0)
    t = _W - hi
    man = torch.where(hi >= m, mag >> (hi - m).clamp(min=0), mag << (m - hi).clamp(min=0)) & ((1 << m) - 1)
    kept = (top - t).clamp(0, m)
    man = man | torch.where(kept < m, 1 << (m - 1 - kept).clamp(min=0), 0)
    e = (base_ + model.WINDOW_TOP - o)[:, None] - t
    val = torch.where((mag > 0) & (e >= 1) & (e < fmt.exp_max), (e << m) | man, 0)
    inf, nan = fmt.exp_max << m, (fmt.exp_max << m) | (1 << (m - 1))
    special = (base_ == fmt.exp_max)[:, None]
    val = torch.where(special, torch.where(code == 0, inf, torch.where(code == 1, nan, 0)), val)
    return (sign << (fmt.width - 1)) | val


# -- the codec ----------------------------------------------------------------------------

@register
class Window:
    """A two-bit code per value for where its leading one lies in a window below the block
    maximum, every value kept to the same step (docs/format.md section 11)."""

    name = "window"
    #: The (blocks, N, K) full-plane grids are the largest temporaries.
    chunk_scale = 4

    def encode(self, raw, cfg):
        sign, exp, man = (v.to(torch.int64) for v in st.fields(raw, cfg))
        b = base(exp, cfg)
        cls = classes(exp, man, b, cfg)
        hist, special = histogram(cls, cfg)
        o, p, left = offset(hist, special, cfg)
        code = codes(cls, o, cfg)
        return pack(b, o, p, left, code, sign, exp, man, cfg)

    def decode(self, blocks, cfg):
        bits = bytes_to_bits(blocks)
        b, o = header(bits, cfg)
        code, sign = unpack_codes(bits, cfg)
        o, p, left = precision(code, b, o, cfg)
        mag, top = unpack_planes(bits, code, o, p, left, cfg)
        return reconstruct(b, o, code, sign, mag, top, cfg)
