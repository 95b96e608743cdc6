"""Stage ``classes`` (`window` policy): each value's distance below the block base."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...window_layout import far
from .._common import Stage
from .layout import class_bits, class_layout

__all__ = ["Classes"]


class Classes(Stage):
    """Each value's class (golden model: :func:`facet.window.classes`).

    Per value one (E + 1)-bit subtraction b - e: the distance when it is below
    :func:`~facet.window.far` and the value is normal, else far; Inf and NaN (exponent all
    ones) are far + 1 and far + 2. Their own distance would borrow (they take no part in b).

    Members
    -------
    exp : ``In(data.ArrayLayout(E, N))``
    man : ``In(data.ArrayLayout(M, N))``
    base : ``In(E)``
    cls : ``Out(data.ArrayLayout(class_bits, N))``
    """

    POLICY = "window"

    def ports(self, cfg):
        fmt = cfg.fmt
        return {"exp": In(data.ArrayLayout(fmt.exp_bits, cfg.n)),
                "man": In(data.ArrayLayout(fmt.man_bits, cfg.n)),
                "base": In(fmt.exp_bits), "cls": Out(class_layout(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        e, f, w = cfg.fmt.exp_bits, far(cfg), class_bits(cfg)
        for i in range(cfg.n):
            exp = self.exp[i]
            dist = Signal(e + 1, name=f"dist{i}")
            m.d.comb += dist.eq(Cat(self.base, Const(0, 1)) - Cat(exp, Const(0, 1)))
            near = Signal(name=f"near{i}")
            # No borrow (top bit clear) and below far; a zero or subnormal has e = 0.
            m.d.comb += near.eq(~dist[e] & (dist[:e] < f) & exp.any())
            special = exp.all()
            m.d.comb += self.cls[i].eq(Mux(special, Mux(self.man[i].any(), f + 2, f + 1),
                                           Mux(near, dist[:w], f)))
        return m
