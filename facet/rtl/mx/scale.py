"""Stage ``scale``: the shared E8M0 scale code of a block (model:
:func:`facet.baselines.mx_scale_codes` of the scales of ``mx_encode`` / ``mxint8_encode``)."""

from amaranth.hdl import Cat, Mux, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._stage import MxStage, split
from .arith import clamp, leading_one, signed_sig, tree_max
from .config import SCALE_BIAS, SCALE_NAN

__all__ = ["Scale"]


class Scale(MxStage):
    """``2**(floor(log2(amax)) - emax_elem)`` as an E8M0 code, ``amax`` the block's largest
    magnitude.

    ``floor(log2(amax))`` needs no comparison of whole magnitudes: it is the largest exponent
    field less the bias, or, when every field is 0 (only zeros and subnormals), the leading
    one of the OR of the mantissas. The exponent is clamped to [-127, 127]; an all-zero block
    gets code 127 (scale 1) and a block holding an Inf or a NaN code 255.

    Members
    -------
    i : ``In(data.ArrayLayout(unsigned(W), N))``
        The block's raw values.
    scale : ``Out(8)``
        The scale code.
    """

    def ports(self, cfg):
        return {"i": In(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n)), "scale": Out(8)}

    def build(self, m):
        cfg, fmt = self._cfg, self._cfg.fmt
        fields = [split(fmt, self.i[i]) for i in range(cfg.n)]
        exps = [e for _, e, _ in fields]
        top = tree_max(exps)
        special = Cat(*(e.all() for e in exps)).any()
        orm = 0
        for _, _, mn in fields:
            orm = orm | mn
        emin = 1 - fmt.bias
        width = fmt.exp_bits + 4
        fl = signed_sig(m, Mux(top.any(), top - fmt.bias,
                               emin - fmt.man_bits + leading_one(orm)), width, "floor_log2")
        exp = signed_sig(m, clamp(fl - cfg.elem_emax, -SCALE_BIAS, SCALE_BIAS), width, "exp")
        zero = ~top.any() & ~orm.any()
        m.d.comb += self.scale.eq(Mux(special, SCALE_NAN,
                                      Mux(zero, SCALE_BIAS, (exp + SCALE_BIAS)[:8])))
