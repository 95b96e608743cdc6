"""Stage ``fields``: split raw values into sign, exponent and mantissa fields."""

from amaranth.hdl import unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage, check_config

__all__ = ["value_layout", "Fields"]


def value_layout(cfg):
    """Layout of one raw value: ``man`` (M bits, LSB first), ``exp`` (E bits), ``sign``.

    Its width is W = 1 + E + M and its bits are those of the raw bit pattern, so an element of
    the encoder's ``ArrayLayout(unsigned(W), N)`` payload can be viewed through it.
    """
    fmt = check_config(cfg).fmt
    return data.StructLayout({"man": fmt.man_bits, "exp": fmt.exp_bits, "sign": 1})


class Fields(Stage):
    """Split a block of raw values into its fields (golden model: ``fields``).

    Pure wiring, no logic.

    Members
    -------
    i : ``In(data.ArrayLayout(unsigned(W), N))``
        The block's raw values, value ``i`` in bits ``[i*W, (i+1)*W)``.
    sign : ``Out(data.ArrayLayout(1, N))``
        Sign bits.
    exp : ``Out(data.ArrayLayout(E, N))``
        Biased exponent fields.
    man : ``Out(data.ArrayLayout(M, N))``
        Mantissa fields.
    """

    def ports(self, cfg):
        fmt, n = cfg.fmt, cfg.n
        return {
            "i": In(data.ArrayLayout(unsigned(fmt.width), n)),
            "sign": Out(data.ArrayLayout(1, n)),
            "exp": Out(data.ArrayLayout(fmt.exp_bits, n)),
            "man": Out(data.ArrayLayout(fmt.man_bits, n)),
        }

    def elaborate(self, platform):
        from amaranth.hdl import Module
        m = Module()
        layout = value_layout(self._cfg)
        for i in range(self._cfg.n):
            v = layout(self.i[i])
            m.d.comb += [
                self.sign[i].eq(v.sign),
                self.exp[i].eq(v.exp),
                self.man[i].eq(v.man),
            ]
        return m
