"""Stage ``precision`` of the `window` decoder: the offset in force, P and the bits over."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from .._common import Stage, equals_const
from ..prefix import add_fast, csa_sum, less_equal
from .layout import OFFSET_BITS, code_layout, count_bits, left_bits, p_shape, plane_region

__all__ = ["Precision"]


class Precision(Stage):
    """``(o, P, L)`` of a block from its codes (golden model: :func:`facet.window.precision`).

    With n_0 and n_1 the counts of codes 0 and 1 and R = B - H - 3N, the planes at offset o
    cost N*P - S(o) for P >= o + 2, so ``X(o) = R - D(o)`` with ``D(o) = m_o*n_0 + n_1``
    (m_o = 2, 4, 5, 6) is the room over P = o + 2: ``P = o + 2 + X div N`` and
    ``L = X mod N`` when X >= 0, a shift as N is a power of two. o > 0 is allowed iff
    X(o) >= 0; else it falls back to o = 0, whose X(0) = R - 2*n_0 - n_1 is formed beside it
    (so the fallback costs no second pass). Below zero at o = 0 is the low regime: P = 1 if
    n_0 <= R, else 0, and L = R - P*n_0 (only when R < 2N; else it cannot occur and is not
    built).

    Structure: each X(o) is one carry-save sum straight from the codes' one-hot bits (a
    code-0 value adds m_o, a code-1 value one), complemented into a constant, and one fast
    adder, whose sign is the test: no popcount is resolved first. P is formed at both
    offsets before the sign picks one.

    Members
    -------
    code : ``In(code_layout(cfg))``
        The codes.
    base : ``In(E)``
        The base; 2^E - 1 (Inf or NaN in the block) gives P = -1, L = 0.
    o : ``In(2)``
        The offset as stored.
    o_eff : ``Out(2)``
        The offset in force (0 where the stored one is not allowed): the model's ``o``
        (a signature cannot name an input and an output alike).
    p : ``Out(p_shape(cfg))``, left : ``Out(left_bits(cfg))``
        P and L.
    """

    POLICY = "window"

    def ports(self, cfg):
        return {"code": In(code_layout(cfg)), "base": In(cfg.fmt.exp_bits),
                "o": In(OFFSET_BITS), "o_eff": Out(OFFSET_BITS),
                "p": Out(p_shape(cfg)), "left": Out(left_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        n, cb, lb = cfg.n, count_bits(cfg), left_bits(cfg)
        room = plane_region(cfg)[1]
        k = (n - 1).bit_length()                      # N = 2^k
        w = max(room, 6 * n).bit_length() + 2         # signed: X(o) in -6N .. R
        code = [self.code[i] for i in range(n)]
        is0 = [~c[0] & ~c[1] for c in code]
        is1 = [c[0] & ~c[1] for c in code]
        o = self.o
        # m_o = 2, 4, 5, 6 in binary: bit 0 at o = 2, bit 1 at o = 0 and 3, bit 2 at o > 0.
        odd, twos, fours = o[1] & ~o[0], ~(o[0] ^ o[1]), o.any()
        mask = lambda v, s: v & s.replicate(len(v))           # noqa: E731

        def over(bits, name):
            # R - sum(bit << shift) straight from the one-hot bits, as R - sum(2**shift) +
            # sum(~bit << shift): one carry-save sum and one fast adder, no popcount first.
            c = (room - sum(1 << sh for _, sh in bits)) % (1 << w)
            return csa_sum(m, [(~b, sh) for b, sh in bits] + [Const(c, w)], w, name=name,
                           adder=add_fast, levels=True)

        # Codes 0 and 1 exclude each other, so a value's bit 0 is one OR.
        x_o = over([(is1[i] | (is0[i] & odd), 0) for i in range(n)]
                   + [(is0[i] & twos, 1) for i in range(n)]
                   + [(is0[i] & fours, 2) for i in range(n)], "x_o")
        x_0 = over([(is1[i], 0) for i in range(n)] + [(is0[i], 1) for i in range(n)], "x_0")
        use_o = Signal()
        m.d.comb += use_o.eq(~x_o[w - 1])
        o_eff = Signal(OFFSET_BITS)
        m.d.comb += o_eff.eq(mask(o, use_o))
        xs = Signal(w)
        m.d.comb += xs.eq(Mux(use_o, x_o, x_0))
        # P = o + 2 + X div N at either offset, both formed before the sign picks one.
        p_o, p_0, p_lin = (Signal(self.p.shape(), name=nm) for nm in ("p_o", "p_0", "p_lin"))
        m.d.comb += [p_o.eq(x_o[k:] + o + 2), p_0.eq(x_0[k:] + 2),
                     p_lin.eq(Mux(use_o, p_o, p_0))]
        p, left = p_lin, xs[:lb]
        if room < 2 * n:
            # Low regime: X(0) < 0 (at o = 0, or after the fallback).
            low = ~use_o & x_0[w - 1]
            n0 = csa_sum(m, is0, cb, name="n0", adder=add_fast)
            p1 = less_equal(m, n0, Const(room, room.bit_length()), name="p1")
            left_low = Signal(lb)
            m.d.comb += left_low.eq(Mux(p1, Const(room, cb + 1) - n0, room))
            p = Mux(low, Cat(p1, Const(0, len(p_lin) - 1)), p_lin)
            left = Mux(low, left_low, left)
        special = equals_const(self.base, (1 << cfg.fmt.exp_bits) - 1)
        m.d.comb += [self.o_eff.eq(o_eff),
                     self.p.eq(Mux(special, -1, p)),
                     self.left.eq(Mux(special, 0, left))]
        return m
