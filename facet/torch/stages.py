"""The stages every policy shares, as torch ops, named after their :mod:`facet.model` functions.

encoder   ``fields -> base -> deltas -> planes -> mask -> pack``
decoder   ``header -> unpack -> reconstruct``

Per-value quantities are ``(blocks, N)`` tensors of :func:`facet.torch.bits.work_dtype`.
Bit-planes are uint8
``(blocks, planes, N/8)`` tensors in stream order, each plane its N stream bits as bytes
(docs/format.md, sections 2-4).
"""

import torch

from .bits import arange, from_planes, header_int, or_at, read_at, to_planes, words_to_bytes
from .bits import work_dtype

__all__ = ["fields", "base", "deltas", "codes", "planes", "mask", "pack", "header", "unpack",
           "split_codes", "reconstruct"]


def fields(raw, cfg):
    """Split raw values into sign, biased exponent and mantissa fields."""
    fmt = cfg.fmt
    sign = (raw >> (fmt.width - 1)) & 1
    exp = (raw >> fmt.man_bits) & fmt.exp_max
    man = raw & ((1 << fmt.man_bits) - 1)
    return sign, exp, man


def base(exp, cfg):
    """The block base: its largest biased exponent."""
    return exp.amax(dim=1)


def deltas(exp, man, base_, cfg):
    """Exponent deltas with the flush rule and NaN canonicalization: ``(delta, zero, man)``."""
    fmt = cfg.fmt
    delta = base_[:, None] - exp
    zero = (exp == 0) | (delta >= (1 << cfg.k))
    nan = (exp == fmt.exp_max) & (man != 0)
    man = torch.where(nan, 1 << (fmt.man_bits - 1), man)
    return delta.masked_fill(zero, 0), zero, man.masked_fill(zero, 0)


def codes(sign, delta, zero, man, cfg):
    """Per-value code word ``man | sign << M | delta << M+1 | zero << M+K+1``.

    Its bits, MSB first, are the planes in stream order.
    """
    m, k = cfg.fmt.man_bits, cfg.k
    return man | (sign << m) | (delta << (m + 1)) | (zero.to(sign.dtype) << (m + k + 1))


def planes(sign, delta, zero, man, cfg):
    """The P bit-planes in stream order: zero, delta MSB..LSB, sign, mantissa MSB..LSB."""
    return to_planes(codes(sign, delta, zero, man, cfg), cfg.num_planes)


def mask(words):
    """Presence mask: True for every plane that holds a one."""
    return (words != 0).any(dim=2)


def pack(base_, present, words, cfg, policy_field=None):
    """Header, then the present planes in stream order, cut at B bits, as bytes.

    Returns ``(blocks, B/8 + 1)`` int32 bytes; the last column is spare room for
    :func:`facet.torch.bits.or_at` and is dropped by the caller.
    """
    nb, p, g = words.shape
    e = cfg.fmt.exp_bits
    # Scatter each present plane to its rank; absent planes (all zero) go to a spare row.
    rank = torch.cumsum(present, dim=1) - present.to(torch.int64)
    slot = torch.where(present, rank, p)[:, :, None].expand(nb, p, g)
    region = words.new_zeros((nb, p + 1, g)).scatter_(1, slot, words)[:, :p]
    mask_int = (present.to(torch.int64) << arange(p, base_)).sum(dim=1)
    hdr = base_ | (mask_int << e)
    if policy_field is not None:
        hdr = hdr | (policy_field << (e + p))
    out = base_.new_zeros((nb, cfg.budget_bytes + 1), dtype=torch.int32)
    or_at(out, 0, words_to_bytes(hdr[:, None], 64))
    or_at(out, cfg.header_bits, region.reshape(nb, p * g))
    return out


def header(blocks, cfg):
    """Parse the header: ``(base, present, hdr)``; ``present`` is ``(blocks, mask_bits)``.

    ``hdr`` is the first 64 stream bits, for policy fields that follow the mask.
    """
    hdr = header_int(blocks)
    e, q = cfg.fmt.exp_bits, cfg.mask_bits
    base_ = (hdr & cfg.fmt.exp_max).to(work_dtype(cfg.fmt))
    present = ((hdr[:, None] >> (e + arange(q, hdr))) & 1).to(torch.bool)
    return base_, present, hdr


def unpack(blocks, present, cfg):
    """Route the slots after the header back to their planes.

    Returns ``(words, fill)``: plane words in stream order with cut bits read as 0, and per
    value its first cut mantissa bit (or 0), as in :func:`facet.model.unpack`.
    """
    nb, n, p = blocks.shape[0], cfg.n, present.shape[1]
    g = n // 8
    region = read_at(blocks, cfg.header_bits, p * g).reshape(nb, p, g)
    rank = torch.cumsum(present, dim=1) - present.to(torch.int64)
    idx = rank.clamp(max=p - 1)[:, :, None].expand(nb, p, g)
    words = torch.gather(region, 1, idx).masked_fill_(~present[:, :, None], 0)

    # Element i of slot s_full survives the cut for i < r: its first cut bit is in the
    # present plane of rank s_full (i >= r) or s_full + 1 (i < r).
    m = cfg.fmt.man_bits
    j = torch.arange(p, dtype=work_dtype(cfg.fmt), device=blocks.device) - cfg.first_mantissa_plane
    # mantissa plane j holds bit M-1-j
    bit = torch.where(j >= 0, 1 << (m - 1 - j).clamp(min=0), 0)
    hi = torch.where(present & (rank == cfg.full_slots), bit, 0).amax(dim=1)
    lo = torch.where(present & (rank == cfg.full_slots + 1), bit, 0).amax(dim=1)
    fill = torch.where(arange(n, j) >= cfg.partial_elems, hi[:, None], lo[:, None])
    return words, fill


def split_codes(words, cfg):
    """Plane words in stream order -> per-value code words (see :func:`codes`)."""
    return from_planes(words, work_dtype(cfg.fmt))


def reconstruct(base_, code, fill, cfg):
    """Rebuild raw values from the base and the code words; cut mantissas get their midpoint."""
    fmt = cfg.fmt
    m, k = fmt.man_bits, cfg.k
    man = code & ((1 << m) - 1)
    delta = (code >> (m + 1)) & ((1 << k) - 1)
    zero = ((code >> (m + k + 1)) & 1).to(torch.bool)
    e = base_[:, None] - delta
    man = man | torch.where(e == fmt.exp_max, 0, fill)
    mag = ((e << m) | man).masked_fill(zero | (e <= 0), 0)
    sign = ((code >> m) & 1) << (fmt.width - 1)
    return sign | mag
