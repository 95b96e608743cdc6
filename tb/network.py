"""The select signals of :mod:`facet.rtl.network`'s compaction network, from the golden
model's ranks: the oracle of the stages that pass them on (:class:`facet.rtl.window.ListRanks`)
or take them in (:class:`facet.rtl.window.UnpackPlanes`).

Element j of a list, with ``rank`` members before it, is ``z = j - rank`` places above its
slot. Stage k of the network moves it down by 2^k when bit k of z is set; before that stage
it is at ``j - (z mod 2^k)``, and the select of the position 2^k below is set.
"""

import numpy as np

from facet.rtl.network import num_stages

__all__ = ["network_selects"]


def network_selects(present, rank):
    """Per block (rows of ``present``, ``rank``: (blocks, n)), the select bits as
    :func:`facet.rtl.network.join_selects` orders them: (blocks, select_bits(n)) booleans."""
    present = np.asarray(present, bool)
    nb, n = present.shape
    j = np.arange(n)
    z = np.where(present, j - np.asarray(rank, np.int64), 0)
    parts = []
    for k in range(num_stages(n)):          # log2(n) stages, vectorized over blocks and values
        d = 1 << k
        sel = np.zeros((nb, n - d), bool)
        blk, elem = np.nonzero(present & (((z >> k) & 1) == 1))
        sel[blk, elem - (z[blk, elem] & (d - 1)) - d] = True
        parts.append(sel)
    return np.concatenate(parts, axis=1)
