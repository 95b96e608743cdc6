"""Stage ``precision`` (``significance`` policy): the largest precision whose widths fit."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage
from .prefix import csa_sum, less_equal, prefix_sums

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


class Precision(Stage):
    """The precision P of a block (golden model: ``precision``).

    P is the largest ``p`` in ``0 .. P_max = M + 2**K - 1`` with ``S(p) <= R``, where
    ``S(p) = sum_i clamp(p - d_i, 0, M)`` over the values that are not zero-marked and
    R = B - H - N * (present zero/delta/sign planes).

    Structure. Let ``C(q)`` be the number of non-zero-marked values with ``d <= q``
    (``C(q) = C(2**K - 1)`` for larger q) and ``A(p) = C(0) + ... + C(p - 1)`` the ramp sum, so
    that ``sum_i max(p - d_i, 0) = A(p)`` and ``S(p) = A(p) - A(p - M)``.

    * ``2**K`` carry-save popcounts of N bits give the ``C(q)``;
    * a chain of ``P_max`` adders gives ``A(1) .. A(P_max)``;
    * S is non-decreasing, so P is found by a binary search, MSB first, over its F bits: bit b
      is ``S(t) <= R`` for the trial ``t`` = (bits found so far) + ``2**b``, i.e.
      ``A(t) <= R + A(t - M)``. The operands of that one comparison are picked by the bits
      found so far (muxes), and the comparison is a ripple. Trials above ``P_max`` fail, and
      trials with ``N * min(t, M) <= B - H - N * (K + 2)`` always fit (``S(t) <= N * min(t, M)``).

    F comparators instead of one per p. The ramp starts from an offset Q (a few zero marks)
    instead of 0; Q appears on both sides of every comparison, so the function is the same,
    but abc maps the stage smaller with the offset than without.

    Why this form: yosys' default abc script runs ``&fraig -x``, which spends hours on
    nodes that are equal only by an arithmetic fact it must prove by SAT. The obvious
    structures all have such nodes: a thermometer ``t_p = S(p) <= R`` encoded to binary
    (``t_p & t_(p+1) = t_(p+1)`` because S is monotone), window sums
    ``S(p + 1) = S(p) + C(min(p, 2**K-1)) - C(p - M)`` (subtractors), yosys' ``<=``. The
    binary search computes every function once, with no subtractor; the stage synthesizes
    in seconds.

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

    POLICY = "significance"

    def ports(self, cfg):
        n, k = cfg.n, cfg.k
        return {
            "delta": In(data.ArrayLayout(k, n)),
            "zero": In(data.ArrayLayout(1, n)),
            "present": In(cfg.mask_bits),
            "p": Out(cfg.policy_bits),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, mb, pmax = cfg.n, cfg.fmt.man_bits, cfg.max_precision
        nd = 1 << cfg.k
        top = cfg.budget - cfg.header_bits
        r_min = top - n * cfg.mask_bits
        room, _ = mantissa_room(m, self.present, cfg)

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
        nnz = cum[nd - 1]

        # Ramp A'(p) = Q + A(p) up to p = 2**K, from an offset Q that cancels in every
        # comparison (see the class docstring): Q is a few input bits, the zero marks.
        top_p = min(pmax, nd)
        qw = (n * top_p).bit_length()
        w = (top + (1 << qw) + n * pmax).bit_length() + 1
        # A log-depth prefix tree: the serial chain set most of the stage's depth.
        q0 = Cat(*[self.zero[i] for i in range(min(qw, n))])
        qmax = (1 << len(q0)) - 1
        ramp = prefix_sums(m, [q0] + cum[:top_p], lambda i: qmax + n * max(i - 1, 0) if i else 0,
                           tree="brent-kung", name="a")[1:]
        # Above p = 2**K, A(p) = A(2**K) + (p - 2**K) * (non-zero-marked values).
        mult = {0: Const(0, 1), 1: nnz}
        for j in range(2, pmax - nd + 1):
            if j % 2 == 0:
                mult[j] = mult[j // 2] << 1
            else:
                mj = Signal((n * j).bit_length(), name=f"nnz_x{j}")
                m.d.comb += mj.eq(mult[j - 1] + nnz)
                mult[j] = mj

        # Binary search, MSB first: bit b is S(t) <= R, i.e. A'(t) <= R + A'(t - M).
        never = Const((1 << w) - 1, w)  # larger than any R + A'(t - M)
        found = []  # bits of P found so far, MSB first
        for b in reversed(range(cfg.policy_bits)):
            xs, js, ys = [], [], []
            for prefix in range(1 << len(found)):
                t = (prefix << (b + 1)) | (1 << b)
                if t > pmax:                    # fails
                    xs.append(never)
                    js.append(Const(0, 1))
                    ys.append(Const(0, 1))
                elif n * min(t, mb) <= r_min:   # fits whatever the block holds
                    xs.append(Const(0, 1))
                    js.append(Const(0, 1))
                    ys.append(Const(0, 1))
                else:
                    xs.append(ramp[min(t, nd)])
                    js.append(mult[max(t - nd, 0)])
                    ys.append(ramp[max(t - mb, 0)])
            x = _select(m, found, xs, w, f"x{b}")
            j = _select(m, found, js, w, f"j{b}")
            y = _select(m, found, ys, w, f"y{b}")
            bit = Signal(name=f"pbit{b}")
            if isinstance(x, Const):
                m.d.comb += bit.eq(x.value == 0)
            else:
                if not (isinstance(j, Const) and j.value == 0):
                    xj = Signal(w, name=f"xj{b}")
                    m.d.comb += xj.eq(x + j)
                    x = xj
                limit = Signal(w, name=f"limit{b}")
                m.d.comb += [
                    limit.eq(room + y),
                    bit.eq(less_equal(m, x, limit, name=f"fit{b}_")),
                ]
            found.append(bit)
        m.d.comb += self.p.eq(Cat(*reversed(found)))
        return m


def _select(m, sel_msb_first, options, width, name):
    """``options[index]``, ``index`` given by the bits ``sel_msb_first`` (a tree of muxes)."""
    if all(isinstance(o, Const) and o.value == options[0].value for o in options):
        return Const(options[0].value, width)
    level = [Value.cast(o) for o in options]
    for j, sel in enumerate(reversed(sel_msb_first)):  # the index LSB first
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
