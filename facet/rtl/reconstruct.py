"""Stage ``reconstruct``: rebuild raw values from the base and the planes."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage, any_bits, decrement

__all__ = ["Reconstruct"]


class Reconstruct(Stage):
    """Rebuild raw values (golden model: ``reconstruct``).

    Per element ``e = base - d``; a zero mark or ``e <= 0`` gives ±0 (sign kept); ``e == 2**E-1``
    (Inf/NaN) keeps the mantissa bits as they are; otherwise the first cut bit (``fill``) is set.

    Structure: per block, ``base == 2**E-1``, ``base[K:] == 0`` and ``base[K:] - 1`` are computed
    once. Per element, ``e = base - d`` is a K-bit subtractor on the low bits whose borrow
    selects ``base[K:]`` or ``base[K:] - 1`` for the upper bits; ``e <= 0`` is
    ``base[K:] == 0 & d >= base[:K]`` (a K-bit comparison); ``e == 2**E-1`` is
    ``base == 2**E-1 & d == 0`` (a K-input NOR); one AND per output bit clears the magnitude.
    This synthesizes smaller than a full (E+1)-bit subtractor per element with ``e <= 0`` from
    its sign and a zero test.

    Members
    -------
    base : ``In(E)``
        The block base.
    words : ``In(data.ArrayLayout(N, P))``
        Plane words in stream order, as :class:`Unpack` gives them.
    fill : ``In(data.ArrayLayout(M, N))``
        Per element, its first cut mantissa bit as a mask.
    o : ``Out(data.ArrayLayout(unsigned(W), N))``
        The raw values, value ``i`` in element ``i``.
    """

    def ports(self, cfg):
        fmt, n = cfg.fmt, cfg.n
        return {
            "base": In(fmt.exp_bits),
            "words": In(data.ArrayLayout(n, cfg.num_planes)),
            "fill": In(data.ArrayLayout(fmt.man_bits, n)),
            "o": Out(data.ArrayLayout(fmt.width, n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        e, mb, k = cfg.fmt.exp_bits, cfg.fmt.man_bits, cfg.k
        words = self.words
        base_hi, base_lo = self.base[k:], self.base[:k]
        base_max = Signal()
        base_hi_zero = Signal()
        base_hi_dec = Signal(e - k)
        m.d.comb += [
            base_max.eq(self.base.all()),
            base_hi_zero.eq(~any_bits(base_hi)),
            base_hi_dec.eq(decrement(base_hi)),
        ]
        for i in range(cfg.n):
            zero = words[0][i]
            d = Cat(words[k - b][i] for b in range(k))  # plane 1 holds the delta MSB
            sign = words[k + 1][i]
            kept = Cat(words[k + mb + 1 - b][i] for b in range(mb))
            lo = Signal(k + 1, name=f"e_lo{i}")  # bit K: borrow
            exp = Signal(e, name=f"e{i}")
            kill = Signal(name=f"kill{i}")  # zero mark or e <= 0
            special = Signal(name=f"special{i}")  # e == 2**E-1
            m.d.comb += [
                lo.eq(base_lo - d),
                exp.eq(Cat(lo[:k], Mux(lo[k], base_hi_dec, base_hi))),
                kill.eq(zero | (base_hi_zero & (d >= base_lo))),
                special.eq(base_max & ~d.any()),
            ]
            man = (kept | (self.fill[i] & ~special.replicate(mb))) & ~kill.replicate(mb)
            m.d.comb += self.o[i].eq(Cat(man, exp & ~kill.replicate(e), sign))
        return m
