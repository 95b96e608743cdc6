"""Stage ``precision`` (`vlc` policy, encoder and decoder): the largest precision that fits."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from ...config import VLC_DEPTH_BITS
from ...vlc_code import DEPTHS
from .._common import Stage
from ..prefix import add_fast, csa_rows, prefix_sums
from .depth import cost_bits
from .histogram import count_bits, hist_layout

__all__ = ["precision_shape", "left_shape", "Precision"]


def precision_shape(cfg):
    """P is in -1 .. 15 + M: signed."""
    return signed((DEPTHS - 1 + cfg.fmt.man_bits).bit_length() + 1)


def left_shape(cfg):
    """The bits over, B - C(P): at most B, negative only for foreign blocks, down to
    B - (largest code cost) - N * M (the mantissas at P = D - 1)."""
    low = (1 << cost_bits(cfg)) + cfg.n * cfg.fmt.man_bits
    return signed(max(cfg.budget, low).bit_length() + 1)


class Precision(Stage):
    """P and the bits left over, L (golden model: :func:`facet.vlc.precision`).

    Let ``b_s`` be the count of class ``D - s`` (s = 0 .. 15), the histogram shifted by D (a
    log shifter of 4 stages). At P = D - 1 the mantissas take ``sum_s b_s * clamp(s - 1, 0, M)``
    bits, a sum with constant weights (the classes s > M, all of weight M, are counted first);
    with the cost it stays in carry-save form, and one fast adder gives
    ``R' = B - cost - mant + b_0``. Going from P = D - 1 to D - 1 + u adds
    ``extra(u) = E(u) - b_0`` mantissa bits, where ``E(u) = H(0) + ... + H(u - 1)`` and
    ``H(v) = b_0 + ... + b_(M - v)``: two Sklansky prefix trees, one over ``b`` and one over
    ``H``. Every ``L(u) = R' - E(u)`` (``E(0) = b_0``) comes from its own fast subtractor, whose
    sign says whether u fits; the fits form a prefix (the sums grow with u), so an AND-OR
    pick where they step gives L and ``P = D - 1 + u`` (each ``D - 1 + u`` formed beside the
    sums). Logic depth: the shifter, the two trees, one fast adder and the pick.

    Members
    -------
    hist : ``In(data.ArrayLayout(bitlength(N), NCLASS))``
        Values per class.
    d : ``In(4)``
        The depth D.
    cost : ``In(cost_bits(cfg))``
        Header, class codes and signs.
    p : ``Out(precision_shape(cfg))``, left : ``Out(left_shape(cfg))``
        P and L.
    """

    POLICY = "vlc"

    def ports(self, cfg):
        return {"hist": In(hist_layout(cfg)), "d": In(VLC_DEPTH_BITS), "cost": In(cost_bits(cfg)),
                "p": Out(precision_shape(cfg)), "left": Out(left_shape(cfg))}

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, cb = cfg.n, cfg.fmt.man_bits, count_bits(cfg)
        span = min(mb, DEPTHS - 1) + 1            # b_0 .. b_(span - 1) can be nonzero
        # b_s = hist[D - s] = a[s + (15 - D)], a reversed: a log shifter by ~D.
        vec = [self.hist[DEPTHS - 1 - j] for j in range(DEPTHS)]
        sh = ~self.d
        for k in range(VLC_DEPTH_BITS):
            step = 1 << k
            nxt = []
            for s in range(len(vec)):
                v = Signal(cb, name=f"shift{k}_{s}")
                src = vec[s + step] if s + step < len(vec) else Const(0, cb)
                m.d.comb += v.eq(Mux(sh[k], src, vec[s]))
                nxt.append(v)
            vec = nxt
        b = vec[:span]
        # X = cost + (mantissa bits at P = D - 1) in carry-save form: the classes s > M all
        # weigh M, so their count is summed first; then R' = B + b_0 - X = B + b_0 + ~X0 + ~X1
        # + 2, resolved by one fast adder.
        lw = left_shape(cfg).width
        # One signed width for R' and every L(u) = R' - E(u), down to B - cost - N * (2M + 1).
        rw = max(cfg.budget + n, (1 << cost_bits(cfg)) + n * (2 * mb + 1)).bit_length() + 1
        groups = [([vec[s]], min(s - 1, mb)) for s in range(2, min(mb + 1, DEPTHS))]
        if mb + 1 < DEPTHS:
            hi = vec[mb + 1:]
            groups.append((csa_rows(m, hi, cb, name="over") if len(hi) > 2 else hi, mb))
        terms = [self.cost] + [(x, j) for xs, w in groups for x in xs
                               for j in range(w.bit_length()) if (w >> j) & 1]
        x0, x1 = csa_rows(m, terms, rw, name="mant")
        r0, r1 = csa_rows(m, [b[0], ~x0, ~x1, Const((cfg.budget + 2) % (1 << rw), rw)], rw,
                          name="room")
        room = add_fast(m, r0, r1, rw, name="roomf")
        # E(u) = b_0 + extra(u) = H(0) + ... + H(u - 1) with H(v) = b_0 + ... + b_(M - v):
        # two prefix trees (the prefix counts pre of b, then the prefix sums of H).
        # Then L(u) = R' - E(u) for every u at once: its sign is the fit, so the compare
        # and the subtraction of the pick are one fast adder, off the path of the pick.
        # Counts of one block: no partial sum exceeds N (cap).
        pre = prefix_sums(m, b, lambda i: n * i, tree=True, cap=n, name="pre")[1:]
        h = [pre[min(mb - v, span - 1)] for v in range(mb + 1)]
        ext = [b[0]] + prefix_sums(m, h, lambda i: n * i, tree=True, name="ext")[1:]
        lefts = [add_fast(m, room, e, rw, sub=True, name=f"left{u}") for u, e in enumerate(ext)]
        # The fits are a thermometer: AND-OR picks of L(u) and D - 1 + u where it steps.
        fits = [Const(1, 1)] + [~lf[rw - 1] for lf in lefts[1:]] + [Const(0, 1)]
        onehot = [fits[u] & ~fits[u + 1] for u in range(mb + 2)]
        pw, d = len(self.p), Cat(self.d, Const(0, 1)).as_signed()
        ps = [Signal(pw, name=f"p{u}") for u in range(mb + 2)]
        m.d.comb += [ps[u].eq(d + (u - 1)) for u in range(mb + 2)]

        def pick(vals, width):
            return Cat(*[Cat(*[v[bit] & onehot[u] for u, v in enumerate(vals)]).any()
                         for bit in range(width)])

        m.d.comb += [self.left.eq(pick(lefts, lw)), self.p.eq(pick(ps, pw))]
        return m

