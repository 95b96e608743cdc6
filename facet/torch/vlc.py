"""The `vlc` policy (docs/format.md, section 10) as torch ops, bit-identical to :mod:`facet.vlc`.

One function per stage of the model, each vectorized over blocks:

encoder   ``fields -> base -> classes -> depth -> precision -> widths -> codewords -> pack``
decoder   ``header -> unpack_classes -> precision -> widths -> unpack_fields -> reconstruct``

The code tables are the model's (:mod:`facet.vlc_code`), turned once per device into flat
lookup tensors: codewords and lengths, the costs the depth and precision choices sum, and
each head's tail width and class. Per-value quantities are ``(blocks, N)`` int64 tensors.
"""

import functools

import torch

from facet import vlc as model
from facet import vlc_code
from facet.config import VLC_OFFSETS

from . import stages as st
from .bits import arange, header_int, words_to_bytes
from .policies import register

__all__ = ["base", "classes", "depth", "precision", "widths", "codewords", "pack", "header",
           "unpack_classes", "unpack_fields", "reconstruct", "Vlc"]

ZERO, INF, NAN = model.ZERO, model.INF, model.NAN
TAIL_MAX = vlc_code.TAIL_MAX
NCLASS = NAN + 1
DEPTHS = 16                     # depths 0..15: the 4-bit depth field
MODES = 4                       # modes 0..2: window offsets VLC_OFFSETS; mode 3: specials
OFFSETS = tuple(VLC_OFFSETS) + (0,)


# -- code tables --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _host_code():
    """Codewords, lengths and decoder tables on the CPU (see :func:`_code`)."""
    code, length, tail, cls = (torch.from_numpy(t.astype("int64")) for t in vlc_code._code_lookup())
    return {"code": code, "length": length, "tail": tail, "cls": cls, "offsets": torch.tensor(OFFSETS)}


@functools.lru_cache(maxsize=None)
def _host_cost(man_bits):
    """Cost tables on the CPU (see :func:`_cost`)."""
    length = _host_code()["length"].reshape(MODES, DEPTHS, NCLASS)
    cls = torch.arange(NCLASS)
    d = torch.arange(DEPTHS)[:, None]
    kept = (cls < DEPTHS) & (cls <= d)                                       # (depths, classes)
    signed = kept | (cls == INF) | (cls == NAN)
    mant = torch.where(kept, (d - 1 - cls).clamp(0, man_bits), 0)
    cost = (length + signed + mant).reshape(-1, NCLASS).T
    ramp = (torch.arange(-1, man_bits + 1)[None, :] + torch.arange(DEPTHS)[:, None]).clamp(0, man_bits)
    return {"cost": cost.to(torch.float64), "ramp": ramp.to(torch.float64)}


_ON_DEVICE = {}


def _on(device, key, host):
    """``host`` (a dict of tensors and numbers) with its tensors moved to ``device``, once."""
    if (key, device) not in _ON_DEVICE:
        _ON_DEVICE[key, device] = {k: v.to(device) if torch.is_tensor(v) else v for k, v in host.items()}
    return _ON_DEVICE[key, device]


def _code(device):
    """Code tables on ``device``: ``code`` (h0 | h1 << 1 | g << 2) and ``length`` (2 + f) by
    ``(mode * 16 + d) * 19 + class``; the tail width ``tail`` of each head by
    ``(mode * 16 + d) * 4 + head`` and the class ``cls`` of each head and tail index by
    ``((mode * 16 + d) * 4 + head) * 16 + g``; the window ``offsets`` of the four modes."""
    return _on(device, "code", _host_code())


def _cost(man_bits, device):
    """Cost tables on ``device``, float64 so that their integer products are exact (and
    untouched by TF32 matmul settings):
    ``cost`` (classes, modes * depths) the bits a value of each class costs at precision
    D - 1, and ``ramp`` (depths, M + 2) the mantissa bits of a value s binades below D at
    precision D + u, u = -1 .. M."""
    return _on(device, man_bits, _host_cost(man_bits))


