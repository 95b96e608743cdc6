"""Stage ``codes`` (`window` policy): each value's two-bit code."""

from amaranth.hdl import Module, Mux
from amaranth.lib.wiring import In, Out

from ...window_layout import far
from .._common import Stage
from .layout import OFFSET_BITS, class_layout, code_layout

__all__ = ["Codes"]


class Codes(Stage):
    """Each value's code (golden model: :func:`facet.window.codes`): 0 at distance <= o, 1
    at o + 1, 2 at o + 2, 3 else; in a block with Inf or NaN, 0 for Inf, 1 for NaN, 3 else.

    Per value three compares of its class with o, o + 1 and o + 2.

    Members
    -------
    cls : ``In(data.ArrayLayout(class_bits, N))``
    o : ``In(2)``
    special : ``In(1)``
    code : ``Out(data.ArrayLayout(2, N))``
    """

    POLICY = "window"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)), "o": In(OFFSET_BITS), "special": In(1),
                "code": Out(code_layout(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        f = far(cfg)
        o = self.o
        for i in range(cfg.n):
            c = self.cls[i]
            normal = Mux(c <= o, 0, Mux(c == o + 1, 1, Mux(c == o + 2, 2, 3)))
            special = Mux(c == f + 1, 0, Mux(c == f + 2, 1, 3))
            m.d.comb += self.code[i].eq(Mux(self.special, special, normal))
        return m
