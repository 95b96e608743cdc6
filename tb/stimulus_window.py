"""Stimulus pieces of the `window` policy (docs/format.md, section 11), for :mod:`tb.stimulus`."""

import numpy as np

from facet.config import WINDOW_OFFSET_BITS

__all__ = ["random_blocks"]


def random_blocks(cfg, nb, rng):
    """Foreign `window` blocks, ``(nb, B/8)`` uint8: random bits of a random density, the
    base often at its edges (0, 1 and 2^E - 1, which marks a block with Inf or NaN) and every
    offset, allowed for the codes or not."""
    fmt, b = cfg.fmt, cfg.budget
    e = fmt.exp_bits
    density = rng.choice([0.0, 0.2, 0.5, 0.8, 0.95, 1.0], (nb, 1))
    bits = rng.random((nb, b)) < density
    base = np.where(rng.random(nb) < 0.5, rng.choice([0, 1, fmt.exp_max - 1, fmt.exp_max], nb),
                    rng.integers(0, fmt.exp_max + 1, nb))
    hdr = base | (rng.integers(0, 1 << WINDOW_OFFSET_BITS, nb) << e)
    width = e + WINDOW_OFFSET_BITS
    fields = ((hdr[:, None] >> np.arange(width)) & 1).astype(bool)
    bits[:, :width] = np.where(rng.random((nb, 1)) < 0.8, fields, bits[:, :width])
    return np.packbits(bits, axis=1, bitorder="little")
