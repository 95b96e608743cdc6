"""Stage ``list_ranks`` of the `window` decoder: what steers the two top lists' networks."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from .._common import Stage
from ..network import compaction_control, join_selects, select_bits
from .layout import code_layout, count_bits

__all__ = ["ListRanks"]


class ListRanks(Stage):
    """The select signals of the rank networks that move the code-0 list and the
    plane-(o + 2) list to their values in :class:`UnpackPlanes`, and n_0 (golden model:
    :func:`facet.window.list_ranks`, whose ranks are the slots the networks take each value's
    word from).

    They depend on the codes alone, so they are formed beside :class:`Precision`, before the
    register after it, and not after it on the decoder's longest path: two prefix counts of
    the list members and five levels of select logic
    (:func:`~facet.rtl.network.compaction_control`).

    Members
    -------
    code : ``In(code_layout(cfg))``
        The codes.
    sel0, sel1 : ``Out(select_bits(N))``
        The select signals of the code-0 list's network and of the plane-(o + 2) list's
        (codes 0 and 1), as :func:`~facet.rtl.network.join_selects` joins them.
    n0 : ``Out(count_bits(cfg))``
        The number of code-0 values.
    """

    POLICY = "window"

    def ports(self, cfg):
        n = cfg.n
        return {"code": In(code_layout(cfg)), "sel0": Out(select_bits(n)),
                "sel1": Out(select_bits(n)), "n0": Out(count_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        n = self.cfg.n
        code = [self.code[i] for i in range(n)]
        is0 = [~c[0] & ~c[1] for c in code]
        sels0, _, z0 = compaction_control(m, is0, n, name="c0")
        sels1, _, _ = compaction_control(m, [~c[1] for c in code], n, name="c1")
        m.d.comb += [self.sel0.eq(join_selects(sels0)), self.sel1.eq(join_selects(sels1)),
                     self.n0.eq(~z0[n - 1] + is0[n - 1])]            # N - 1 - z + is0
        return m
