"""Truncation policies: each one composes the shared stages with its own few.

A policy is a class with ``encode(raw, cfg) -> bytes`` and ``decode(blocks, cfg) -> raw``
on ``(blocks, N)`` int64 raw bit patterns and ``(blocks, B/8 + 1)`` int64 bytes (the last
column spare). :func:`register` adds one to :data:`POLICIES` under its ``Config.policy``
name; :mod:`facet.torch.codec` picks it from there.
"""

import torch

from . import stages as st
from .bits import arange, bits_to_bytes, bytes_to_bits, to_planes

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

    # -- stages of its own ------------------------------------------------------------------

    @staticmethod
    def room(present, cfg):
        """R: the bits left for mantissas after the header and the present non-mantissa planes."""
        return cfg.budget - cfg.header_bits - cfg.n * present.sum(dim=1)

    def precision(self, delta, zero, present, cfg):
        """The largest P whose widths ``clamp(P - d_i, 0, M)`` sum to at most R."""
        m, nd = cfg.fmt.man_bits, 1 << cfg.k
        hist = torch.zeros((delta.shape[0], nd), dtype=torch.int64, device=delta.device)
        hist.scatter_add_(1, delta, (~zero).to(torch.int64))
        p = arange(cfg.max_precision + 1, delta)
        per_value = (p[None, :] - arange(nd, delta)[:, None]).clamp(0, m)   # (2**K, Pmax + 1)
        total = (hist[:, :, None] * per_value[None]).sum(dim=1)
        return (total <= self.room(present, cfg)[:, None]).sum(dim=1) - 1

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

    @staticmethod
    def slots(k, cfg):
        """Per value and mantissa bit (MSB first): kept?, and its stream bit."""
        t = arange(cfg.fmt.man_bits, k)
        start = torch.cumsum(k, dim=1) - k                              # sigma_i
        kept = t[None, None, :] < k[:, :, None]                         # (blocks, N, M)
        return kept, cfg.budget - 1 - (start[:, :, None] + t)

    def pack_mantissa(self, man, k, cfg):
        """Value i's k_i leading mantissa bits at stream bits ``B - 1 - (sigma_i + t)``."""
        nb, m, bsz = man.shape[0], cfg.fmt.man_bits, cfg.budget
        kept, position = self.slots(k, cfg)
        bit = (man[:, :, None] >> (m - 1 - arange(m, man))) & 1
        # Kept positions are distinct; the others go to a spare column.
        where = torch.where(kept, position, bsz).reshape(nb, -1)
        stream = man.new_zeros((nb, bsz + 1)).scatter_(1, where, bit.reshape(nb, -1))
        return bits_to_bytes(stream[:, :bsz])

    def unpack_mantissa(self, blocks, k, present, cfg):
        """The kept mantissa bits, and each value's first cut bit: ``(man, fill)``."""
        nb, m, bsz = blocks.shape[0], cfg.fmt.man_bits, cfg.budget
        bits = bytes_to_bits(blocks[:, :cfg.budget_bytes])
        kept, position = self.slots(k, cfg)
        inside = kept & (bsz - 1 - position < self.room(present, cfg)[:, None, None])
        got = torch.gather(bits, 1, position.clamp(0, bsz - 1).reshape(nb, -1)).reshape(kept.shape)
        man = ((got & inside) << (m - 1 - arange(m, blocks))).sum(dim=2)
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
