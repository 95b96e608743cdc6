"""Stage ``header`` of the `vlc` decoder: the base, the depth and the code mode."""

from amaranth.hdl import Module, Mux
from amaranth.lib.wiring import In, Out

from facet.config import VLC_DEPTH_BITS, VLC_MODE_BITS, VLC_OFFSETS

from .._common import Stage

__all__ = ["Header"]


class Header(Stage):
    """Read the header of a packed `vlc` block (golden model: :func:`facet.vlc.header`).

    b is stream bits ``[0, E)``, D bits ``[E, E + 4)`` and the mode bits ``[E + 4, E + 6)``.
    A mode whose window offset exceeds D (only foreign blocks have one) reads as mode 0
    here, once, so the later stages only ever see a valid code.

    Members
    -------
    i : ``In(H)``
        The first H stream bits of the block, stream bit ``j`` on bit ``j``.
    base : ``Out(E)``
        The block base b.
    d : ``Out(4)``
        The depth D.
    mode : ``Out(2)``
        The code mode.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {
            "i": In(cfg.header_bits),
            "base": Out(cfg.fmt.exp_bits),
            "d": Out(VLC_DEPTH_BITS),
            "mode": Out(VLC_MODE_BITS),
        }

    def elaborate(self, platform):
        m = Module()
        e = self.cfg.fmt.exp_bits
        d = self.i[e:e + VLC_DEPTH_BITS]
        mode = self.i[e + VLC_DEPTH_BITS:e + VLC_DEPTH_BITS + VLC_MODE_BITS]
        too_deep = ((mode == 1) & (d < VLC_OFFSETS[1])) | ((mode == 2) & (d < VLC_OFFSETS[2]))
        m.d.comb += [
            self.base.eq(self.i[:e]),
            self.d.eq(d),
            self.mode.eq(Mux(too_deep, 0, mode)),
        ]
        return m
