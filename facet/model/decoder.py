"""Decoder stages of the golden model."""

import numpy as np

from ..config import Config
from .encoder import from_planes
from .transpose import WORD, _code_dtype

__all__ = ["header", "unpack", "reconstruct"]


# -- decoder stages -----------------------------------------------------------------------

def header(blocks, cfg: Config):
    """Parse the header: ``(base, present)``, ``present`` of shape ``(blocks, mask_bits)``."""
    nb = blocks.shape[0]
    head = np.zeros((nb, 8), np.uint8)
    take = min(8, blocks.shape[1])
    head[:, :take] = blocks[:, :take]
    hdr = head.view("<u8")[:, 0]
    e, p = cfg.fmt.exp_bits, cfg.mask_bits
    base_ = (hdr & np.uint64(cfg.fmt.exp_max)).astype(np.int32)
    bit = np.arange(p, dtype=np.uint64)
    present = ((hdr[:, None] >> (np.uint64(e) + bit)) & np.uint64(1)).astype(bool)
    return base_, present


def unpack(blocks, present, cfg: Config):
    """Route the slots after the header back to their planes.

    Returns ``(words, fill)``: plane words in stream order with cut bits read as 0, and per
    value, as a ``(blocks, N)`` mantissa bit mask, its first cut mantissa bit (or 0).
    """
    nb = blocks.shape[0]
    n, p, h = cfg.n, present.shape[1], cfg.header_bits
    q, s = divmod(h, 8)
    nreg = p * n // 8
    ext = np.zeros((nb, q + nreg + 1), np.uint8)
    take = min(blocks.shape[1], ext.shape[1])
    ext[:, :take] = blocks[:, :take]
    pair = ext[:, q:q + nreg].astype(np.uint16) | (ext[:, q + 1:q + nreg + 1].astype(np.uint16) << 8)
    region = ((pair >> s) & 0xFF).astype(np.uint8).view(WORD[n])  # (nb, P) slots

    rank = np.cumsum(present, axis=1, dtype=np.int8) - present
    words = np.where(present, np.take_along_axis(region, rank, axis=1), 0).astype(WORD[n])

    # Element i of slot s_full survives the cut for i < r, so the first cut bit of element i
    # is in the present plane of rank s_full (i >= r) or s_full + 1 (i < r). Both ranks lie
    # past the non-mantissa planes, which always fit.
    cdt = _code_dtype(cfg.fmt.man_bits + 1)
    j = np.arange(p) - cfg.first_mantissa_plane  # mantissa plane j holds bit M-1-j
    bit = np.where(j >= 0, 1 << np.clip(cfg.fmt.man_bits - 1 - j, 0, None), 0).astype(cdt)
    first_cut_hi = np.where(present & (rank == cfg.full_slots), bit, 0).max(axis=1)
    first_cut_lo = np.where(present & (rank == cfg.full_slots + 1), bit, 0).max(axis=1)
    fill = np.where(np.arange(n) >= cfg.partial_elems, first_cut_hi[:, None], first_cut_lo[:, None])
    return words, fill.astype(cdt)


def reconstruct(base_, words, fill, cfg: Config):
    """Rebuild raw values from the base and the planes; cut mantissas get their midpoint bit."""
    fmt = cfg.fmt
    sign, delta, zero, man = from_planes(words, cfg)
    out = np.dtype(fmt.dtype)
    e = base_[:, None] - delta
    special = e == fmt.exp_max
    man = man.astype(out) | np.where(special, 0, fill).astype(out)
    mag = (e.astype(out) << out.type(fmt.man_bits)) | man
    mag[zero | (e <= 0)] = 0
    return (sign.astype(out) << out.type(fmt.width - 1)) | mag
