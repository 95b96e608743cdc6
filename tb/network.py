"""The select signals of :mod:`facet.rtl.network`'s compaction network, from the golden
model's ranks: the oracle of the stage that forms them (:class:`facet.rtl.window.ListRanks`)
and of those that take them in (:class:`facet.rtl.window.Pack`,
:class:`facet.rtl.window.UnpackPlanes`).

Element j of a list, with ``rank`` members before it, is ``z = j - rank`` places above its
slot. Stage k of the network moves it down by 2^k when bit k of z is set; before that stage
it is at ``j - (z mod 2^k)``, and the select of the position 2^k below is set.
"""

import numpy as np

from facet import window
from facet.rtl.network import num_stages
from facet.rtl.window.layout import len0_bits
from tb.ports import array_to_int

__all__ = ["network_selects", "list_ranks_ports"]


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


def list_ranks_ports(code, cfg):
    """:class:`~facet.rtl.window.ListRanks`' outputs for the codes ``code`` (blocks, N), from
    the model's :func:`facet.window.list_ranks`: per port a list of one integer per block."""
    rank0, rank1, len0 = window.list_ranks(code, cfg)
    slot = np.arange(cfg.n)
    out = dict(len0=[array_to_int(v, len0_bits(cfg)) for v in len0])
    for name, member, rank in (("0", code == 0, rank0), ("1", code <= 1, rank1)):
        out["sel" + name] = [array_to_int(r, 1) for r in network_selects(member, rank)]
        filled = slot < member.sum(axis=1, keepdims=True)
        out["fill" + name] = [array_to_int(r, 1) for r in filled]
    return out
