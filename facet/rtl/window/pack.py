"""Stage ``pack`` (`window` policy): the packed block."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ..network import compact, select_bits, split_selects
from .._common import Stage, equals_const, thermometer
from .layout import (OFFSET_BITS, class_layout, code_layout, full_slots, left_bits, len0_layout,
                     p_shape, plane_region)

__all__ = ["Pack", "significand", "TOP_BITS"]

#: Planes of a code-0 value in the top list: n_b = 1 at o = 0, o + 2 at o > 0.
TOP_BITS = (1, 3, 4, 5)


def significand(man, m_bits):
    """Bit j of the result is a value's plane t + j: its leading one, then its mantissa,
    most significant bit first."""
    return Cat(Const(1, 1), *(man[m_bits - j] for j in range(1, m_bits + 1)))


class Pack(Stage):
    """Header, code and sign planes, the full planes and the two top lists (golden model:
    :func:`facet.window.pack`; layout: docs/format.md, 11.3).

    Structure: per value a small shifter cuts the planes o + 3 .. of its significand (the
    full planes: every bit at a fixed stream position, ANDed with its stored flag); the
    planes above o + 2 of the code-0 values and plane o + 2 of the code-0 and code-1 values
    are moved next to each other by the rank network of :mod:`facet.rtl.network`, the first
    list written from bit B - 1 down in the stride of its offset (four wirings), the second
    shifted below it by n_b * n_0. The networks' select signals, the slots the lists fill and
    n_b * n_0 at each offset (o picks one) come from :class:`ListRanks`.

    Members
    -------
    base : ``In(E)``
    o : ``In(2)``
    p : ``In(p_shape)``
    left : ``In(left_bits)``
    code : ``In(data.ArrayLayout(2, N))``
    sign : ``In(data.ArrayLayout(1, N))``
    cls : ``In(data.ArrayLayout(class_bits, N))``
    man : ``In(data.ArrayLayout(M, N))``
    sel0, sel1 : ``In(select_bits(N))``
    fill0, fill1 : ``In(N)``
    len0 : ``In(len0_layout(cfg))``
    o : ``Out(B)``, named ``out``
    """

    POLICY = "window"

    def ports(self, cfg):
        fmt = cfg.fmt
        return {"base": In(fmt.exp_bits), "o": In(OFFSET_BITS), "p": In(p_shape(cfg)),
                "left": In(left_bits(cfg)), "code": In(code_layout(cfg)),
                "sign": In(data.ArrayLayout(1, cfg.n)), "cls": In(class_layout(cfg)),
                "man": In(data.ArrayLayout(fmt.man_bits, cfg.n)),
                "sel0": In(select_bits(cfg.n)), "sel1": In(select_bits(cfg.n)),
                "fill0": In(cfg.n), "fill1": In(cfg.n), "len0": In(len0_layout(cfg)),
                "out": Out(cfg.budget)}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        fmt, n = cfg.fmt, cfg.n
        mb = fmt.man_bits
        first, width = plane_region(cfg)
        kslots = full_slots(cfg)
        o, p = self.o, self.p
        sig = [significand(self.man[i], mb) for i in range(n)]

        # Full planes: plane o + 3 + k of value i is its significand bit o + 3 + k - t.
        nfull = Signal(p_shape(cfg), name="nfull")
        m.d.comb += nfull.eq(p - o - 2)
        lt_left = thermometer(m, self.left, n, name="lt_left")
        region = [Const(0, 1)] * width
        for i in range(n):
            y = Cat(Const(0, kslots), sig[i])
            s = Signal(signed(len(self.cls[i]) + 2), name=f"shift{i}")
            m.d.comb += s.eq(kslots + 3 + o - self.cls[i])
            # s <= kslots + 6 (t >= 0, o <= 3): a shifter of that range, not of s's width.
            planes = Signal(kslots, name=f"full{i}")
            m.d.comb += planes.eq(Mux(s < 0, 0, y >> s[:(kslots + 6).bit_length()]))
            for k in range(kslots):
                j = k * n + i
                if j < width:
                    b = Signal(name=f"f{k}_{i}")
                    m.d.comb += b.eq(planes[k] & ((nfull > k) | (equals_const(nfull, k) & lt_left[i])))
                    region[j] = b

        top = self._top_lists(m, sig, lt_left)
        for q in range(min(len(top), width)):
            j = width - 1 - q
            region[j] = region[j] | top[q] if not isinstance(region[j], Const) else top[q]

        h0 = Cat(*(self.code[i][0] for i in range(n)))
        h1 = Cat(*(self.code[i][1] for i in range(n)))
        signs = Cat(*(self.sign[i] for i in range(n)))
        base = Mux(p < 0, (1 << fmt.exp_bits) - 1, self.base)
        m.d.comb += self.out.eq(Cat(base, o, h0, h1, signs, *region))
        return m

    def _top_lists(self, m, sig, lt_left):
        """The bits of the two top lists, from bit B - 1 down (element q at B - 1 - q)."""
        cfg = self._cfg
        n = cfg.n
        o, p = self.o, self.p
        words0, words01 = [], []
        for i in range(n):
            t = self.cls[i]
            # Code 0: planes c_0 + 1 + r, r = 0..4, significand bit c_0 + 1 + r - t (t <= o).
            y = Cat(Const(0, 3), sig[i])
            a0 = Signal(3, name=f"a0_{i}")
            m.d.comb += a0.eq(Mux(o.any(), 3, 4) - t[:2])
            w0 = Signal(max(TOP_BITS), name=f"w0_{i}")
            m.d.comb += w0.eq(y >> a0)
            words0.append(w0)
            # Codes 0 and 1: plane o + 2, significand bit o + 2 - t (t <= o + 1).
            a1 = Signal(3, name=f"a1_{i}")
            m.d.comb += a1.eq(o + 2 - t[:3])
            w1 = Signal(name=f"w1_{i}")
            m.d.comb += w1.eq((sig[i] >> a1)[0])
            words01.append(w1)

        slots0 = compact(m, split_selects(self.sel0, n), words0, [max(TOP_BITS)] * n, name="k0")
        slots1 = compact(m, split_selects(self.sel1, n), words01, [1] * n, name="k1")

        # List 1: slot k, plane r at q = k * n_b + r; one wiring per offset.
        stored0 = Signal()
        m.d.comb += stored0.eq(p >= 1)
        span0 = max(TOP_BITS) * n
        list0 = []
        for q in range(span0):
            picks = []
            for nb in TOP_BITS:
                k, r = divmod(q, nb)
                picks.append(slots0[k][r] & self.fill0[k] if k < n and r < len(slots0[k]) else Const(0, 1))
            b = Signal(name=f"l0_{q}")
            first = picks[0] & (stored0 | (equals_const(p, 0) & lt_left[q])) if q < n else picks[0] & stored0
            m.d.comb += b.eq(Mux(o[1], Mux(o[0], picks[3], picks[2]),
                                 Mux(o[0], picks[1], first)) & (p >= 0))
            list0.append(b)

        # List 2: slot k at q = n_b * n_0 + k.
        len0 = self.len0
        shift = Signal(range(span0 + 1), name="list1_at")
        m.d.comb += shift.eq(Mux(o[1], Mux(o[0], len0[3], len0[2]), Mux(o[0], len0[1], len0[0])))
        bits1 = Signal(n, name="list1")
        for k in range(n):
            keep = (p >= 2) | (equals_const(p, 1) & lt_left[k])
            m.d.comb += bits1[k].eq(slots1[k][0] & self.fill1[k] & keep)
        placed = Signal(span0 + n, name="list1_placed")
        m.d.comb += placed.eq(bits1 << shift)
        return [list0[q] | placed[q] if q < span0 else placed[q] for q in range(span0 + n)]
