"""FACET encoder: a block of N raw values in, one B-bit packed block out, one per clock."""

from amaranth.hdl import Signal, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ._common import drive
from .base import Base
from .deltas import Deltas
from .fields import Fields
from .mask import Mask
from .pack import Pack
from .pipeline import Codec
from .planes import Planes
from .precision import Precision
from .widths import Widths
from .pack_mantissa import PackMantissa
from .vlc.codec import ENCODER_CUTS as VLC_CUTS, build_encoder as build_vlc
from .window.codec import (ENCODER_CUTS as WINDOW_CUTS, ENCODER_STAGE_CUTS as WINDOW_STAGE_CUTS,
                           build_encoder as build_window)

__all__ = ["FacetEncoder"]


class FacetEncoder(Codec):
    """FACET block encoder.

    The stages of the golden model, ``fields -> base -> deltas -> planes -> mask -> pack``, one
    submodule each (the ``significance`` policy adds ``precision -> widths -> pack_mantissa``
    beside ``pack``), with ``stages`` register stages at stage boundaries, used in this order:

    1. after ``planes``/``mask`` (base, presence mask and P plane words), which leaves only
       the compaction network of ``pack`` after it;
    2. after ``base`` (the fields and the base), which splits the maximum from the deltas;
    3. at the output (B bits).

    The three segments these cut, the maximum of :class:`~facet.rtl.base.Base`, ``deltas`` to
    ``mask``, and ``pack`` (the select signals of its network come from a prefix sum of the
    presence mask), are the long paths of the ``plane`` encoder (``make timing``); the third
    stage registers the output. The longest path of the ``significance`` encoder runs through ``base``,
    ``precision`` and ``widths`` in series.

    The ``vlc`` policy has stages of its own (:mod:`facet.rtl.vlc.codec`,
    ``fields -> base -> classes -> histogram -> depth -> precision -> widths -> codewords ->
    pack``) and its own register positions, in this order: after ``depth``, after
    ``histogram`` and after ``precision`` (:data:`~facet.rtl.vlc.codec.ENCODER_CUTS`). So
    has ``window`` (:mod:`facet.rtl.window.codec`, ``fields -> base -> classes -> histogram
    -> offset -> codes -> list_ranks -> pack``; registers after ``histogram``, after
    ``offset``, after ``classes`` and after ``list_ranks``,
    :data:`~facet.rtl.window.codec.ENCODER_CUTS`, except that two and three stages take
    others, :data:`~facet.rtl.window.codec.ENCODER_STAGE_CUTS`). Their datapaths stand in
    :attr:`POLICY_BUILD`.

    ``stages=0`` is purely combinational: ``o.valid = i.valid``, ``i.ready = o.ready``. The
    latency is ``stages`` cycles and the throughput one block per clock; see
    :class:`~facet.rtl.pipeline.Pipeline` for the handshake.

    Area, logic depth and Fmax: ``make synth`` and ``make timing`` (README, Hardware).

    Members
    -------
    i : ``In(stream.Signature(data.ArrayLayout(unsigned(W), N)))``
        Blocks of raw values, value ``i`` in element ``i`` (bits ``[i*W, (i+1)*W)``).
    o : ``Out(stream.Signature(unsigned(B)))``
        Packed blocks, stream bit ``j`` on bit ``j``.

    """

    #: Register positions, in the order ``stages`` takes them.
    CUTS = ("mask", "base", "output")
    POLICY_CUTS = {"vlc": VLC_CUTS, "window": WINDOW_CUTS}
    POLICY_BUILD = {"vlc": build_vlc, "window": build_window}
    POLICY_STAGE_CUTS = {"window": WINDOW_STAGE_CUTS}

    def ports(self, cfg):
        return {
            "i": In(stream.Signature(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n))),
            "o": Out(stream.Signature(unsigned(cfg.budget))),
        }

    def build(self, m, pipe, cuts):
        cfg = self._cfg

        m.submodules.fields = fields = Fields(cfg)
        m.submodules.base = base = Base(cfg)
        m.submodules.deltas = deltas = Deltas(cfg)
        m.submodules.planes = planes = Planes(cfg)
        m.submodules.mask = mask = Mask(cfg)
        m.submodules.pack = pack = Pack(cfg)

        drive(m, fields, i=self.i.payload)
        drive(m, base, exp=fields.exp)
        sign, exp, man, b = fields.sign, fields.exp, fields.man, base.base
        if "base" in cuts:
            sign, exp, man, b = pipe.register(sign, exp, man, b)
        drive(m, deltas, exp=exp, man=man, base=b)
        drive(m, planes, sign=sign, delta=deltas.delta, zero=deltas.zero, man=deltas.man_out)
        drive(m, mask, words=planes.words)
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
        drive(m, pack, base=b, present=present, words=words)
        out = pack.o
        if sig:
            m.submodules.precision = precision = Precision(cfg)
            m.submodules.widths = widths = Widths(cfg)
            m.submodules.pack_mantissa = pack_mantissa = PackMantissa(cfg)
            drive(m, precision, delta=delta, zero=zero, present=present)
            drive(m, pack, policy=precision.p)
            drive(m, widths, p=precision.p, delta=delta, zero=zero, present=present)
            drive(m, pack_mantissa, man=man_out, k=widths.k, sigma=widths.sigma)
            # The two regions never overlap (docs/format.md section 8).
            out = pack.o | pack_mantissa.o
        if "output" in cuts:
            out, = pipe.register(out)
        return out
