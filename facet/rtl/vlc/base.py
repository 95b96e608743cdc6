"""Stage ``base`` (`vlc` and `window` policies): the largest exponent field of a finite value."""

from amaranth.hdl import Module
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from .._common import Stage
from ..base import column_max

__all__ = ["Base"]


class Base(Stage):
    """The block base b (golden models: :func:`facet.vlc.base`, :func:`facet.window.base`).

    Inf and NaN (exponent field all ones) take no part: their field is cleared (one AND per
    bit, the all-ones test shared) before the bit-serial maximum of :class:`facet.rtl.Base`.

    Members
    -------
    exp : ``In(data.ArrayLayout(E, N))``
        Biased exponent fields.
    base : ``Out(E)``
        The largest field below ``2**E - 1``, 0 if there is none.
    """

    POLICY = ("vlc", "window")

    def ports(self, cfg):
        return {"exp": In(data.ArrayLayout(cfg.fmt.exp_bits, cfg.n)),
                "base": Out(cfg.fmt.exp_bits)}

    def elaborate(self, platform):
        m = Module()
        e = self._cfg.fmt.exp_bits
        finite = [self.exp[i] & ~self.exp[i].all().replicate(e) for i in range(self._cfg.n)]
        m.d.comb += self.base.eq(column_max(m, finite))
        return m
