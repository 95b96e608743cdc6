"""Stage ``unpack_classes`` of the `vlc` decoder: walk the class codes plane by plane."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from facet.config import VLC_DEPTH_BITS, VLC_MODE_BITS, VLC_OFFSETS
from facet.vlc_code import DEPTHS, INF, MODES, NAN, ZERO, codebook

from .._common import Stage, equals_const
from ..network import compaction_control, expand
from ..prefix import csa_sum

__all__ = ["UnpackClasses", "class_bits", "max_code_length", "plane_windows", "window"]


def class_bits():
    """Width of a class: 0..15, ZERO, INF, NAN."""
    return NAN.bit_length()


def max_code_length():
    """The longest codeword of any code: the number of planes a block can have."""
    return max(len(w) for mode in range(MODES) for d in range(DEPTHS)
               for w in codebook(mode, d).values())


def plane_windows(cfg):
    """Bits of plane ``p`` that can be nonzero, ``p = 0 .. L - 1``.

    Plane 0 has N bits, plane 1 starts at N, and plane p >= 2 starts at
    ``S_p >= N + (p - 1) * c_p`` (c_p values read it, and at least as many read every plane
    before it), so when more than ``(B - H - N - 1) // (p - 1)`` values read plane p it starts
    at or past B and reads as zeros: value ranks at or past that bound read 0 either way.
    """
    n, r = cfg.n, cfg.budget - cfg.header_bits
    return [n, n] + [min(n, (r - n - 1) // (p - 1)) for p in range(2, max_code_length())]


def window(m, src, off, width, *, name="win"):
    """``width`` bits of ``src`` from bit ``off`` on, bits past ``src`` read as 0.

    A log shifter taken MSB first, each stage only as wide as the stages after it read
    (``width + 2**k - 1`` bits after the stage of bit k), so the wide stages are the few
    that move by large amounts. Offset bits worth ``len(src)`` or more only clear the result.
    """
    kb = max(len(src) - 1, 1).bit_length()
    bits = [src[q] for q in range(len(src))]

    def at(u):
        return bits[u] if u < len(bits) else Const(0, 1)

    for k in reversed(range(min(kb, len(off)))):
        keep = min(width + (1 << k) - 1, len(src))
        nxt = Signal(keep, name=f"{name}_s{k}")
        m.d.comb += nxt.eq(Cat(Mux(off[k], at(u + (1 << k)), at(u)) for u in range(keep)))
        bits = [nxt[u] for u in range(keep)]
    out = Signal(width, name=name)
    over = off[kb:].any() if len(off) > kb else Const(0, 1)
    m.d.comb += out.eq(Cat(at(u) for u in range(width)) & ~over.replicate(width))
    return out


class _Code:
    """Block-level flags of the code that D and the mode select (docs/format.md, 10.2)."""

    def __init__(self, m, d, mode, planes):
        o2, o5, m3 = mode == 1, mode == 2, mode == 3
        self.o2, self.o5, self.m3 = o2, o5, m3
        self.opos = o2 | o5
        # j - 1 = D - o: the window holds classes o .. D.
        jm1 = Signal(4, name="jm1")
        m.d.comb += jm1.eq(d - Mux(o5, VLC_OFFSETS[2], Mux(o2, VLC_OFFSETS[1], 0)))
        self.offset = Mux(o5, VLC_OFFSETS[2], Mux(o2, VLC_OFFSETS[1], 0))
        # Flags as signals, each formed once; equals_const, not ``== 0``, which Verilator
        # reports as a 1-bit operator on 4 bits.
        self.j1, self.j2, self.j3 = (Signal(name=f"j{j}") for j in (1, 2, 3))
        self.jbig = Signal(name="jbig")
        m.d.comb += [self.j1.eq(equals_const(jm1, 0)), self.j2.eq(equals_const(jm1, 1)),
                     self.j3.eq(equals_const(jm1, 2)), self.jbig.eq(jm1 >= 3)]
        # The ZERO codeword 1^zlen of j >= 3 (j - 2 ones, two for j = 3).
        zlen = Signal(4, name="zlen")
        m.d.comb += zlen.eq(Mux(self.jbig, jm1 - 1, 2))
        # 1^L is inside a codeword for L < runlim (the ZERO run; in mode 3 its two extra bits).
        runlim = Signal(5, name="runlim")
        m.d.comb += runlim.eq(Mux(self.jbig | self.j3, zlen + Mux(m3, 2, 0),
                                  Mux(self.j2, 2, Mux(m3, 2, 1))))
        self.run_inner = [Signal(name=f"run_inner{q}") for q in range(planes)]
        m.d.comb += [s.eq(q < runlim) for q, s in enumerate(self.run_inner)]
        # 1^q with q = zlen, zlen + 1, zlen + 2: ZERO, then (mode 3) Inf, NaN.
        self.zsel = [Signal(name=f"zsel{q}") for q in range(planes + 1)]
        m.d.comb += [s.eq(equals_const(zlen, q)) for q, s in enumerate(self.zsel)]


class UnpackClasses(Stage):
    """Each value's class from the class region (golden model: :func:`facet.vlc.unpack_classes`).

    Plane 0 is the first N bits of the region, plane 1 the next N (every value has a
    codeword). Each later plane p starts where plane p - 1 ends, ``S_p = S_{p-1} + c_{p-1}``
    (c: the number of values still inside their codeword), and its bits go, in element
    order, to those values: a window of :func:`plane_windows` bits at S_p (a log shifter,
    :func:`window`), then an expansion by the mask of unfinished values (the compaction
    network of :mod:`facet.rtl.network` backwards). Bits at or past B read as 0.

    Per value, whether it is still inside its codeword after p bits, and at the end its class,
    follow from the bits it read and a few block-level flags of the code (:class:`_Code`): a
    run of leading ones (unary tails and the ZERO codeword), the short codewords of the
    first two or three bits, and the window-0 codeword with the escape of modes 1 and 2.

    Members
    -------
    i : ``In(B - H)``
        The block from stream bit H up.
    d : ``In(4)``, mode : ``In(2)``
        Depth and mode, as :class:`~facet.rtl.vlc.Header` gives them (offset <= D).
    cls : ``Out(data.ArrayLayout(5, N))``
        Each value's class: a distance 0..15, ZERO (16), INF (17) or NAN (18).
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {
            "i": In(cfg.budget - cfg.header_bits),
            "d": In(VLC_DEPTH_BITS),
            "mode": In(VLC_MODE_BITS),
            "cls": Out(data.ArrayLayout(class_bits(), cfg.n)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        n = cfg.n
        wins = plane_windows(cfg)
        planes = len(wins)
        code = _Code(m, self.d, self.mode, planes)
        # x[p][i]: the bit value i reads from plane p (0 once its codeword has ended).
        x = [[None] * n for _ in range(planes)]
        run = [[Const(1, 1)] * n]          # run[q][i]: value i's first q bits are ones
        act = [Const(1, 1)] * n
        off = Const(0, 1)
        count = Const(n, (n).bit_length())
        for p in range(planes):
            start = n * min(p, 1)
            if p == 0:
                bits = [self.i[v] for v in range(n)]
            else:
                mask = Signal(n, name=f"act{p}")
                m.d.comb += mask.eq(Cat(act))
                if p == 1:
                    win = self.i[n:2 * n]
                else:
                    win = window(m, self.i[start:], off, wins[p], name=f"w{p}")
                sels, _, _ = compaction_control(m, mask, n, name=f"c{p}")
                routed = expand(m, sels, [win[b] for b in range(wins[p])], n, name=f"r{p}")
                bits = [mask[v] & routed[v] if routed[v] is not None else Const(0, 1)
                        for v in range(n)]
                count_p = csa_sum(m, [mask[v] for v in range(n)], n.bit_length(), name=f"cnt{p}")
                nxt = Signal(10, name=f"off{p + 1}")
                m.d.comb += nxt.eq(off + count_p) if p > 1 else nxt.eq(count_p)
                off = nxt
            for v in range(n):
                s = Signal(name=f"x{p}_{v}")
                m.d.comb += s.eq(bits[v])
                x[p][v] = s
            run.append([run[p][v] & x[p][v] for v in range(n)])
            if p + 1 < planes:
                act = [self._inner(m, code, [x[q][v] for q in range(p + 1)], run[p + 1][v], p + 1)
                       for v in range(n)]
        for v in range(n):
            m.d.comb += self.cls[v].eq(self._leaf(m, code, [x[q][v] for q in range(planes)],
                                                   [run[q][v] for q in range(planes + 1)], v))
        return m

    @staticmethod
    def _inner(m, code, xs, run, length):
        """Whether the prefix ``xs`` (``length`` bits) is inside a codeword of the code."""
        terms = [run & code.run_inner[length]]
        if length == 1:
            terms.append(~xs[0] & (code.jbig | code.j3 | code.m3))
        if length == 2:
            terms.append(code.jbig & xs[0] & ~xs[1])
            terms.append(code.j2 & code.m3 & ~xs[0] & xs[1])
        # The window-0 codeword c0 of modes 1 and 2, then its escape bit and eb more bits.
        for l0, flag, c0m in _c0_patterns(code, xs):
            if length == l0:
                terms.append(code.opos & flag & c0m)
            elif l0 < length <= l0 + 3:
                room = Const(1, 1) if length == l0 + 1 else code.o5
                if length == l0 + 3:       # mode 2 escapes 0..4: 11x is no codeword, ZERO
                    room = room & ~(xs[l0 + 1] & xs[l0 + 2])
                terms.append(code.opos & flag & c0m & xs[l0] & room)
        s = Signal(name="inner")
        m.d.comb += s.eq(Cat(terms).any())
        return s

    @staticmethod
    def _leaf(m, code, xs, run, v):
        """The class of a value from all the bits it read."""
        planes = len(xs)
        x0, x1, x2 = xs[0], xs[1], xs[2]
        # Leading ones r, in binary, for the unary tails 1^r 0 (w = r + 2).
        r = Signal(5, name=f"r{v}")
        last = [run[q] & ~run[q + 1] for q in range(planes)] + [run[planes]]   # one-hot r
        m.d.comb += r.eq(Cat(Cat(last[q] for q in range(1, planes + 1) if (q >> b) & 1).any()
                             for b in range(5)))
        # 1^zlen reached (the ZERO codeword of j >= 3), and one or two ones more (mode 3).
        z_at = [Cat(run[q] & code.zsel[q - k] for q in range(k, planes + 1)).any()
                for k in range(3)]
        c0 = Cat(flag & c0m for _, flag, c0m in _c0_patterns(code, xs)).any()
        e = Cat(flag & xs[l0] for l0, flag, _ in _c0_patterns(code, xs)).any()
        y = [Cat(flag & xs[l0 + 1 + b] for l0, flag, _ in _c0_patterns(code, xs)).any()
             for b in range(3)]                       # escape bits, first bit first
        esc = code.opos & c0 & e
        y_val = Signal(4, name=f"y{v}")
        m.d.comb += y_val.eq(Mux(code.o5, Cat(y[2], y[1], y[0]), y[0]))
        w = Signal(4, name=f"w{v}")
        zero = Signal(name=f"zero{v}")
        special = Signal(name=f"special{v}")
        nan = Signal(name=f"nan{v}")
        with m.If(c0):
            m.d.comb += [w.eq(Mux(esc, ~y_val, 0)), zero.eq(esc & code.o5 & (y_val >= 5))]
        with m.Elif(code.jbig | code.j3):
            with m.If(~x0):
                m.d.comb += w.eq(1 + x1)
            with m.Elif(~x1):
                m.d.comb += w.eq(3)                        # 101 (jbig; 10 is c0 at j = 3)
            with m.Elif(z_at[0]):
                m.d.comb += [zero.eq(~code.m3 | ~z_at[1]), special.eq(code.m3 & z_at[1]),
                             nan.eq(z_at[2])]
            with m.Else():
                m.d.comb += w.eq(r + 2)
        with m.Elif(code.j2):
            with m.If(~x0):                                # ZERO is 0; mode 3: 00, 01b
                m.d.comb += [zero.eq(~code.m3 | ~x1), special.eq(code.m3 & x1), nan.eq(x2)]
            with m.Else():
                m.d.comb += w.eq(1)                        # 10 (11 is c0)
        with m.Else():                                     # j = 1: only mode 3 (D = 0) here
            with m.If(~code.m3 | ~x0):
                m.d.comb += [zero.eq(~code.m3 | ~x1), w.eq(0)]
            with m.Else():
                m.d.comb += [special.eq(1), nan.eq(x1)]
        t = Signal(4, name=f"t{v}")
        m.d.comb += t.eq(w + code.offset)
        return Mux(zero, ZERO, Mux(special, Mux(nan, NAN, INF), t))


def _c0_patterns(code, xs):
    """``(length, code flag, match)`` of the window-0 codeword c0 for each window size:
    ``1`` (j = 1), ``11`` (j = 2), ``10`` (j = 3), ``100`` (j >= 4)."""
    out = [(1, code.j1 & ~code.m3, xs[0])]    # mode 3 at D = 0 has no c0 of one bit
    if len(xs) >= 2:
        out += [(2, code.j2, xs[0] & xs[1]), (2, code.j3, xs[0] & ~xs[1])]
    if len(xs) >= 3:
        out.append((3, code.jbig, xs[0] & ~xs[1] & ~xs[2]))
    return out
