"""Stage ``widths`` (``significance`` policy): mantissa bits kept per value and their offsets."""

from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage
from .precision import mantissa_room
from .prefix import csa_sum, prefix_sums

__all__ = ["width_bits", "offset_bits", "Widths"]


def width_bits(cfg):
    """Bits of a width k_i, which holds 0 .. M."""
    return cfg.fmt.man_bits.bit_length()


def offset_bits(cfg):
    """Bits of an offset sigma_i, which holds 0 .. N*M."""
    return (cfg.n * cfg.fmt.man_bits).bit_length()


#: Default form of the prefix sums of :class:`Widths`.
PREFIX = "brent-kung"


class Widths(Stage):
    """Mantissa widths ``k_i`` and region offsets ``sigma_i`` (golden model: ``widths``).

    With ``P' = min(P, M + 2**K - 1)``: ``k_i = clamp(P' - d_i, 0, M)`` (0 for zero-marked
    values), plus one bit for each of the first ``L = max(R - sum_i k_i, 0)`` values, in element
    order, that would gain a bit at ``P' + 1`` (not zero-marked, ``0 <= P' - d_i < M``).
    ``sigma_i = k_0 + ... + k_(i-1)``. The decoder runs the same logic with P from the header,
    so every P the header field can carry is handled.

    Structure: per value, a (K+1)-bit subtraction ``P' - d_i`` gives the base width
    ``b_i = k_i(P')`` and the gain bit ``g_i``; a carry-save tree sums the base widths for L.
    The leftover bits go to the first L gain values, so value i gets its extra bit when
    ``G_i < L`` (``G_i = g_0 + ... + g_(i-1)``), and the extra bits before value i number
    ``min(G_i, L)``: ``sigma_i = B_i + min(G_i, L)`` with ``B_i = b_0 + ... + b_(i-1)``. The two
    prefix sums B and G do not depend on L, so they are built beside the sum and L instead of
    after it, each as a log-depth tree; only a compare, a mux and one add per value follow L.

    prefix : str or int
        Form of the prefix sums B and G: ``"sklansky"`` or ``"brent-kung"`` (log-depth
        trees), or a group size (``0``: chains, the least area; see
        :func:`facet.rtl.prefix.prefix_sums`).

    Members
    -------
    p : ``In(F)``
        The precision P (any value of the header field).
    delta : ``In(data.ArrayLayout(K, N))``
        Exponent deltas.
    zero : ``In(data.ArrayLayout(1, N))``
        Zero marks.
    present : ``In(K + 2)``
        Presence bits of the zero, delta and sign planes.
    k : ``Out(data.ArrayLayout(bitlength(M), N))``
        Mantissa bits kept per value.
    sigma : ``Out(data.ArrayLayout(bitlength(N*M), N))``
        Exclusive prefix sums of ``k``.
    """

    POLICY = "significance"

    def __init__(self, cfg, *, prefix=PREFIX):
        self._prefix = prefix
        super().__init__(cfg)

    def ports(self, cfg):
        n, k = cfg.n, cfg.k
        return {
            "p": In(cfg.policy_bits),
            "delta": In(data.ArrayLayout(k, n)),
            "zero": In(data.ArrayLayout(1, n)),
            "present": In(cfg.mask_bits),
            "k": Out(data.ArrayLayout(width_bits(cfg), n)),
            "sigma": Out(data.ArrayLayout(offset_bits(cfg), n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, kb, mb, pmax = cfg.n, cfg.k, cfg.fmt.man_bits, cfg.max_precision
        wb = width_bits(cfg)

        pc = Signal(range(pmax + 1))
        if (1 << cfg.policy_bits) - 1 > pmax:
            m.d.comb += pc.eq(Mux(self.p > pmax, pmax, self.p))
        else:
            m.d.comb += pc.eq(self.p)

        base, gain = [], []
        for i in range(n):
            diff = Signal(signed(len(pc) + 1), name=f"diff{i}")
            k0 = Signal(wb, name=f"k0_{i}")
            g = Signal(name=f"gain{i}")
            nz = ~self.zero[i]
            neg = diff < 0
            m.d.comb += [
                diff.eq(pc - self.delta[i]),
                k0.eq(Mux(~nz | neg, 0, Mux(diff >= mb, mb, diff[:wb]))),
                g.eq(nz & ~neg & (diff < mb)),
            ]
            base.append(k0)
            gain.append(g)

        total = csa_sum(m, base, (n * mb).bit_length(), name="total")
        room, _ = mantissa_room(m, self.present, cfg)
        left = Signal(range(n + 1))  # min(max(R - total, 0), N): more than N never matters
        over = Signal(signed(max(len(room), len(total)) + 1))
        m.d.comb += [
            over.eq(room - total),
            left.eq(Mux(over < 0, 0, Mux(over >= n, n, over))),
        ]

        pf = self._prefix
        form = dict(block=pf) if isinstance(pf, int) else dict(tree=pf)
        gcount = prefix_sums(m, gain, lambda i: i, name="gcount", **form)
        bsum = prefix_sums(m, base, lambda i: i * mb, name="bsum", **form)
        for i in range(n):
            ext = Signal(name=f"extra{i}")
            got = Signal(range(i + 2), name=f"got{i}")  # extra bits before value i (<= i)
            m.d.comb += [
                ext.eq(gcount[i] < left),
                got.eq(Mux(ext, gcount[i], left)),
                self.k[i].eq(base[i] + (gain[i] & ext)),
                self.sigma[i].eq(bsum[i] + got),
            ]
        return m
