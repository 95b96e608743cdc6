"""Stages of the ``significance`` policy: the precision P, the mantissa widths and the
mantissa region."""

import functools

import numpy as np

from ..bitfield import get_fields, join_factor, join_fields, put_fields, split_fields
from ..config import Config

__all__ = ["precision", "widths", "pack_mantissa", "precision_field", "unpack_mantissa"]


# -- significance policy -----------------------------------------------------------------

def _mantissa_room(present, cfg):
    """R: the bits left for mantissas after the header and the present non-mantissa planes."""
    return cfg.budget - cfg.header_bits - cfg.n * present.sum(axis=1)


@functools.lru_cache(maxsize=None)
def _ramp_table(m, nd, pmax):
    """Mantissa bits ``clamp(P - d, 0, M)`` of a value with delta d at every precision P,
    shape (2**K, Pmax + 1), as floats: the histogram products are exact small integers."""
    p = np.arange(pmax + 1)
    return np.clip(p[None, :] - np.arange(nd)[:, None], 0, m).astype(np.float64)


def precision(delta, zero, present, cfg: Config):
    """The largest precision P whose mantissa widths fit in what the block has left.

    A value with delta d keeps ``clamp(P - d, 0, M)`` mantissa bits; the total over the
    block, S(P), is read off the histogram of the deltas of values that are not zero-marked.
    """
    nb = delta.shape[0]
    m, nd = cfg.fmt.man_bits, 1 << cfg.k
    # Zero-marked values count in an extra bin that the product leaves out.
    idx = np.where(zero, nd, delta) + np.arange(0, nb * (nd + 1), nd + 1, dtype=np.intp)[:, None]
    hist = np.bincount(idx.ravel(), minlength=nb * (nd + 1)).reshape(nb, nd + 1)[:, :nd]
    total = hist.astype(np.float64) @ _ramp_table(m, nd, cfg.max_precision)
    return (total <= _mantissa_room(present, cfg)[:, None]).sum(axis=1) - 1


def widths(p, delta, zero, present, cfg: Config):
    """Mantissa bits k_i each value keeps at precision ``p``.

    k_i = clamp(P - d_i, 0, M); the bits the block has left over go, one each, to the
    values that would gain a bit at P + 1, in element order.
    """
    m = cfg.fmt.man_bits
    p = np.minimum(p, cfg.max_precision).astype(np.int16)[:, None]
    ahead = p - delta.astype(np.int16)                      # P - d_i
    gains = (ahead.view(np.uint16) < m) & ~zero             # 0 <= P - d_i < M
    k = np.minimum(np.maximum(ahead, 0), m)
    k[zero] = 0
    left = np.maximum(_mantissa_room(present, cfg) - k.sum(axis=1), 0)
    before = np.cumsum(gains, axis=1, dtype=np.int16) - gains
    return k + (gains & (before < left[:, None]))


def _mantissa_slots(k, cfg):
    """Each value's field, joined in runs of adjacent values: ``(factor, pos, width)``.

    Value i's k_i leading mantissa bits form one field at stream bits
    ``[B - sigma_i - k_i, B - sigma_i)``, its MSB on top; value i + 1's field lies directly
    below it, so ``factor`` adjacent fields join into one of at most 64 bits, placed at
    ``pos`` with ``width`` bits.
    """
    c = join_factor(cfg.fmt.man_bits, cfg.n)
    top = np.cumsum(k, axis=1, dtype=np.int64)            # sigma_i + k_i
    width = top[:, c - 1::c] - np.concatenate([np.zeros((len(k), 1), np.int64), top[:, c - 1:-1:c]], axis=1)
    return c, cfg.budget - top[:, c - 1::c], width


def pack_mantissa(man, k, cfg: Config):
    """The mantissa region: value i's k_i leading mantissa bits at stream bits
    ``B - 1 - (sigma_i + t)``, ``sigma_i = k_0 + ... + k_(i-1)``, as packed block bytes."""
    m = cfg.fmt.man_bits
    k8 = k.astype(np.uint8)
    field = man.astype(np.uint32) >> (np.uint8(m) - k8)    # the k_i leading bits, MSB on top
    c, pos, _ = _mantissa_slots(k8, cfg)
    value, _ = join_fields(field, k8, c, upper_first=True, max_width=m)
    return put_fields(len(man), cfg.budget, pos[:, ::-1], value[:, ::-1])  # in stream order


def precision_field(blocks, cfg: Config):
    """The precision P from the header of `significance` blocks, clamped to its maximum."""
    head = np.zeros((blocks.shape[0], 8), np.uint8)
    take = min(8, blocks.shape[1])
    head[:, :take] = blocks[:, :take]
    hdr = head.view("<u8")[:, 0] >> np.uint64(cfg.fmt.exp_bits + cfg.mask_bits)
    p = (hdr & np.uint64((1 << cfg.policy_bits) - 1)).astype(np.int32)
    return np.minimum(p, cfg.max_precision)


def unpack_mantissa(blocks, k, present, cfg: Config):
    """Read every value's kept mantissa bits back; bits past the mantissa region read as 0.

    Returns ``(man, fill)``: the mantissas with cut bits 0, and each value's first cut bit.
    """
    m = cfg.fmt.man_bits
    k8 = k.astype(np.uint8)
    c, pos, width = _mantissa_slots(k8, cfg)
    chunk = get_fields(blocks, pos, width)
    # Bits at distance R or more from the top (below stream bit B - R) read as 0.
    cut = np.clip(cfg.budget - _mantissa_room(present, cfg)[:, None] - pos, 0, 64).astype(np.uint64)
    chunk = np.where(cut >= 64, np.uint64(0), chunk & ~((np.uint64(1) << np.minimum(cut, np.uint64(63))) - np.uint64(1)))
    field = split_fields(chunk, k8, c, upper_first=True, max_width=m)
    man = field.astype(np.uint32) << (np.uint8(m) - k8)
    fill = np.where(k8 < m, np.uint32(1) << (np.uint8(m - 1) - np.minimum(k8, np.uint8(m - 1))), np.uint32(0))
    return man, fill
