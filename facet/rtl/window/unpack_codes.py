"""Stage ``unpack_codes`` of the `window` decoder: the two-bit codes and the signs."""

from amaranth.hdl import Cat, Module
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from .._common import Stage
from .layout import code_layout

__all__ = ["UnpackCodes"]


class UnpackCodes(Stage):
    """Each value's code and sign (golden model: :func:`facet.window.unpack_codes`).

    The code planes h0, h1 and the sign plane sit at fixed positions, so this is wiring.

    Members
    -------
    i : ``In(3N)``
        Stream bits ``[H, H + 3N)``: h0, h1 and the sign plane.
    code : ``Out(code_layout(cfg))``
        Value i's code (bit 0 from h0, bit 1 from h1).
    sign : ``Out(data.ArrayLayout(1, N))``
        Value i's sign.
    """

    POLICY = "window"

    def ports(self, cfg):
        n = cfg.n
        return {"i": In(3 * n), "code": Out(code_layout(cfg)), "sign": Out(data.ArrayLayout(1, n))}

    def elaborate(self, platform):
        m = Module()
        n = self.cfg.n
        for j in range(n):
            m.d.comb += [self.code[j].eq(Cat(self.i[j], self.i[n + j])),
                         self.sign[j].eq(self.i[2 * n + j])]
        return m
