"""Counting, prefix-sum, compare and add helpers shared by the ``significance`` and ``vlc``
stages.

* :func:`csa_sum` adds many unsigned terms with a carry-save tree of full adders (3:2 counters)
  and one final carry-propagate adder. It is the cheapest way to build a popcount or a sum of
  many small numbers: one full adder per bit that goes away. :func:`csa_rows` is its
  carry-save form with the shallowest bits of a column first, for sums on a critical path.
* :func:`prefix_sums` gives the exclusive prefix sums of a list of small numbers: a chain of
  adders (the smallest), a blocked form that cuts the logic depth, or a log-depth tree (see
  its docstring).
* Compares and adders come as a ripple (:func:`less_equal`, :func:`ripple_add`: the smallest)
  and with log depth (:func:`less_equal_tree`, :func:`add_fast`: a Sklansky carry tree).
"""

import heapq
import itertools

from amaranth.hdl import Cat, Const, Signal, Value

__all__ = ["csa_sum", "csa_rows", "prefix_sums", "sklansky_steps", "less_equal",
           "less_equal_tree", "ripple_add", "add_fast"]


def _bit(v):
    return v if isinstance(v, Value) else Const(v, 1)


def sklansky_steps(n):
    """The steps of a Sklansky prefix tree over ``n`` elements, ``(level, i, j)`` in order:
    at level l, every element i in the upper half of an aligned group of ``2**(l+1)`` combines
    with j, the last element of the lower half (which that level does not change), so an
    in-place update per step leaves element i holding elements 0 .. i after
    ``bitlength(n - 1)`` levels."""
    for lv in range((n - 1).bit_length()):
        half = 1 << lv
        for i in range(n):
            if i & half:
                yield lv, i, (i & ~((half << 1) - 1)) + half - 1


def _columns(terms, width, item=lambda bit: bit):
    """The bits of ``terms`` (each a value or ``(value, shift)``) by column, as ``item(bit)``;
    columns at or above ``width`` are dropped."""
    cols = [[] for _ in range(width)]
    for t in terms:
        v, sh = t if isinstance(t, tuple) else (t, 0)
        v = Value.cast(v)
        for b in range(len(v)):
            if sh + b < width:
                cols[sh + b].append(item(v[b]))
    return cols


def csa_sum(m, terms, width, *, name="sum", adder=None, levels=False):
    """``width``-bit sum of unsigned ``terms`` (each a :class:`Value`, or ``(value, shift)``).

    Bits are reduced column by column with full adders until every column holds at most two
    bits, then one adder adds the two rows: ``adder(m, a, b, width, name=...)``,
    :func:`ripple_add` by default (:func:`add_fast` for log depth). Columns at or above
    ``width`` are dropped, so the caller must make ``width`` wide enough for the largest sum.

    By default each column is reduced completely before the next, its oldest bits first: the
    last full adder of a column takes the last carry of the column below, so a sum of many
    wide rows is about one full adder deeper per column. ``levels=True`` takes the two rows
    from :func:`csa_rows` instead, whose full adders take the shallowest bits of a column,
    so ``r`` rows need about ``log1.5(r / 2)`` full adders whatever the width.
    """
    if levels:
        row0, row1 = csa_rows(m, terms, width, name=name)
        out = Signal(width, name=name)
        m.d.comb += out.eq((adder or ripple_add)(m, row0, row1, width, name=f"{name}_fin"))
        return out
    cols = _columns(terms, width)
    n = 0
    for c in range(width):
        col = cols[c]
        while len(col) > 2:
            a, b, ci = col.pop(0), col.pop(0), col.pop(0)
            s = Signal(name=f"{name}_s{n}")
            co = Signal(name=f"{name}_c{n}")
            n += 1
            m.d.comb += [s.eq(a ^ b ^ ci), co.eq((a & b) | (ci & (a ^ b)))]
            col.append(s)
            if c + 1 < width:
                cols[c + 1].append(co)
    row0 = Cat(*[col[0] if len(col) > 0 else Const(0, 1) for col in cols])
    row1 = Cat(*[col[1] if len(col) > 1 else Const(0, 1) for col in cols])
    out = Signal(width, name=name)
    if any(len(col) > 1 for col in cols):
        m.d.comb += out.eq((adder or ripple_add)(m, row0, row1, width, name=f"{name}_fin"))
    else:
        m.d.comb += out.eq(row0)
    return out


