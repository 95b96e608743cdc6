"""Stage ``pack_mantissa`` (``significance`` policy): the mantissa region of a block.

Also the region network shared with :mod:`facet.rtl.unpack_mantissa`.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage
from .widths import offset_bits, width_bits

__all__ = ["region_bits", "slot_bits", "RegionNetwork", "PackMantissa"]


def region_bits(cfg):
    """Longest mantissa region, ``min(N*M, B - H)`` bits: the region never holds more."""
    return min(cfg.n * cfg.fmt.man_bits, cfg.budget - cfg.header_bits)


def slot_bits(cfg):
    """Slot size S of the region network: the smallest power of two ``>= M``."""
    return 1 << (cfg.fmt.man_bits - 1).bit_length()


class RegionNetwork:
    """The element-major compaction network of the mantissa region (encoder and decoder).

    Coordinates: region bit ``q`` lies at distance ``q`` from the top of the block (stream bit
    ``B - 1 - q``); value i's t-th kept bit (t = 0 is the mantissa MSB) is at ``q = sigma_i + t``.

    The network works on N slots of ``S = 2**bitlength(M-1)`` bits, slot m holding region bits
    ``[S*m, S*m + S)``. Write ``sigma_i = S*u_i + f_i`` (``0 <= f_i < S``). Value i's bits fall in
    slots ``u_i`` and ``u_i + 1``, and since ``k_i <= M <= S``, ``u`` is non-decreasing in steps
    of 0 or 1. Two parts:

    * **fine** (one small shifter per value): value i's M bits, shifted by ``f_i``, form a
      window of ``M + S - 1`` bits laid over the *spread* slots ``i - 1`` and ``i``. Spread slot
      m then holds the tail of value m and the head of value m + 1, and the windows of even and
      odd values do not overlap, so one OR per bit builds the spread slots.
    * **coarse** (``bitlength(N-1)`` slot-level stages): spread slot m goes to region slot
      ``m - T_m``, ``T_m = m + 1 - ceil(sigma_(m+1) / S)`` (``T_(N-1) = T_(N-2)``). T is
      non-decreasing in steps of 0 or 1. For such a shift, the gather
      ``y[m] = out[m - T_m]`` is exact as a log-shifter with MSB stage first whose stage-j
      select at position m is simply bit j of ``T_m`` (the slot it ends at is reached through
      positions whose T agrees on the higher bits, because T grows by at most one per slot).
      The decoder uses that gather; the encoder uses its transpose, LSB stage first:
      ``new[p] = old[p] & ~T_p[j] | old[p + 2**j] & T_(p + 2**j)[j]``, where slots that land
      on the same region slot are ORed (their bits are disjoint). Both have static,
      position-indexed selects: no shift tags travel through the network.

    A spread slot whose tail and head would go to different region slots cannot occur: a
    tail bit means ``k_m > (-sigma_m mod S)``, and then ``sigma_m`` and ``sigma_(m+1)`` round up
    to the same multiple of S.
    """

    def __init__(self, m, cfg, sigma, bits=None):
        self.m = m
        self.cfg = cfg
        n = cfg.n
        #: Bits of a value's field (M: the mantissa; `vlc` moves sign and mantissa, M + 1).
        self.bits = bits or cfg.fmt.man_bits
        self.S = S = 1 << (self.bits - 1).bit_length()
        c = S.bit_length() - 1
        self.stages = (n - 1).bit_length()
        self.width = n * S
        self.shift = []  # per value, S - 1 - ((-sigma_i) mod S) = (sigma_i - 1) mod S
        up = []          # per value, i - ceil(sigma_i / S)
        for i in range(n):
            sig = Value.cast(sigma[i])
            sh = Signal(c, name=f"fine{i}")
            m.d.comb += sh.eq(sig[:c] - 1)
            self.shift.append(sh)
            if i:
                h = Signal(self.stages, name=f"coarse{i}")
                m.d.comb += h.eq(i - (sig >> c) - sig[:c].any())
                up.append(h)
        # T_m = H_(m+1) for m < N-1, T_(N-1) = H_(N-1); bit planes, one N-bit word per stage.
        tshift = up + up[-1:] if n > 1 else [Const(0, 1)]
        self.sel = []
        for j in range(self.stages):
            s = Signal(n, name=f"sel{j}")
            m.d.comb += s.eq(Cat(*[t[j] for t in tshift]))
            self.sel.append(s)

    def _spread(self, sel):
        return Cat(*[sel[p].replicate(self.S) for p in range(self.cfg.n)])

    # -- fine part -----------------------------------------------------------------------

    def scatter(self, values):
        """Spread slots from per-value kept bits (``values[i]``: M bits, bit t = t-th kept bit).

        Value i's bit t goes to spread position ``S*(i-1) + 1 + shift_i + t``.
        """
        m, S, n = self.m, self.S, self.cfg.n
        ww = self.bits + S - 1
        words = []
        for par in (0, 1):
            parts, pos = [], 0
            for i in range(par, n, 2):
                win = Signal(ww, name=f"win{i}")
                m.d.comb += win.eq(Value.cast(values[i]) << self.shift[i])
                off = S * i + 1  # one slot up: the window of value 0 starts below 0
                parts += [Const(0, off - pos), win]
                pos = off + ww
            words.append(Cat(*parts))
        x = Signal(self.width, name="spread")
        m.d.comb += x.eq((words[0] | words[1])[S:S + self.width])
        return x

    def gather(self, x):
        """Per value, its M bits from the spread slots ``x`` (the inverse of :meth:`scatter`)."""
        m, S, n = self.m, self.S, self.cfg.n
        mb = self.bits
        ww = mb + S - 1
        xp = Cat(Const(0, S), x, Const(0, S))
        out = []
        for i in range(n):
            v = Signal(mb, name=f"got{i}")
            m.d.comb += v.eq(xp[S * i + 1:S * i + 1 + ww] >> self.shift[i])
            out.append(v)
        return out

    # -- coarse part ---------------------------------------------------------------------

    def compact(self, x):
        """Spread slot m to region slot ``m - T_m`` (LSB stage first, AND-OR, merges ORed)."""
        for j, sel in enumerate(self.sel):
            sb = self._spread(sel)
            y = Signal(self.width, name=f"compact{j}")
            self.m.d.comb += y.eq((x & ~sb) | ((x & sb) >> (self.S << j)))
            x = y
        return x

    def expand(self, x):
        """Region slot ``m - T_m`` to spread slot m (MSB stage first, 2:1 muxes)."""
        for j in reversed(range(self.stages)):
            sb = self._spread(self.sel[j])
            y = Signal(self.width, name=f"expand{j}")
            self.m.d.comb += y.eq((x & ~sb) | ((x << (self.S << j))[:self.width] & sb))
            x = y
        return x


class PackMantissa(Stage):
    """The mantissa region of a block (golden model: ``pack_mantissa``).

    Value i's t-th leading mantissa bit (t = 0 is bit M-1), for ``t < k_i``, goes to stream bit
    ``B - 1 - (sigma_i + t)``; every other bit of ``o`` is 0, so the packed block is the OR of
    ``o`` and the header-and-planes word.

    Structure: bits ``t >= k_i`` are cleared (one AND per bit), then the element-major
    compaction of :class:`RegionNetwork`: one ``(M + S - 1)``-bit shifter per value by
    ``sigma_i mod S`` and one OR per spread bit (the fine part), then ``bitlength(N-1)``
    slot-level AND-OR stages (the coarse part). ``S = 2**bitlength(M-1)``. Only the
    ``min(N*M, B-H)`` region bits that can be reached are wired to ``o``.

    Members
    -------
    man : ``In(data.ArrayLayout(M, N))``
        Mantissas (zero-marked values already 0, as :class:`Deltas` gives them).
    k : ``In(data.ArrayLayout(bitlength(M), N))``
        Kept bits per value, as :class:`Widths` gives them.
    sigma : ``In(data.ArrayLayout(bitlength(N*M), N))``
        Offsets, as :class:`Widths` gives them.
    o : ``Out(B)``
        The mantissa region at the top of a B-bit block word, stream bit ``j`` on bit ``j``.
    """

    POLICY = "significance"

    def ports(self, cfg):
        n, mb = cfg.n, cfg.fmt.man_bits
        return {
            "man": In(data.ArrayLayout(mb, n)),
            "k": In(data.ArrayLayout(width_bits(cfg), n)),
            "sigma": In(data.ArrayLayout(offset_bits(cfg), n)),
            "o": Out(cfg.budget),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, b = cfg.n, cfg.fmt.man_bits, cfg.budget
        net = RegionNetwork(m, cfg, self.sigma)
        kept = [Cat(*[self.man[i][mb - 1 - t] & (self.k[i] > t) for t in range(mb)])
                for i in range(n)]
        x = net.compact(net.scatter(kept))
        cap = region_bits(cfg)
        m.d.comb += self.o.eq(Cat(*[x[q] for q in reversed(range(cap))]) << (b - cap))
        return m
