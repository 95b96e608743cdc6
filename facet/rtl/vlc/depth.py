"""Stage ``depth`` (`vlc` policy): the significance depth D and the code mode of a block."""

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS, VLC_MODE_BITS, VLC_OFFSETS
from ...vlc_code import DEPTHS, INF, NAN, ZERO, _code_table, _cost_table
from .._common import Stage, any_bits
from ..prefix import less_equal
from .histogram import hist_layout
from .linear import Sums

__all__ = ["cost_bits", "form_bits", "Depth"]


def cost_bits(cfg):
    """Bits of a code cost (header, codes and signs): at most H + 16 * N."""
    return int(cfg.header_bits + _code_table(cfg.fmt.man_bits).max() * cfg.n).bit_length()


def _possible(cfg, mode, d):
    """Whether some block of N values fits (mode, D): every class costs at least its
    cheapest codeword, so most deep candidates never fit and are not built."""
    full, _ = _cost_table(cfg.fmt.man_bits)
    w = full[mode, d] if mode == 3 else np.delete(full[mode, d], [INF, NAN])
    offset = VLC_OFFSETS[mode] if mode < 3 else 0
    return offset <= d and cfg.header_bits + cfg.n * int(w.min()) <= cfg.budget


def form_bits(cfg):
    """Two's-complement width of the cost sums of the depth search: it holds every cost at
    P = D - 1 and, with its sign, every difference of two modes, of the candidates that
    are built."""
    full, _ = _cost_table(cfg.fmt.man_bits)
    cost = diff = 0
    for mode in range(4):
        for d in range(DEPTHS):
            if _possible(cfg, mode, d):
                cost = max(cost, cfg.header_bits + cfg.n * int(full[mode, d].max()))
                diff = max(diff, cfg.n * int(np.abs(full[mode, d] - full[0, d]).max()))
    return max(cost.bit_length(), diff.bit_length() + 1)


