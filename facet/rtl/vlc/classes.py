"""Stage ``classes`` (`vlc` policy): each value's distance below the base, or ZERO/INF/NAN."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...vlc_code import DEPTHS, INF, NAN, NCLASS, ZERO
from .._common import Stage, any_bits

__all__ = ["CLASS_BITS", "class_layout", "Classes", "signed_flags"]

#: Bits of a class code: distances 0..15, ZERO = 16, INF = 17, NAN = 18 as in the model.
CLASS_BITS = (NCLASS - 1).bit_length()


def class_layout(cfg):
    """The layout of N class codes."""
    return data.ArrayLayout(CLASS_BITS, cfg.n)


def signed_flags(m, cls, d, *, name="signed"):
    """Which values have a field (sign and kept bits): a kept class ``t <= D`` or a special
    (the model's ``_signed``), as an N-bit signal."""
    n = len(cls)
    db = (DEPTHS - 1).bit_length()
    out = Signal(n, name=name)
    m.d.comb += out.eq(Cat(*[(~cls[i][db] & (cls[i][:db] <= d)) | (cls[i] == INF) | (cls[i] == NAN)
                             for i in range(n)]))
    return out


class Classes(Stage):
    """Each value's class (golden model: :func:`facet.vlc.classes`).

    Per value: the distance ``b - e`` (never negative for a finite value, since b is the
    maximum of those) is at most 15 when the upper E - 4 bits of e equal those of b, less the
    borrow of the 4-bit subtraction of the low bits; ``b_hi - 1`` is formed once a block, so a
    value needs a 4-bit subtractor and two (E - 4)-bit equality tests instead of an E-bit
    subtractor and a zero test. Then the all-ones / all-zeros tests of the exponent field.
    The class code is the distance itself or one of the constants ZERO, INF, NAN.

    Members
    -------
    exp, man : ``In(data.ArrayLayout(E, N))``, ``In(data.ArrayLayout(M, N))``
        Exponent and mantissa fields.
    base : ``In(E)``
        The block base.
    cls : ``Out(data.ArrayLayout(5, N))``
        Class codes.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        fmt = cfg.fmt
        return {"exp": In(data.ArrayLayout(fmt.exp_bits, cfg.n)),
                "man": In(data.ArrayLayout(fmt.man_bits, cfg.n)),
                "base": In(fmt.exp_bits),
                "cls": Out(class_layout(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        e = cfg.fmt.exp_bits
        db = (DEPTHS - 1).bit_length()
        # dist = b - e < 16 with its low 4 bits from a 4-bit subtraction: the upper bits of
        # e must equal those of b, less the borrow of the low part (b_hi - 1 once a block).
        hi_b = self.base[db:]
        hi_m1 = Signal(len(hi_b), name="base_hi_m1")
        m.d.comb += hi_m1.eq(hi_b - 1)
        for i in range(cfg.n):
            exp = self.exp[i]
            low = Signal(db + 1, name=f"dist{i}")
            m.d.comb += low.eq(self.base[:db] - exp[:db])
            borrow = low[db]
            near = exp.any() & Mux(borrow, exp[db:] == hi_m1, exp[db:] == hi_b)
            code = Mux(exp.all(), Mux(any_bits(self.man[i]), NAN, INF),
                       Mux(near, low[:db], Const(ZERO, CLASS_BITS)))
            m.d.comb += self.cls[i].eq(code)
        return m
