"""Stage ``unpack_mantissa`` (``significance`` policy): read the mantissas back from a block."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage
from .pack_mantissa import RegionNetwork, region_bits
from .widths import offset_bits, width_bits

__all__ = ["UnpackMantissa"]


class UnpackMantissa(Stage):
    """Kept mantissa bits and first cut bits (golden model: ``unpack_mantissa``).

    Value i's t-th leading mantissa bit, for ``t < k_i``, is stream bit
    ``B - 1 - (sigma_i + t)``, read as 0 when ``sigma_i + t >= R`` (only blocks no encoder
    produces have such bits); the other mantissa bits are 0. ``fill`` has mantissa bit
    ``M - 1 - k_i`` set when ``k_i < M``.

    Structure: the network of :class:`~facet.rtl.pack_mantissa.RegionNetwork` backwards.
    Region bits at or past the shortest possible R are first ANDed with ``q < R`` (the
    present-plane count against a constant); then ``bitlength(N-1)`` slot-level stages of 2:1
    muxes, MSB first, whose select at slot m is bit j of ``T_m`` (the gather ``spread slot m =
    region slot m - T_m``; a region slot shared by several values is copied to each); then one
    ``(M + S - 1)``-to-M bit shifter per value by ``(sigma_i - 1) mod S``, and one AND per bit
    that keeps ``t < k_i``. ``fill`` is the one-hot edge of the same ``t < k_i`` thermometer.

    Members
    -------
    i : ``In(C)``
        The top of a packed block, stream bits ``[B - C, B)``, where ``C = min(N*M, B - H)``
        (:func:`~facet.rtl.pack_mantissa.region_bits`): all the mantissa region can cover.
    k : ``In(data.ArrayLayout(bitlength(M), N))``
        Kept bits per value, as :class:`Widths` gives them.
    sigma : ``In(data.ArrayLayout(bitlength(N*M), N))``
        Offsets, as :class:`Widths` gives them.
    present : ``In(K + 2)``
        Presence bits of the zero, delta and sign planes (from the header).
    man : ``Out(data.ArrayLayout(M, N))``
        Mantissas with only the kept bits.
    fill : ``Out(data.ArrayLayout(M, N))``
        First cut bit per value, as a mask (0 when ``k_i = M``).
    """

    POLICY = "significance"

    def ports(self, cfg):
        n, mb = cfg.n, cfg.fmt.man_bits
        return {
            "i": In(region_bits(cfg)),
            "k": In(data.ArrayLayout(width_bits(cfg), n)),
            "sigma": In(data.ArrayLayout(offset_bits(cfg), n)),
            "present": In(cfg.mask_bits),
            "man": Out(data.ArrayLayout(mb, n)),
            "fill": Out(data.ArrayLayout(mb, n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, b = cfg.n, cfg.fmt.man_bits, cfg.budget
        top = b - cfg.header_bits
        cap = region_bits(cfg)
        net = RegionNetwork(m, cfg, self.sigma)

        # Region bit q (stream bit B-1-q) reads as 0 unless q < R, i.e. unless
        # present planes <= (B - H - q - 1) // N.
        pc = Signal(range(cfg.mask_bits + 1))
        m.d.comb += pc.eq(sum(self.present[j] for j in range(cfg.mask_bits)))
        le = {}
        region = []
        for q in range(cap):
            lim = (top - q - 1) // n
            bit = self.i[cap - 1 - q]
            if lim < cfg.mask_bits:
                if lim not in le:
                    le[lim] = Signal(name=f"room_gt{q}")
                    m.d.comb += le[lim].eq(pc <= lim)
                bit = bit & le[lim]
            region.append(bit)
        got = net.gather(net.expand(Cat(*region, Const(0, net.width - cap))))

        for i in range(n):
            k = self.k[i]
            keep = [Const(1, 1)] + [k > t for t in range(mb)]  # keep[t + 1] = t < k_i
            m.d.comb += [
                # mantissa bit M-1-t is the t-th kept bit
                self.man[i].eq(Cat(*[got[i][t] & keep[t + 1] for t in reversed(range(mb))])),
                self.fill[i].eq(Cat(*[keep[t] & ~keep[t + 1] for t in reversed(range(mb))])),
            ]
        return m
