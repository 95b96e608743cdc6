"""Stage ``precision`` (`vlc` policy, encoder and decoder): the largest precision that fits."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS
from ...vlc_code import DEPTHS
from .._common import Stage
from ..prefix import csa_sum, less_equal
from .depth import cost_bits
from .histogram import count_bits, hist_layout

__all__ = ["precision_shape", "left_shape", "Precision"]


def precision_shape(cfg):
    """P is in -1 .. 15 + M: signed."""
    return signed((DEPTHS - 1 + cfg.fmt.man_bits).bit_length() + 1)


def left_shape(cfg):
    """The bits over, B - C(P): at most B, negative only for foreign blocks, down to
    B - (largest code cost) - N * M (the mantissas at P = D - 1)."""
    low = (1 << cost_bits(cfg)) + cfg.n * cfg.fmt.man_bits
    return signed(max(cfg.budget, low).bit_length() + 1)


class Precision(Stage):
    """P and the bits left over, L (golden model: :func:`facet.vlc.precision`).

    Let ``b_s`` be the count of class ``D - s`` (s = 0 .. 15), the histogram shifted by D (a
    log shifter of 4 stages). At P = D - 1 the mantissas take ``sum_s b_s * clamp(s - 1, 0, M)``
    bits, a sum with constant weights. Going from P = D - 1 to D - 1 + u adds
    ``extra(u) = G(0) + ... + G(u - 1)`` mantissa bits, where ``G(0) = b_1 + ... + b_M`` (the
    values that gain a bit at P = D) and ``G(v) = b_0 + ... + b_(M - v)`` for v >= 1: a chain
    of prefix sums of ``b`` and a chain of M + 1 adders. With ``R = B - cost`` less those, u is the
    number of ``u = 1 .. M + 1`` with ``extra(u) <= R`` (the sums grow with u, so the fits
    form a prefix), P = D - 1 + u and L = R - extra(u) (an AND-OR pick).

    Members
    -------
    hist : ``In(data.ArrayLayout(bitlength(N), NCLASS))``
        Values per class.
    d : ``In(4)``
        The depth D.
    cost : ``In(cost_bits(cfg))``
        Header, class codes and signs.
    p : ``Out(precision_shape(cfg))``, left : ``Out(left_shape(cfg))``
        P and L.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"hist": In(hist_layout(cfg)), "d": In(VLC_DEPTH_BITS), "cost": In(cost_bits(cfg)),
                "p": Out(precision_shape(cfg)), "left": Out(left_shape(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, cb = cfg.n, cfg.fmt.man_bits, count_bits(cfg)
        span = min(mb, DEPTHS - 1) + 1            # b_0 .. b_(span - 1) can be nonzero
        # b_s = hist[D - s] = a[s + (15 - D)], a reversed: a log shifter by ~D.
        vec = [self.hist[DEPTHS - 1 - j] for j in range(DEPTHS)]
        sh = ~self.d
        for k in range(VLC_DEPTH_BITS):
            step = 1 << k
            nxt = []
            for s in range(len(vec)):
                v = Signal(cb, name=f"shift{k}_{s}")
                src = vec[s + step] if s + step < len(vec) else Const(0, cb)
                m.d.comb += v.eq(Mux(sh[k], src, vec[s]))
                nxt.append(v)
            vec = nxt
        b = vec[:span]
        # Mantissa bits at P = D - 1: class D - s keeps min(max(s - 1, 0), M) bits.
        base = csa_sum(m, [(vec[s], j) for s in range(2, DEPTHS) for j in range(8)
                           if (min(s - 1, mb) >> j) & 1], left_shape(cfg).width, name="mant")
        # pre(k) = b_0 + ... + b_k.
        pre = [b[0]]
        for k in range(1, span):
            s = Signal(cb, name=f"pre{k}")
            m.d.comb += s.eq(pre[-1] + b[k])
            pre.append(s)
        g0 = Signal(cb, name="g0")
        m.d.comb += g0.eq(pre[min(mb, span - 1)] - b[0])
        g = [g0] + [pre[min(mb - v, span - 1)] for v in range(1, mb + 1)]
        ew = (n * (mb + 1)).bit_length()
        ls = left_shape(cfg)
        room = Signal(ls, name="room")
        m.d.comb += room.eq(cfg.budget - self.cost - base)
        extra, fits = [Const(0, ew)], []
        for u in range(1, mb + 2):
            e = Signal(ew, name=f"extra{u}")
            m.d.comb += e.eq(extra[-1] + g[u - 1])
            extra.append(e)
            f = Signal(name=f"fits{u}")
            m.d.comb += f.eq(~room[-1] & less_equal(m, e, room[:ls.width - 1], name=f"le{u}_"))
            fits.append(f)
        # The fits are a thermometer: u = their number, and value u is picked where the
        # thermometer steps.
        fits.append(Const(0, 1))
        onehot = [~fits[0]] + [fits[u - 1] & ~fits[u] for u in range(1, mb + 2)]
        used = Signal(ew, name="used")
        m.d.comb += used.eq(Cat(*[Cat(*[extra[u][bit] & onehot[u] for u in range(mb + 2)]).any()
                                  for bit in range(ew)]))
        cnt = Signal(range(mb + 2), name="u")
        m.d.comb += cnt.eq(sum(fits[:-1]))
        m.d.comb += [self.p.eq(Cat(self.d, Const(0, 1)).as_signed() + cnt - 1),
                     self.left.eq(room - used)]
        return m
