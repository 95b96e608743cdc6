"""Stage ``pack``: header plus the present planes in stream order, cut at B bits."""

from amaranth.hdl import Cat, Const, Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._common import Stage, check_config
from .network import compact, compaction_control

__all__ = ["slot_widths", "Pack"]


def slot_widths(cfg):
    """Surviving bits of every slot: N for the ``full_slots``, then ``partial_elems`` if any."""
    check_config(cfg)
    return [cfg.n] * cfg.full_slots + ([cfg.partial_elems] if cfg.partial_elems else [])


class Pack(Stage):
    """Concatenate the header and the present planes, cut at B bits (golden model: ``pack``).

    The header (base, presence mask, and a zero-width policy field for ``plane``) is wiring.
    The planes go through the compaction network of :mod:`facet.rtl.network`: a log-shifter
    moving every present plane down by its count of absent planes before it, LSB stage first,
    pruned to the ``cfg.slots`` slots that survive the cut (the last one ``partial_elems``
    bits), then one AND per surviving bit to clear slots past the last present plane.

    The log-shifter synthesizes smaller than per-slot one-hot AND-OR selection
    (``present_j & rank_j == s``) and than per-slot mux trees indexed by the slot's count of
    absent planes before it. A variant without valid tags and final ANDs, where P virtual
    all-zero planes above the top shift zeros into the vacated slots, was no smaller.

    The planes packed are the ``cfg.mask_bits`` first ones: all P for the ``plane`` policy, the
    zero, delta and sign planes for ``significance`` (whose mantissa region is packed by its own
    stage, as in the golden model).

    Members
    -------
    base : ``In(E)``
        The block base.
    present : ``In(cfg.mask_bits)``
        Presence mask, bit ``j`` for plane ``j``.
    words : ``In(data.ArrayLayout(N, cfg.mask_bits))``
        Plane words in stream order; absent planes must be zero (as :class:`Mask` defines them).
    policy : ``In(cfg.policy_bits)``
        The header's policy field; only when ``cfg.policy_bits`` is not 0.
    o : ``Out(B)``
        The packed block, stream bit ``j`` on bit ``j``.
    """

    def ports(self, cfg):
        members = {
            "base": In(cfg.fmt.exp_bits),
            "present": In(cfg.mask_bits),
            "words": In(data.ArrayLayout(cfg.n, cfg.mask_bits)),
            "o": Out(cfg.budget),
        }
        if cfg.policy_bits:
            members["policy"] = In(cfg.policy_bits)
        return members

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        p = cfg.mask_bits
        widths = slot_widths(cfg)
        sels, valid, _ = compaction_control(m, self.present, p)
        # Slots past the P-th can hold no plane: they stay zero.
        slots = compact(m, sels, [self.words[j] for j in range(p)], widths[:p])
        slots = [v & valid[s].replicate(len(v)) for s, v in enumerate(slots)]
        slots += [Const(0, w) for w in widths[p:]]
        policy = self.policy if cfg.policy_bits else Const(0, 0)
        m.d.comb += self.o.eq(Cat(self.base, self.present, policy, *slots))
        return m