def prefix_sums(m, values, bound, *, block=0, tree=False, cap=None, name="pre"):
    """Exclusive prefix sums ``out[i] = values[0] + ... + values[i-1]``, ``i = 0 .. len``.

    ``bound(i)`` is the largest value ``out[i]`` can take; it sets the width of every partial
    sum, so no adder is wider than needed. Returns ``len(values) + 1`` values (``out[0]`` is
    a zero-width constant).

    ``block = 0``: a chain of adders, one per element: the least area, and a depth of about
    one adder bit per element. ``block = b``: the elements are cut into groups of ``b``; each
    group sums its elements in a chain from zero, a chain over the group totals gives each
    group's offset, and each element adds its group offset to its in-group sum: more adders,
    and a longest chain of about ``b + N/b`` adders instead of ``N``.

    ``tree="sklansky"`` (or ``True``): a Sklansky prefix tree, ``bitlength(len - 1)`` levels
    of adders; at level l, every element in the upper half of an aligned group of
    ``2**(l+1)`` adds the running sum of the last element of the lower half.
    ``(len / 2) * levels`` adders, each only as wide as its partial sum (``bound`` of its
    range).
    ``tree="brent-kung"``: a Brent-Kung tree, ``2 * levels - 1`` adders deep but only about
    ``2 * len`` adders.

    ``cap``: the largest value any sum of consecutive values can take (N for the counts of
    one block's histogram, whatever their number); no adder is wider than that.
    """
    n = len(values)
    vals = [Value.cast(v) for v in values]

    def add(a, b, hi, nm):
        w = max(int(hi if cap is None else min(hi, cap)).bit_length(), 1)
        s = Signal(w, name=nm)
        m.d.comb += s.eq(a + b)
        return s

    if tree:
        inc, lo = list(vals), list(range(n))  # inc[i]: sum of values[lo[i] .. i]

        def join(i, src, nm):
            inc[i] = add(inc[src], inc[i], bound(i + 1) - bound(lo[src]), f"{name}_{nm}_{i + 1}")
            lo[i] = lo[src]

        levels = (n - 1).bit_length()
        if tree == "brent-kung":
            for lv in range(levels):            # up: aligned groups of 2**(lv+1)
                for i in range((2 << lv) - 1, n, 2 << lv):
                    join(i, i - (1 << lv), f"u{lv}")
            for lv in reversed(range(levels - 1)):  # down: fill in the rest
                for i in range((3 << lv) - 1, n, 2 << lv):
                    join(i, i - (1 << lv), f"d{lv}")
        else:
            for lv, i, j in sklansky_steps(n):
                join(i, j, f"t{lv}")
        return [Const(0, 0)] + inc

    if not block or block >= n:
        out = [Const(0, 0)]
        for i in range(n):
            out.append(add(out[i], vals[i], bound(i + 1), f"{name}{i + 1}"))
        return out

    # Blocked: local sums inside each group, then group offsets by a chain.
    out = [Const(0, 0)] * (n + 1)
    groups = [list(range(g, min(g + block, n))) for g in range(0, n, block)]
    offset = Const(0, 0)
    for gi, idx in enumerate(groups):
        first = idx[0]
        local = Const(0, 0)
        locs = []
        for j, i in enumerate(idx):
            local = add(local, vals[i], bound(i + 1) - bound(first), f"{name}_l{i + 1}") \
                if j else vals[i]
            locs.append(local)
        for j, i in enumerate(idx):
            if i + 1 <= n:
                out[i + 1] = add(offset, locs[j], bound(i + 1), f"{name}{i + 1}") if gi else locs[j]
        offset = out[idx[-1] + 1]
    return out


def less_equal(m, a, b, *, name="le"):
    """``a <= b`` for unsigned values, as a ripple of one AND-OR per bit, LSB first.

    Built by hand rather than with ``<=``: yosys turns ``<=`` into a subtractor with a
    lookahead carry unit, and on the sums of popcounts of :class:`Precision` that structure
    makes abc's ``&fraig -x`` (in yosys' default abc script) run for hours. The ripple is
    also smaller.
    """
    a, b = Value.cast(a), Value.cast(b)
    w = max(len(a), len(b))
    a = Cat(a, Const(0, w - len(a)))
    b = Cat(b, Const(0, w - len(b)))
    res = Const(1, 1)
    for i in range(w):
        x = Signal(name=f"{name}{i}")
        m.d.comb += x.eq((~a[i] & b[i]) | (~(a[i] ^ b[i]) & res))
        res = x
    return res


def ripple_add(m, a, b, width, *, sub=False, name="add"):
    """``(a + b) mod 2**width`` (or ``a - b`` with ``sub``) as a hand-built ripple of full adders.

    See :func:`less_equal` for why the arithmetic of :class:`Precision` is not left to yosys.
    """
    a, b = Value.cast(a), Value.cast(b)
    carry = Const(1 if sub else 0, 1)
    bits = []
    for i in range(width):
        x = a[i] if i < len(a) else Const(0, 1)
        y = b[i] if i < len(b) else Const(0, 1)
        if sub:
            y = ~y
        s = Signal(name=f"{name}_s{i}")
        m.d.comb += s.eq(x ^ y ^ carry)
        bits.append(s)
        if i + 1 < width:
            c = Signal(name=f"{name}_c{i}")
            m.d.comb += c.eq((x & y) | (carry & (x ^ y)))
            carry = c
    return Cat(*bits)


