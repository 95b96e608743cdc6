"""Stage ``codewords`` (`vlc` encoder): each value's codeword and its length."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS, VLC_OFFSETS
from ...vlc_code import DEPTHS, INF, MODES, NAN, ZERO, codebook
from .._common import Stage
from .classes import class_layout
from .depth import _possible

__all__ = ["code_bits", "length_bits", "Codewords"]


def _codes(cfg, every=False):
    """The (mode, depth) pairs the depth stage can choose for ``cfg``: the others never fit.
    With ``every``, every code a decoded header can name (a mode's offset at most D)."""
    if every:
        return [(mode, d) for mode in range(MODES) for d in range(DEPTHS)
                if mode == 3 or VLC_OFFSETS[mode] <= d]
    return [(mode, d) for mode in range(MODES) for d in range(DEPTHS) if _possible(cfg, mode, d)]


def code_bits(cfg, every=False):
    """The longest codeword of a code the depth stage can choose (``every``: of any code)."""
    return max(len(w) for mode, d in _codes(cfg, every) for w in codebook(mode, d).values())


def length_bits(cfg, every=False):
    """Bits of a codeword length."""
    return code_bits(cfg, every).bit_length()


def _block_params(cfg, every=False):
    """Per (mode, depth): the code's offset o, its row of short window codewords (w = 0..3),
    the ZERO and special codewords, and the escape codeword of distance o - 1."""
    rows, params = [], {}
    for mode, d in _codes(cfg, every):
        o = VLC_OFFSETS[mode] if mode < 3 and VLC_OFFSETS[mode] <= d else 0
        book = codebook(mode, d)
        row = tuple(book.get(o + w) if o + w <= d else None for w in range(4))
        if row not in rows:
            rows.append(row)
        params[mode, d] = dict(o=o, row=rows.index(row), zero=book[ZERO],
                               special=book.get(INF, ""), escape=book.get(o - 1, "") if o else "",
                               eb=(o - 1).bit_length() if o else 0)
    return rows, params


def _lsb_first(word):
    """A codeword (first bit first) as an integer with its first bit on bit 0."""
    return sum(1 << k for k, c in enumerate(word) if c == "1")


class Codewords(Stage):
    """Codeword and length of each value (golden model: :func:`facet.vlc.codewords`).

    The code word is given first bit on bit 0 (bit p is the bit of plane p), which is
    what the class region is built from; the model's integer is the same bits MSB first.

    Structure: the code of a block (mode, D) sets a handful of constants, looked up once per
    block: the window offset o, which row of short window codewords applies, and the ZERO,
    special and escape codewords. Per value, the class picks one of five shapes: a short
    window codeword (w = t - o < 4: a 64-entry constant table), a long one (``1^(w-2) 0``: a
    thermometer of w), the block's ZERO or special codeword (the NaN bit flips its last
    bit), or the escape (the block's escape word with ``o - 1 - t`` in its last bits).

    Members
    -------
    cls : ``In(data.ArrayLayout(5, N))``
        Class codes.
    d : ``In(4)``, mode : ``In(2)``
        Depth and mode.
    code : ``Out(data.ArrayLayout(16, N))``
        Codewords, first bit on bit 0, zero above the length.
    length : ``Out(data.ArrayLayout(5, N))``
        Codeword lengths.

    Parameters
    ----------
    every_code : bool
        Build every code a decoded header can name, not only those the depth stage can
        choose for the config (the decoder's cost, where a foreign block may name any code).
    """

    POLICY = "vlc"

    def __init__(self, cfg, *, every_code=False):
        self._every = every_code
        super().__init__(cfg)

    def ports(self, cfg):
        every = self._every
        return {"cls": In(class_layout(cfg)), "d": In(VLC_DEPTH_BITS), "mode": In(VLC_MODE_BITS),
                "code": Out(data.ArrayLayout(code_bits(cfg, every), cfg.n)),
                "length": Out(data.ArrayLayout(length_bits(cfg, every), cfg.n))}

    def elaborate(self, platform):
        m = Module()
        every = self._every
        rows, params = _block_params(self._cfg, every)
        cb, lb = code_bits(self._cfg, every), length_bits(self._cfg, every)
        db = (DEPTHS - 1).bit_length()
        # Per block: the constants of the code, one lookup on (mode, D).
        o = Signal(3)
        row = Signal(range(len(rows)))
        zbits, zlen = Signal(cb), Signal(lb)
        sbits, slen = Signal(cb), Signal(lb)
        ebits, elen = Signal(cb), Signal(lb)
        npos = Signal(cb)  # the NaN bit: the last bit of the special codeword
        eb3 = Signal()            # the escape ends in 3 bits (mode 2), else in 1
        long_ok = Signal()        # the window has classes w >= 4
        with m.Switch(Cat(self.d, self.mode)):
            for (mode, d), p in params.items():
                with m.Case(d | (mode << VLC_DEPTH_BITS)):
                    m.d.comb += [o.eq(p["o"]), row.eq(p["row"]),
                                 zbits.eq(_lsb_first(p["zero"])), zlen.eq(len(p["zero"])),
                                 sbits.eq(_lsb_first(p["special"])), slen.eq(len(p["special"])),
                                 ebits.eq(_lsb_first(p["escape"])), elen.eq(len(p["escape"])),
                                 npos.eq((1 << len(p["special"])) >> 1), eb3.eq(p["eb"] == 3),
                                 long_ok.eq(d + 1 - p["o"] > 4)]
            with m.Default():   # codes the depth stage never chooses
                m.d.comb += [x.eq(0) for x in (o, row, zbits, zlen, sbits, slen, ebits, elen,
                                               npos, eb3, long_ok)]
        for i in range(self._cfg.n):
            cls = self.cls[i]
            t = cls[:db]
            dist = ~cls[db]
            kept = dist & (t <= self.d)
            esc = kept & (t < o)
            w = Signal(5, name=f"w{i}")
            m.d.comb += w.eq(t - o)
            short_c, short_l = Signal(4, name=f"sc{i}"), Signal(3, name=f"sl{i}")
            with m.Switch(Cat(w[:2], row)):
                for r, words in enumerate(rows):
                    for wv, word in enumerate(words):
                        if word is not None:
                            with m.Case(wv | (r << 2)):
                                m.d.comb += [short_c.eq(_lsb_first(word)), short_l.eq(len(word))]
                with m.Default():
                    m.d.comb += [short_c.eq(0), short_l.eq(0)]
            long_ = Signal(name=f"long{i}")
            m.d.comb += long_.eq(long_ok & (w[2:] != 0))
            # 1^(w-2) 0: ones below w - 2.
            therm = Cat(*[w > k + 2 for k in range(cb)])
            # The escape: o - 1 - t in the last eb bits, MSB first.
            v = Signal(3, name=f"esc{i}")
            m.d.comb += v.eq(o - 1 - t)
            vbits = Signal(cb, name=f"escbits{i}")
            with m.Switch(Cat(elen, eb3)):
                for el, eb in sorted({(len(p["escape"]), p["eb"]) for p in params.values()
                                      if p["escape"]}):
                    with m.Case(el | (int(eb == 3) << lb)):
                        m.d.comb += vbits.eq(Cat(*[v[eb - 1 - q] for q in range(eb)]) << (el - eb))
                with m.Default():
                    m.d.comb += vbits.eq(0)
            nan = cls == NAN
            special = (cls == INF) | nan
            with m.If(special):
                m.d.comb += [self.code[i].eq(sbits | Mux(nan, npos, 0)), self.length[i].eq(slen)]
            with m.Elif(~kept):
                m.d.comb += [self.code[i].eq(zbits), self.length[i].eq(zlen)]
            with m.Elif(esc):
                m.d.comb += [self.code[i].eq(ebits | vbits), self.length[i].eq(elen)]
            with m.Elif(long_):
                m.d.comb += [self.code[i].eq(therm), self.length[i].eq(w - 1)]
            with m.Else():
                m.d.comb += [self.code[i].eq(short_c), self.length[i].eq(short_l)]
        return m
