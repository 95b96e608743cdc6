"""Stage ``header``: read the base and the presence mask of a packed block."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from ._common import Stage

__all__ = ["Header"]


class Header(Stage):
    """Parse the header of a packed block (golden model: ``header``).

    Pure wiring, no logic: the base is stream bits ``[0, E)`` and the presence mask stream bits
    ``[E, E+P)`` (``P = cfg.mask_bits``: all the planes for the ``plane`` policy, the zero, delta
    and sign planes for ``significance``).

    Members
    -------
    i : ``In(B)``
        The packed block, stream bit ``j`` on bit ``j``.
    base : ``Out(E)``
        The block base.
    present : ``Out(cfg.mask_bits)``
        Presence mask, bit ``j`` for plane ``j``.
    """

    def ports(self, cfg):
        return {
            "i": In(cfg.budget),
            "base": Out(cfg.fmt.exp_bits),
            "present": Out(cfg.mask_bits),
        }

    def elaborate(self, platform):
        m = Module()
        e, p = self._cfg.fmt.exp_bits, self._cfg.mask_bits
        m.d.comb += [
            self.base.eq(self.i[:e]),
            self.present.eq(self.i[e:e + p]),
        ]
        return m
