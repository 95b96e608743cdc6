"""Stage ``unpack_classes`` of the `vlc` decoder: two head planes, then value-major tails."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from facet.config import VLC_DEPTH_BITS, VLC_MODE_BITS
from facet.vlc_code import DEPTHS, INF, MODES, NAN, TAIL_MAX, ZERO

from .._common import Stage, equals_const
from ..pack_mantissa import RegionNetwork
from ..prefix import prefix_sums
from .codewords import block_code

__all__ = ["UnpackClasses", "class_bits", "class_region_bits", "code_constants", "decoded_signed"]


def class_bits():
    """Width of a class: 0..15, ZERO, INF, NAN."""
    return NAN.bit_length()


def class_region_bits(cfg):
    """Bits of the block from H up that the class region can reach: two head planes and
    tails of at most :data:`~facet.vlc_code.TAIL_MAX` bits, ``min(B - H, (2 + TAIL_MAX) N)``."""
    return min(cfg.budget - cfg.header_bits, (2 + TAIL_MAX) * cfg.n)


def decoded_signed(m, cls, *, name="signed"):
    """Which decoded values have a field: all but ZERO. (:func:`~facet.rtl.vlc.classes.signed_flags`
    also tests t <= D, which every class :class:`UnpackClasses` gives passes.)"""
    out = Signal(len(cls), name=name)
    # ZERO = 16, INF = 17, NAN = 18: bit 4 alone is ZERO.
    m.d.comb += out.eq(Cat(*[~cls[i][4] | cls[i][0] | cls[i][1] for i in range(len(cls))]))
    return out


def code_constants(mode, d):
    """The constants of the code (mode, D) that the decoder looks up once a block: those of
    :func:`~facet.rtl.vlc.codewords.block_code` named in ``_CONST_BITS``, as integers."""
    k = block_code(mode, d)
    return {name: int(k[name]) for name in _CONST_BITS}


#: Widths of the block constants, as signals.
_CONST_BITS = {"f10": 2, "f11": 3, "j2": 1, "j3": 1, "o": 3, "len10": 3, "b10": 2, "z": 4,
               "j4": 1, "m3": 1, "m3d0": 1}


class UnpackClasses(Stage):
    """Each value's class from the class region (golden model: :func:`facet.vlc.unpack_classes`).

    Plane 0 (the first N bits of the region) and plane 1 (the next N) give every value its
    head h0 h1: wiring. The code (D, mode) fixes a few constants, looked up once a block
    (:func:`code_constants`); with them a value's head gives its tail width f_i (0, f10 or
    f11, at most :data:`TAIL_MAX`). The tails follow value-major from bit 2N of the region:
    value i's tail at ``sigma_i = f_0 + ... + f_(i-1)`` past it, a prefix sum of 3-bit widths
    (a Brent-Kung tree), read by the region network of the mantissas
    (:class:`~facet.rtl.pack_mantissa.RegionNetwork`, here on slots of 4 bits: the tails
    never take more than 4N bits); bits at or past B read as 0. Per value the class follows
    from its head and its tail g (index formulas of docs/format.md, section 10.2):

    * ``00``, ``01``: the block's class for that head (o + 1, o + 2, or ZERO when the window
      is too short);
    * ``10``: g = 0 is class o, g = 1 class o + 3 (j >= 4), later indices the classes above
      the window, t = g - b10; g >= len(G10) is ZERO;
    * ``11``: g < z is class o + 4 + g, g = z ZERO, g = z + 1 and z + 2 Inf and NaN in mode 3,
      anything else ZERO.

    One 4-bit adder a value forms the distance: g plus an offset that the head picks among
    block constants. Mode 3 at D = 0 has its own four classes, one per head.

    Members
    -------
    i : ``In(class_region_bits(cfg))``
        The block from stream bit H up, as far as the class region can reach.
    d : ``In(4)``, mode : ``In(2)``
        Depth and mode, as :class:`~facet.rtl.vlc.Header` gives them (offset <= D).
    cls : ``Out(data.ArrayLayout(5, N))``
        Each value's class: a distance 0..15, ZERO (16), INF (17) or NAN (18).
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {
            "i": In(class_region_bits(cfg)),
            "d": In(VLC_DEPTH_BITS),
            "mode": In(VLC_MODE_BITS),
            "cls": Out(data.ArrayLayout(class_bits(), cfg.n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        n, region = cfg.n, len(self.i)
        k = {name: Signal(w, name=name) for name, w in _CONST_BITS.items()}
        with m.Switch(Cat(self.d, self.mode)):
            for mode in range(MODES):
                for d in range(DEPTHS):
                    with m.Case(d | (mode << VLC_DEPTH_BITS)):
                        m.d.comb += [k[name].eq(v) for name, v in code_constants(mode, d).items()]
        h0 = [self.i[v] if v < region else Const(0, 1) for v in range(n)]
        h1 = [self.i[n + v] if n + v < region else Const(0, 1) for v in range(n)]
        width = []
        for v in range(n):
            f = Signal(3, name=f"f{v}")
            m.d.comb += f.eq(Mux(h0[v], Mux(h1[v], k["f11"], k["f10"]), 0))
            width.append(f)
        sigma = prefix_sums(m, width[:-1], lambda i: TAIL_MAX * i, tree="brent-kung", name="sigma")
        net = RegionNetwork(m, cfg, sigma, bits=TAIL_MAX)
        tails = self.i[2 * n:] if region > 2 * n else Const(0, 1)
        got = net.gather(net.expand(Cat(tails, Const(0, net.width))[:net.width]))
        for v in range(n):
            m.d.comb += self.cls[v].eq(self._decode(m, k, h0[v], h1[v], got[v], width[v], v))
        return m

    @staticmethod
    def _decode(m, k, h0, h1, got, f, v):
        """The class of value ``v`` from its head, its tail bits and the block constants."""
        g = Signal(TAIL_MAX, name=f"g{v}")      # the tail: its f_i bits, 0 above them
        m.d.comb += g.eq(Cat(got[b] & (f > b) for b in range(TAIL_MAX)))
        # Window position w: 00 -> 1, 01 -> 2, 10 -> 0 or 3 (g = 0, 1), 11 -> 4 + g; the
        # class is o + w. An escape (10, g >= b10) is the class g - b10 above the window.
        w = Signal(4, name=f"w{v}")
        m.d.comb += w.eq(Mux(h0, Mux(h1, Cat(g[:2], (g[2:] + 1)[:2]), Cat(g[0], g[0])),
                             Cat(~h1, h1)))
        esc = Signal(name=f"esc{v}")
        m.d.comb += esc.eq(h0 & ~h1 & (g[1:].any() | (g[0] & ~k["j4"])))
        t = Signal(4, name=f"t{v}")
        m.d.comb += t.eq(Mux(esc, g[:3] - k["b10"], w + k["o"]))
        # A tail index below its group's bound (z of G11, len(G10)) is a distance; g - z is
        # also the place of Inf (1) and NaN (2) after ZERO in mode 3.
        diff = Signal(TAIL_MAX + 1, name=f"diff{v}")
        m.d.comb += diff.eq(g - Mux(h1, k["z"], k["len10"]))
        ok = Mux(h0, diff[TAIL_MAX], Mux(h1, k["j3"], k["j2"]))
        sp = h0 & h1 & k["m3"] & ~diff[TAIL_MAX]
        inf = sp & equals_const(diff[:TAIL_MAX], 1)
        nan = sp & equals_const(diff[:TAIL_MAX], 2)
        cls = Signal(class_bits(), name=f"cls{v}")
        with m.If(k["m3d0"]):
            m.d.comb += cls.eq(Mux(h0, Mux(h1, NAN, INF), Mux(h1, 0, ZERO)))
        with m.Elif(ok):
            m.d.comb += cls.eq(t)
        with m.Else():
            m.d.comb += cls.eq(Mux(inf, INF, Mux(nan, NAN, ZERO)))
        return cls
