"""Stage ``unpack_planes`` of the `window` decoder: each value's stored bit-planes."""

import functools
import operator

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from .._common import Stage, any_bits, equals_const, thermometer
from ..network import expand, select_bits, split_selects
from .layout import (OFFSET_BITS, code_layout, far, full_slots, left_bits, len0_layout,
                     p_shape, plane_region, top_shape)
from ...window_layout import OFFSETS, WINDOW_TOP

__all__ = ["UnpackPlanes", "shift_down"]

#: Widest word of the code-0 list: planes 0 .. o + 1 at o = 3.
_B_WORD = OFFSETS + 1


def _bit(v, b):
    """Bit ``b`` of ``v``, 0 where ``v`` is None or narrower."""
    return v[b] if v is not None and b < len(v) else Const(0, 1)


def shift_down(m, bits, amount, count, *, name):
    """``[bits[amount + k] for k < count]`` (0 past the end): a log shifter, its widest
    stage first, so each stage only carries what the stages after it can still reach."""
    cur = list(bits)
    for b in reversed(range(len(amount))):
        d = 1 << b
        need = count + d - 1
        nxt = []
        for x in range(need):
            src = cur[x + d] if x + d < len(cur) else None
            here = cur[x] if x < len(cur) else None
            if src is None and here is None:
                break
            s = Signal(name=f"{name}{b}_{x}")
            m.d.comb += s.eq(Mux(amount[b], src if src is not None else 0,
                                 here if here is not None else 0))
            nxt.append(s)
        cur = nxt
    return [cur[k] if k < len(cur) else Const(0, 1) for k in range(count)]


