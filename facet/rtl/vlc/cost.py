"""Stage ``cost`` of the `vlc` decoder: header, class codes and sign bits of a block."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS
from ...vlc_code import DEPTHS, MODES, ZERO
from .._common import Stage
from ..prefix import csa_sum, ripple_add
from .depth import cost_bits
from .histogram import hist_layout
from .unpack_classes import code_constants

__all__ = ["Cost"]


class Cost(Stage):
    """The code cost C(D, mode, -) without mantissas (golden model: :func:`facet.vlc.cost`),
    what the encoder's ``depth`` stage passes to ``precision``.

    A codeword is a 2-bit head and a tail of f10 bits (group G10: class o, o + 3 and the
    classes above the window), of f11 bits (G11: the rest of the window, ZERO, Inf, NaN) or
    none (classes o + 1, o + 2). Every value is signed but the ZERO ones. So, with the
    histogram n of the block, ``C = H + 2N + f10 * n10 + f11 * n11 + N - n_ZERO``, where
    ``n10 = n_o + [j >= 4] n_(o+3) + n_0 + ... + n_(o-1)`` and
    ``n11 = N - n10 - [j >= 2] n_(o+1) - [j >= 3] n_(o+2)``: a few counts picked by the mode,
    two small products with the block's tail widths and one carry-save sum.

    That holds for the classes :class:`~facet.rtl.vlc.UnpackClasses` gives, the only ones
    the stage sees: distances up to D, and Inf and NaN only in mode 3 (the model also
    prices classes no decoder gives, a distance past D as ZERO).

    Members
    -------
    hist : ``In(data.ArrayLayout(bitlength(N), NCLASS))``
        Values per class, as :class:`~facet.rtl.vlc.Histogram` gives them.
    d : ``In(4)``, mode : ``In(2)``
        Depth and mode, as :class:`~facet.rtl.vlc.Header` gives them.
    cost : ``Out(cost_bits(cfg))``
        Header, class codes and sign bits.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"hist": In(hist_layout(cfg)), "d": In(VLC_DEPTH_BITS),
                "mode": In(VLC_MODE_BITS), "cost": Out(cost_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, hist = cfg.n, self.hist
        cb = n.bit_length()
        f10, f11, j2, j3, j4 = (Signal(w, name=s) for w, s in
                                ((2, "f10"), (3, "f11"), (1, "j2"), (1, "j3"), (1, "j4")))
        with m.Switch(Cat(self.d, self.mode)):
            for mode in range(MODES):
                for d in range(DEPTHS):
                    with m.Case(d | (mode << VLC_DEPTH_BITS)):
                        k = code_constants(mode, d)
                        m.d.comb += [f10.eq(k["f10"]), f11.eq(k["f11"]), j2.eq(k["j2"]),
                                     j3.eq(k["j3"]), j4.eq(k["j4"])]
        o2, o5 = self.mode == 1, self.mode == 2     # the header leaves only offsets <= D

        def at(q):  # n_(o+q)
            return Mux(o5, hist[5 + q], Mux(o2, hist[2 + q], hist[q]))

        def gate(flag, x):
            return Cat(*[x[b] & flag for b in range(cb)])

        n10 = csa_sum(m, [at(0), gate(j4, at(3)), gate(o2 | o5, hist[0]), gate(o2 | o5, hist[1]),
                          *[gate(o5, hist[t]) for t in (2, 3, 4)]], cb, name="n10")
        short = csa_sum(m, [n10, gate(j2, at(1)), gate(j3, at(2))], cb, name="short")
        n11 = Signal(cb, name="n11")
        m.d.comb += n11.eq(ripple_add(m, Const(n, cb), short, cb, sub=True, name="n11"))
        w = len(self.cost)
        # N - n_ZERO as ~n_ZERO + N + 1 modulo 2**w.
        nz = Signal(w, name="not_zero")
        m.d.comb += nz.eq(~Cat(hist[ZERO], Const(0, w - cb)))
        terms = [nz, Const((cfg.header_bits + 3 * n + 1) % (1 << w), w)]
        terms += [(gate(f10[b], n10), b) for b in range(len(f10))]
        terms += [(gate(f11[b], n11), b) for b in range(len(f11))]
        m.d.comb += self.cost.eq(csa_sum(m, terms, w, name="cost"))
        return m
