"""Stage ``cost`` of the `vlc` decoder: header, class codes and sign bits of a block."""

from amaranth.hdl import Const, Module
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...vlc_code import TAIL_MAX
from .._common import Stage
from ..prefix import csa_sum
from .depth import cost_bits

__all__ = ["Cost"]


class Cost(Stage):
    """The code cost C(D, mode, -) without mantissas (golden model: :func:`facet.vlc.cost`),
    what the encoder's ``depth`` stage passes to ``precision``.

    Every codeword is a two-bit head and a tail, so ``C = H + 2N + sum_i f_i + sum_i signed_i``,
    f_i the tail width of value i's class in the block's code (as
    :class:`~facet.rtl.vlc.UnpackClasses` gives it) and signed_i its field flag: one
    carry-save sum of N 3-bit and N 1-bit terms.

    Members
    -------
    tail : ``In(data.ArrayLayout(3, N))``
        Tail widths, as :class:`~facet.rtl.vlc.UnpackClasses` gives them.
    signed : ``In(N)``
        Values with a field (all but ZERO, for decoded classes).
    cost : ``Out(cost_bits(cfg))``
        Header, class codes and sign bits.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"tail": In(data.ArrayLayout(TAIL_MAX.bit_length(), cfg.n)), "signed": In(cfg.n),
                "cost": Out(cost_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, w = cfg.n, len(self.cost)
        terms = [self.tail[i] for i in range(n)] + [self.signed[i] for i in range(n)]
        terms.append(Const(cfg.header_bits + 2 * n, w))
        m.d.comb += self.cost.eq(csa_sum(m, terms, w, name="cost"))
        return m
