"""Stage ``header`` of the `window` decoder: the base and the window offset."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from .._common import Stage
from .layout import OFFSET_BITS

__all__ = ["Header"]


class Header(Stage):
    """Read the header of a packed `window` block (golden model: :func:`facet.window.header`).

    b is stream bits ``[0, E)`` and o bits ``[E, E + 2)``. The offset is passed as stored: an
    offset the codes do not allow falls back to 0 in :class:`Precision`, which has the counts
    that decide it.

    Members
    -------
    i : ``In(H)``
        The first H stream bits of the block, stream bit ``j`` on bit ``j``.
    base : ``Out(E)``
        The block base b (2^E - 1 in a block with Inf or NaN).
    o : ``Out(2)``
        The window offset as stored.
    """

    POLICY = "window"

    def ports(self, cfg):
        return {"i": In(cfg.header_bits), "base": Out(cfg.fmt.exp_bits), "o": Out(OFFSET_BITS)}

    def elaborate(self, platform):
        m = Module()
        e = self.cfg.fmt.exp_bits
        m.d.comb += [self.base.eq(self.i[:e]), self.o.eq(self.i[e:e + OFFSET_BITS])]
        return m
