"""Stage ``offset`` (`window` policy): the window offset o, the precision P and the bits over."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...window_layout import OFFSETS, room
from .._common import Stage
from ..prefix import add_fast, csa_sum
from .layout import OFFSET_BITS, count_bits, left_bits, p_shape

__all__ = ["Offset"]

#: Per offset o, what a code-0 value saves over a code-3 one: o + 2 - c_0 (2 at o = 0).
CODE0_WEIGHT = (2, 4, 5, 6)


def excess_weights(o):
    """The weights of D(o) = (o + 2 - c_0) * n_0 + n_1 on the counts of distances 0 .. 4:
    n_0 counts distances 0 .. o, n_1 distance o + 1 (docs/format.md, 11.2)."""
    return tuple(CODE0_WEIGHT[o] if k <= o else int(k == o + 1) for k in range(OFFSETS + 1))


def _rows(hist, weights, width, negate=False):
    """Shifted copies of the counts, one per set bit of their weights, ``width`` bits each
    (complemented with ``negate``)."""
    rows = []
    for k, wt in enumerate(weights):
        for sh in range(wt.bit_length()):
            if wt >> sh & 1:
                h = hist[k]
                row = Cat(Const(0, sh), h, Const(0, max(0, width - sh - len(h))))[:width]
                rows.append(~row if negate else row)
    return rows


def exceeds(m, hist, weights, c, cfg, *, name):
    """Whether sum_k weights[k] * hist[k] > ``c`` (a constant >= 0): the carry out of one
    carry-save sum of the weighted counts and 2**w - 1 - c. No sum bit is used, so only the
    carry tree of the final adder remains after synthesis."""
    w = max((max(weights) * cfg.n).bit_length(), c.bit_length())
    terms = _rows(hist, weights, w) + [Const((1 << w) - 1 - c, w)]
    return csa_sum(m, terms, w + 1, name=name, adder=add_fast, levels=True)[w]


def room_of(m, hist, o, cfg, width, *, name):
    """V(o) = R + S(o) = R + (o + 2) N - D(o), mod 2**width, as one carry-save sum of the
    complemented weighted counts (each -x is ~x + 1) and a constant."""
    rows = _rows(hist, excess_weights(o), width, negate=True)
    c = (room(cfg) + (o + 2) * cfg.n + len(rows)) % (1 << width)
    return csa_sum(m, rows + [Const(c, width)], width, name=name, adder=add_fast, levels=True)


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

    Every decision is a compare of a weighted sum of the five counts with a constant, all
    side by side: D(o) <= R (o is allowed), and for each pair x < y, V(y) > V(x), which is
    D(y) - D(x) < (y - x) N with nonnegative weights, as D grows with o. Each is one
    carry-save sum and a carry tree, straight from the counts, so no adder waits for another:
    the stage sits on the encoder's longest path, between the maximum of ``base`` and the
    first register. The winner is the allowed offset that beats every lower one and that no
    allowed higher one beats (the largest V, the lowest o on a tie); V(o), formed beside the
    compares, is picked by the winner, and P and L are its bits above and below log2 N, or
    the low-regime pick at o = 0.

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
        h = [self.hist[k] for k in range(OFFSETS + 1)]
        vw = (r + 5 * n).bit_length()
        fits = []
        for o in range(OFFSETS):
            k = Signal(name=f"fits{o}")
            m.d.comb += k.eq(~exceeds(m, h, excess_weights(o), r, cfg, name=f"d{o}"))
            fits.append(k)
        allowed = [Const(1, 1)] + fits[1:]
        # above[x][y], x < y: V(y) > V(x), i.e. D(y) - D(x) <= (y - x) N - 1.
        above = {}
        for x in range(OFFSETS):
            for y in range(x + 1, OFFSETS):
                wx, wy = excess_weights(x), excess_weights(y)
                g = Signal(name=f"above{x}{y}")
                m.d.comb += g.eq(~exceeds(m, h, [b - a for a, b in zip(wx, wy)],
                                          (y - x) * n - 1, cfg, name=f"g{x}{y}"))
                above[x, y] = g
        win = []
        for o in range(OFFSETS):
            beats = [above[x, o] for x in range(o)]
            beaten = [allowed[y] & above[o, y] for y in range(o + 1, OFFSETS)]
            t = Signal(name=f"win{o}")
            m.d.comb += t.eq(allowed[o] & Cat(*beats, Const(1, 1)).all()
                             & ~Cat(*beaten, Const(0, 1)).any())
            win.append(t)
        # V of the winner: each V(o) gated by its one-hot win, then ORed.
        best_v = Const(0, vw)
        for o in range(OFFSETS):
            best_v = best_v | (room_of(m, h, o, cfg, vw, name=f"v{o}") & win[o].replicate(vw))
        best_o = Cat(win[1] | win[3], win[2] | win[3])
        p, left = precision_of(m, best_v, ~win[0] | fits[0], h[0], cfg)
        m.d.comb += [self.o.eq(Mux(self.special, 0, best_o)),
                     self.p.eq(Mux(self.special, -1, p)),
                     self.left.eq(Mux(self.special, 0, left))]
        return m