class UnpackPlanes(Stage):
    """Each value's stored planes and the last plane it stores, both counted from the window
    (golden model: :func:`facet.window.unpack_planes`, whose plane q' is at bit ``_W - q'``;
    here at bit q'). Plane q of the stream is q' = q - o + 3 here, so that every place a
    plane can come from is fixed at every offset but the code-0 word's, which the word's cut
    places anyway; :class:`Reconstruct` adds o - 3 back once, to the base.

    Three regions (docs/format.md, 11.3), with ``X = (P - o - 2)*N + L`` bits of full planes:

    * full planes o + 3 .. from stream bit F: plane ``o + 3 + s`` of value i is region bit
      ``s*N + i``, stored when it is below X (a thermometer on the slot and L), is q' = 6 + s;
    * the code-0 list down from B, n_b = o + 2 bits a value at o > 0, 1 at o = 0: the region
      read from the top is cut into words of n_b bits (four wirings, chosen by o, each
      putting plane r at word bit r - o + 3), and
      :func:`~facet.rtl.network.expand` moves word k to the k-th code-0 value;
    * the plane-(o + 2) list below it: the region shifted by n_b*n_0 (one of four lengths,
      picked by o), moved to the values of codes 0 and 1 the same way.

    In the low regime (o = 0, P <= 1) a list holds only its first L words (P = 0: the code-0
    list, P = 1: the plane-2 list). Each word carries a stored flag through its network, so
    value i learns whether it stores plane P + 1 without a rank compare: at o = 0 the code-0
    word's bit 0 (plane -3) is free and carries the flag. Outside the low regime, plane P + 1
    goes to the first L values, as every value is eligible.
    The networks' select signals and the code-0 list's lengths come from :class:`ListRanks`,
    which forms them from the codes before the register after ``precision``. The leading
    ones of codes 1 and 2 (and of code 0 at o = 0) are added by code.

    Members
    -------
    i : ``In(B - F)``
        Stream bits ``[F, B)``, stream bit ``F + j`` on bit j.
    code : ``In(code_layout(cfg))``
        The codes.
    o : ``In(2)``, p : ``In(p_shape(cfg))``, left : ``In(left_bits(cfg))``
        The offset in force, P and L, as :class:`Precision` gives them.
    sel0, sel1 : ``In(select_bits(N))``, len0 : ``In(len0_layout(cfg))``
        The list networks' select signals and n_b*n_0 at each offset, as :class:`ListRanks`
        gives them.
    planes : ``Out(data.ArrayLayout(far(cfg), N))``
        Bit q' of value i is its plane q' + o - 3, implied leading ones included.
    top : ``Out(data.ArrayLayout(top_shape(cfg), N))``
        The last plane each value stores, P + 1 for the first L eligible values, else P,
        minus o - 3.
    """

    POLICY = "window"

    def ports(self, cfg):
        n = cfg.n
        return {"i": In(plane_region(cfg)[1]), "code": In(code_layout(cfg)),
                "o": In(OFFSET_BITS), "p": In(p_shape(cfg)), "left": In(left_bits(cfg)),
                "sel0": In(select_bits(n)), "sel1": In(select_bits(n)),
                "len0": In(len0_layout(cfg)),
                "planes": Out(data.ArrayLayout(far(cfg), n)),
                "top": Out(data.ArrayLayout(top_shape(cfg), n))}

    @staticmethod
    def _flags(m, name, values):
        """``values`` as named one-bit signals (each is read by many terms)."""
        out = [Signal(name=f"{name}_{j}") for j in range(len(values))]
        m.d.comb += [s.eq(v) for s, v in zip(out, values)]
        return out

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        n, nf = cfg.n, far(cfg)
        room = plane_region(cfg)[1]
        top_bits = [self.i[room - 1 - j] for j in range(room)]     # read down from B
        code = [self.code[i] for i in range(n)]
        is0 = self._flags(m, "is0", [~c[0] & ~c[1] for c in code])
        is1 = self._flags(m, "is1", [c[0] & ~c[1] for c in code])
        is2 = self._flags(m, "is2", [~c[0] & c[1] for c in code])
        is01 = [~c[1] for c in code]
        oh = self._flags(m, "o", [equals_const(self.o, v) for v in range(OFFSETS)])
        p, pw = self.p, len(self.p)
        neg = p[pw - 1]
        ge1, normal, low0, low1 = self._flags(m, "p", [
            ~neg & any_bits(p[:pw - 1]),
            ~neg & any_bits(p[1:pw - 1]),                           # P >= 2
            equals_const(p, 0), equals_const(p, 1)])
        first = thermometer(m, self.left, n, name="first")       # k < L

        # Code-0 list: words of n_b bits from the top; word bit q is plane q + o - 3 (planes
        # 0 .. o + 1 are bits 3 - o .. 4; at o = 0, plane 1 is bit 4 and bit 0, no plane, is
        # the stored flag).
        words0 = []
        for k in range(n):
            keep = Signal(name=f"keep0_{k}")
            m.d.comb += keep.eq(ge1 | (low0 & first[k]))
            word = [[oh[0]]] + [[] for _ in range(_B_WORD - 1)]
            if k < room:
                word[1 + WINDOW_TOP].append(top_bits[k] & oh[0])
            for o in range(1, OFFSETS):
                nb = o + 2
                for r in range(nb):
                    if k * nb + r < room:
                        word[r + WINDOW_TOP - o].append(top_bits[k * nb + r] & oh[o])
            w = Signal(_B_WORD, name=f"word0_{k}")
            m.d.comb += w.eq(Cat(*[Cat(*b).any() if b else Const(0, 1) for b in word])
                             & keep.replicate(_B_WORD))
            words0.append(w)
        got0 = expand(m, split_selects(self.sel0, n), words0, n, name="x0")

        # Plane-(o + 2) list: below the n_b*n_0 bits of the code-0 list; words (bit, stored
        # flag).
        lw = len(self.len0[0])
        nb_n0 = Signal(lw, name="nb_n0")
        m.d.comb += nb_n0.eq(functools.reduce(operator.or_, (self.len0[o] & oh[o].replicate(lw)
                                                             for o in range(OFFSETS))))
        listA = shift_down(m, top_bits, nb_n0, n, name="shA")
        words1 = []
        for k in range(n):
            keep = Signal(name=f"keep1_{k}")
            m.d.comb += keep.eq(normal | (low1 & first[k]))
            w = Signal(2, name=f"word1_{k}")
            m.d.comb += w.eq(Cat(listA[k] & keep, keep))
            words1.append(w)
        got1 = expand(m, split_selects(self.sel1, n), words1, n, name="x1")

        # Full planes: slot s < P - o - 2 whole, slot P - o - 2 for the first L values.
        y = Signal(signed(pw + 1))
        m.d.comb += y.eq(p - self.o - 2)
        slots = full_slots(cfg)
        full = []
        for s in range(slots):
            whole = Signal(name=f"whole{s}")
            part = Signal(name=f"part{s}")
            m.d.comb += [whole.eq(y > s), part.eq(equals_const(y, s))]
            full.append([self.i[s * n + i] & (whole | (part & first[i])) if s * n + i < room
                         else None for i in range(n)])

        # Planes from the window, q' = q - o + 3: the code-0 word as it came, the leading
        # ones of codes 0 (o = 0), 1 and 2 and plane o + 2 at q' = 3, 4, 5, full slot s at 6 + s.
        rel = Signal(signed(pw + 1), name="top_rel")
        rel1 = Signal(signed(pw + 1), name="top_rel1")
        m.d.comb += [rel.eq(p + WINDOW_TOP - self.o), rel1.eq(rel + 1)]
        for i in range(n):
            b0, b1 = got0[i], got1[i]
            bits = []
            for q in range(nf):
                t = []
                if q == 0:
                    t.append(is0[i] & ~oh[0] & _bit(b0, 0))          # bit 0 at o = 0: the flag
                elif q < _B_WORD:
                    t.append(is0[i] & _bit(b0, q))
                s = q - WINDOW_TOP                               # stream plane o + s
                if s == 0:
                    t.append(is0[i] & oh[0])
                if s == 1:
                    t.append(is1[i])
                if s == 2:
                    t.append((is01[i] & _bit(b1, 0)) | is2[i])
                if 0 <= s - 3 < slots and full[s - 3][i] is not None:
                    t.append(full[s - 3][i])
                bits.append(Cat(*t).any() if t else Const(0, 1))
            m.d.comb += self.planes[i].eq(Cat(*bits))
            extra = Signal(name=f"extra{i}")
            m.d.comb += extra.eq((~low0 & ~low1 & first[i])
                                 | (low1 & is01[i] & _bit(b1, 1))
                                 | (low0 & is0[i] & _bit(b0, 0)))
            m.d.comb += self.top[i].eq(Mux(extra, rel1, rel))
        return m
