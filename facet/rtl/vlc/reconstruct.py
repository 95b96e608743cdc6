"""Stage ``reconstruct`` of the `vlc` decoder: raw values from classes and fields."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from facet.config import VLC_DEPTH_BITS

from .._common import Stage, any_bits, decrement, equals_const
from ...vlc_code import INF, NAN, ZERO
from ..widths import width_bits
from .unpack_classes import class_bits

__all__ = ["Reconstruct"]

assert (ZERO, INF, NAN) == (16, 17, 18)     # the class bits the stage tests


class Reconstruct(Stage):
    """Rebuild raw values (golden model: :func:`facet.vlc.reconstruct`).

    A kept value (a distance t; the classes come from :class:`~facet.rtl.vlc.UnpackClasses`,
    so ``t <= D``) gets exponent ``b - t`` and its mantissa with the first cut
    bit set (bit ``M - 1 - k_i``, none when ``k_i = M``); an exponent outside ``[1, 2^E - 2]``
    (foreign blocks only) gives a signed zero. ZERO gives +0 (its sign is 0), INF ±Inf and
    NAN the canonical quiet NaN with its sign.

    Structure, as ``plane``'s :class:`~facet.rtl.reconstruct.Reconstruct`: ``b - t`` is a
    4-bit subtractor on the low bits of b whose borrow picks ``b[4:]`` or ``b[4:] - 1``
    (computed once) for the upper bits; the range checks are a zero test and an all-ones test
    of the result and the borrow out of the top. ZERO, INF and NAN are 16, 17 and 18: bit 4
    and bit 0 or 1 tell them apart.

    Members
    -------
    base : ``In(E)``
        The block base b.
    cls : ``In(data.ArrayLayout(5, N))``
        Classes, as :class:`~facet.rtl.vlc.UnpackClasses` gives them.
    k : ``In(data.ArrayLayout(bitlength(M), N))``
        Kept mantissa bits per value.
    sign : ``In(N)``, man : ``In(data.ArrayLayout(M, N))``
        Signs and mantissas, as :class:`~facet.rtl.vlc.UnpackFields` gives them.
    o : ``Out(data.ArrayLayout(W, N))``
        The raw values.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        fmt, n = cfg.fmt, cfg.n
        return {
            "base": In(fmt.exp_bits),
            "cls": In(data.ArrayLayout(class_bits(), n)),
            "k": In(data.ArrayLayout(width_bits(cfg), n)),
            "sign": In(n),
            "man": In(data.ArrayLayout(fmt.man_bits, n)),
            "o": Out(data.ArrayLayout(fmt.width, n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        e, mb = cfg.fmt.exp_bits, cfg.fmt.man_bits
        lo_bits = VLC_DEPTH_BITS
        base_hi, base_lo = self.base[lo_bits:], self.base[:lo_bits]
        hi_zero = Signal()
        hi_one = Signal()        # b[4:] == 1: a borrow makes the top zero
        hi_dec = Signal(e - lo_bits)
        hi_max = Signal()        # b[4:] all ones: no borrow keeps the top all ones
        m.d.comb += [
            hi_zero.eq(~any_bits(base_hi)),
            hi_dec.eq(decrement(base_hi)),
            hi_one.eq(~any_bits(hi_dec)),
            hi_max.eq(base_hi.all()),
        ]
        for i in range(cfg.n):
            cls, k = self.cls[i], self.k[i]
            t = cls[:lo_bits]
            lo = Signal(lo_bits + 1, name=f"e_lo{i}")     # bit 4: borrow
            m.d.comb += lo.eq(base_lo - t)
            borrow = lo[lo_bits]
            exp = Cat(lo[:lo_bits], Mux(borrow, hi_dec, base_hi))
            top_zero = Mux(borrow, hi_one, hi_zero)
            kept = Signal(name=f"kept{i}")
            m.d.comb += kept.eq(~cls[lo_bits]
                                & ~(borrow & hi_zero)                     # b - t < 0
                                & ~(top_zero & ~any_bits(lo[:lo_bits]))    # b - t == 0
                                & ~(~borrow & hi_max & lo[:lo_bits].all()))  # 2^E - 1
            fill = Cat(*[equals_const(k, mb - 1 - bit) for bit in range(mb)])   # first cut bit
            special = cls[lo_bits] & cls[0]          # INF = 17
            nan = cls[lo_bits] & cls[1]              # NAN = 18
            mag = Signal(e + mb, name=f"mag{i}")
            with m.If(kept):
                m.d.comb += mag.eq(Cat(self.man[i] | fill, exp))
            with m.Elif(special | nan):
                m.d.comb += mag.eq(Cat(Const(0, mb - 1), nan, Const((1 << e) - 1, e)))
            m.d.comb += self.o[i].eq(Cat(mag, self.sign[i]))
        return m