class Depth(Stage):
    """D, the mode and the code cost of a block (golden model: :func:`facet.vlc.depth`).

    The 64 costs ``C(D, m, D - 1)`` are not 64 weighted sums of the histogram. Per depth D:

    * ``C(D, 0, D - 1)``, as a linear form on shared prefix counts (:mod:`.linear`): a group
      sum of the classes 0..3 shared by every D >= 4, the count of class D, and the mantissa
      ramp ``Q(D - 2 - M)``; two or three terms.
    * the other modes as offsets ``C(D, m, D - 1) - C(D, 0, D - 1)``. Where the code of mode
      m has a window of 4 classes or more (D >= o + 3), the offset does not depend on D, so
      it is one sum for all those depths; only the short windows have their own.
    * the cheapest of the allowed offsets (strictly smaller wins: the lowest mode on a tie),
      once per distinct set of offsets, and for blocks with Inf/NaN the mode-3 offset.
    * the cost of the cheapest mode (one adder) and its test against B.

    Then D is the largest present D that fits (a priority pick), and the code cost is the
    picked cost less the mantissa bits at D - 1, ``Q(D - 2) - Q(D - 2 - M)``.

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
        w = form_bits(cfg)
        full, _ = _cost_table(mb)
        full = full.astype(np.int64)
        offs = VLC_OFFSETS + (0,)
        sums = Sums(m, self.hist, n, w, name="lin")
        special = Signal(name="special")
        m.d.comb += special.eq(any_bits(self.hist[INF]) | any_bits(self.hist[NAN]))

        offsets, picks = {}, {}

        def offset(weights, split, name):
            key = (tuple(int(x) for x in weights), split)
            if key not in offsets:
                offsets[key] = sums.form(weights, split=split, name=name)
            return key, offsets[key]

        def cheapest(cands):
            """(offset, mode) of the cheapest of ``cands`` = ((mode, key, signal), ...)."""
            tag = tuple((mode, key) for mode, key, _ in cands)
            if tag not in picks:
                best = cands[0][2]
                bmode = Const(cands[0][0], VLC_MODE_BITS)
                for mode, _, sig in cands[1:]:
                    diff = Signal(w, name=f"dcmp{len(picks)}_{mode}")
                    m.d.comb += diff.eq(sig - best)
                    nb = Signal(w, name=f"dbest{len(picks)}_{mode}")
                    nm = Signal(VLC_MODE_BITS, name=f"dmode{len(picks)}_{mode}")
                    m.d.comb += [nb.eq(Mux(diff[w - 1], sig, best)),
                                 nm.eq(Mux(diff[w - 1], mode, bmode))]
                    best, bmode = nb, nm
                picks[tag] = (best, bmode)
            return picks[tag]

        def possible(mode, d):
            return _possible(cfg, mode, d)

        costs, modes, oks, mants = [], [], [], []
        for d in range(DEPTHS):
            plain = [mode for mode in range(3) if possible(mode, d)]
            has3 = possible(3, d)
            if not plain and not has3:
                costs.append(Const(0, w))
                modes.append(Const(0, VLC_MODE_BITS))
                oks.append(Const(0, 1))
                mants.append(Const(0, w))
                continue
            base = full[0, d].copy()
            base[INF] = base[NAN] = base[ZERO]   # blocks without Inf/NaN: no sp term
            cands = []
            for mode in plain:
                if mode == 0:
                    cands.append((0, None, Const(0, w)))
                    continue
                diff = full[mode, d] - full[0, d]
                diff[INF] = diff[NAN] = diff[ZERO]
                key, sig = offset(diff, offs[mode] + 4, f"off{mode}_{d}")
                cands.append((mode, key, sig))
            best, bmode = cheapest(cands) if cands else (Const(0, w), Const(0, VLC_MODE_BITS))
            if has3:
                _, d3 = offset(full[3, d] - base, 4, f"off3_{d}")
                adj = Mux(special, d3, best)
            else:
                adj = best
            cost = sums.form(base, depth=d, man_bits=mb, name=f"cost{d}", extra=[Const(h, w), adj])
            mode = Signal(VLC_MODE_BITS, name=f"mode{d}")
            m.d.comb += mode.eq(Mux(special, 3, bmode))
            ok = Signal(name=f"ok{d}")
            fit = less_equal(m, cost, Const(cfg.budget, w), name=f"fit{d}_")
            allowed = Mux(special, int(has3), int(bool(plain)))
            m.d.comb += ok.eq(fit & allowed & (any_bits(self.hist[d]) if d else 1))
            costs.append(cost)
            modes.append(mode)
            oks.append(ok)
            # Mantissa bits at P = D - 1: Q(D - 2) - Q(D - 2 - M).
            terms = ([(1, ("Q", d - 2))] if d >= 2 else []) + \
                ([(-1, ("Q", d - 2 - mb))] if d - 2 - mb >= 0 else [])
            mants.append(sums._evaluate(0, terms, f"mant{d}"))

        # Priority pick of the largest D that is present (or 0) and fits.
        pick, higher = [], Const(0, 1)
        for d in reversed(range(DEPTHS)):
            s = Signal(name=f"pick{d}")
            m.d.comb += s.eq((oks[d] if d else 1) & ~higher)
            nh = Signal(name=f"higher{d}")
            m.d.comb += nh.eq(higher | oks[d])
            higher = nh
            pick.append((d, s))

        def select(values, width, name):
            out = Signal(width, name=name)
            m.d.comb += out.eq(Cat(*[
                Cat(*[values[d][b] & s for d, s in pick if b < len(values[d])]).any()
                for b in range(width)]))
            return out

        m.d.comb += self.d.eq(Cat(*[Cat(*[s for d, s in pick if (d >> b) & 1]).any()
                                     for b in range(VLC_DEPTH_BITS)]))
        m.d.comb += self.mode.eq(select(modes, VLC_MODE_BITS, "pmode"))
        cost = select(costs, w, "pcost")
        mant = select(mants, w, "pmant")
        m.d.comb += self.cost.eq(cost - mant)
        return m
