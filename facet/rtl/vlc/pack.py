"""Stage ``pack`` (`vlc` encoder): header, class region and value fields of a block."""

from types import SimpleNamespace

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS
from ...vlc_code import codebook
from .._common import Stage
from ..network import compact, compaction_control
from ..pack_mantissa import RegionNetwork
from ..prefix import csa_sum, prefix_sums
from .codewords import _codes, code_bits, length_bits
from .widths import width_bits

__all__ = ["Pack"]


class Pack(Stage):
    """The packed block (golden model: :func:`facet.vlc.pack`).

    * **header**: b, D and the mode in the first H bits (wiring).
    * **class region**, from bit H up: plane p holds bit p of the codewords longer than p.
      Per plane, the N-element compaction network of :mod:`facet.rtl.network` (1-bit
      elements, the mask ``length_i > p``), and the compacted plane shifted to its offset
      ``H + cnt_0 + ... + cnt_(p-1)``. Only the planes a code of the config can reach are
      built (:func:`.codewords.code_bits`); a plane every codeword reaches is not compacted.
    * **value fields**, from bit B down: the (M+1)-bit field of each signed value (sign above
      its k_i leading mantissa bits) through the element-major network of the
      ``significance`` mantissa region (:class:`facet.rtl.pack_mantissa.RegionNetwork`), at
      offsets ``sigma_i``, a prefix sum of the field widths.

    Members
    -------
    base : ``In(E)``, d : ``In(4)``, mode : ``In(2)``
        Header fields.
    code, length : ``In(data.ArrayLayout(code_bits, N))``, ``In(data.ArrayLayout(...))``
        Codewords (first bit on bit 0) and lengths, as :class:`.codewords.Codewords` gives them.
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
        header = Cat(self.base, self.d, self.mode)

        # Class region: plane by plane.
        shortest = min(len(w) for mode, d in _codes(cfg) for w in codebook(mode, d).values())
        region = []
        offset = Const(h, b.bit_length())
        for p in range(code_bits(cfg)):
            live = [self.length[i] > p for i in range(n)]
            bits = [self.code[i][p] for i in range(n)]
            if p < shortest:   # every codeword has bit p: the plane is whole
                word, count = Cat(*bits), Const(n, (n).bit_length())
            else:
                mask = Signal(n, name=f"live{p}")
                m.d.comb += mask.eq(Cat(*live))
                sels, valid, _ = compaction_control(m, mask, n, name=f"c{p}")
                got = compact(m, sels, bits, [1] * n, name=f"f{p}")
                word = Signal(n, name=f"plane{p}")
                m.d.comb += word.eq(Cat(*[got[j] & valid[j] for j in range(n)]))
                count = csa_sum(m, live, n.bit_length(), name=f"cnt{p}")
            placed = Signal(b, name=f"placed{p}")
            m.d.comb += placed.eq(Cat(word, Const(0, b - n)) << offset)
            region.append(placed)
            nxt = Signal(b.bit_length(), name=f"off{p + 1}")
            m.d.comb += nxt.eq(offset + count)
            offset = nxt

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
        cap = min(n * (mb + 1), b - h)
        top = Cat(*[x[q] for q in reversed(range(cap))])
        out = Const(0, b)
        for r in region:
            out = out | r
        m.d.comb += self.o.eq(Cat(header, Const(0, b - len(header))) | out | (top << (b - cap)))
        return m
