"""The plane compaction network shared by :class:`Pack` and :class:`Unpack`.

Packing moves every present plane ``j`` down to slot ``rank_j`` = the number of present planes
before it, i.e. down by ``z_j`` = the number of *absent* planes before it. The network is a
logarithmic shifter: stage ``k`` (k = 0, 1, ...) moves an element down by ``2**k`` when bit
``k`` of its ``z`` is set. With the stages taken LSB first two present planes never meet, so
each position of a stage is one 2:1 multiplexer (per bit) selecting "stay" or "arrive from
``p + 2**k``". Positions that hold no present plane at the end carry stale copies and are
cleared with one AND per surviving bit.

Only what survives the cut is built: the stages are pruned backwards from the surviving slots
(``cfg.slots`` positions, the last one ``cfg.partial_elems`` bits wide), so a position that
feeds nothing is not built and a partial slot only carries its surviving low bits.

Unpacking runs the same network backwards (MSB stage first, moving up), with the same select
signals, computed from the presence mask by a control-only copy of the forward network that
routes the ``(valid, z)`` tags of the planes. Positions past the last slot read as zero, so
their multiplexers reduce to ANDs, and plane ``j`` is finally ANDed with ``present_j``.

The alternatives tried are in :mod:`facet.rtl.pack` and :mod:`facet.rtl.unpack`.
"""

from amaranth.hdl import Cat, Const, Mux, Signal, Value

from .prefix import sklansky_steps

__all__ = ["num_stages", "select_bits", "join_selects", "split_selects", "absent_before",
           "compaction_control", "compact", "expand"]


def num_stages(num_planes):
    """Stages of the network: enough to shift by up to ``num_planes - 1``."""
    return (num_planes - 1).bit_length()


def select_bits(num_planes):
    """Bits of the select signals of a network over ``num_planes`` elements as one signal
    (:func:`join_selects`): ``num_planes - 2**k`` at stage ``k``."""
    return sum(num_planes - (1 << k) for k in range(num_stages(num_planes)))


def join_selects(sels):
    """The select signals of :func:`compaction_control` as one value: stage by stage, stage
    ``k``'s position ``p`` at bit ``p`` of its part (a stage that computes them apart from the
    network it steers passes them on as one signal, or registers them)."""
    return Cat(*[s for stage in sels for s in stage])


def split_selects(value, num_planes):
    """The select signals, as :func:`compaction_control` gives them, from the value
    :func:`join_selects` made of them."""
    sels, at = [], 0
    for k in range(num_stages(num_planes)):
        width = num_planes - (1 << k)
        sels.append([value[at + p] for p in range(width)])
        at += width
    return sels


def absent_before(m, present, num_planes, *, name="z", adder=None):
    """``z_j``, the number of absent planes before plane ``j``, for every ``j``.

    A Sklansky parallel prefix sum of the absent bits: ``log2(P)`` adder levels instead of the
    ``P - 1`` of a ripple of incrementers. It is on the longest path of both ``pack`` and
    ``unpack`` (presence mask, then ``z``, then the network's select signals), and the
    delay-driven mapping of ``facet synth --timing`` does not recover a ripple's depth.
    ``adder``: how each level adds, ``adder(m, a, b, width, name=...)``
    (:func:`~facet.rtl.prefix.add_fast` for log depth); yosys' ``+`` by default, whose
    ripple carries add up over the levels to about one full adder per bit of ``z``.
    Returns a list of :class:`Value`; ``z_j`` is ``j.bit_length()`` bits wide.
    """
    incl = [~present[i] for i in range(num_planes - 1)]  # inclusive sums, in place
    for lv, i, src in sklansky_steps(len(incl)):
        w, nm = (i + 1).bit_length(), f"{name}_l{1 << lv}_{i}"
        if adder is None:
            s = Signal(w, name=nm)
            m.d.comb += s.eq(incl[i] + incl[src])
        else:
            s = adder(m, incl[i], incl[src], w, name=nm)
        incl[i] = s
    z = [Const(0, 0)]
    for j in range(1, num_planes):
        s = Signal(j.bit_length(), name=f"{name}{j}")
        m.d.comb += s.eq(incl[j - 1])
        z.append(s)
    return z


