"""Stage ``precision`` of the `vlc` decoder, from the decoded classes themselves."""

from amaranth.hdl import Module, Signal
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS
from ...vlc_code import DEPTHS
from .._common import Stage, equals_const
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
    per kept value ``s_i = D - t_i`` (a 4-bit subtraction) and its bin, s itself for
    ``s <= top = min(M, 14)`` and one bin for ``s > top``; each bin ``b_s`` is one carry-save
    popcount. Then as in :class:`~facet.rtl.vlc.Precision`: the mantissa bits at P = D - 1
    are ``sum_s min(s - 1, M) b_s`` (the last bin weighs ``top``), a constant-weight sum,
    ``pre(k) = b_0 + ... + b_k`` a chain of adders, the gains ``G(0) = pre(M) - b_0`` and
    ``G(v) = pre(M - v)``, and the shared search over P,
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
        top = min(mb, DEPTHS - 2)               # bins s = 0 .. top, then one for s > top
        bins = [[] for _ in range(top + 2)]
        for i in range(n):
            cls = self.cls[i]
            s = Signal(db, name=f"s{i}")
            m.d.comb += s.eq(self.d - cls[:db])
            for q in range(top + 2):
                hit = Signal(name=f"bin{q}_{i}")
                m.d.comb += hit.eq(~cls[db] & (equals_const(s, q) if q <= top else (s > top)))
                bins[q].append(hit)
        b = [csa_sum(m, bins[q], cb, name=f"b{q}") for q in range(top + 2)]
        # pre(k) = b_0 + ... + b_k, a chain; pre(k) for k > top is every kept value.
        pre = [b[0]]
        for k in range(1, top + 2):
            x = Signal(cb, name=f"pre{k}")
            m.d.comb += x.eq(pre[-1] + b[k])
            pre.append(x)

        def cum(k):
            return pre[min(k, top + 1)]

        g0 = Signal(cb, name="g0")
        m.d.comb += g0.eq(cum(mb) - b[0])
        # Mantissa bits at P = D - 1: distance s keeps min(s - 1, M) bits, top for s > top.
        w = left_shape(cfg).width
        base = csa_sum(m, [(b[q], j) for q in range(2, top + 2) for j in range(top.bit_length())
                           if (min(q - 1, top) >> j) & 1], w, name="mant")
        search(m, cfg, [g0] + [cum(mb - v) for v in range(1, mb + 1)], base,
               self.d, self.cost, self.p, self.left)
        return m
