"""Stage ``precision`` of the `vlc` decoder, from the decoded classes themselves."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS
from ...vlc_code import DEPTHS
from .._common import Stage
from ..prefix import csa_sum
from .classes import class_layout
from .depth import cost_bits
from .histogram import count_bits
from .precision import left_shape, precision_shape, search

__all__ = ["DecodedPrecision"]


class DecodedPrecision(Stage):
    """P and the bits left over, L, of a decoded block (golden model:
    :func:`facet.vlc.precision` of :func:`facet.vlc.histogram` of the classes).

    The encoder's :class:`~facet.rtl.vlc.Precision` takes the histogram of every class and
    shifts it by D. The decoder has no other use for a histogram, and its classes are all at
    most D (:class:`~facet.rtl.vlc.UnpackClasses`), so it counts distances below D instead:
    per kept value ``s_i = D - t_i`` (a 4-bit subtraction) and its thermometer ``s_i <= k``,
    then the cumulative counts ``c_k = #{s_i <= k}``, ``k = 0 .. min(M, 14)``, and
    ``K = #{kept}``, each one carry-save popcount. In the terms of
    :class:`~facet.rtl.vlc.Precision`, ``pre(k) = c_k``, so the gains are ``G(0) = c_M - c_0``
    and ``G(v) = c_(M - v)``; the mantissa bits at P = D - 1, ``sum_i clamp(s_i - 1, 0, M)``,
    are ``sum_(k = 1 .. M) #{s_i > k} = sum_k (K - c_k)``. The search over P is the shared
    :func:`~facet.rtl.vlc.precision.search`.

    Members
    -------
    cls : ``In(data.ArrayLayout(5, N))``
        Classes, as :class:`~facet.rtl.vlc.UnpackClasses` gives them (distances at most D).
    d : ``In(4)``
        The depth D.
    cost : ``In(cost_bits(cfg))``
        Header, class codes and signs.
    p : ``Out(precision_shape(cfg))``, left : ``Out(left_shape(cfg))``
        P and L.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)), "d": In(VLC_DEPTH_BITS), "cost": In(cost_bits(cfg)),
                "p": Out(precision_shape(cfg)), "left": Out(left_shape(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, cb = cfg.n, cfg.fmt.man_bits, count_bits(cfg)
        db = VLC_DEPTH_BITS
        top = min(mb, DEPTHS - 2)               # c_k for k > 14 is K: s <= 15 always
        kept, thermo = [], [[] for _ in range(top + 1)]
        for i in range(n):
            cls = self.cls[i]
            keep = Signal(name=f"kept{i}")
            m.d.comb += keep.eq(~cls[db])
            s = Signal(db, name=f"s{i}")
            m.d.comb += s.eq(self.d - cls[:db])
            kept.append(keep)
            for k in range(top + 1):
                le = Signal(name=f"le{k}_{i}")
                m.d.comb += le.eq(keep & (s <= k))
                thermo[k].append(le)
        big = Signal(cb, name="kept")
        m.d.comb += big.eq(csa_sum(m, kept, cb, name="kept_sum"))
        c = [csa_sum(m, thermo[k], cb, name=f"c{k}") for k in range(top + 1)]

        def cum(k):
            return c[k] if k <= top else big

        g0 = Signal(cb, name="g0")
        m.d.comb += g0.eq(cum(mb) - c[0])
        # sum_(k = 1 .. top) (K - c_k) = top * K + sum_k ~c_k + top (modulo 2**w).
        w = left_shape(cfg).width
        inv = []
        for k in range(1, top + 1):
            x = Signal(w, name=f"not_c{k}")
            m.d.comb += x.eq(~Cat(c[k], Const(0, w - cb)))
            inv.append(x)
        terms = inv + [(big, b) for b in range(top.bit_length()) if (top >> b) & 1]
        if top:
            terms.append(Const(top % (1 << w), w))
        base = csa_sum(m, terms, w, name="mant") if terms else Const(0, w)
        search(m, cfg, [g0] + [cum(mb - v) for v in range(1, mb + 1)], base,
               self.d, self.cost, self.p, self.left)
        return m
