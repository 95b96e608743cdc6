"""Stage ``cost`` of the `vlc` decoder: header, class codes and sign bits of a block."""

from amaranth.hdl import Const, Module
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS
from .._common import Stage, drive
from ..prefix import csa_sum
from .classes import class_layout, signed_flags
from .codewords import Codewords
from .depth import cost_bits

__all__ = ["Cost"]


class Cost(Stage):
    """The code cost C(D, mode, -) without mantissas (golden model: :func:`facet.vlc.cost`),
    what the encoder's ``depth`` stage passes to ``precision``.

    The model sums the code and sign bits of each class weighted by the histogram; here each
    value's codeword length comes from the encoder's
    :class:`~facet.rtl.vlc.codewords.Codewords`, built for every code a header can name (a
    foreign block may name a code no encoder chooses; its codeword outputs are unused and
    synthesis drops them), and one carry-save sum adds the N lengths, the N signed flags and H.

    Members
    -------
    cls : ``In(data.ArrayLayout(5, N))``
        Classes, as :class:`~facet.rtl.vlc.UnpackClasses` gives them.
    d : ``In(4)``, mode : ``In(2)``
        Depth and mode, as :class:`~facet.rtl.vlc.Header` gives them.
    cost : ``Out(cost_bits(cfg))``
        Header, class codes and sign bits.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)), "d": In(VLC_DEPTH_BITS),
                "mode": In(VLC_MODE_BITS), "cost": Out(cost_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        m.submodules.codewords = code = Codewords(cfg, every_code=True)
        drive(m, code, cls=self.cls, d=self.d, mode=self.mode)
        signed = signed_flags(m, self.cls, self.d)
        terms = [code.length[i] for i in range(cfg.n)] + [signed[i] for i in range(cfg.n)] \
            + [Const(cfg.header_bits)]
        m.d.comb += self.cost.eq(csa_sum(m, terms, len(self.cost), name="cost"))
        return m
