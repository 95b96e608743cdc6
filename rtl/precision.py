"""Stage ``precision`` (``significance`` policy): the largest precision whose widths fit."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._common import check_config
from .prefix import csa_sum, less_equal

__all__ = ["mantissa_room", "Precision"]


def mantissa_room(m, present, cfg, *, name="room"):
    """R = B - H - N * (present zero/delta/sign planes), the bits left for mantissas.

    Returns ``(room, pc)``: R as a signal of ``bitlength(B - H)`` bits, and the number of
    present planes. N is a power of two, so R is a constant minus ``pc`` shifted left.
    """
    top = cfg.budget - cfg.header_bits
    pc = Signal(range(len(present) + 1), name=f"{name}_pc")
    m.d.comb += pc.eq(sum(present[j] for j in range(len(present))))
    room = Signal(top.bit_length(), name=name)
    m.d.comb += room.eq(top - (pc << (cfg.n.bit_length() - 1)))
    return room, pc


class Precision(wiring.Component):
    """The precision P of a block (golden model: ``precision``).

    P is the largest ``p`` in ``0 .. M + 2**K - 1`` with ``S(p) <= R``, where
    ``S(p) = sum_i clamp(p - d_i, 0, M)`` over the values that are not zero-marked and
    R = B - H - N * (present zero/delta/sign planes).

    Structure. With ``C(q)`` = non-zero-marked values with ``d <= q`` (``C(q) = C(2**K - 1)``
    for ``q >= 2**K - 1``) and the ramp sum ``A(p) = C(0) + ... + C(p - 1)``,
    ``sum_i max(p - d_i, 0) = A(p)`` and ``S(p) = A(p) - A(p - M)``. So:

    * ``2**K`` carry-save popcounts of N bits give ``C(q)`` (``d_i <= q``, thermometer-coded);
    * a chain of adders gives ``A(1) .. A(P_max)``;
    * ``t_p = S(p) <= R`` is ``A(p) <= R`` for ``p <= M`` and ``A(p) <= R + A(p - M)`` above,
      one ripple comparator each (plus one adder above M). Only the p where it can fail are
      built: ``S(p) <= N * min(p, M)``, so p with ``N * min(p, M) <= B - H - N * (K + 2)``
      always fit (the fit rule makes ``p = 1`` one of them);
    * S is monotone, so the ``t_p`` form a thermometer; P is the position of its last one,
      encoded from the one-hot edge ``t_p & ~t_(p+1)``.

    The ramp form has no subtractor and no two circuits for one function. Window sums
    (``S(p + 1) = S(p) + C(min(p, 2**K - 1)) - C(p - M)``) are as small, but their subtractors
    make abc's ``&fraig -x``, which yosys' default abc script runs, take hours on this stage;
    yosys' own ``<=`` comparators do the same, hence :func:`~facet.rtl.prefix.less_equal`.

    Parameters
    ----------
    cfg : :class:`facet.config.Config`
        Compressor configuration (policy ``significance``).

    Members
    -------
    delta : ``In(data.ArrayLayout(K, N))``
        Exponent deltas, as :class:`Deltas` gives them.
    zero : ``In(data.ArrayLayout(1, N))``
        Zero marks.
    present : ``In(K + 2)``
        Presence bits of the zero, delta and sign planes (plane ``j`` on bit ``j``).
    p : ``Out(F)``
        The precision P, ``F = cfg.policy_bits`` bits.
    """

    def __init__(self, cfg):
        self._cfg = _check_significance(cfg)
        n, k = cfg.n, cfg.k
        super().__init__({
            "delta": In(data.ArrayLayout(k, n)),
            "zero": In(data.ArrayLayout(1, n)),
            "present": In(cfg.mask_bits),
            "p": Out(cfg.policy_bits),
        })

    @property
    def cfg(self):
        return self._cfg

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, pmax = cfg.n, cfg.fmt.man_bits, cfg.max_precision
        nd = 1 << cfg.k
        room, _ = mantissa_room(m, self.present, cfg)
        r_min = cfg.budget - cfg.header_bits - n * cfg.mask_bits

        # C(q): non-zero-marked values with delta <= q.
        nz = [~self.zero[i] for i in range(n)]
        cum = []
        for q in range(nd):
            bits = nz
            if q < nd - 1:
                bits = []
                for i in range(n):
                    b = Signal(name=f"le{q}_{i}")
                    m.d.comb += b.eq(nz[i] & (self.delta[i] <= q))
                    bits.append(b)
            cum.append(csa_sum(m, bits, n.bit_length(), name=f"c{q}"))

        # Ramp sums A(p).
        ramp = [Const(0, 0)]
        for p in range(1, pmax + 1):
            a = Signal((n * p).bit_length(), name=f"a{p}")
            m.d.comb += a.eq(ramp[p - 1] + cum[min(p - 1, nd - 1)])
            ramp.append(a)

        # Binary search, MSB first: P[b] = t(P[F-1:b+1] | 2**b). The operands of the one
        # comparison per bit are selected by the bits found so far.
        fits = lambda p: n * min(p, mb) <= r_min  # S(p) <= R whatever the block holds
        top = cfg.budget - cfg.header_bits
        w = (top + n * pmax + 1).bit_length()
        never = Const(top + n * pmax + 1, w)  # larger than any R + A(p - M)
        found = []  # P bits found so far, MSB first
        for b in reversed(range(cfg.policy_bits)):
            xs, ys = [], []
            for prefix in range(1 << len(found)):
                trial = (prefix << (b + 1)) | (1 << b)
                if trial > pmax:
                    xs.append(never)
                    ys.append(Const(0, 1))
                elif fits(trial):
                    xs.append(Const(0, 1))
                    ys.append(Const(0, 1))
                else:
                    xs.append(ramp[trial])
                    ys.append(ramp[trial - mb] if trial > mb else Const(0, 1))
            x = _select(m, found, xs, w, f"x{b}")
            y = _select(m, found, ys, w, f"y{b}")
            if isinstance(x, Const) and isinstance(y, Const):
                bit = Const(int(x.value <= y.value + top), 1) if x.value in (0, never.value) else None
                assert bit is not None
                if x.value != 0:
                    bit = Const(0, 1)
            else:
                limit = Signal(w, name=f"lim{b}")
                m.d.comb += limit.eq(room + y)
                bit = less_equal(m, x, limit, name=f"fit{b}_")
            pb = Signal(name=f"pbit{b}")
            m.d.comb += pb.eq(bit)
            found.append(pb)
        m.d.comb += self.p.eq(Cat(*reversed(found)))
        return m


def _select(m, sel_msb_first, options, width, name):
    """``options[index]`` where ``index`` is the bits ``sel_msb_first`` (MSB first)."""
    if all(isinstance(o, Const) and o.value == options[0].value for o in options):
        return Const(options[0].value, width)
    level = [Value.cast(o) for o in options]
    for j, sel in enumerate(reversed(sel_msb_first)):  # LSB of the index first
        nxt = []
        for i in range(0, len(level), 2):
            a, c = level[i], level[i + 1]
            if isinstance(a, Const) and isinstance(c, Const) and a.value == c.value:
                nxt.append(a)
                continue
            s = Signal(width, name=f"{name}_{j}_{i // 2}")
            m.d.comb += s.eq(Mux(sel, c, a))
            nxt.append(s)
        level = nxt
    return level[0]


def _or(vals):
    vals = [v for v in vals if not (isinstance(v, Const) and v.value == 0)]
    if not vals:
        return Const(0, 1)
    out = vals[0]
    for v in vals[1:]:
        out = out | v
    return out


def _check_significance(cfg):
    check_config(cfg)
    if cfg.policy != "significance":
        raise ValueError(f"this stage belongs to the significance policy, not {cfg.policy!r}")
    return cfg
