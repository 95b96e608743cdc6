"""Stage ``histogram`` (`window` policy): the counts the offsets look at."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...window_layout import OFFSETS, far
from .._common import Stage, equals_const
from ..prefix import add_fast, csa_sum
from .layout import class_layout, count_bits

__all__ = ["Histogram"]


class Histogram(Stage):
    """The number of values at distances 0 .. OFFSETS, and whether the block holds Inf or
    NaN (golden model: :func:`facet.window.histogram`).

    Five carry-save popcounts of N one-hot bits each (full adders on the shallowest bits
    first, then a Sklansky adder), and an OR of the special flags.

    Members
    -------
    cls : ``In(data.ArrayLayout(class_bits, N))``
    hist : ``Out(data.ArrayLayout(bitlength(N), OFFSETS + 1))``
    special : ``Out(1)``
    """

    POLICY = "window"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)),
                "hist": Out(data.ArrayLayout(count_bits(cfg), OFFSETS + 1)),
                "special": Out(1)}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        f = far(cfg)
        for c in range(OFFSETS + 1):
            hits = []
            for i in range(cfg.n):
                h = Signal(name=f"is{c}_{i}")
                m.d.comb += h.eq(equals_const(self.cls[i], c))
                hits.append(h)
            m.d.comb += self.hist[c].eq(csa_sum(m, hits, count_bits(cfg), name=f"h{c}",
                                                 adder=add_fast, levels=True))
        m.d.comb += self.special.eq(Cat(*(self.cls[i] > f for i in range(cfg.n))).any())
        return m
