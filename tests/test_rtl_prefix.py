"""The arithmetic helpers of :mod:`facet.rtl.prefix` against Python integers, exhaustively on
small widths (the stages that use them are tested against the golden model elsewhere)."""

import itertools

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from facet.rtl.prefix import csa_sum, less_equal, less_equal_tree, prefix_add


class _Pair(wiring.Component):
    """``a``, ``b`` in; ``le`` / ``le_ripple`` (a <= b), ``add`` and a carry-save ``sum3`` of
    ``a + b + a`` with the prefix adder out."""

    def __init__(self, wa, wb, wo):
        self.wo = wo
        super().__init__({"a": In(wa), "b": In(wb), "le": Out(1), "le_ripple": Out(1),
                          "add": Out(wo), "sum3": Out(wo)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.le.eq(less_equal_tree(m, self.a, self.b)),
                     self.le_ripple.eq(less_equal(m, self.a, self.b)),
                     self.add.eq(prefix_add(m, self.a, self.b, self.wo)),
                     self.sum3.eq(csa_sum(m, [self.a, self.b, (self.a, 1)], self.wo,
                                          adder=prefix_add))]
        return m


@pytest.mark.parametrize("wa,wb,wo", [(1, 1, 1), (1, 1, 2), (4, 4, 5), (5, 3, 4), (3, 6, 6),
                                      (2, 7, 8)])
def test_less_equal_tree_and_prefix_add(wa, wb, wo):
    dut = _Pair(wa, wb, wo)
    bad = []

    async def bench(ctx):
        for a, b in itertools.product(range(1 << wa), range(1 << wb)):
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            got = (ctx.get(dut.le), ctx.get(dut.le_ripple), ctx.get(dut.add), ctx.get(dut.sum3))
            want = (int(a <= b), int(a <= b), (a + b) % (1 << wo), (3 * a + b) % (1 << wo))
            if got != want:
                bad.append((a, b, got, want))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not bad, f"{len(bad)} mismatches, first: {bad[:3]}"
