"""Stimulus pieces of the `vlc` policy (docs/format.md, section 10), for :mod:`tb.stimulus`."""

import numpy as np

from facet.config import VLC_DEPTH_BITS, VLC_MODE_BITS

__all__ = ["span_bits", "random_blocks"]


def span_bits(cfg):
    """log2 of the exponent span a block codes: K delta planes, or for `vlc` the depth field
    (distances 0 .. 15 below the base), so the spreads straddle what the block keeps."""
    return cfg.k if cfg.k is not None else VLC_DEPTH_BITS


def random_blocks(cfg, nb, rng):
    """Foreign `vlc` blocks, ``(nb, B/8)`` uint8: random bits of a random density, the header
    fields often at their edges (D = 15 and 0, mode 3, a mode whose offset exceeds D), so
    tails run past B, heads and tails name branches no codeword uses and value fields
    overlap the class region."""
    e, b = cfg.fmt.exp_bits, cfg.budget
    density = rng.choice([0.0, 0.2, 0.5, 0.8, 0.95, 1.0], (nb, 1))
    bits = rng.random((nb, b)) < density
    d = np.where(rng.random(nb) < 0.5, rng.choice([0, 1, 4, 15], nb), rng.integers(0, 16, nb))
    mode = rng.integers(0, 1 << VLC_MODE_BITS, nb)
    fields = d | (mode << VLC_DEPTH_BITS)
    width = VLC_DEPTH_BITS + VLC_MODE_BITS
    hdr = ((fields[:, None] >> np.arange(width)) & 1).astype(bool)
    bits[:, e:e + width] = np.where(rng.random((nb, 1)) < 0.8, hdr, bits[:, e:e + width])
    return np.packbits(bits, axis=1, bitorder="little")
