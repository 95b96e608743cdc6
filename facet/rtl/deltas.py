"""Stage ``deltas``: exponent deltas, the flush rule and NaN canonicalization."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage, any_bits, decrement

__all__ = ["Deltas"]


class Deltas(Stage):
    """Exponent deltas with the flush rule and NaN canonicalization (golden model: ``deltas``).

    Structure: the flush rule ``zero = (exp == 0) | (base - exp >= 2**K)`` is one E-bit
    comparison per element against a per-block threshold, ``zero = exp <= max(base - 2**K, 0)``
    (for ``exp >= 1`` the delta rule reads ``exp <= base - 2**K``, and ``exp == 0`` is
    ``exp <= 0``). Only the K low bits of the delta are needed, ``(base - exp) mod 2**K``, a
    K-bit subtractor (``base`` is the block maximum, so the true difference is never negative).
    Zero-marked values get delta and mantissa 0. NaN canonicalization is folded into the
    mantissa gating: an exponent of all ones is never zero-marked (its delta is 0), so

    * the mantissa MSB is ``~zero & (man[M-1] | (exp == 2**E-1) & (man[M-2:0] != 0))``;
    * every other mantissa bit is ``man[b] & ~(zero | exp == 2**E-1)``.

    Of the forms tried (``make synth``), this one synthesizes smallest; the others were a full
    E-bit subtractor per element with ``exp == 0 | d[K:] != 0``, a threshold compare plus a
    separate ``exp == 0``, and equality tests on the upper bits.

    Members
    -------
    exp : ``In(data.ArrayLayout(E, N))``
        Biased exponent fields.
    man : ``In(data.ArrayLayout(M, N))``
        Mantissa fields.
    base : ``In(E)``
        The block base. It must not be smaller than any ``exp`` (as :class:`Base` gives).
    delta : ``Out(data.ArrayLayout(K, N))``
        Exponent deltas, 0 for zero-marked values.
    zero : ``Out(data.ArrayLayout(1, N))``
        Zero marks.
    man_out : ``Out(data.ArrayLayout(M, N))``
        Mantissas after the flush and NaN rules (the model's third result).
    """

    def ports(self, cfg):
        fmt, n, k = cfg.fmt, cfg.n, cfg.k
        return {
            "exp": In(data.ArrayLayout(fmt.exp_bits, n)),
            "man": In(data.ArrayLayout(fmt.man_bits, n)),
            "base": In(fmt.exp_bits),
            "delta": Out(data.ArrayLayout(k, n)),
            "zero": Out(data.ArrayLayout(1, n)),
            "man_out": Out(data.ArrayLayout(fmt.man_bits, n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        e, mb, k = cfg.fmt.exp_bits, cfg.fmt.man_bits, cfg.k
        # Per block: the largest exponent that is zero-marked, max(base - 2**K, 0).
        # base - 2**K keeps the low K bits of base and decrements the upper ones; it is
        # negative when they are zero.
        base_hi = self.base[k:]
        limit = Signal(e)
        m.d.comb += limit.eq(Mux(any_bits(base_hi), Cat(self.base[:k], decrement(base_hi)), 0))
        for i in range(cfg.n):
            exp, man = self.exp[i], self.man[i]
            d = Signal(k, name=f"d{i}")
            zero = Signal(name=f"zero{i}")
            special = Signal(name=f"special{i}")  # exponent all ones: Inf or NaN
            m.d.comb += [
                d.eq(self.base[:k] - exp[:k]),
                zero.eq(exp <= limit),
                special.eq(exp.all()),
                self.zero[i].eq(zero),
                self.delta[i].eq(d & ~zero.replicate(k)),
                self.man_out[i][:mb - 1].eq(man[:mb - 1] & ~(zero | special).replicate(mb - 1)),
                self.man_out[i][mb - 1].eq(~zero & (man[mb - 1] | (special & man[:mb - 1].any()))),
            ]
        return m
