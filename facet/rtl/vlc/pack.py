"""Stage ``pack`` (`vlc` encoder): header, head planes, tails and value fields of a block."""

from types import SimpleNamespace

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS
from .._common import Stage
from ..pack_mantissa import RegionNetwork
from ..prefix import prefix_sums
from .codewords import code_bits, length_bits, tail_bits
from .widths import width_bits

__all__ = ["Pack"]


class Pack(Stage):
    """The packed block (golden model: :func:`facet.vlc.pack`).

    * **header**: b, D and the mode in the first H bits (wiring).
    * **head planes**: h0 of value i at bit H + i, h1 at bit H + N + i (wiring).
    * **tails**, from bit H + 2N up, value-major: value i's tail (f_i = length_i - 2 <= 4
      bits, LSB first) at ``S_i = f_0 + ... + f_(i-1)`` above H + 2N, a blocked prefix sum,
      placed by the element-major network of the mantissa region
      (:class:`facet.rtl.pack_mantissa.RegionNetwork`) on 4-bit fields.
    * **value fields**, from bit B down: the (M+1)-bit field of each signed value (sign above
      its k_i leading mantissa bits) through the same network on (M+1)-bit fields, at
      offsets ``sigma_i``, a prefix sum of the field widths.

    Members
    -------
    base : ``In(E)``, d : ``In(4)``, mode : ``In(2)``
        Header fields.
    code, length : ``In(data.ArrayLayout(code_bits, N))``, ``In(data.ArrayLayout(...))``
        Codewords (h0, h1, tail index) and lengths, as :class:`.codewords.Codewords` gives them.
    field, sign : ``In(data.ArrayLayout(1, N))``
        Which values have a field (the model's ``signed``), and the signs.
    man : ``In(data.ArrayLayout(M, N))``, k : ``In(data.ArrayLayout(bitlength(M), N))``
        Mantissas and kept bits.
    o : ``Out(B)``
        The block, stream bit j on bit j.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        n, fmt = cfg.n, cfg.fmt
        return {"base": In(fmt.exp_bits), "d": In(VLC_DEPTH_BITS), "mode": In(VLC_MODE_BITS),
                "code": In(data.ArrayLayout(code_bits(cfg), n)),
                "length": In(data.ArrayLayout(length_bits(cfg), n)),
                "field": In(data.ArrayLayout(1, n)), "sign": In(data.ArrayLayout(1, n)),
                "man": In(data.ArrayLayout(fmt.man_bits, n)),
                "k": In(data.ArrayLayout(width_bits(cfg), n)), "o": Out(cfg.budget)}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, b, h = cfg.n, cfg.fmt.man_bits, cfg.budget, cfg.header_bits
        tb = max(tail_bits(cfg), 2)
        header = Cat(self.base, self.d, self.mode)
        heads = Cat(*[self.code[i][0] for i in range(n)], *[self.code[i][1] for i in range(n)])

        # Tails: value-major from H + 2N, LSB first.
        tw = [Signal(range(tb + 1), name=f"tw{i}") for i in range(n)]
        for i in range(n):
            m.d.comb += tw[i].eq(self.length[i] - 2)
        # Blocked, not a chain: with a register after `precision` the tail offsets, from
        # codewords of registered classes, are as long a path as the field offsets.
        start = prefix_sums(m, tw, lambda i: i * tb, block=4, name="tpos")
        tnet = RegionNetwork(m, SimpleNamespace(n=n, fmt=SimpleNamespace(man_bits=tb)), start[:n])
        tails = tnet.compact(tnet.scatter([self.code[i][2:] for i in range(n)]))
        tcap = min(tnet.width, b - h - 2 * n)

        # Value fields: sign, then the k_i leading mantissa bits, value 0 at the top.
        widths = [Signal(range(mb + 2), name=f"fw{i}") for i in range(n)]
        for i in range(n):
            m.d.comb += widths[i].eq(((self.k[i] + 1) & self.field[i].replicate(len(widths[i]))))
        sigma = prefix_sums(m, widths, lambda i: i * (mb + 1), block=4, name="sigma")
        net = RegionNetwork(m, SimpleNamespace(n=n, fmt=SimpleNamespace(man_bits=mb + 1)),
                            sigma[:n])
        fields = [Cat(self.sign[i] & self.field[i],
                      *[self.man[i][mb - 1 - t] & self.field[i] & (self.k[i] > t)
                        for t in range(mb)]) for i in range(n)]
        x = net.compact(net.scatter(fields))
        cap = min(n * (mb + 1), b - h - 2 * n)     # C <= B: the heads take 2N bits
        top = Cat(*[x[q] for q in reversed(range(cap))])
        low = Cat(header, heads, tails[:tcap])
        m.d.comb += self.o.eq(Cat(low, Const(0, b - len(low))) | (top << (b - cap)))
        return m
