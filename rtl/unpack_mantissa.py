"""Stage ``unpack_mantissa`` (``significance`` policy): read the mantissas back from a block."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .pack_mantissa import RegionNetwork, region_bits
from .precision import _check_significance
from .widths import offset_bits, width_bits

__all__ = ["UnpackMantissa"]


class UnpackMantissa(wiring.Component):
    """Kept mantissa bits and first cut bits (golden model: ``unpack_mantissa``).

    Value i's t-th leading mantissa bit, for ``t < k_i``, is stream bit ``B - 1 - (sigma_i + t)``,
    read as 0 when ``sigma_i + t >= R`` (only blocks no encoder produces have such bits); the
    other mantissa bits are 0. ``fill`` has mantissa bit ``M - 1 - k_i`` set when ``k_i < M``.

    Structure: the network of :class:`~facet.rtl.pack_mantissa.RegionNetwork` run backwards
    (coarse slot-level stages MSB first, then the fine bit-level stages), 2:1 multiplexers
    whose selects are the encoder's: a bit that moved down at a stage is fetched from below.
    Merged slots are simply copied to every slot that fed them. Then one AND per bit keeps
    ``t < k_i``. Region bits at or past the shortest possible R are ANDed with ``q < R``, a
    comparison of the present-plane count with a constant.

    Parameters
    ----------
    cfg : :class:`facet.config.Config`
        Compressor configuration (policy ``significance``).

    Members
    -------
    i : ``In(B)``
        The packed block, stream bit ``j`` on bit ``j``.
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

    def __init__(self, cfg):
        self._cfg = _check_significance(cfg)
        n, mb = cfg.n, cfg.fmt.man_bits
        super().__init__({
            "i": In(cfg.budget),
            "k": In(data.ArrayLayout(width_bits(cfg), n)),
            "sigma": In(data.ArrayLayout(offset_bits(cfg), n)),
            "present": In(cfg.mask_bits),
            "man": Out(data.ArrayLayout(mb, n)),
            "fill": Out(data.ArrayLayout(mb, n)),
        })

    @property
    def cfg(self):
        return self._cfg

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, b = cfg.n, cfg.fmt.man_bits, cfg.budget
        top = b - cfg.header_bits
        cap = region_bits(cfg)
        net = RegionNetwork(m, cfg, self.sigma)

        # Region bits, with q >= R read as 0: q < R  <=>  present planes <= (top - q - 1) // N.
        pc = Signal(range(cfg.mask_bits + 1))
        m.d.comb += pc.eq(sum(self.present[j] for j in range(cfg.mask_bits)))
        le = {}
        region = []
        for q in range(cap):
            lim = (top - q - 1) // n
            bit = self.i[b - 1 - q]
            if lim < cfg.mask_bits:
                if lim not in le:
                    le[lim] = Signal(name=f"pc_le{lim}")
                    m.d.comb += le[lim].eq(pc <= lim)
                bit = bit & le[lim]
            region.append(bit)
        got = net.gather(net.expand(Cat(*region, Const(0, net.width - cap))))

        for i in range(n):
            k = self.k[i]
            kept = [got[i][t] & (k > t) for t in range(mb)]
            m.d.comb += [
                self.man[i].eq(Cat(*reversed(kept))),
                self.fill[i].eq(Cat(*[k == mb - 1 - bb for bb in range(mb)])),
            ]
        return m
