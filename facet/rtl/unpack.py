"""Stage ``unpack``: route the slots after the header back to their planes."""

from amaranth.hdl import Cat, Const, Module, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage, drive, equals_const
from .network import compaction_control, expand, num_stages
from .pack import slot_widths

__all__ = ["Unpack", "UnpackControl", "control_layout"]


def control_layout(cfg):
    """What :class:`UnpackControl` gives :class:`Unpack`: the select signals of the network
    (stage ``k`` has one per position ``p < P - 2**k``, stage 0 first) and the two fill masks."""
    p = cfg.mask_bits
    nsel = sum(p - (1 << k) for k in range(num_stages(p)))
    return data.StructLayout({"sels": unsigned(nsel), "hi": unsigned(cfg.fmt.man_bits),
                              "lo": unsigned(cfg.fmt.man_bits)})


class UnpackControl(Stage):
    """The part of :class:`Unpack` that reads only the presence mask: the select signals of
    the network and the two fill masks (see :class:`Unpack`).

    It is a component of its own so that the decoder can put a register stage between it and
    the data network: the mask is in the header, so the control runs while the block is still
    before the register, and after it only the multiplexers remain.

    Members
    -------
    present : ``In(cfg.mask_bits)``
        Presence mask, as :class:`Header` gives it.
    o : ``Out(control_layout(cfg))``
        Select signals and fill masks, for :class:`Unpack`'s ``control``.
    """

    def ports(self, cfg):
        return {"present": In(cfg.mask_bits), "o": Out(control_layout(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        p, mb = cfg.mask_bits, cfg.fmt.man_bits
        sels, _, z = compaction_control(m, self.present, p)
        m.d.comb += self.o.sels.eq(Cat(*(s for sel_k in sels for s in sel_k)))
        for rank, mask in ((cfg.full_slots, self.o.hi), (cfg.full_slots + 1, self.o.lo)):
            bits = []
            for b in range(mb):
                j = cfg.k + mb + 1 - b  # the plane of mantissa bit b
                if j < rank or j >= p:  # rank_j <= j; no such plane here
                    bits.append(Const(0, 1))
                else:
                    bits.append(self.present[j] & equals_const(z[j], j - rank))
            m.d.comb += mask.eq(Cat(bits))
        return m


class Unpack(Stage):
    """Plane words and first-cut-bit masks of a packed block (golden model: ``unpack``).

    Plane ``j`` is slot ``rank_j`` if present, else 0; bits past B read as 0. The slots go
    through the compaction network of :mod:`facet.rtl.network` backwards (an expanding
    log-shifter, MSB stage first), then plane ``j`` is ANDed with ``present_j``.

    The first cut bit of element ``i`` is in the present plane of rank ``full_slots`` when
    ``i >= partial_elems``, else of rank ``full_slots + 1``; the fit rule puts both past the
    non-mantissa planes. So there are only two distinct fill masks per block, ``hi`` and
    ``lo``: one-hot (or zero) M-bit vectors, bit ``K+M+1-j`` set for the present plane ``j``
    whose count of absent planes before it is ``j - full_slots`` (resp. ``j - full_slots - 1``).

    The expanding log-shifter synthesizes smaller than per-plane one-hot AND-OR selection
    (``rank_j == s``) and than per-plane mux trees indexed by ``rank_j``.

    The planes unpacked are the ``cfg.mask_bits`` first ones: all P for the ``plane`` policy,
    the zero, delta and sign planes for ``significance`` (then ``fill`` is 0, as in the model).

    The select signals and the fill masks depend on the presence mask only; they come from
    :class:`UnpackControl`, a submodule, or with ``control=True`` from the ``control`` input
    (the decoder registers them there).

    Members
    -------
    i : ``In(W)``
        The plane slots of a packed block: stream bits ``[H, H + W)``, ``W`` the sum of
        :func:`~facet.rtl.pack.slot_widths` over the first ``cfg.mask_bits`` slots.
    present : ``In(cfg.mask_bits)``
        Presence mask, as :class:`Header` gives it.
    words : ``Out(data.ArrayLayout(N, cfg.mask_bits))``
        Plane words in stream order.
    fill : ``Out(data.ArrayLayout(M, N))``
        Per element, its first cut mantissa bit as a mask (or 0).
    control : ``In(control_layout(cfg))``
        Only with ``control=True``: :class:`UnpackControl`'s output for ``present``.
    """

    def __init__(self, cfg, control=False):
        self._external = control
        super().__init__(cfg)

    def ports(self, cfg):
        members = {
            "i": In(sum(slot_widths(cfg)[:cfg.mask_bits])),
            "present": In(cfg.mask_bits),
            "words": Out(data.ArrayLayout(cfg.n, cfg.mask_bits)),
            "fill": Out(data.ArrayLayout(cfg.fmt.man_bits, cfg.n)),
        }
        if self._external:
            members["control"] = In(control_layout(cfg))
        return members

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, p = cfg.n, cfg.mask_bits
        if self._external:
            ctl = self.control
        else:
            m.submodules.control = control = UnpackControl(cfg)
            drive(m, control, present=self.present)
            ctl = control.o
        sels, at = [], 0
        for k in range(num_stages(p)):
            sels.append([ctl.sels[at + q] for q in range(p - (1 << k))])
            at += p - (1 << k)

        # Slots past the P-th can hold no plane.
        slots = [self.i[s * n:s * n + w] for s, w in enumerate(slot_widths(cfg)[:p])]
        routed = expand(m, sels, slots, p)
        for j, v in enumerate(routed):
            if v is None:
                m.d.comb += self.words[j].eq(0)
            else:
                m.d.comb += self.words[j].eq(v & self.present[j].replicate(len(v)))
        for i in range(n):
            m.d.comb += self.fill[i].eq(ctl.hi if i >= cfg.partial_elems else ctl.lo)
        return m

