"""Stage ``list_ranks`` of the `window` codecs: what steers the two top lists' networks."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib.wiring import In, Out

from .._common import Stage
from ..network import compaction_control, join_selects, select_bits
from ..prefix import add_fast, csa_rows, csa_sum
from .layout import code_layout, len0_bits, len0_layout

__all__ = ["ListRanks"]


class ListRanks(Stage):
    """The select signals of the rank networks that move each value's word of the code-0
    list and of the plane-(o + 2) list to its slot in :class:`Pack` and back in
    :class:`UnpackPlanes`, the slots each list fills, and the code-0 list's length n_b*n_0
    at each offset, where the second list starts (golden model:
    :func:`facet.window.list_ranks`, whose ranks are the slots).

    They depend on the codes alone: two prefix counts of the list members and five levels of
    select logic (:func:`~facet.rtl.network.compaction_control`), which a register can
    separate from the networks. The prefix counts add with fast adders: over N values the
    ripple carries of five levels add up to most of this stage's delay. The four lengths
    (n_0, 3n_0, 4n_0, 5n_0: adders beside the select logic, from the carry-save rows of
    n_0) come ready, so the offset only picks one where the second list is shifted, instead
    of a multiply before the shift. The decoder forms them beside :class:`Precision`, before
    the register after it; the encoder after :class:`Codes`, before the register that three
    of its stages put after ``list_ranks``.

    Members
    -------
    code : ``In(code_layout(cfg))``
        The codes.
    sel0, sel1 : ``Out(select_bits(N))``
        The select signals of the code-0 list's network and of the plane-(o + 2) list's
        (codes 0 and 1), as :func:`~facet.rtl.network.join_selects` joins them.
    len0 : ``Out(len0_layout(cfg))``
        n_b*n_0 at o = 0 .. 3 (n_b = 1, 3, 4, 5), with n_0 the number of code-0 values.
    """

    POLICY = "window"

    def ports(self, cfg):
        n = cfg.n
        return {"code": In(code_layout(cfg)), "sel0": Out(select_bits(n)),
                "sel1": Out(select_bits(n)), "fill0": Out(n), "fill1": Out(n),
                "len0": Out(len0_layout(cfg))}

    def elaborate(self, platform):
        m = Module()
        n = self.cfg.n
        code = [self.code[i] for i in range(n)]
        is0 = [~c[0] & ~c[1] for c in code]
        sels0, fill0, _ = compaction_control(m, is0, n, name="c0", adder=add_fast)
        sels1, fill1, _ = compaction_control(m, [~c[1] for c in code], n, name="c1",
                                             adder=add_fast)
        m.d.comb += [self.sel0.eq(join_selects(sels0)), self.sel1.eq(join_selects(sels1)),
                     self.fill0.eq(Cat(*fill0)), self.fill1.eq(Cat(*fill1))]
        # The lengths from the carry-save rows of n_0 (two more rows for 3n_0 and 5n_0), one
        # fast adder each: beside the select logic, not after the prefix count's last adder.
        lb = len0_bits(self.cfg)
        rows = csa_rows(m, is0, lb, name="n0_rows")
        n0 = add_fast(m, *rows, lb, name="n0")
        by3, by5 = (csa_sum(m, [*rows, *((r, sh) for r in rows)], lb, adder=add_fast,
                            levels=True, name=f"n0x{1 + (1 << sh)}") for sh in (1, 2))
        m.d.comb += [self.len0[0].eq(n0), self.len0[1].eq(by3), self.len0[2].eq(n0 << 2),
                     self.len0[3].eq(by5)]
        return m
