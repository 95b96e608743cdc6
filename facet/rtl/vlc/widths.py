"""Stage ``widths`` (`vlc` policy, encoder and decoder): mantissa bits kept per value."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS
from ...vlc_code import DEPTHS
from .._common import Stage, any_bits
from ..prefix import prefix_sums
from .classes import class_layout
from .precision import left_shape, precision_shape

__all__ = ["width_bits", "Widths"]


def width_bits(cfg):
    """Bits of a width k_i, 0 .. M."""
    return cfg.fmt.man_bits.bit_length()


class Widths(Stage):
    """Mantissa bits k_i of each value (golden model: :func:`facet.vlc.widths`).

    Per value: the kept test ``t_i <= D`` (a class below 16), one signed subtraction
    ``P - t_i`` clamped to 0 .. M, and the gain flag (kept, ``0 <= P - t_i < M``). The first
    L values with a gain flag keep one bit more: a Sklansky prefix count of the gain flags
    (:func:`facet.rtl.prefix.prefix_sums`) and a compare with ``min(L, N)`` per value.

    Members
    -------
    cls : ``In(data.ArrayLayout(5, N))``
        Class codes.
    d : ``In(4)``, p : ``In(precision_shape(cfg))``, left : ``In(left_shape(cfg))``
        D, P and L.
    k : ``Out(data.ArrayLayout(bitlength(M), N))``
        Mantissa bits kept per value.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)), "d": In(VLC_DEPTH_BITS),
                "p": In(precision_shape(cfg)), "left": In(left_shape(cfg)),
                "k": Out(data.ArrayLayout(width_bits(cfg), cfg.n))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, wb = cfg.n, cfg.fmt.man_bits, width_bits(cfg)
        db = (DEPTHS - 1).bit_length()
        budget = Signal(range(n + 1), name="room")
        lw = self.left.shape().width
        m.d.comb += budget.eq(Mux(self.left[lw - 1], 0,
                                  Mux(self.left >= n, n, self.left[:len(budget)])))
        base, gains = [], []
        for i in range(n):
            cls = self.cls[i]
            kept = ~cls[db] & (cls[:db] <= self.d)
            diff = Signal(signed(len(self.p) + 1), name=f"diff{i}")
            m.d.comb += diff.eq(self.p - cls[:db])
            neg = diff[-1]
            k0 = Signal(wb, name=f"k0_{i}")
            m.d.comb += k0.eq(Mux(~kept | neg, 0, Mux(diff >= mb, mb, diff[:wb])))
            gain = Signal(name=f"gain{i}")
            m.d.comb += gain.eq(kept & ~neg & (diff < mb))
            base.append(k0)
            gains.append(gain)
        # A value takes a bit when fewer than L values before it did: a Sklansky tree of
        # prefix counts, log2(N) levels of small adders where groups of 4 with a chain over
        # the groups took N/4 + 3.
        before = prefix_sums(m, gains, lambda i: i, tree="sklansky", name="before")
        for i in range(n):
            extra = gains[i] & (before[i] < budget) if i else gains[i] & any_bits(budget)
            m.d.comb += self.k[i].eq(base[i] + extra)
        return m
