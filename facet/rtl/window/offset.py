"""Stage ``offset`` (`window` policy): the window offset o, the precision P and the bits over."""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...window_layout import OFFSETS, room
from .._common import Stage
from ..prefix import add_fast, csa_sum, less_equal_tree
from .layout import OFFSET_BITS, count_bits, left_bits, p_shape

__all__ = ["Offset"]

#: Per offset o, what a code-0 value saves over a code-3 one: o + 2 - c_0 (2 at o = 0).
CODE0_WEIGHT = (2, 4, 5, 6)


def excess(m, cum, n1, o, cfg, *, name="d"):
    """D(o) = (o + 2 - c_0) * n0 + n1 for a constant ``o``, n0 = ``cum`` the values at
    distances 0 .. o: what codes 0 and 1 save over N values of code 3, so that
    R + S(o) = R + (o + 2) N - D(o) (docs/format.md, 11.2). One carry-save sum of shifted
    copies of n0 and n1 and a Sklansky adder."""
    w = (7 * cfg.n).bit_length()
    weight = CODE0_WEIGHT[o]
    terms = [(cum, sh) for sh in range(weight.bit_length()) if weight >> sh & 1] + [n1]
    return csa_sum(m, terms, w, name=f"{name}{o}", adder=add_fast, levels=True)


def precision_of(m, v, lin, n0, cfg, *, name="p"):
    """``(p, left)`` from V = R + S(o): V div N and V mod N when the block is in the linear
    regime (``lin``); else (o = 0, P <= 1) P = 1 when n0 <= R, P = 0 otherwise, L = R - P n0."""
    r, lg = room(cfg), (cfg.n - 1).bit_length()
    p = Signal(p_shape(cfg), name=name)
    left = Signal(left_bits(cfg), name=f"{name}_left")
    p1 = Signal(name=f"{name}_one")
    m.d.comb += p1.eq(n0 <= r)
    low_left = Signal(left_bits(cfg), name=f"{name}_lowleft")
    m.d.comb += low_left.eq(Mux(p1, r - n0, r))
    m.d.comb += [p.eq(Mux(lin, v[lg:], p1)), left.eq(Mux(lin, v[:lg], low_left))]
    return p, left


class Offset(Stage):
    """The offset, precision and bits over of a block (golden model:
    :func:`facet.window.offset`).

    From the counts of distances 0 .. 4: per offset, D(o) from the count of code 0 (a prefix
    sum of the counts) and of code 1, a compare D(o) <= R (allowed), and V(o) = R + (o + 2) N
    - D(o). The largest V of the allowed offsets (o = 0 always) wins, the lowest on a tie,
    in a tournament of two rounds; P and L are V's bits above and below log2 N, or the
    low-regime pick at o = 0. Every adder and compare is a log-depth tree: the stage sits on
    the encoder's longest path, between the maximum of ``base`` and the first register.

    Members
    -------
    hist : ``In(data.ArrayLayout(bitlength(N), OFFSETS + 1))``
    special : ``In(1)``
    o : ``Out(2)``
    p : ``Out(p_shape)``, -1 in a block with Inf or NaN
    left : ``Out(left_bits)``
    """

    POLICY = "window"

    def ports(self, cfg):
        return {"hist": In(data.ArrayLayout(count_bits(cfg), OFFSETS + 1)), "special": In(1),
                "o": Out(OFFSET_BITS), "p": Out(p_shape(cfg)), "left": Out(left_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, r = cfg.n, room(cfg)
        cw = count_bits(cfg)
        vw = (r + 5 * n).bit_length()
        h = self.hist
        # Values at distance <= o, as a tree: cum1 = h0 + h1, cum3 = cum1 + (h2 + h3).
        cum1 = add_fast(m, h[0], h[1], cw, name="cum1")
        h23 = add_fast(m, h[2], h[3], cw, name="h23")
        cum = [h[0], cum1, add_fast(m, cum1, h[2], cw, name="cum2"),
               add_fast(m, cum1, h23, cw, name="cum3")]
        v, ok = [], []
        for o in range(OFFSETS):
            d = excess(m, cum[o], h[o + 1], o, cfg)
            k = Signal(name=f"fits{o}")
            m.d.comb += k.eq(less_equal_tree(m, d, Const(r, vw), name=f"le{o}"))
            # V(o) is only used where D(o) <= R, and is then >= (o + 2) N > 0.
            vo = add_fast(m, Const(r + (o + 2) * n, vw), d, vw, sub=True, name=f"v{o}")
            v.append(vo)
            ok.append(Const(1, 1) if o == 0 else k)
            if o == 0:
                fits0 = k
        # A tournament: the right one of a pair wins when allowed and strictly larger, or when
        # the left one is not allowed; so the largest V wins, the lowest offset on a tie.
        def duel(x, y, lv):
            (ox, vx, ax, _), (oy, vy, ay, tag) = x, y
            take = Signal(name=f"take{lv}_{tag}")
            m.d.comb += take.eq(ay & (~ax | ~less_equal_tree(m, vy, vx, name=f"cmp{lv}_{tag}")))
            best_o = Signal(OFFSET_BITS, name=f"duel_o{lv}_{tag}")
            best_v = Signal(vw, name=f"duel_v{lv}_{tag}")
            allowed = Signal(name=f"duel_a{lv}_{tag}")
            m.d.comb += [best_o.eq(Mux(take, oy, ox)), best_v.eq(Mux(take, vy, vx)),
                         allowed.eq(ax | ay)]
            return best_o, best_v, allowed, tag
        cand = [(Const(o, OFFSET_BITS), v[o], ok[o], o) for o in range(OFFSETS)]
        best_o, best_v, _, _ = duel(duel(cand[0], cand[1], 0), duel(cand[2], cand[3], 0), 1)
        lin = Signal()
        m.d.comb += lin.eq((best_o != 0) | fits0)
        p, left = precision_of(m, best_v, lin, self.hist[0], cfg)
        m.d.comb += [self.o.eq(Mux(self.special, 0, best_o)),
                     self.p.eq(Mux(self.special, -1, p)),
                     self.left.eq(Mux(self.special, 0, left))]
        return m