def _histogram(cls):
    """Count of each class per block, (blocks, NCLASS)."""
    return torch.zeros((cls.shape[0], NCLASS), dtype=torch.int64, device=cls.device).scatter_add_(
        1, cls, torch.ones_like(cls))


def _kept(cls, d):
    """Values kept with an exponent: distances up to the depth."""
    return (cls < DEPTHS) & (cls <= d[:, None])


def _signed(cls, d):
    """Values with a field: the kept ones and the specials."""
    return _kept(cls, d) | (cls == INF) | (cls == NAN)


# -- encoder stages -----------------------------------------------------------------------

def base(exp, cfg):
    """The block base: the largest exponent field of a finite value (0 if none)."""
    return torch.where(exp < cfg.fmt.exp_max, exp, 0).amax(dim=1)


def classes(exp, man, base_, cfg):
    """Each value's class: its distance below the base (0..15), ZERO, INF or NAN."""
    dist = base_[:, None] - exp
    cls = torch.where((exp > 0) & (dist <= cfg.max_depth), dist, ZERO)
    special = exp == cfg.fmt.exp_max
    return torch.where(special, torch.where(man != 0, NAN, INF), cls).to(torch.int64)


def depth(hist, cfg):
    """``(d, mode)``: the largest present depth some allowed mode fits at precision D - 1, and
    the cheapest allowed mode there, the lowest on a tie."""
    nb = hist.shape[0]
    cost = _cost(cfg.fmt.man_bits, hist.device)["cost"]
    total = (hist.to(torch.float64) @ cost).to(torch.int64).reshape(nb, MODES, DEPTHS) + cfg.header_bits
    special = (hist[:, INF] + hist[:, NAN]) > 0
    dd, mm = arange(DEPTHS, hist), arange(MODES, hist)
    allowed = _code(hist.device)["offsets"][:, None] <= dd                   # (modes, depths)
    mode_ok = torch.where(special[:, None], mm == 3, mm < 3)                 # (blocks, modes)
    present = hist[:, :DEPTHS] > 0
    present[:, 0] = True
    ok = (total <= cfg.budget) & allowed & mode_ok[:, :, None] & present[:, None, :]
    # Largest D first, then the smallest cost, then the lowest mode.
    key = (dd << 20) - (total << 2) - mm[:, None]
    key = torch.where(ok, key, -(1 << 30))
    best = key.reshape(nb, -1).argmax(dim=1)
    return best % DEPTHS, best // DEPTHS


def codewords(cls, d, mode):
    """Each value's codeword ``h0 | h1 << 1 | g << 2`` (head bits, tail index) and its
    length 2 + f."""
    tab = _code(cls.device)
    idx = ((mode * DEPTHS + d) * NCLASS)[:, None] + cls
    return tab["code"][idx], tab["length"][idx]


def _code_cost(length, signed, cfg):
    """Header, codewords and sign bits: the cost C(D, m, P) without mantissas."""
    return cfg.header_bits + length.sum(dim=1) + signed.sum(dim=1)


def precision(hist, d, cost, cfg):
    """``(p, left)``: the largest P in [D - 1, D + M] whose mantissas fit, and the bits over."""
    ramp = _cost(cfg.fmt.man_bits, hist.device)["ramp"]
    # Count values by how far they lie below D (s = D - t), so one ramp serves every D.
    src = d[:, None] - arange(DEPTHS, d)
    below = torch.gather(hist[:, :DEPTHS], 1, src.clamp(min=0)).masked_fill(src < 0, 0)
    total = cost[:, None] + (below.to(torch.float64) @ ramp).to(torch.int64)  # P = D-1 .. D+M
    t = ((total <= cfg.budget).sum(dim=1) - 1).clamp(min=0)   # total grows with P: a prefix fits
    return d - 1 + t, cfg.budget - torch.gather(total, 1, t[:, None])[:, 0]


def widths(cls, d, p, left, cfg):
    """Mantissa bits k_i: clamp(P - t_i, 0, M) for kept values, plus one for each of the first
    ``left`` kept values (element order) with t_i <= P and k_i < M."""
    m = cfg.fmt.man_bits
    kept = _kept(cls, d)
    k = torch.where(kept, (p[:, None] - cls).clamp(0, m), 0)
    gain = kept & (cls <= p[:, None]) & (k < m)
    g = gain.to(torch.int64)
    before = torch.cumsum(g, dim=1) - g
    return k + (gain & (before < left.clamp(min=0)[:, None])).to(torch.int64)


