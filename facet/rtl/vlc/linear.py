"""Sums of the histogram with constant weights, as the `vlc` depth and precision stages use
them: every weight vector over the classes is rewritten on a few shared prefix counts.

A weight vector ``w`` over the classes (distances 0..15, ZERO, INF, NAN) of a block of N
values gives ``sum_c w[c] * hist[c]``. With ``n_Z = N - sp - cum(15)`` (sp: Inf and NaN) that is
``w_Z * N + (w_S - w_Z) * sp + sum_t v_t * n_t``, ``v_t = w_t - w_Z``. The code lengths of
docs/format.md section 10.2 grow by one bit a binade in the window, as the ZERO codeword and
the mantissa at P = D - 1 do, so ``v`` is zero over most of the window: a few low classes (a
group sum, shared by every depth of a mode), a point or two at the top, and the mantissa
ramp of the classes more than M binades down, ``Q(D - 2 - M)``, from a chain of prefix sums
``cum(x) = n_0 + ... + n_x`` and ``Q(x) = cum(0) + ... + cum(x)``.
"""

from amaranth.hdl import Cat, Const, Signal, Value

from ...vlc_code import DEPTHS, INF, NAN, ZERO
from ..prefix import csa_sum

__all__ = ["Sums"]


class Sums:
    """The shared prefix counts of one histogram and the linear forms built on them.

    ``width`` is the two's-complement width of every form; it must hold every value a form
    takes (forms are computed modulo ``2**width``).
    """

    def __init__(self, m, hist, n, width, *, name="lin"):
        self.m, self.hist, self.n, self.width, self.name = m, hist, n, width, name
        self._cache = {}

    def _sig(self, key):
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
        elif kind == "cum":
            x = key[1]
            if x == 0:
                s = Value.cast(self.hist[0])
            else:
                s = Signal(cb, name=f"{self.name}_cum{x}")
                self.m.d.comb += s.eq(self._sig(("cum", x - 1)) + self.hist[x])
        elif kind == "Q":
            x = key[1]
            if x == 0:
                s = self._sig(("cum", 0))
            else:
                s = Signal((self.n * (x + 1)).bit_length(), name=f"{self.name}_Q{x}")
                self.m.d.comb += s.eq(self._sig(("Q", x - 1)) + self._sig(("cum", x)))
        else:  # a group sum of the low classes
            coefs = key[1]
            terms = [(c, ("n", t)) for t, c in enumerate(coefs) if c]
            s = self._evaluate(0, terms, f"{self.name}_g{len(self._cache)}")
        self._cache[key] = s
        return s

    def _evaluate(self, const, terms, name, extra=()):
        """``const + sum coef * signal (+ extra)`` modulo ``2**width``: one carry-save sum of
        shifted copies, a negative coefficient as ``c * ~x + c``."""
        w = self.width
        parts = list(extra)
        for coef, key in terms:
            x = self._sig(key)
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
        return csa_sum(self.m, parts, w, name=name)

    def form(self, weights, *, depth=None, man_bits=None, split=4, name="f", extra=()):
        """``sum_c weights[c] * hist[c]`` as a signal (``width`` bits, modulo ``2**width``).

        With ``depth`` and ``man_bits``, ``weights`` include the mantissa bits
        ``clamp(depth - 1 - t, 0, man_bits)`` of the kept classes t <= depth, whose ramp
        below ``depth - 1 - man_bits`` is taken out as one Q term. Classes below ``split``
        form a group sum shared with every form that has the same low weights. ``extra``
        values are added in the same carry-save sum.
        """
        w = [int(x) for x in weights]
        assert w[INF] == w[NAN]
        wz = w[ZERO]
        const = wz * self.n
        terms = [(w[INF] - wz, ("sp",))] if w[INF] != wz else []
        v = [w[t] - wz for t in range(DEPTHS)]
        if depth is not None and depth - 2 - man_bits >= 0:
            top = depth - 2 - man_bits
            for t in range(top + 1):
                v[t] += top - t + 1
            terms.append((-1, ("Q", top)))
        low, high = v[:split], v[split:]
        points = [(c, ("n", split + i)) for i, c in enumerate(high) if c]
        steps = [(high[i] - (high[i + 1] if i + 1 < len(high) else 0), ("cum", split + i))
                 for i in range(len(high))]
        steps = [s for s in steps if s[0]]
        if len(steps) < len(points) and split > 0:
            low = [c - high[0] for c in low]
            terms += steps
        else:
            terms += points
        if any(low):
            terms.append((1, ("low", tuple(low))))
        return self._evaluate(const, terms, name, extra)