def less_equal_tree(m, a, b, *, name="lt"):
    """``a <= b`` for unsigned values in ``ceil(log2(width))`` levels of one AND-OR each.

    The same per-bit terms as :func:`less_equal` (``b`` wins at bit i: ``~a[i] & b[i]``; the
    bits tie: ``~(a[i] ^ b[i])``), combined by a balanced tree instead of a ripple: a span of
    bits decides ``a < b`` if its upper half does, or its upper half ties and its lower half
    decides. The lowest bit decides ``a[0] <= b[0]``, so the root gives ``<=``. About
    ``2 * width`` gates, one AND more per span than the ripple.
    """
    a, b = Value.cast(a), Value.cast(b)
    w = max(len(a), len(b), 1)
    a = Cat(a, Const(0, w - len(a)))
    b = Cat(b, Const(0, w - len(b)))
    # (decides, ties) per span, lowest span first; the span holding bit 0 needs no tie.
    spans = [(~a[0] | b[0], None)] + [(~a[i] & b[i], ~(a[i] ^ b[i])) for i in range(1, w)]
    level = 0
    while len(spans) > 1:
        nxt = []
        for j in range(0, len(spans) - 1, 2):
            (dl, tl), (dh, th) = spans[j], spans[j + 1]
            d = Signal(name=f"{name}_d{level}_{j // 2}")
            m.d.comb += d.eq(dh | (th & dl))
            t = None
            if tl is not None:
                t = Signal(name=f"{name}_t{level}_{j // 2}")
                m.d.comb += t.eq(th & tl)
            nxt.append((d, t))
        if len(spans) % 2:
            nxt.append(spans[-1])
        spans, level = nxt, level + 1
    out = Signal(name=name)
    m.d.comb += out.eq(spans[0][0])
    return out


def csa_rows(m, terms, width, *, name="rows"):
    """The carry-save form of :func:`csa_sum`: two ``width``-bit rows whose sum (mod
    ``2**width``) is the sum of ``terms``, without the final carry-propagate adder, for a
    caller that adds the rows to more terms first, or with :func:`add_fast`.

    Each full adder takes the three shallowest bits of its column (a bit's depth counts the
    full adders before it), so late carries meet late bits: on a sum of some 30 terms the
    first-come order of :func:`csa_sum` chains about twice as many full adders.
    """
    order = itertools.count()                  # ties: the older bit first
    cols = _columns(terms, width, lambda bit: (0, next(order), bit))
    n = 0
    for c in range(width):
        col = cols[c]
        heapq.heapify(col)
        while len(col) > 2:
            (da, _, a), (db, _, b), (dc, _, ci) = (heapq.heappop(col) for _ in range(3))
            s, co = Signal(name=f"{name}_s{n}"), Signal(name=f"{name}_c{n}")
            m.d.comb += [s.eq(a ^ b ^ ci), co.eq((a & b) | (ci & (a ^ b)))]
            d = max(da, db, dc) + 1
            heapq.heappush(col, (d, next(order), s))
            if c + 1 < width:
                heapq.heappush(cols[c + 1], (d, next(order), co))
            n += 1
    rows = []
    for r in range(2):
        row = Signal(width, name=f"{name}_r{r}")
        m.d.comb += row.eq(Cat(*[col[r][2] if len(col) > r else Const(0, 1) for col in cols]))
        rows.append(row)
    return rows


def add_fast(m, a, b, width, *, sub=False, name="addf"):
    """``(a + b) mod 2**width`` (or ``a - b`` with ``sub``) with a Sklansky carry tree:
    ``ceil(log2(width))`` levels of one AND-OR each between the per-bit generate and
    propagate terms and the sum XOR, where :func:`ripple_add` takes ``width``. The same
    signature as :func:`ripple_add`."""
    a, b = Value.cast(a), Value.cast(b)
    bit = lambda v, i: v[i] if i < len(v) else Const(0, 1)  # noqa: E731
    x = [bit(a, i) for i in range(width)]
    y = [~bit(b, i) if sub else bit(b, i) for i in range(width)]
    p = [x[i] ^ y[i] for i in range(width)]
    # g[i], q[i]: generate and propagate of bits lo .. i, lo = 0 after the tree; with ``sub``
    # the carry into bit 0 is 1, folded into bit 0's generate.
    g = [(x[0] | y[0]) if sub else (x[0] & y[0])] + [x[i] & y[i] for i in range(1, width)]
    q = list(p)
    for lv, i, j in sklansky_steps(width):
        ng = Signal(name=f"{name}_g{lv}_{i}")
        m.d.comb += ng.eq(g[i] | (q[i] & g[j]))
        nq = Signal(name=f"{name}_q{lv}_{i}")
        m.d.comb += nq.eq(q[i] & q[j])
        g[i], q[i] = ng, nq
    out = Signal(width, name=name)
    cin = Const(1 if sub else 0, 1)
    m.d.comb += out.eq(Cat(*[p[i] ^ (g[i - 1] if i else cin) for i in range(width)]))
    return out
