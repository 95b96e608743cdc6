"""Sums of the histogram with constant weights, as the `vlc` depth stage uses them: every
term is a shared prefix count of the histogram.

Shared signals: the counts ``n_t``, ``sp`` (Inf and NaN), ``cum(x) = n_0 + ... + n_x``,
``Q(x) = cum(0) + ... + cum(x)`` (the mantissa bits at P = D - 1 are ``Q(D - 2) - Q(D - 2 - M)``)
and group sums of a few low classes; a linear form on them is one carry-save sum.

For logic depth, cum and Q are Brent-Kung prefix trees (Q a tree over cum: about 2 log2(16)
adders deep instead of a chain of 16 after a chain of 16) and every carry-save sum is reduced
shallowest bits first into a prefix adder (:func:`~facet.rtl.prefix.csa_sum` with ``levels`` and
:func:`~facet.rtl.prefix.add_fast`). A Sklansky tree (log2(16) adders) was no shallower
after synthesis and takes more adders.
"""

from amaranth.hdl import Cat, Const, Signal, Value

from ...vlc_code import DEPTHS, INF, NAN
from ..prefix import add_fast, csa_sum, prefix_sums

__all__ = ["Sums"]


class Sums:
    """The shared prefix counts of one histogram and the linear forms built on them.

    ``width`` is the two's-complement width of every form; it must hold every value a form
    takes (forms are computed modulo ``2**width``).
    """

    def __init__(self, m, hist, n, width, *, name="lin"):
        self.m, self.hist, self.n, self.width, self.name = m, hist, n, width, name
        self._cache = {}

    def signal(self, key):
        """The shared signal of ``key``: ``("n", t)``, ``("cum", x)``, ``("Q", x)``, ``("sp",)``
        or ``("low", coefs)``."""
        if key in self._cache:
            return self._cache[key]
        kind = key[0]
        cb = self.n.bit_length()
        if kind == "n":
            s = Value.cast(self.hist[key[1]])
        elif kind == "sp":
            s = Signal(cb + 1, name=f"{self.name}_sp")
            self.m.d.comb += s.eq(self.hist[INF] + self.hist[NAN])
        elif kind in ("cum", "Q"):
            if ("cum", 0) not in self._cache:
                self._prefix()
            return self._cache[key]
        else:  # a group sum of the low classes
            coefs = key[1]
            terms = [(c, ("n", t)) for t, c in enumerate(coefs) if c]
            s = self.evaluate(0, terms, f"{self.name}_g{len(self._cache)}")
        self._cache[key] = s
        return s

    def _prefix(self):
        """Every ``cum(x)`` and ``Q(x)``, ``x < DEPTHS``: two prefix sums, Q over cum."""
        n = self.n
        cum = prefix_sums(self.m, [self.hist[t] for t in range(DEPTHS)], lambda i: i * n,
                          cap=n, name=f"{self.name}_cum", tree="brent-kung")[1:]
        q = prefix_sums(self.m, cum, lambda i: i * n, name=f"{self.name}_Q", tree="brent-kung")[1:]
        for x in range(DEPTHS):
            self._cache["cum", x], self._cache["Q", x] = cum[x], q[x]

    def evaluate(self, const, terms, name, extra=()):
        """``const + sum coef * signal (+ extra)`` modulo ``2**width``: one carry-save sum of
        shifted copies, a negative coefficient as ``c * ~x + c``."""
        w = self.width
        parts = list(extra)
        for coef, key in terms:
            x = self.signal(key)
            if coef < 0:
                src = Value.cast(x)
                x = Signal(w, name=f"{name}_not{len(parts)}")
                self.m.d.comb += x.eq(~Cat(src, Const(0, w - len(src))))
                const -= coef
                coef = -coef
            for b in range(coef.bit_length()):
                if (coef >> b) & 1:
                    parts.append((x, b))
        const %= 1 << w
        if const:
            parts.append(Const(const, w))
        if not parts:
            return Const(0, w)
        if len(parts) == 1 and not isinstance(parts[0], tuple):
            return parts[0]
        return csa_sum(self.m, parts, w, name=name, adder=add_fast, levels=True)
