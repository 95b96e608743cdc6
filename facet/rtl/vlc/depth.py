"""Stage ``depth`` (`vlc` policy): the significance depth D and the code mode of a block."""

import functools

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS, VLC_OFFSETS
from ...vlc_code import DEPTHS, INF, NAN, ZERO, codebook
from .._common import Stage, any_bits
from ..prefix import add_fast, csa_sum, less_equal_tree, sklansky_steps
from .histogram import hist_layout
from .linear import Sums

__all__ = ["cost_bits", "possible", "candidate", "Depth"]

#: The longest tail of any code (head 11 of mode 3 at D = 15: 15 classes).
_TAIL_MAX = 4
#: Carry-save sums of log depth: shallowest bits first, then a prefix adder.
_FAST = {"adder": add_fast, "levels": True}


def cost_bits(cfg):
    """Bits of a code cost (header, codes and signs): at most H + N * (2 + 4 + 1)."""
    return (cfg.header_bits + cfg.n * (2 + _TAIL_MAX + 1)).bit_length()


@functools.lru_cache(maxsize=None)
def candidate(mode, d):
    """The tail part of the cost of code (mode, D), ``f10 * S(G10) + f11 * (N - cum(x))``:
    ``(f10, g10, f11, x)`` with g10 the distances of head 10 and ``0 .. x`` the distances
    of heads 00, 01 and 10 (every other value, ZERO and Inf/NaN among them, has head 11)."""
    book = codebook(mode, d)
    heads = {}
    for c, word in book.items():
        heads.setdefault(word[:2], []).append(c)
    f = {h: len(book[cs[0]]) - 2 for h, cs in heads.items()}
    g10 = tuple(sorted(c for c in heads.get("10", []) if c < DEPTHS))
    low = sorted(c for h in ("00", "01", "10") for c in heads.get(h, []) if c < DEPTHS)
    assert low == list(range(len(low)))          # a prefix of the distances
    return f.get("10", 0), g10, f.get("11", 0), len(low) - 1


def _weights(cfg, mode, d):
    """Bits each class costs at (mode, D), mantissa at P = D - 1 included."""
    book = codebook(mode, d)
    out = {}
    for c in list(range(DEPTHS)) + [ZERO, INF, NAN]:
        if c in (INF, NAN) and mode != 3:
            continue
        kept = c < DEPTHS and c <= d
        word = book[c] if (kept or c >= ZERO) else book[ZERO]
        out[c] = len(word) + (kept or c in (INF, NAN)) + \
            (min(max(d - 1 - c, 0), cfg.fmt.man_bits) if kept else 0)
    return out


def possible(cfg, mode, d):
    """Whether some block of N values can take (mode, D): the mode's offset is at most D, and
    the class D itself (when D > 0) plus N - 1 values of the cheapest class fit."""
    if mode < 3 and VLC_OFFSETS[mode] > d:
        return False
    w = _weights(cfg, mode, d)
    least = min(w.values())
    return cfg.header_bits + (cfg.n - 1) * least + (w[d] if d else least) <= cfg.budget