def _put(pos, val, cfg):
    """Fields ``val`` (at most 64 bits; disjoint) at stream bits ``pos``, both (blocks, F),
    as (blocks, B/8) bytes."""
    nw = -(-cfg.budget // 64) + 2
    w, s = pos >> 6, pos & 63
    words = val.new_zeros((val.shape[0], nw))
    # Disjoint bits: adding them is OR-ing them. torch shifts int64 arithmetically, so the
    # part that spills into the next word is masked to the s bits it brings.
    words.scatter_add_(1, w, val << s)
    words.scatter_add_(1, w + 1, (val >> (64 - s).clamp(max=63)) & ((1 << s) - 1))
    return words_to_bytes(words, 64)[:, :cfg.budget_bytes]


def pack(base_, d, mode, code, length, signed, sign, man, k, cfg):
    """Header; the head planes from bit H (bit H + i: the first bit of value i's codeword,
    bit H + N + i: its second bit); from bit H + 2N the tails, value by value, each LSB
    first; and each value's field (sign above its k_i leading mantissa bits) from bit B - 1
    down, value 0 at the top."""
    e, m, n, h = cfg.fmt.exp_bits, cfg.fmt.man_bits, cfg.n, cfg.header_bits
    hdr = base_ | (d << e) | (mode << (e + 4))
    # Both head planes as one 2N-bit string, in 32-bit fields.
    heads = torch.cat([code & 1, (code >> 1) & 1], dim=1).reshape(len(code), -1, min(2 * n, 32))
    hval = (heads << arange(heads.shape[2], code)).sum(dim=2)
    hpos = h + arange(hval.shape[1], code)[None, :].expand_as(hval) * 32
    f = (length - 2).clamp(min=0)
    tpos = h + 2 * n + torch.cumsum(f, dim=1) - f
    width = torch.where(signed, k + 1, 0)
    field = torch.where(signed, (sign << k) | (man >> (m - k)), 0)
    fpos = cfg.budget - torch.cumsum(width, dim=1)
    pos = torch.cat([torch.zeros_like(hdr)[:, None], hpos, tpos, fpos], dim=1)
    return _put(pos, torch.cat([hdr[:, None], hval, code >> 2, field.to(torch.int64)], dim=1), cfg)


# -- decoder stages -----------------------------------------------------------------------

def _windows(blocks):
    """Each block's 32 stream bits from each byte on, (blocks, B/8 + 1) int64; bits past the
    block read as 0."""
    nb, nbytes = blocks.shape
    ext = blocks.new_zeros((nb, nbytes + 4), dtype=torch.int64)
    ext[:, :nbytes] = blocks
    return ext[:, :-3] | (ext[:, 1:-2] << 8) | (ext[:, 2:-1] << 16) | (ext[:, 3:] << 24)


def _get(win, pos, width, cfg):
    """Fields of ``width`` <= 25 bits at stream bits ``pos`` (any integers): bits outside
    [0, B) read as 0."""
    lo = pos.clamp(0, cfg.budget)
    cut = (lo - pos).clamp(0, 63)                       # bits below stream bit 0
    w = (width - cut).clamp(min=0)
    # take on flat indices: much faster than gather along rows on the CPU.
    row = (arange(win.shape[0], pos) * win.shape[1]).reshape(-1, *[1] * (pos.dim() - 1))
    v = torch.take(win, row + (lo >> 3)) >> (lo & 7)
    return (v & ((1 << w) - 1)) << cut


def _get64(win, pos, cfg):
    """The 64 stream bits from bit ``pos`` on, one field per block, as int64 (bits outside
    [0, B) read as 0)."""
    return sum(_get(win, pos + 24 * i, 24, cfg) << (24 * i) for i in range(3))


def header(blocks, cfg):
    """``(base, d, mode)`` from the first H bits."""
    e = cfg.fmt.exp_bits
    hdr = header_int(blocks)
    return hdr & ((1 << e) - 1), (hdr >> e) & 15, (hdr >> (e + 4)) & 3


def unpack_classes(blocks, d, mode, cfg, win=None):
    """Each value's class from its head (planes 0 and 1) and its tail, read at H + 2N plus
    the tail widths of the values before it; bits at or past B read as 0, and a tail index
    past its group's end gives ZERO.

    Returns ``(cls, end)``: each value's class and the stream bit after the class region.
    """
    tab = _code(blocks.device)
    n, h = cfg.n, cfg.header_bits
    win = _windows(blocks) if win is None else win
    # The 2N head bits in 16-bit reads, then bit by bit.
    chunk = _get(win, h + 16 * arange(2 * n // 16, d)[None, :].expand(len(d), -1), 16, cfg)
    bits = ((chunk[:, :, None] >> arange(16, d)) & 1).reshape(len(d), 2 * n)
    head = ((mode * DEPTHS + d) * 4)[:, None] + bits[:, :n] + (bits[:, n:] << 1)
    f = torch.take(tab["tail"], head)
    start = h + 2 * n + torch.cumsum(f, dim=1) - f
    g = _get(win, start, f, cfg)
    return torch.take(tab["cls"], (head << TAIL_MAX) + g), start[:, -1] + f[:, -1]


def unpack_fields(win, signed, k, cfg):
    """Each value's sign and its mantissa with the k_i kept bits in place (the cut bits 0),
    from the top of the block down."""
    width = torch.where(signed, k + 1, 0)
    field = _get(win, cfg.budget - torch.cumsum(width, dim=1), width, cfg)
    return (field >> k) & 1, (field & ((1 << k) - 1)) << (cfg.fmt.man_bits - k)


def reconstruct(base_, cls, d, k, sign, man, cfg):
    """Raw values: a kept mantissa gets its first cut bit set (the midpoint of what was cut);
    ZERO gives +0; a kept value whose exponent falls outside the normal range (foreign
    blocks only) gives a signed zero."""
    fmt = cfg.fmt
    m = fmt.man_bits
    e = base_[:, None] - cls
    man = man | torch.where(k < m, 1 << (m - 1 - k).clamp(min=0), 0)
    mag = torch.where(_kept(cls, d) & (e >= 1) & (e < fmt.exp_max), (e << m) | man, 0)
    mag = torch.where(cls == INF, fmt.exp_max << m, mag)
    mag = torch.where(cls == NAN, (fmt.exp_max << m) | (1 << (m - 1)), mag)
    return (sign << (fmt.width - 1)) | mag


# -- the codec ----------------------------------------------------------------------------

@register
class Vlc:
    """A prefix code of each value's distance below the block maximum, every value kept to
    the same step (docs/format.md section 10)."""

    name = "vlc"
    #: Many (blocks, N) int64 temporaries are live at once; a quarter chunk keeps them small.
    chunk_scale = 4

    def encode(self, raw, cfg):
        sign, exp, man = st.fields(raw, cfg)
        b = base(exp, cfg)
        cls = classes(exp, man, b, cfg)
        hist = _histogram(cls)
        d, mode = depth(hist, cfg)
        code, length = codewords(cls, d, mode)
        signed = _signed(cls, d)
        p, left = precision(hist, d, _code_cost(length, signed, cfg), cfg)
        k = widths(cls, d, p, left, cfg)
        return pack(b.to(torch.int64), d, mode, code, length, signed, sign.to(torch.int64), man, k, cfg)

    def decode(self, blocks, cfg):
        win = _windows(blocks)
        b, d, mode = header(blocks, cfg)
        mode = torch.where(_code(blocks.device)["offsets"][mode] > d, 0, mode)
        cls, _ = unpack_classes(blocks, d, mode, cfg, win)
        _, length = codewords(cls, d, mode)
        signed = _signed(cls, d)
        p, left = precision(_histogram(cls), d, _code_cost(length, signed, cfg), cfg)
        k = widths(cls, d, p, left, cfg)
        sign, man = unpack_fields(win, signed, k, cfg)
        return reconstruct(b, cls, d, k, sign, man, cfg)
