"""FACET encoder: a block of N raw values in, one B-bit packed block out, one per clock."""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._common import check_config, check_stages
from .base import Base
from .deltas import Deltas
from .fields import Fields
from .mask import Mask
from .pack import Pack
from .pipeline import Pipeline
from .planes import Planes
from .precision import Precision
from .widths import Widths
from .pack_mantissa import PackMantissa

__all__ = ["FacetEncoder"]


class FacetEncoder(wiring.Component):
    """FACET block encoder.

    The stages of the golden model, ``fields -> base -> deltas -> planes -> mask -> pack``, one
    submodule each (the ``significance`` policy adds ``precision -> widths -> pack_mantissa``
    beside ``pack``), with ``stages`` register stages at stage boundaries, used in this order:

    1. at the output (B bits: the narrowest cut of the encoder);
    2. after ``planes``/``mask`` (base, presence mask and P plane words), which leaves only
       the compaction network after it;
    3. after ``base`` (the fields and the base), which splits the max tree from the deltas.

    ``stages=0`` is purely combinational: ``o.valid = i.valid``, ``i.ready = o.ready``. The
    latency is ``stages`` cycles and the throughput one block per clock; see
    :class:`~facet.rtl.pipeline.Pipeline` for the handshake.

    Size at bf16 N=32 T=8 K=3, stages=1 (``make synth``: yosys, abc on the 45 nm area model,
    NAND2-eq, flattened): ``plane`` 8,557 (257 flops; pack 2,651, deltas 1,902, base 930),
    ``significance`` 19,943 (pack_mantissa 5,582, widths 3,278, precision 2,832). Longest
    path on generic gates: 106 and 338. The bit-serial maximum of
    :class:`~facet.rtl.base.Base` is most of the first. The second runs through ``base``,
    ``precision`` and ``widths`` in series; the last two measure 116 and 126 levels on their own.

    Parameters
    ----------
    cfg : :class:`facet.config.Config`
        Compressor configuration (validated when it is built).
    stages : int
        Register stages, 0 to 3.

    Members
    -------
    i : ``In(stream.Signature(data.ArrayLayout(unsigned(W), N)))``
        Blocks of raw values, value ``i`` in element ``i`` (bits ``[i*W, (i+1)*W)``).
    o : ``Out(stream.Signature(unsigned(B)))``
        Packed blocks, stream bit ``j`` on bit ``j``.

    Raises
    ------
    TypeError
        If ``cfg`` is not a :class:`~facet.config.Config` or ``stages`` not an integer.
    ValueError
        If ``stages`` is out of range.
    """

    #: Register positions, in the order ``stages`` takes them.
    CUTS = ("output", "mask", "base")

    def __init__(self, cfg, stages=1):
        self._cfg = check_config(cfg)
        self._stages = check_stages(stages, self.CUTS)
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n))),
            "o": Out(stream.Signature(unsigned(cfg.budget))),
        })

    @property
    def cfg(self):
        return self._cfg

    @property
    def stages(self):
        return self._stages

    @property
    def latency(self):
        """Cycles from a block accepted on ``i`` to its packed block valid on ``o``."""
        return self._stages

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        cuts = self.CUTS[:self._stages]
        pipe = Pipeline(m, self.i)

        m.submodules.fields = fields = Fields(cfg)
        m.submodules.base = base = Base(cfg)
        m.submodules.deltas = deltas = Deltas(cfg)
        m.submodules.planes = planes = Planes(cfg)
        m.submodules.mask = mask = Mask(cfg)
        m.submodules.pack = pack = Pack(cfg)

        m.d.comb += [
            fields.i.eq(self.i.payload),
            base.exp.eq(fields.exp),
        ]
        sign, exp, man, b = fields.sign, fields.exp, fields.man, base.base
        if "base" in cuts:
            sign, exp, man, b = pipe.register(sign, exp, man, b)
        m.d.comb += [
            deltas.exp.eq(exp),
            deltas.man.eq(man),
            deltas.base.eq(b),
            planes.sign.eq(sign),
            planes.delta.eq(deltas.delta),
            planes.zero.eq(deltas.zero),
            planes.man.eq(deltas.man_out),
            mask.words.eq(planes.words),
        ]
        nm = cfg.mask_bits
        words = Signal(data.ArrayLayout(cfg.n, nm), name="packed_words")
        m.d.comb += words.eq(planes.words.as_value()[:cfg.n * nm])
        present = mask.present[:nm]
        sig = cfg.policy == "significance"
        if sig:
            delta, zero, man_out = deltas.delta, deltas.zero, deltas.man_out
            if "mask" in cuts:
                b, words, present, delta, zero, man_out = pipe.register(b, words, present, delta, zero, man_out)
        elif "mask" in cuts:
            b, words, present = pipe.register(b, words, present)
        m.d.comb += [
            pack.base.eq(b),
            pack.present.eq(present),
            pack.words.eq(words),
        ]
        out = pack.o
        if sig:
            m.submodules.precision = precision = Precision(cfg)
            m.submodules.widths = widths = Widths(cfg)
            m.submodules.pack_mantissa = pack_mantissa = PackMantissa(cfg)
            m.d.comb += [
                precision.delta.eq(delta),
                precision.zero.eq(zero),
                precision.present.eq(present),
                pack.policy.eq(precision.p),
                widths.p.eq(precision.p),
                widths.delta.eq(delta),
                widths.zero.eq(zero),
                widths.present.eq(present),
                pack_mantissa.man.eq(man_out),
                pack_mantissa.k.eq(widths.k),
                pack_mantissa.sigma.eq(widths.sigma),
            ]
            # The two regions never overlap (docs/format.md section 8).
            out = pack.o | pack_mantissa.o
        if "output" in cuts:
            out, = pipe.register(out)
        pipe.connect(self.o)
        m.d.comb += self.o.payload.eq(out)
        return m
