"""Stage ``histogram`` (`vlc` policy, encoder and decoder): values per class."""

from amaranth.hdl import Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...vlc_code import NCLASS
from .._common import Stage, equals_const
from ..prefix import csa_sum
from .classes import class_layout

__all__ = ["count_bits", "hist_layout", "Histogram"]


def count_bits(cfg):
    """Bits of a count of values, 0 .. N."""
    return cfg.n.bit_length()


def hist_layout(cfg):
    """The layout of the NCLASS counts of a block."""
    return data.ArrayLayout(count_bits(cfg), NCLASS)


class Histogram(Stage):
    """The number of values of each class (golden model: :func:`facet.vlc.histogram`).

    Structure: each class code is decoded to one-hot (two predecoded halves of the code and
    an AND per class and value), and each class is a carry-save popcount of its N decode
    bits.

    Members
    -------
    cls : ``In(data.ArrayLayout(5, N))``
        Class codes.
    hist : ``Out(data.ArrayLayout(bitlength(N), NCLASS))``
        Counts, indexed by class.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)), "hist": Out(hist_layout(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        # One-hot decode from two predecoded halves: (code >> 2) one of 5, code & 3 one of 4.
        hit = [[] for _ in range(NCLASS)]
        for i in range(cfg.n):
            cls = self.cls[i]
            hi = [equals_const(cls[2:], j) for j in range((NCLASS + 3) // 4)]
            lo = [equals_const(cls[:2], j) for j in range(4)]
            for c in range(NCLASS):
                h = Signal(name=f"is{c}_{i}")
                m.d.comb += h.eq(hi[c >> 2] & lo[c & 3])
                hit[c].append(h)
        for c in range(NCLASS):
            m.d.comb += self.hist[c].eq(csa_sum(m, hit[c], count_bits(cfg), name=f"h{c}"))
        return m
