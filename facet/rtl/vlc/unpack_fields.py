"""Stage ``unpack_fields`` of the `vlc` decoder: signs and kept mantissa bits."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from .._common import Stage
from ..pack_mantissa import RegionNetwork
from ..prefix import prefix_sums
from ..widths import width_bits

__all__ = ["UnpackFields", "field_region_bits"]


def field_region_bits(cfg):
    """Top bits of the block the value fields can reach: ``min(N * (M + 1), B)``."""
    return min(cfg.n * (cfg.fmt.man_bits + 1), cfg.budget)


class UnpackFields(Stage):
    """Each signed value's sign and kept mantissa bits (golden model:
    :func:`facet.vlc.unpack_fields`).

    Value i's field (sign, then its k_i kept bits, first bit first) starts ``sigma_i`` bits
    below the top of the block, ``sigma_i`` the sum of the field widths ``1 + k_j`` of the
    signed values before it; bits below stream bit 0 read as 0.

    Structure: a prefix sum of the widths (blocked in groups of 4, as in the encoder's
    ``pack``; a chain would be the longest path after the decoder's ``precision`` register),
    then the element-major region network of ``significance``'s mantissa region
    (:class:`~facet.rtl.pack_mantissa.RegionNetwork`) backwards, on fields of M + 1 bits: a
    slot-level expanding log shifter shared by all values and one small shifter per value.
    One AND per bit keeps the sign of a signed value and the kept bits ``t < k_i``.

    Members
    -------
    i : ``In(C)``
        The top of the block, stream bits ``[B - C, B)``, ``C = min(N * (M + 1), B)``.
    signed : ``In(N)``
        Values with a field (kept values and specials).
    k : ``In(data.ArrayLayout(bitlength(M), N))``
        Kept mantissa bits per value.
    sign : ``Out(N)``
        Signs (0 for values without a field).
    man : ``Out(data.ArrayLayout(M, N))``
        Mantissas: the kept bits in place from the MSB down, the cut bits 0.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        n, mb = cfg.n, cfg.fmt.man_bits
        return {
            "i": In(field_region_bits(cfg)),
            "signed": In(n),
            "k": In(data.ArrayLayout(width_bits(cfg), n)),
            "sign": Out(n),
            "man": Out(data.ArrayLayout(mb, n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        n, mb = cfg.n, cfg.fmt.man_bits
        cap = field_region_bits(cfg)
        width = []
        for i in range(n):
            w = Signal(width_bits(cfg) + 1, name=f"width{i}")
            m.d.comb += w.eq((self.k[i] + 1) & self.signed[i].replicate(len(w)))
            width.append(w)
        sbits = (n * (mb + 1)).bit_length()
        sigma = [Signal(sbits, name=f"sigma{i}") for i in range(n)]
        m.d.comb += [s.eq(v) for s, v in zip(sigma, prefix_sums(
            m, width[:-1], lambda i: i * (mb + 1), block=4, name="sum"))]
        net = RegionNetwork(m, cfg, sigma, bits=mb + 1)
        # Region bit q is stream bit B - 1 - q.
        region = Cat(*[self.i[cap - 1 - q] for q in range(cap)], Const(0, net.width - cap))
        got = net.gather(net.expand(region))
        for i in range(n):
            k = self.k[i]
            m.d.comb += [
                self.sign[i].eq(got[i][0] & self.signed[i]),
                # mantissa bit M-1-t is the field's bit 1 + t
                self.man[i].eq(Cat(*[got[i][1 + t] & (k > t) for t in reversed(range(mb))])),
            ]
        return m
