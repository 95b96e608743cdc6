"""Stage ``histogram`` (`vlc` policy, encoder and decoder): values per class."""

from amaranth.hdl import Module
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

    Structure: each class code is decoded to one-hot (an equality test per class and value),
    and each class is a carry-save popcount of its N decode bits.

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
        for c in range(NCLASS):
            hit = [equals_const(self.cls[i], c) for i in range(cfg.n)]
            m.d.comb += self.hist[c].eq(csa_sum(m, hit, count_bits(cfg), name=f"h{c}"))
        return m