def compaction_control(m, present, num_planes, *, name="c", adder=None):
    """Select signals of the compaction network, from the presence mask (``adder``: that of
    :func:`absent_before`).

    Returns ``(sels, valid, z)``: ``sels[k][p]`` (for ``p + 2**k < num_planes``) is set when, at
    stage ``k``, the element at position ``p + 2**k`` moves to ``p``; ``valid[p]`` is set when
    position ``p`` holds a present plane after the last stage (i.e. ``p`` < number of present
    planes); ``z`` is :func:`absent_before`.
    """
    z0 = z = absent_before(m, present, num_planes, name=f"{name}_z", adder=adder)
    widths = [len(v) for v in z]
    valid = [present[j] for j in range(num_planes)]
    sels = []
    for k in range(num_stages(num_planes)):
        d = 1 << k
        sel_k, nvalid, nz, nwidths = [], [], [], []
        for p in range(num_planes):
            if p + d < num_planes and widths[p + d] > k:
                sel = Signal(name=f"{name}_sel{k}_{p}")
                m.d.comb += sel.eq(valid[p + d] & z[p + d][k])
            else:
                sel = None
            if p + d < num_planes:
                sel_k.append(sel if sel is not None else Const(0, 1))
            stay = valid[p] & ~z[p][k] if widths[p] > k else valid[p]
            v = Signal(name=f"{name}_v{k}_{p}")
            m.d.comb += v.eq(stay if sel is None else sel | stay)
            nvalid.append(v)
            if sel is None:
                nz.append(z[p])
                nwidths.append(widths[p])
            else:
                w = max(widths[p], widths[p + d])
                t = Signal(w, name=f"{name}_z{k}_{p}")
                m.d.comb += t.eq(Mux(sel, z[p + d], z[p]))
                nz.append(t)
                nwidths.append(w)
        sels.append(sel_k)
        valid, z, widths = nvalid, nz, nwidths
    return sels, valid, z0


def compact(m, sels, words, out_widths, *, name="f"):
    """Forward network: move the elements of ``words`` down, pruned to ``out_widths``.

    ``words[j]`` is the data of plane ``j``; ``out_widths[s]`` is how many low bits of final
    position ``s`` are needed (positions past the list are not needed). Returns the data at
    the final positions ``0 .. len(out_widths) - 1``, each ``out_widths[s]`` bits (stale
    where no present plane lands: the caller clears those).
    """
    num = len(words)
    stages = len(sels)
    # Backward pass: needed width at the output of every stage.
    need = [0] * num
    for s, w in enumerate(out_widths):
        need[s] = w
    needs = [None] * stages
    for k in reversed(range(stages)):
        d = 1 << k
        needs[k] = need
        nin = [0] * num
        for p in range(num):
            if need[p]:
                nin[p] = max(nin[p], need[p])
                if p + d < num and not _is_zero(sels[k][p]):
                    nin[p + d] = max(nin[p + d], need[p])
        need = nin
    data = [Value.cast(words[j])[:need[j]] if need[j] else None for j in range(num)]
    for k in range(stages):
        d = 1 << k
        out = []
        for p in range(num):
            w = needs[k][p]
            if not w:
                out.append(None)
                continue
            if p + d < num and not _is_zero(sels[k][p]):
                s = Signal(w, name=f"{name}{k}_{p}")
                m.d.comb += s.eq(Mux(sels[k][p], data[p + d][:w], data[p][:w]))
                out.append(s)
            else:
                out.append(data[p][:w])
        data = out
    return data[:len(out_widths)]


def expand(m, sels, slots, num_planes, *, name="r"):
    """Reverse network: move slot ``s`` back up to the position of its plane.

    ``slots[s]`` is the data of slot ``s`` (narrower slots are zero-extended; positions past
    the list read as zero). Returns ``num_planes`` values, the data routed to every plane
    position, or ``None`` where it is known to be zero (stale where the plane is absent: the
    caller clears those).
    """
    data = [Value.cast(v) for v in slots] + [None] * (num_planes - len(slots))
    for k in reversed(range(len(sels))):
        d = 1 << k
        out = list(data)
        for q in range(d, num_planes):
            sel, src, cur = sels[k][q - d], data[q - d], data[q]
            if _is_zero(sel) or (src is None and cur is None):
                continue
            w = max(len(src) if src is not None else 0, len(cur) if cur is not None else 0)
            s = Signal(w, name=f"{name}{k}_{q}")
            if src is None:
                m.d.comb += s.eq(cur & ~sel.replicate(len(cur)))
            elif cur is None:
                m.d.comb += s.eq(src & sel.replicate(len(src)))
            else:
                m.d.comb += s.eq(Mux(sel, src, cur))
            out[q] = s
        data = out
    return data


def _is_zero(sel):
    return isinstance(sel, Const) and sel.value == 0