class Depth(Stage):
    """D, the mode and the code cost of a block (golden model: :func:`facet.vlc.depth`).

    With two-bit heads the cost of a candidate (D, m) at P = D - 1 is

        C - H - 2N = sp + cum(D) + mant(D) + f10 * S(G10) + f11 * (N - cum(x))

    (sp: Inf and NaN, cum(x) = n_0 + ... + n_x, mant(D) = Q(D - 2) - Q(D - 2 - M) the
    mantissas at D - 1, :mod:`.linear`). The first three terms do not depend on the mode:
    per D one carry-save sum gives the room ``R(D) = B - H - 2N - sp - cum(D) - mant(D)``.
    The tail term ``T(m, D)`` takes few distinct values (f10 and f11 are steps of D, the
    group sums are shared by all D >= o + 3 of a mode): each is built once and compared with
    the room of every D that uses it. Candidates no block can take (:func:`possible`) are
    not built.

    D is the largest D that is present (or 0) and has a fitting allowed mode (mode 3 for a
    block with Inf/NaN, else 0..2), a priority pick. The mode is chosen only there: the tail
    terms of the picked D (AND-OR selects over the distinct terms of each mode), the
    cheapest by three compares side by side (strictly smaller wins: the lowest mode on a
    tie), and the code cost ``H + 2N + sp + cum(D) + T``.

    Every step has log depth, as the stage sits between two registers of the encoder and
    bounds its clock: cum and Q are prefix trees (:class:`.linear.Sums`), carry-save sums
    reduce shallowest bits first into a prefix adder (:func:`~facet.rtl.prefix.add_fast`),
    compares are trees (:func:`~facet.rtl.prefix.less_equal_tree`) and the pick ORs the
    fits above each D with a suffix tree.

    Members
    -------
    hist : ``In(data.ArrayLayout(bitlength(N), NCLASS))``
        Values per class.
    d : ``Out(4)``, mode : ``Out(2)``
        Depth and mode.
    cost : ``Out(cost_bits(cfg))``
        Header, class codes and sign bits at (D, mode).
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"hist": In(hist_layout(cfg)), "d": Out(VLC_DEPTH_BITS),
                "mode": Out(VLC_MODE_BITS), "cost": Out(cost_bits(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, h = cfg.n, cfg.fmt.man_bits, cfg.header_bits
        room0 = cfg.budget - h - 2 * n
        tmax = n * (3 + _TAIL_MAX)                  # f10 * S10 + f11 * rest <= 4N
        tw = (tmax + 1).bit_length()                # tail terms, all ones = "not built"
        w = max(room0.bit_length(), (n * (1 + mb) - room0).bit_length(), tw) + 1
        sums = Sums(m, self.hist, n, w, name="lin")
        special = Signal(name="special")
        m.d.comb += special.eq(any_bits(self.hist[INF]) | any_bits(self.hist[NAN]))

        def group(classes):
            """Shared signal of the count of ``classes`` (a prefix: cum)."""
            if list(classes) == list(range(len(classes))):
                return sums.signal(("cum", len(classes) - 1))
            return sums.signal(("low", tuple(int(c in classes) for c in range(max(classes) + 1))))

        rests, tails = {}, {}

        def rest(x):
            """N - cum(x): the values of head 11."""
            if x not in rests:
                r = Signal(n.bit_length(), name=f"rest{x}")
                m.d.comb += r.eq(n - sums.signal(("cum", x)))
                rests[x] = r
            return rests[x]

        def tail(key):
            f10, g10, f11, x = key
            if key not in tails:
                parts = [(group(g10), b) for b in range(2) if (f10 >> b) & 1] + \
                        [(rest(x), b) for b in range(3) if (f11 >> b) & 1]
                tails[key] = csa_sum(m, parts, tw, name=f"tail{len(tails)}", **_FAST) if parts \
                    else Const(0, tw)
            return tails[key]

        built = {}       # (mode, d) -> tail signal
        oks, cums = [], []
        for d in range(DEPTHS):
            modes = [mode for mode in range(4) if possible(cfg, mode, d)]
            if not modes:
                oks.append(Const(0, 1))
                continue
            terms = [(-1, ("sp",)), (-1, ("cum", d))]
            terms += [(-1, ("Q", d - 2))] if d >= 2 else []
            terms += [(1, ("Q", d - 2 - mb))] if d - 2 - mb >= 0 else []
            room = sums.evaluate(room0, terms, f"room{d}")
            fits = {}
            for mode in modes:
                built[mode, d] = t = tail(candidate(mode, d))
                fits[mode] = ~room[w - 1] & less_equal_tree(m, t, room[:w - 1],
                                                                name=f"fit{mode}_{d}")
            plain = Cat(*[fits[k] for k in fits if k < 3]).any() if any(k < 3 for k in fits) \
                else Const(0, 1)
            ok = Signal(name=f"ok{d}")
            m.d.comb += ok.eq(Mux(special, fits.get(3, Const(0, 1)), plain)
                              & (any_bits(self.hist[d]) if d else 1))
            oks.append(ok)

        # Priority pick of the largest D that is present (or 0) and fits: D is picked when no
        # higher D fits, an OR of the D above it (a Sklansky suffix tree, log2(16) levels).
        above = _suffix_any(m, oks)
        pick = {}
        for d in reversed(range(DEPTHS)):
            s = Signal(name=f"pick{d}")
            m.d.comb += s.eq((oks[d] if d else 1) & ~above[d])
            pick[d] = s
        m.d.comb += self.d.eq(Cat(*[Cat(*[s for d, s in pick.items() if (d >> b) & 1]).any()
                                     for b in range(VLC_DEPTH_BITS)]))

        def select(values, width, name):
            """AND-OR select of ``values[d]`` by the pick."""
            out = Signal(width, name=name)
            m.d.comb += out.eq(Cat(*[
                Cat(*[values[d][b] & s for d, s in pick.items() if d in values]).any()
                for b in range(width)]))
            return out

        def select_tail(mode):
            """The tail term of ``mode`` at the picked D (all ones if it is not built there):
            an AND-OR over the distinct terms, each enabled by the picks of its depths."""
            groups = {}
            for d in range(DEPTHS):
                key = candidate(mode, d) if (mode, d) in built else None
                groups.setdefault(key, []).append(pick[d])
            out = Signal(tw, name=f"tsel{mode}")
            terms = []
            for key, picks in groups.items():
                on = Signal(name=f"on{mode}_{len(terms)}")
                m.d.comb += on.eq(Cat(*picks).any())
                terms.append((tails[key] if key is not None else Const(-1, tw), on))
            m.d.comb += out.eq(Cat(*[Cat(*[v[b] & on for v, on in terms]).any()
                                     for b in range(tw)]))
            return out

        sel = [select_tail(k) for k in range(4)]
        # The cheapest of modes 0..2 at the picked D, the lowest on a tie: three compares side
        # by side, then a one-hot choice (mode 3 for a block with Inf/NaN).
        le01, le02, le12 = (less_equal_tree(m, sel[a], sel[b], name=f"m{a}{b}")
                            for a, b in ((0, 1), (0, 2), (1, 2)))
        choice = [Signal(name=f"choose{k}") for k in range(4)]
        m.d.comb += [choice[0].eq(~special & le01 & le02), choice[1].eq(~special & ~le01 & le12),
                     choice[2].eq(~special & Mux(le01, ~le02, ~le12)), choice[3].eq(special)]
        best = Signal(tw, name="best")
        m.d.comb += best.eq(Cat(*[Cat(*[sel[k][b] & choice[k] for k in range(4)]).any()
                                  for b in range(tw)]))
        m.d.comb += self.mode.eq(Cat(choice[1] | choice[3], choice[2] | choice[3]))
        cum = select({d: sums.signal(("cum", d)) for d in range(DEPTHS)
                      if d in {dd for _, dd in built}}, n.bit_length(), "csel")
        m.d.comb += self.cost.eq(csa_sum(m, [Const(h + 2 * n, len(self.cost)), sums.signal(("sp",)),
                                             cum, best], len(self.cost), name="cost", **_FAST))
        return m


def _suffix_any(m, bits):
    """``out[i]``: the OR of ``bits[i + 1:]``, by a Sklansky tree over the reversed list."""
    n = len(bits)
    inc = list(reversed(bits))           # inc[j]: OR of the reversed bits lo .. j
    for lv, j, src in sklansky_steps(n):
        s = Signal(name=f"above{lv}_{n - 1 - j}")
        m.d.comb += s.eq(inc[j] | inc[src])
        inc[j] = s
    incl = list(reversed(inc))           # incl[i]: OR of bits[i:]
    return [incl[i + 1] if i + 1 < n else Const(0, 1) for i in range(n)]
