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


class Widths(Stage):
    """Mantissa widths ``k_i`` and region offsets ``sigma_i`` (golden model: ``widths``).

    With ``P' = min(P, M + 2**K - 1)``: ``k_i = clamp(P' - d_i, 0, M)`` (0 for zero-marked
    values), plus one bit for each of the first ``L = max(R - sum_i k_i, 0)`` values, in element
    order, that would gain a bit at ``P' + 1`` (not zero-marked, ``0 <= P' - d_i < M``).
    ``sigma_i = k_0 + ... + k_(i-1)``. The decoder runs the same logic with P from the header,
    so every P the header field can carry is handled.

    Structure: per value, a (K+1)-bit subtraction ``P' - d_i`` gives the base width and the
    gain bit; a carry-save tree sums the base widths; a chain of incrementers counts the gains
    before each value (``G_i``), and the value gets its extra bit when ``G_i < L``; a chain of
    adders gives the offsets.
    block : int
        Group size of the prefix chains (0: plain chains, the smallest; see
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

    def __init__(self, cfg, *, block=0, extra=0):
        self._block, self._extra = block, extra
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

        ks = []
        if self._extra == 0:
            before = prefix_sums(m, gain, lambda i: i, block=self._block, name="gcount")
            extra = [gain[i] & (before[i] < left) for i in range(n)]
        else:
            # Budget chain: the leftover bits, handed out one per gain value in order.
            budget = left
            extra = []
            for i in range(n):
                e = Signal(name=f"extra{i}")
                m.d.comb += e.eq(gain[i] & budget.any())
                extra.append(e)
                if i + 1 < n:
                    nb = Signal(len(budget), name=f"budget{i + 1}")
                    m.d.comb += nb.eq(budget - e)
                    budget = nb
        for i in range(n):
            kk = Signal(wb, name=f"k{i}")
            m.d.comb += kk.eq(base[i] + extra[i])
            ks.append(kk)
            m.d.comb += self.k[i].eq(kk)
        sig = prefix_sums(m, ks, lambda i: i * mb, block=self._block, name="sigma")
        for i in range(n):
            m.d.comb += self.sigma[i].eq(sig[i])
        return m
