"""Stage ``base``: the block base, its largest exponent field."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage

__all__ = ["Base", "DIGIT_BITS", "column_max"]

#: Bits of the maximum found per step of :class:`Base`.
DIGIT_BITS = 3


class Base(Stage):
    """The largest of the block's N exponent fields (golden model: ``base``).

    Structure: a digit-serial maximum, most significant digit first, ``DIGIT_BITS`` bits per
    digit. ``cand`` is the N-bit set of elements whose digits so far equal the maximum's. For a
    digit of ``r`` bits, ``ge[v]`` (``v = 1 .. 2^r - 1``) says whether a candidate's digit is at
    least ``v``: one N-input OR tree each, all in parallel. The maximum's digit is the count of
    true ``ge`` (a thermometer code), and a candidate stays when its digit is at least every
    ``v`` with ``ge[v]`` true. There is no magnitude comparator, so this synthesizes smaller
    than a tree of N-1 ``max(a, b)`` nodes (comparator and E-bit mux each).

    The logic depth is about ``ceil(E / r) * (log2(N) + 3)`` gates: the serial chain is one OR
    tree and the candidate update per digit. ``r = 1`` (bit-serial) is the smallest and, at
    E * (log2(N) + 2) gates, the longest path of the encoder; ``r = 2`` halves the steps for
    3 OR trees per step instead of 1, and ``r = 3`` (3 steps for E = 8, 7 OR trees per step)
    is what a 250 MHz pipeline at two register stages needs: on OSU 0.18 um at bf16, N = 32 the
    maximum takes about 5.1 ns at ``r = 2``, 3.8 ns at ``r = 3`` and 3.5 ns at ``r = 4``, for
    about 1,250, 2,300 and 3,100 NAND2-eq (``make synth``).

    Members
    -------
    exp : ``In(data.ArrayLayout(E, N))``
        Biased exponent fields.
    base : ``Out(E)``
        Their maximum.
    """

    def ports(self, cfg):
        return {
            "exp": In(data.ArrayLayout(cfg.fmt.exp_bits, cfg.n)),
            "base": Out(cfg.fmt.exp_bits),
        }

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.base.eq(column_max(m, [self.exp[i] for i in range(self._cfg.n)]))
        return m


def column_max(m, words, digit_bits=DIGIT_BITS):
    """The largest of ``words`` (unsigned, equal widths), digit-serially, most significant
    digit first (the structure is described in :class:`Base`)."""
    n, e = len(words), len(words[0])
    out = Signal(e, name="max")
    cand = None  # every element is a candidate before the first digit
    top = e
    while top > 0:
        lo = max(0, top - digit_bits)
        r = top - lo
        digit = [w[lo:top] for w in words]
        ge = []
        for v in range(1, 1 << r):
            at_least = Cat(d >= v for d in digit)
            hit = Signal(n, name=f"ge{v}_at{lo}")
            m.d.comb += hit.eq(at_least if cand is None else at_least & cand)
            ge.append(hit.any())
        # ge is a thermometer code (ge[v] implies ge[v - 1]); the digit is the v where it
        # ends, so bit k of the digit ORs the ends at the v that have bit k set.
        ends = [g & ~h for g, h in zip(ge, ge[1:])] + [ge[-1]]
        m.d.comb += out[lo:top].eq(Cat(*(
            Cat(*(x for v, x in enumerate(ends, 1) if v >> k & 1)).any() for k in range(r))))
        if lo:
            nxt = Signal(n, name=f"cand{lo}")
            stay = Cat(*(Cat(*((d >= v) | ~g for v, g in enumerate(ge, 1))).all()
                         for d in digit))
            m.d.comb += nxt.eq(stay if cand is None else stay & cand)
            cand = nxt
        top = lo
    return out
