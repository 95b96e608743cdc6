"""Truncation policies: each one composes the shared stages with its own few.

A policy is a class with ``encode(raw, cfg) -> bytes`` and ``decode(blocks, cfg) -> raw``
on ``(blocks, N)`` integer raw bit patterns and ``(blocks, B/8 + 1)`` integer bytes (the last
column spare). :func:`register` adds one to :data:`POLICIES` under its ``Config.policy``
name; :mod:`facet.torch.codec` picks it from there.
"""

import torch

from . import stages as st
from .bits import arange, bytes_to_words, reverse_bits, to_planes, words_to_bytes

__all__ = ["POLICIES", "register", "Plane", "Significance"]

#: ``Config.policy`` name -> policy instance.
POLICIES = {}


def register(cls):
    """Class decorator: add an instance of ``cls`` to :data:`POLICIES` as ``cls.name``."""
    POLICIES[cls.name] = cls()
    return cls


def _front(raw, cfg):
    """fields -> base -> deltas: ``(sign, base, delta, zero, man)``."""
    sign, exp, man = st.fields(raw, cfg)
    b = st.base(exp, cfg)
    delta, zero, man = st.deltas(exp, man, b, cfg)
    return sign, b, delta, zero, man


@register
class Plane:
    """Whole bit-planes, least significant mantissa planes cut first (docs/format.md 2-7)."""

    name = "plane"

    def encode(self, raw, cfg):
        sign, b, delta, zero, man = _front(raw, cfg)
        words = st.planes(sign, delta, zero, man, cfg)
        return st.pack(b, st.mask(words), words, cfg)

    def decode(self, blocks, cfg):
        b, present, _ = st.header(blocks, cfg)
        words, fill = st.unpack(blocks, present, cfg)
        return st.reconstruct(b, st.split_codes(words, cfg), fill, cfg)


