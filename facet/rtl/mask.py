"""Stage ``mask``: which planes are present (hold a one)."""

from amaranth.hdl import Module
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage

__all__ = ["Mask"]


class Mask(Stage):
    """Presence mask of the planes (golden model: ``mask``).

    One N-input OR tree per plane: P * (N-1) two-input ORs, which abc maps to NOR4/NAND4 trees.

    Members
    -------
    words : ``In(data.ArrayLayout(N, P))``
        Plane words in stream order.
    present : ``Out(P)``
        Bit ``j`` set when plane ``j`` holds a one.
    """

    def ports(self, cfg):
        return {
            "words": In(data.ArrayLayout(cfg.n, cfg.num_planes)),
            "present": Out(cfg.num_planes),
        }

    def elaborate(self, platform):
        m = Module()
        for j in range(self._cfg.num_planes):
            m.d.comb += self.present[j].eq(self.words[j].any())
        return m
