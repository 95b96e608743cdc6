"""The arithmetic helpers of :mod:`facet.rtl.prefix` against Python integers: exhaustively
on small widths, and on corners plus random operands on wider ones (the stages that use them
are tested against the golden model elsewhere)."""

import itertools

import numpy as np
import pytest
from amaranth.hdl import Const, Elaboratable, Module, Signal
from amaranth.sim import Simulator

from facet.rtl.prefix import add_fast, csa_rows, csa_sum, less_equal, less_equal_tree


class _Probe(Elaboratable):
    """``build(m, ins)`` wires inputs of the given widths to one output of ``width`` bits."""

    def __init__(self, widths, width, build):
        self.ins = [Signal(w, name=f"in{i}") for i, w in enumerate(widths)]
        self.out = Signal(width)
        self._build = build

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.out.eq(self._build(m, self.ins))
        return m


def _check(dut, cases, want):
    bad = []

    async def bench(ctx):
        for case in cases:
            for s, v in zip(dut.ins, case):
                ctx.set(s, int(v))
            got = ctx.get(dut.out)
            if got != want(case):
                bad.append((case, got, want(case)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not bad, f"{len(bad)} mismatches, first: {bad[:3]}"


def _cases(widths, count, seed):
    rng = np.random.default_rng(seed)
    corners = [[0] * len(widths), [(1 << w) - 1 for w in widths]]
    rand = [[int(rng.integers(0, 1 << w)) for w in widths] for _ in range(count)]
    return corners + rand


@pytest.mark.parametrize("wa,wb", [(1, 1), (4, 4), (5, 3), (3, 6), (2, 7)])
def test_less_equal(wa, wb):
    """The tree compare and the ripple one, every operand pair."""
    cases = list(itertools.product(range(1 << wa), range(1 << wb)))
    for le in (less_equal_tree, less_equal):
        dut = _Probe([wa, wb], 1, lambda m, ins, le=le: le(m, ins[0], ins[1]))
        _check(dut, cases, lambda c: int(c[0] <= c[1]))


@pytest.mark.parametrize("width", [1, 2, 5, 8, 11])
@pytest.mark.parametrize("sub", [False, True])
def test_add_fast(width, sub):
    widths = [width, max(width - 1, 1)]
    dut = _Probe(widths, width, lambda m, ins: add_fast(m, ins[0], ins[1], width, sub=sub))
    mask = (1 << width) - 1
    _check(dut, _cases(widths, 200, width),
           lambda c: (c[0] - c[1] if sub else c[0] + c[1]) & mask)


@pytest.mark.parametrize("widths", [[4], [3, 3], [6] * 5, [6, 2, 9, 1, 6, 6, 3]])
def test_csa_rows(widths):
    """The two rows add up to the sum of the terms (some shifted, one constant), modulo the
    width, and the sum itself when it fits."""
    width = 12

    def build(m, ins):
        terms = [(x, i % 3) for i, x in enumerate(ins)]
        r0, r1 = csa_rows(m, terms + [Const(5, 4)], width)
        return r0 + r1

    dut = _Probe(widths, width + 1, build)
    _check(dut, _cases(widths, 200, len(widths)),
           lambda c: sum(v << (i % 3) for i, v in enumerate(c)) + 5)


@pytest.mark.parametrize("levels", [False, True])
@pytest.mark.parametrize("width", [4, 9])
def test_csa_sum(levels, width):
    """Both reduction orders, with the ripple and the fast final adder, modulo the width."""
    widths = [3, 5, 2, 4, 4]
    mask = (1 << width) - 1
    for adder in (None, add_fast):
        dut = _Probe(widths, width, lambda m, ins, adder=adder: csa_sum(
            m, [(x, i % 2) for i, x in enumerate(ins)], width, adder=adder, levels=levels))
        _check(dut, _cases(widths, 150, width),
               lambda c: sum(v << (i % 2) for i, v in enumerate(c)) & mask)
