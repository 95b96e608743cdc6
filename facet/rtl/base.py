"""Stage ``base``: the block base, its largest exponent field."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage

__all__ = ["Base", "column_max"]


class Base(Stage):
    """The largest of the block's N exponent fields (golden model: ``base``).

    Structure: a bit-serial maximum, MSB first, over the exponent bit columns. ``cand`` is the
    N-bit set of elements that still equal the maximum's bits found so far; at bit ``b`` the
    maximum has a one when a candidate does, and then only the candidates with a one stay.
    That is E levels of one N-input OR tree and N AND/MUX gates each, and no magnitude
    comparator: it synthesizes smaller than a tree of N-1 ``max(a, b)`` nodes (comparator and
    E-bit mux each). The price is logic depth, about E * (log2(N) + 2) gates, the longest path of the encoder; the
    encoder's third register stage (``stages=3``) goes right after this stage.

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


def column_max(m, words):
    """The largest of ``words`` (unsigned, equal widths), bit-serially, MSB first (see
    :class:`Base`)."""
    n, e = len(words), len(words[0])
    out = Signal(e, name="max")
    cand = None  # every element is a candidate before the MSB
    for b in reversed(range(e)):
        col = Cat(words[i][b] for i in range(n))
        hit = Signal(n, name=f"hit{b}")
        m.d.comb += hit.eq(col if cand is None else col & cand)
        m.d.comb += out[b].eq(hit.any())
        if b:
            nxt = Signal(n, name=f"cand{b - 1}")
            if cand is None:
                m.d.comb += nxt.eq(hit | ~out[b].replicate(n))
            else:
                m.d.comb += nxt.eq(hit | (cand & ~out[b].replicate(n)))
            cand = nxt
    return out
