"""MX block encoder and decoder: the stream components, one block per clock."""

from amaranth.hdl import Cat, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ..pipeline import Codec
from ._stage import MxStage
from .dequantize import Dequantize
from .quantize import Quantize
from .scale import Scale

__all__ = ["MxEncoder", "MxDecoder"]


class MxEncoder(Codec, MxStage):
    """MX block encoder: N raw values in, the packed block (:func:`facet.baselines.mx_pack`)
    out.

    ``scale -> quantize``, then wiring: scale code in bits ``[0, 8)``, element ``i`` in bits
    ``[8 + 8i, 16 + 8i)``. Register stages, in the order ``stages`` takes them: 1. at the
    output (B bits); 2. after ``scale`` (the values and the scale code).

    Members
    -------
    i : ``In(stream.Signature(data.ArrayLayout(unsigned(W), N)))``
    o : ``Out(stream.Signature(unsigned(B)))``
    """

    CUTS = ("output", "scale")

    def ports(self, cfg):
        return {"i": In(stream.Signature(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n))),
                "o": Out(stream.Signature(unsigned(cfg.budget)))}

    def build(self, m, pipe, cuts):
        m.submodules.scale = scale = Scale(self.cfg)
        m.submodules.quantize = quantize = Quantize(self.cfg)
        m.d.comb += scale.i.eq(self.i.payload)
        values, code = self.i.payload, scale.scale
        if "scale" in cuts:
            values, code = pipe.register(values, code)
        m.d.comb += [quantize.i.eq(values), quantize.scale.eq(code)]
        out = Cat(code, quantize.codes)
        if "output" in cuts:
            out, = pipe.register(out)
        return out


class MxDecoder(Codec, MxStage):
    """MX block decoder: a packed block in, N raw values out (``dequantize``).

    Register stages, in the order ``stages`` takes them: 1. at the output (N*W bits), as
    every facet decoder's first stage (:class:`facet.rtl.FacetDecoder`), so that one stage
    costs the same register in both and ``o.ready`` only reaches register enables;
    2. at the input (B bits).

    Members
    -------
    i : ``In(stream.Signature(unsigned(B)))``
    o : ``Out(stream.Signature(data.ArrayLayout(unsigned(W), N)))``
    """

    CUTS = ("output", "input")

    def ports(self, cfg):
        return {"i": In(stream.Signature(unsigned(cfg.budget))),
                "o": Out(stream.Signature(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n)))}

    def build(self, m, pipe, cuts):
        m.submodules.dequantize = deq = Dequantize(self.cfg)
        blk = self.i.payload
        if "input" in cuts:
            blk, = pipe.register(blk)
        m.d.comb += [deq.scale.eq(blk[:8]), deq.codes.eq(blk[8:])]
        out = deq.o
        if "output" in cuts:
            out, = pipe.register(out)
        return out
