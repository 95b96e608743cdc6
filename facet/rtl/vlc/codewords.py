"""Stage ``codewords`` (`vlc` encoder): each value's head, tail and codeword length."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS, VLC_OFFSETS
from ...vlc_code import DEPTHS, INF, MODES, NAN, ZERO, codebook
from .._common import Stage, equals_const
from .classes import class_layout

__all__ = ["code_bits", "length_bits", "tail_bits", "block_code", "Codewords"]


def _codes(cfg):
    """The (mode, depth) pairs the depth stage can choose for ``cfg``: the others never fit."""
    from .depth import possible
    return [(mode, d) for mode in range(MODES) for d in range(DEPTHS) if possible(cfg, mode, d)]


def block_code(mode, d):
    """The constants of the code (mode, D) the encoder and the decoder work from, read off
    the model's codebook: offset o, tail widths f10 and f11 of heads 10 and 11, whether heads
    00 and 01 have a class and the window has w = 3 (j2, j3, j4: j >= 2, 3, 4), the length of
    G10 and the G10 index of class 0 (b10), the tail indices of ZERO, INF and NAN in G11,
    mode 3 (m3) and whether it is mode 3's all-two-bit code of D = 0 (m3d0)."""
    book = codebook(mode, d)
    o = VLC_OFFSETS[mode] if mode < 3 and VLC_OFFSETS[mode] <= d else 0

    def tail(cls):
        word = book.get(cls, "")
        return int(word[2:] or "0", 2)

    heads, len10 = {}, 0
    for word in book.values():
        heads.setdefault(word[:2], len(word) - 2)
        len10 += word[:2] == "10"
    j = d + 1 - o
    return dict(o=o, f10=heads.get("10", 0), f11=heads.get("11", 0), j2=j >= 2, j3=j >= 3,
                j4=j >= 4, len10=len10, b10=1 + (j >= 4), z=tail(ZERO), zi=tail(INF),
                zn=tail(NAN), m3=mode == 3, m3d0=mode == 3 and d == 0)


def tail_bits(cfg):
    """The longest tail of a code the depth stage can choose."""
    return max(max(p["f10"], p["f11"]) for p in (block_code(*c) for c in _codes(cfg)))


def code_bits(cfg):
    """Bits of a codeword: the two head bits and the longest tail."""
    return 2 + tail_bits(cfg)


def length_bits(cfg):
    """Bits of a codeword length."""
    return code_bits(cfg).bit_length()


class Codewords(Stage):
    """Codeword and length of each value (golden model: :func:`facet.vlc.codewords`), in the
    model's convention: ``h0 | h1 << 1 | g << 2`` (head bits, tail index g) and 2 + f.

    Structure: the code of a block (mode, D) fixes a few constants, looked up once per block
    (:func:`block_code`). Per value: kept (t <= D), w = t - o (a 4-bit subtraction, its
    borrow marks the classes above the window), and the head from w: ``00`` for w = 1,
    ``01`` for w = 2, ``10`` for w = 0, 3 and t < o, ``11`` for the rest (w >= 4, ZERO and the
    distances past D, Inf, NaN). The tail index is, under head ``10``, 0, 1 or
    ``t + 1 + [j >= 4]``, and under head ``11`` ``w - 4`` or the block's ZERO / INF / NaN index;
    its width is the block's f10 or f11. Mode 3 at D = 0 overrides the head (Inf/NaN, then
    NaN or kept) and has no tails.

    Members
    -------
    cls : ``In(data.ArrayLayout(5, N))``
        Class codes.
    d : ``In(4)``, mode : ``In(2)``
        Depth and mode.
    code : ``Out(data.ArrayLayout(code_bits, N))``
        Codewords, h0 on bit 0, h1 on bit 1, the tail index above.
    length : ``Out(data.ArrayLayout(length_bits, N))``
        Codeword lengths, 2 + f.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"cls": In(class_layout(cfg)), "d": In(VLC_DEPTH_BITS), "mode": In(VLC_MODE_BITS),
                "code": Out(data.ArrayLayout(code_bits(cfg), cfg.n)),
                "length": Out(data.ArrayLayout(length_bits(cfg), cfg.n))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        tb = tail_bits(cfg)
        db = (DEPTHS - 1).bit_length()
        # Per block: the constants of the code, one lookup on (mode, D).
        o = Signal(3, name="o")
        f10, f11 = Signal(2, name="f10"), Signal(3, name="f11")
        j4, m3d0 = Signal(name="j4"), Signal(name="m3d0")
        z, zi, zn = Signal(4, name="z"), Signal(4, name="zi"), Signal(4, name="zn")
        consts = (o, f10, f11, j4, z, zi, zn, m3d0)
        with m.Switch(Cat(self.d, self.mode)):
            for mode, d in _codes(cfg):
                p = block_code(mode, d)
                with m.Case(d | (mode << VLC_DEPTH_BITS)):
                    m.d.comb += [sig.eq(int(p[key])) for sig, key in zip(
                        consts, ("o", "f10", "f11", "j4", "z", "zi", "zn", "m3d0"))]
            with m.Default():   # codes the depth stage never chooses
                m.d.comb += [sig.eq(0) for sig in consts]
        for i in range(cfg.n):
            cls = self.cls[i]
            t = cls[:db]
            kept = Signal(name=f"kept{i}")
            m.d.comb += kept.eq(~cls[db] & (t <= self.d))
            nan, inf = equals_const(cls, NAN), equals_const(cls, INF)
            w = Signal(db + 1, name=f"w{i}")
            m.d.comb += w.eq(t - o)
            above, wl = w[db], w[:db]
            inside = kept & ~above
            s00 = inside & equals_const(wl, 1)
            s01 = inside & equals_const(wl, 2)
            w3 = equals_const(wl, 3)
            s10 = kept & (above | equals_const(wl, 0) | w3)
            s11 = ~(s00 | s01 | s10)
            # Tail indices: G10 = [w 0, w 3, t = 0 .. o - 1], G11 = [w 4 .., ZERO, INF, NaN].
            g10 = Signal(3, name=f"g10_{i}")
            m.d.comb += g10.eq(Mux(above, t[:3] + 1 + j4, w3))
            g11 = Signal(4, name=f"g11_{i}")
            m.d.comb += g11.eq(Mux(kept, wl - 4, Mux(nan, zn, Mux(inf, zi, z))))
            h0 = Signal(name=f"h0_{i}")
            h1 = Signal(name=f"h1_{i}")
            g = Signal(max(tb, 1), name=f"g{i}")
            m.d.comb += [h0.eq(Mux(m3d0, inf | nan, s10 | s11)),
                         h1.eq(Mux(m3d0, nan | kept, s01 | s11)),
                         g.eq(Mux(m3d0 | ~h0, 0, Mux(h1, g11, g10)))]
            f = Mux(h0, Mux(h1, f11, f10), 0)
            m.d.comb += [self.code[i].eq(Cat(h0, h1, g[:tb] if tb else Const(0, 0))),
                         self.length[i].eq(f + 2)]
        return m
