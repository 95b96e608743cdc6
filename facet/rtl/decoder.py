"""FACET decoder: one B-bit packed block in, a block of N raw values out, one per clock."""

from amaranth.hdl import Cat, Signal, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ._common import drive
from .header import Header
from .pipeline import Codec
from .reconstruct import Reconstruct
from .unpack import Unpack, UnpackControl
from .widths import Widths
from .unpack_mantissa import UnpackMantissa
from .vlc.codec import DECODER_CUTS as VLC_CUTS, build_decoder as build_vlc
from .window.codec import DECODER_CUTS as WINDOW_CUTS, build_decoder as build_window

__all__ = ["FacetDecoder"]


class FacetDecoder(Codec):
    """FACET block decoder. Every B-bit word decodes to defined values.

    The stages of the golden model, ``header -> unpack -> reconstruct``, one submodule each
    (the ``significance`` policy adds ``widths -> unpack_mantissa`` after ``unpack``),
    with ``stages`` register stages, used in this order:

    1. at the output (N*W bits), so ``o.payload`` and ``o.valid`` come from flops and
       ``o.ready`` only reaches the stage enables;
    2. after the control of ``unpack`` (:class:`~facet.rtl.unpack.UnpackControl`: the select
       signals of its network and the two fill masks, which read only the header's presence
       mask): the block and that control are registered, so the control runs before the
       register and after it only the network's multiplexers and ``reconstruct`` remain;
    3. after ``unpack`` (base, P plane words and the two distinct M-bit fill masks).

    The ``vlc`` policy has stages of its own (:mod:`facet.rtl.vlc.codec`,
    ``header -> unpack_classes -> histogram -> cost -> precision -> widths -> unpack_fields ->
    reconstruct``) and its own register positions, in this order: the output, after
    ``precision`` and after ``histogram`` (:data:`~facet.rtl.vlc.codec.DECODER_CUTS`). So has
    ``window`` (:mod:`facet.rtl.window.codec`, ``header -> unpack_codes -> precision ->
    unpack_planes -> reconstruct``, ``list_ranks`` beside ``precision``; the output, after
    ``precision`` and after ``unpack_planes``, :data:`~facet.rtl.window.codec.DECODER_CUTS`).
    Their datapaths stand in :attr:`POLICY_BUILD`.

    ``stages=0`` is purely combinational: ``o.valid = i.valid``, ``i.ready = o.ready``. The
    latency is ``stages`` cycles and the throughput one block per clock; see
    :class:`~facet.rtl.pipeline.Pipeline` for the handshake.

    Area, logic depth and Fmax: ``make synth`` and ``make timing`` (README, Hardware). In the
    ``plane`` decoder at bf16, N = 32 on OSU 0.18 um, the control of ``unpack`` (a prefix sum
    of the presence mask, then the select signals) takes about 3.0 ns, and the network's
    multiplexers and ``reconstruct`` after it about 2.9 ns together, so two stages pass
    300 MHz; without the control cut, ``unpack`` alone takes about 4.5 ns.

    Members
    -------
    i : ``In(stream.Signature(unsigned(B)))``
        Packed blocks, stream bit ``j`` on bit ``j``.
    o : ``Out(stream.Signature(data.ArrayLayout(unsigned(W), N)))``
        Blocks of raw values, value ``i`` in element ``i`` (bits ``[i*W, (i+1)*W)``).

    """

    #: Register positions, in the order ``stages`` takes them.
    CUTS = ("output", "control", "unpack")
    POLICY_CUTS = {"vlc": VLC_CUTS, "window": WINDOW_CUTS}
    POLICY_BUILD = {"vlc": build_vlc, "window": build_window}

    def ports(self, cfg):
        return {
            "i": In(stream.Signature(unsigned(cfg.budget))),
            "o": Out(stream.Signature(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n))),
        }

    def build(self, m, pipe, cuts):
        cfg = self._cfg

        m.submodules.header = header = Header(cfg)
        m.submodules.control = control = UnpackControl(cfg)
        m.submodules.unpack = unpack = Unpack(cfg, control=True)
        m.submodules.reconstruct = reconstruct = Reconstruct(cfg)

        blk, ctl = self.i.payload, control.o
        if "control" in cuts:
            # The control reads the header of the block before the register.
            m.submodules.header_in = header_in = Header(cfg)
            drive(m, header_in, i=blk)
            drive(m, control, present=header_in.present)
            blk, ctl = pipe.register(blk, ctl)
        else:
            drive(m, control, present=header.present)
        drive(m, header, i=blk)
        drive(m, unpack, i=blk[cfg.header_bits:cfg.header_bits + len(unpack.i)],
              present=header.present, control=ctl)
        b, words, fill = header.base, unpack.words, unpack.fill
        if cfg.policy == "significance":
            words, fill = self._significance(m, blk, header, unpack)
            if "unpack" in cuts:
                b, words, fill = pipe.register(b, words, fill)
        elif "unpack" in cuts:
            # Elements i >= partial_elems share one fill mask and the others another: register
            # one copy of each.
            r = cfg.partial_elems
            if r:
                b, words, hi, lo = pipe.register(b, words, fill[cfg.n - 1], fill[0])
            else:
                b, words, hi = pipe.register(b, words, fill[cfg.n - 1])
            fill = Signal.like(unpack.fill, name="fill")
            for i in range(cfg.n):
                m.d.comb += fill[i].eq(hi if i >= r else lo)
        drive(m, reconstruct, base=b, words=words, fill=fill)
        out = reconstruct.o
        if "output" in cuts:
            out, = pipe.register(out)
        return out

    def _significance(self, m, blk, header, unpack):
        """Mantissa widths from P and the deltas, then the mantissa region, as planes."""
        cfg = self._cfg
        n, k, mb = cfg.n, cfg.k, cfg.fmt.man_bits
        m.submodules.widths = widths = Widths(cfg)
        m.submodules.unpack_mantissa = unpack_mantissa = UnpackMantissa(cfg)
        p_at = cfg.fmt.exp_bits + cfg.mask_bits
        planes = unpack.words
        for i in range(n):
            m.d.comb += [
                widths.zero[i].eq(planes[0][i]),
                widths.delta[i].eq(Cat(*(planes[k - t][i] for t in range(k)))),
            ]
        drive(m, widths, p=blk[p_at:p_at + cfg.policy_bits], present=header.present)
        drive(m, unpack_mantissa, i=blk[cfg.budget - len(unpack_mantissa.i):], k=widths.k,
              sigma=widths.sigma, present=header.present)
        words = Signal(data.ArrayLayout(n, cfg.num_planes), name="words")
        m.d.comb += words.as_value()[:n * cfg.mask_bits].eq(planes.as_value())
        for t in range(mb):  # mantissa plane t holds mantissa bit M-1-t
            m.d.comb += words[cfg.first_mantissa_plane + t].eq(
                Cat(*(unpack_mantissa.man[i][mb - 1 - t] for i in range(n))))
        return words, unpack_mantissa.fill
