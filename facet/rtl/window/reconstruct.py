"""Stage ``reconstruct`` of the `window` decoder: raw values from the codes and the planes."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from .._common import Stage, any_bits, decrement, equals_const
from .layout import OFFSET_BITS, code_layout, far, top_shape
from .unpack_planes import shift_down
from ...window_layout import WINDOW_TOP

__all__ = ["Reconstruct"]


def _first_one(m, bits, *, name):
    """``(any, index)`` of the lowest set bit of ``bits``: a tree whose node over an aligned
    group takes its lower half's index if that half has a one (and sets the group's index
    bit when it has none), log2 levels of one multiplexer."""
    size = 1 << max(len(bits) - 1, 0).bit_length()
    nodes = [(b, Const(0, 0)) for b in bits] + [(Const(0, 1), Const(0, 0))] * (size - len(bits))
    level = 0
    while len(nodes) > 1:
        nxt = []
        for j in range(0, len(nodes), 2):
            (alo, ilo), (ahi, ihi) = nodes[j], nodes[j + 1]
            a = Signal(name=f"{name}_a{level}_{j // 2}")
            idx = Signal(level + 1, name=f"{name}_i{level}_{j // 2}")
            # (At the leaves the indices are empty: no zero-width multiplexer.)
            m.d.comb += [a.eq(alo | ahi),
                         idx.eq(Cat(Mux(alo, ilo, ihi), ~alo) if level else ~alo)]
            nxt.append((a, idx))
        nodes, level = nxt, level + 1
    return nodes[0]


class Reconstruct(Stage):
    """Rebuild raw values (golden model: :func:`facet.window.reconstruct`).

    Planes count from the window, as :class:`UnpackPlanes` gives them: plane q' is plane
    q' + o - 3. The lowest set plane t' of a value holds its leading one: exponent
    ``b' - t'`` with ``b' = b + 3 - o`` (formed once), mantissa planes ``t' + 1 .. t' + M``.
    A value that stores planes only down to P' < t' + M keeps ``clamp(P' - t', 0, M)``
    mantissa bits and gets its first cut bit set. No plane set, or ``b' - t' < 1`` (foreign
    blocks only: a base below the leading one), gives a zero of the value's sign;
    ``b' - t' > 2^E - 2`` cannot occur, as no plane below 3 - o is set and only the special
    base exceeds 2^E - 2. In a block with base 2^E - 1, code 0 is ±Inf, code 1 the
    canonical NaN with its sign, codes 2 and 3 a signed zero.

    Structure per value: a priority tree for t' (a search is needed in any case, for codes
    3 and 0, whose leading one a foreign block may put anywhere), a log shifter by t' for
    the mantissa, the small ``P' - t'`` for the cut bit, and ``b' - t'`` as a subtractor on
    the low bits of b' whose borrow picks ``b'_hi`` or ``b'_hi - 1`` (formed once).

    Members
    -------
    base : ``In(E)``
        The block base b.
    offset : ``In(2)``
        The offset in force, as :class:`Precision` gives it.
    code : ``In(code_layout(cfg))``, sign : ``In(data.ArrayLayout(1, N))``
        Codes and signs, as :class:`UnpackCodes` gives them.
    planes : ``In(data.ArrayLayout(far(cfg), N))``
        Planes, as :class:`UnpackPlanes` gives them.
    top : ``In(data.ArrayLayout(top_shape(cfg), N))``
        The last plane each value stores.
    o : ``Out(data.ArrayLayout(W, N))``
        The raw values.
    """

    POLICY = "window"

    def ports(self, cfg):
        n = cfg.n
        return {"base": In(cfg.fmt.exp_bits), "offset": In(OFFSET_BITS),
                "code": In(code_layout(cfg)),
                "sign": In(data.ArrayLayout(1, n)),
                "planes": In(data.ArrayLayout(far(cfg), n)),
                "top": In(data.ArrayLayout(top_shape(cfg), n)),
                "o": Out(data.ArrayLayout(unsigned(cfg.fmt.width), n))}

    def _exponent(self, m, t, some, shared, *, name):
        """``(b' - t', kept)``: kept when a plane is set and ``b' - t' >= 1``. ``shared``: b',
        its low and high bits, whether ``b'_hi`` and ``b'_hi - 1`` are zero, and
        ``b'_hi - 1``."""
        e = self.cfg.fmt.exp_bits
        base, base_lo, base_hi, hi_zero, hi_one, hi_dec = shared
        tb = len(t)
        ok = Signal(name=f"{name}_ok")
        if tb >= e:                     # planes as deep as the exponent range: a subtractor
            diff = Signal(signed(tb + 2), name=f"{name}_diff")
            m.d.comb += [diff.eq(base - t), ok.eq(some & (diff > 0))]
            return diff[:e], ok
        lo = Signal(tb + 1, name=f"{name}_lo")                    # bit tb: borrow
        m.d.comb += lo.eq(base_lo - t)
        borrow = lo[tb]
        exp = Cat(lo[:tb], Mux(borrow, hi_dec, base_hi))
        top_zero = Mux(borrow, hi_one, hi_zero)
        m.d.comb += ok.eq(some & ~(borrow & hi_zero) & ~(top_zero & ~any_bits(lo[:tb])))
        return exp, ok

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        e, mb, nf = cfg.fmt.exp_bits, cfg.fmt.man_bits, far(cfg)
        tb = (nf - 1).bit_length()
        base = Signal(e + 1, name="base_rel")          # b' = b + 3 - o: at most 2^E + 1
        m.d.comb += base.eq(self.base + WINDOW_TOP - self.offset)
        base_hi, base_lo = base[tb:], base[:tb]
        hi_zero, hi_one, hi_dec = Signal(), Signal(), Signal(max(e + 1 - tb, 0))
        m.d.comb += [hi_zero.eq(~any_bits(base_hi)), hi_dec.eq(decrement(base_hi)),
                     hi_one.eq(~any_bits(hi_dec))]
        shared = (base, base_lo, base_hi, hi_zero, hi_one, hi_dec)
        special = equals_const(self.base, (1 << e) - 1)
        for i in range(cfg.n):
            planes, code = self.planes[i], self.code[i]
            some, t = _first_one(m, [planes[q] for q in range(nf)], name=f"lead{i}")
            # mantissa bit M - 1 - r is plane t' + 1 + r
            man = shift_down(m, [planes[q] for q in range(1, nf)], t, mb, name=f"man{i}_")
            d = Signal(signed(max(len(self.top[i]), tb + 1) + 1), name=f"kept{i}")
            m.d.comb += d.eq(self.top[i] - t)
            fill = [(d <= 0) if r == mb - 1 else equals_const(d.as_unsigned(), mb - 1 - r)
                    for r in range(mb)]                               # mantissa bit r
            exp, ok = self._exponent(m, t, some, shared, name=f"e{i}")
            mag = Signal(e + mb, name=f"mag{i}")
            with m.If(special):
                with m.If(equals_const(code, 0) | equals_const(code, 1)):
                    m.d.comb += mag.eq(Cat(Const(0, mb - 1), code[0], Const((1 << e) - 1, e)))
            with m.Elif(ok):
                m.d.comb += mag.eq(Cat(Cat(*[man[mb - 1 - r] | fill[r] for r in range(mb)]), exp))
            m.d.comb += self.o[i].eq(Cat(mag, self.sign[i]))
        return m