@register
class Significance:
    """Per-value mantissa widths at one block precision P (docs/format.md section 8)."""

    name = "significance"
    chunk_scale = 1

    # -- stages of its own ------------------------------------------------------------------

    @staticmethod
    def room(present, cfg):
        """R: the bits left for mantissas after the header and the present non-mantissa planes."""
        return cfg.budget - cfg.header_bits - cfg.n * present.sum(dim=1)

    def precision(self, delta, zero, present, cfg):
        """The largest P whose widths ``clamp(P - d_i, 0, M)`` sum to at most R.

        S(P) does not decrease with P, so P is found bit by bit, MSB first, as the hardware
        does: a bit is set when S of the candidate still fits.
        """
        m, room = cfg.fmt.man_bits, self.room(present, cfg)
        p = torch.zeros_like(room)
        for bit in reversed(range(cfg.policy_bits)):
            cand = p | (1 << bit)
            total = (cand[:, None] - delta).clamp(0, m).masked_fill(zero, 0).sum(dim=1)
            p = torch.where((cand <= cfg.max_precision) & (total <= room), cand, p)
        return p

    def widths(self, p, delta, zero, present, cfg):
        """k_i = clamp(P - d_i, 0, M), plus the leftover bits in element order."""
        m = cfg.fmt.man_bits
        p = p.clamp(max=cfg.max_precision)[:, None]
        k = (p - delta).clamp(0, m).masked_fill(zero, 0)
        left = (self.room(present, cfg) - k.sum(dim=1)).clamp(min=0)
        gains = ~zero & (delta <= p) & (p - delta < m)
        g = gains.to(torch.int64)
        before = torch.cumsum(g, dim=1) - g
        return k + (gains & (before < left[:, None])).to(torch.int64)

    # The mantissa region is handled as an integer read from the top of the block down:
    # "rev bit" p is stream bit B - 1 - p. Value i's kept bits, MSB first, are rev bits
    # sigma_i ... sigma_i + k_i - 1, so each value is one shifted word, at most two 64-bit
    # words wide, and the whole region costs O(N) work per block, not O(N * M).

    @staticmethod
    def _offsets(k):
        """sigma_i = k_0 + ... + k_(i-1), and the rev word and bit it starts at."""
        sigma = torch.cumsum(k, dim=1) - k
        return sigma, sigma >> 6, sigma & 63

    def pack_mantissa(self, man, k, cfg):
        """Value i's k_i leading mantissa bits at stream bits ``B - 1 - (sigma_i + t)``."""
        nb, m, nbytes = man.shape[0], cfg.fmt.man_bits, cfg.budget_bytes
        v = reverse_bits(man, m) & ((1 << k) - 1)          # bit t = mantissa bit M-1-t
        sigma, w, s = self._offsets(k)
        nw = -(-cfg.budget // 64) + 1
        hi = torch.where(s > 0, v >> (64 - s).clamp(max=63), 0)
        # Kept bits never overlap, so adding them is OR-ing them.
        words = man.new_zeros((nb, nw + 1), dtype=torch.int64)
        words.scatter_add_(1, w, v << s).scatter_add_(1, w + 1, hi)
        rev = words_to_bytes(words, 64)[:, :nbytes]
        return reverse_bits(rev, 8).flip(1)

    def unpack_mantissa(self, blocks, k, present, cfg):
        """The kept mantissa bits, and each value's first cut bit: ``(man, fill)``.

        Bits at a distance R or more from the top of the block read as 0 (foreign blocks).
        """
        nb, m, nbytes = blocks.shape[0], cfg.fmt.man_bits, cfg.budget_bytes
        nw = -(-cfg.budget // 64) + 1
        rev = blocks.new_zeros((nb, 8 * nw), dtype=torch.int64)
        rev[:, :nbytes] = reverse_bits(blocks[:, :nbytes].to(torch.int64), 8).flip(1)
        words = bytes_to_words(rev, 64)
        sigma, w, s = self._offsets(k)
        lo = torch.gather(words, 1, w.clamp(max=nw - 1))
        hi = torch.gather(words, 1, (w + 1).clamp(max=nw - 1))
        # torch shifts int64 arithmetically: keep only the bits that come from the low word.
        v = ((lo >> s) & ((1 << (64 - s).clamp(max=m)) - 1)) | torch.where(s > 0, hi << (64 - s).clamp(max=63), 0)
        keep = torch.minimum(k, self.room(present, cfg)[:, None] - sigma).clamp(min=0)
        man = reverse_bits(v & ((1 << keep) - 1), m)
        fill = torch.where(k < m, 1 << (m - 1 - k).clamp(min=0), 0)
        return man, fill

    # -- the codec --------------------------------------------------------------------------

    def encode(self, raw, cfg):
        sign, b, delta, zero, man = _front(raw, cfg)
        nm = cfg.mask_bits
        # Only the zero, delta and sign planes are planes here: the code without mantissa.
        words = to_planes(st.codes(sign, delta, zero, 0, cfg) >> cfg.fmt.man_bits, nm)
        present = st.mask(words)
        p = self.precision(delta, zero, present, cfg)
        k = self.widths(p, delta, zero, present, cfg)
        out = st.pack(b, present, words, cfg, policy_field=p)
        out[:, :cfg.budget_bytes] |= self.pack_mantissa(man, k, cfg)
        return out

    def decode(self, blocks, cfg):
        b, present, hdr = st.header(blocks, cfg)
        m, k, nm = cfg.fmt.man_bits, cfg.k, cfg.mask_bits
        p = ((hdr >> (cfg.fmt.exp_bits + nm)) & ((1 << cfg.policy_bits) - 1)).clamp(max=cfg.max_precision)
        words, _ = st.unpack(blocks, present, cfg)
        code = st.split_codes(words, cfg)                   # zero << K+1 | delta << 1 | sign
        delta = (code >> 1) & ((1 << k) - 1)
        zero = (code >> (k + 1)).to(torch.bool)
        widths = self.widths(p, delta, zero, present, cfg)
        man, fill = self.unpack_mantissa(blocks, widths, present, cfg)
        return st.reconstruct(b, (code << m) | man, fill, cfg)

from . import vlc, window  # noqa: E402,F401  (register the `vlc` and `window` policies)
