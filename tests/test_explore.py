"""`facet explore`: cache keys, Pareto fronts, output shape and option errors.

Synthesis is replaced by a stand-in with the report shape of ``synth_config`` (yosys is
exercised by tests/test_synth.py); the error runs on a small random dump. The MX baselines
(``facet.rtl.mx``) are points of the same sweep.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facet import cli, explore, explore_out, synth_flow, timing
from facet.compare import OVERALL, codec_errors
from facet.config import HARDWARE_POLICIES, Config
from facet.eval import load_tensors
from facet.generate import module_names
from facet.rtl.mx import MX_CODECS, MxConfig
from facet.synth import SynthError


class FakeSynth:
    """``synth_config`` stand-in: counts its calls; area grows with N and stages."""

    def __init__(self, fmax=None, fail=()):
        self.calls, self.kwargs, self.fmax, self.fail = [], [], fmax, set(fail)

    def __call__(self, cfg, stages=1, liberty=None, nand2=None, outdir=None, adders=None,
                 depth=True, quiet=False, hierarchy=True, jobs=2, cache=None):
        return self.report(cfg, stages, hierarchy=hierarchy, jobs=jobs, cache=cache)

    def report(self, cfg, stages, **kw):
        self.calls.append((cfg.name, stages))
        self.kwargs.append(kw)
        if (cfg.name, stages) in self.fail:
            raise SynthError(f"yosys failed on {cfg.name}\nsecond line")
        part = {"total": {"nand2_eq": 100.0 * cfg.block + 10 * stages, "flops": 5 * stages},
                "depth": {"levels": 40 // (stages + 1)}}
        names = module_names(cfg)
        rep = {"latency": {names["encoder"]: stages, names["decoder"]: stages},
               "encoder": part, "decoder": part,
               "summary": {"encoder_nand2_eq": part["total"]["nand2_eq"],
                           "decoder_nand2_eq": part["total"]["nand2_eq"]}}
        if self.fmax and kw.get("timing"):
            rep["summary"] |= {"encoder_fmax_mhz": self.fmax * stages, "decoder_fmax_mhz": None}
            rep["decoder"] = {**part, "timing": {"fmax_mhz": 2 * self.fmax * stages}}
        return rep


class TimedSynth(FakeSynth):
    """A ``synth_config`` that takes ``timing=`` and then reports Fmax, as the timing flow does."""

    def __call__(self, cfg, stages=1, liberty=None, nand2=None, outdir=None, adders=None,
                 depth=True, quiet=False, timing=False, hierarchy=True, jobs=2, cache=None):
        return self.report(cfg, stages, timing=timing, hierarchy=hierarchy, jobs=jobs,
                           cache=cache)


@pytest.fixture
def dump(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "acts.npz"
    np.savez(p, **{"L0.gelu_in": rng.standard_normal(512).astype(np.float32),
                   "L1.gelu_in": rng.standard_normal(256).astype(np.float32),
                   "L0.attn_softmax": rng.random(512).astype(np.float32)})
    return p


@pytest.fixture
def fake(monkeypatch):
    f = FakeSynth()
    monkeypatch.setattr(synth_flow, "synth_config", f)
    return f


CFGS = [Config("bf16", 8, 8, None, "plane"), Config("bf16", 16, 8, None, "plane")]
MX = [MxConfig("mxint8", "bf16", 8), MxConfig("mxfp8-e4m3", "bf16", 16)]


def sweep(dump, out, stages=(1, 2), cfgs=CFGS, jobs=1, timing=None):
    return explore.run(cfgs, list(stages), dump, out, explore.synth_options(timing=timing), jobs,
                       progress=False)


def test_cache_hits_and_misses(tmp_path, dump, fake, monkeypatch):
    out = tmp_path / "x"
    first = sweep(dump, out)
    assert sorted(fake.calls) == sorted((c.name, s) for c in CFGS for s in (1, 2))
    assert first["computed"] == {"error": 2, "synth": 4}
    second = sweep(dump, out)
    assert len(fake.calls) == 4 and second["computed"] == {"error": 0, "synth": 0}
    drop = ("synth_seconds", "error_seconds", "synth_cpu_seconds", "error_cpu_seconds")
    assert [{k: v for k, v in p.items() if k not in drop} for p in second["points"]] == \
        [{k: v for k, v in p.items() if k not in drop} for p in first["points"]]
    # A new stage count synthesizes only itself; the error is reused.
    assert sweep(dump, out, stages=(1, 2, 0))["computed"] == {"error": 0, "synth": 2}
    assert sorted(fake.calls[4:]) == sorted((c.name, 0) for c in CFGS)
    # Another dump: the errors again, no synthesis.
    np.savez(dump, **{"L0.gelu_in": np.arange(64, dtype=np.float32)})
    assert sweep(dump, out)["computed"] == {"error": 2, "synth": 0}
    # A change of the synthesis sources or of the record: everything of that kind again.
    monkeypatch.setattr(explore, "SYNTH_SOURCES", explore.SYNTH_SOURCES + ("facet/cli.py",))
    assert sweep(dump, out)["computed"] == {"error": 0, "synth": 4}
    monkeypatch.setattr(explore, "RECORD_VERSION", explore.RECORD_VERSION + 1)
    assert sweep(dump, out)["computed"] == {"error": 2, "synth": 4}


def test_designs_read_back_from_yosys_cache(tmp_path, dump, fake, monkeypatch):
    """Each synthesis gets ``<out>/cache/yosys``; designs served from there are counted, and a
    run that reused any is not the sweep's cold run."""
    out = tmp_path / "x"
    sweep(dump, out)
    assert {kw["cache"] for kw in fake.kwargs} == {str(out / "cache" / "yosys")}
    real = fake.report

    def cached(cfg, stages, **kw):
        rep = real(cfg, stages, **kw)
        return rep | {"encoder": rep["encoder"] | {"cached": True}}
    monkeypatch.setattr(fake, "report", cached)
    monkeypatch.setattr(explore, "RECORD_VERSION", explore.RECORD_VERSION + 1)
    res = sweep(dump, out)
    assert res["computed"]["synth"] == 4 and res["reused_parts"] == 4
    assert res["cold_run"] is None and "reused_parts" not in res["points"][0]
    line = explore_out.run_line(res, 2, 2, 0)
    assert "4 syntheses (4 of their designs read back from yosys' result cache" in line
    # Their recorded times are not a cold synthesis's, and the summary says so.
    assert res["warm_syntheses"] == 4
    assert ("less than a cold sweep of these points takes at -j 1: 4 of those syntheses read "
            "designs back from yosys' result cache.") in explore_out.format_run(_result(res))


def test_an_edit_recomputes_only_its_codecs_points(tmp_path, dump, fake, monkeypatch):
    """A synthesis key hashes only the sources of its point's policy or MX codec."""
    cfgs = [CFGS[0], Config("bf16", 8, 8, None, "window")]
    out = tmp_path / "x"
    assert sweep(dump, out, cfgs=cfgs)["computed"]["synth"] == 4
    monkeypatch.setattr(explore, "SYNTH_SOURCES", explore.SYNTH_SOURCES + ("facet/cli.py",))
    monkeypatch.setattr(explore, "SYNTH_PARTS", (("facet/cli.py", ("window",)),
                                                 *explore.SYNTH_PARTS))
    del fake.calls[:]
    assert sweep(dump, out, cfgs=cfgs)["computed"] == {"error": 0, "synth": 2}
    assert sorted(fake.calls) == [(cfgs[1].name, 1), (cfgs[1].name, 2)]
    # The file shared by every codec: plane's sources now hold it too, window's are the same.
    monkeypatch.setattr(explore, "SYNTH_PARTS", explore.SYNTH_PARTS[1:])
    del fake.calls[:]
    assert sweep(dump, out, cfgs=cfgs)["computed"] == {"error": 0, "synth": 2}
    assert sorted(fake.calls) == [(cfgs[0].name, 1), (cfgs[0].name, 2)]


def _ran_during(designs):
    """The facet source files whose functions run while ``designs`` are elaborated."""
    from amaranth.hdl import Fragment
    codes = set()

    def tracer(frame, event, arg):  # called on every function call; no line tracing
        codes.add(frame.f_code)

    sys.settrace(tracer)
    try:
        for d in designs:
            Fragment.get(d, None)
    finally:
        sys.settrace(None)
    root = explore.ROOT / "facet"
    files = {Path(c.co_filename) for c in codes}
    return {str(f.relative_to(explore.ROOT)) for f in files if f.is_relative_to(root)}


@pytest.mark.parametrize("owner", explore.SYNTH_OWNERS)
def test_synth_parts_cover_the_elaboration(owner):
    """Every file whose code runs while a codec's encoder and decoder are elaborated (at the
    most register stages, so every cut is placed) is among that codec's synthesis sources."""
    from facet.rtl import FacetDecoder, FacetEncoder
    from facet.rtl.mx import MxDecoder, MxEncoder
    if owner in MX_CODECS:
        cfg, codec, parts = MxConfig(owner, "bf16", 8), owner, (MxEncoder, MxDecoder)
    else:
        cfg, codec, parts = Config("bf16", 8, 8, None, owner), "facet", (FacetEncoder, FacetDecoder)
    ran = _ran_during([part(cfg, explore.max_stages(codec)) for part in parts])
    assert "facet/rtl/pipeline.py" in ran            # the trace sees the RTL's own code
    assert ran <= set(explore.synth_sources(owner)), sorted(ran - set(explore.synth_sources(owner)))


def test_synth_sources():
    for owner in explore.SYNTH_OWNERS:
        assert "facet/rtl/_common.py" in explore.synth_sources(owner)
    assert "facet/rtl/window/pack.py" not in explore.synth_sources("plane")
    assert "facet/rtl/vlc/base.py" in explore.synth_sources("window")
    assert "facet/rtl/vlc/pack.py" not in explore.synth_sources("window")
    assert "facet/rtl/encoder.py" not in explore.synth_sources("mxint8")
    assert set(HARDWARE_POLICIES) | set(MX_CODECS) == set(explore.SYNTH_OWNERS)


def test_failures_are_reported_not_cached(tmp_path, dump, monkeypatch):
    bad = FakeSynth(fail={(CFGS[1].name, 2)})
    monkeypatch.setattr(synth_flow, "synth_config", bad)
    res = sweep(dump, tmp_path)
    failed = [p for p in res["points"] if p["failed"]]
    assert [(p["config"], p["stages"]) for p in failed] == [(CFGS[1].name, 2)]
    assert "\n" not in failed[0]["failed"] and "SynthError" in failed[0]["failed"]
    assert sweep(dump, tmp_path)["computed"] == {"error": 0, "synth": 1}


def test_parallel_matches_serial(tmp_path, dump, fake):
    serial = sweep(dump, tmp_path / "a")["points"]
    parallel = sweep(dump, tmp_path / "b", jobs=2)["points"]
    drop = ("synth_seconds", "error_seconds", "synth_cpu_seconds", "error_cpu_seconds")
    assert [{k: v for k, v in p.items() if k not in drop} for p in parallel] == \
        [{k: v for k, v in p.items() if k not in drop} for p in serial]


def test_point_figures(tmp_path, dump, fake):
    pts = {(p["config"], p["stages"]): p for p in sweep(dump, tmp_path)["points"]}
    p = pts[(CFGS[1].name, 2)]
    assert p["area_nand2_eq"] == 2 * (1600 + 20) and p["encoder_depth"] == 13
    assert p["compression_ratio"] == 2.0 and p["codec"] == "facet" and p["fmax_mhz"] is None
    assert set(p["rel_l2_by_class"]) == {"gelu_in", "attn_softmax"}
    # The overall error pools the classes: it lies between them.
    lo, hi = sorted(p["rel_l2_by_class"].values())
    assert lo < p["rel_l2"] < hi
    # It does not depend on the stages.
    assert pts[(CFGS[1].name, 1)]["rel_l2"] == p["rel_l2"]


def test_pareto_front():
    pts = [{"area_nand2_eq": a, "rel_l2": e} for a, e in
           [(10, 0.5), (20, 0.3), (15, 0.6), (30, 0.3), (20, 0.3), (40, 0.1), (5, None),
            (50, float("inf")), (45, 0.2), (8, 0.9)]]
    assert explore_out.pareto_front(pts) == [9, 0, 1, 4, 5]
    assert explore_out.pareto_front([]) == []
    by_t = explore_out.fronts([{"bits": 8, "area_nand2_eq": 2, "rel_l2": 0.1},
                               {"bits": 8, "area_nand2_eq": 1, "rel_l2": 0.2},
                               {"bits": 6, "area_nand2_eq": 3, "rel_l2": 0.1, "failed": "x"},
                               {"bits": 6, "area_nand2_eq": 9, "rel_l2": 0.3}])
    assert {t: [p["area_nand2_eq"] for p in f] for t, f in by_t.items()} == {6: [9], 8: [1, 2]}


def _result(res, codecs=("facet",), **settings):
    s = {"codecs": list(codecs), "formats": ["bf16"], "blocks": [8, 16], "bits": [8],
         "policies": ["plane"], "ks": [None], "stages": [1, 2], "dump": "acts.npz",
         "liberty": "freepdk45_area.lib", "jobs": 1, **settings}
    return {"settings": s, "rejected": [], **res}


def test_outputs(tmp_path, dump, fake):
    res = _result(sweep(dump, tmp_path))
    (tmp_path / "explore_pareto_t6.png").write_bytes(b"stale")
    files, notes = explore_out.write_all(res, tmp_path)
    assert not (tmp_path / "explore_pareto_t6.png").exists()
    assert (tmp_path / "explore_pareto_t8.png").stat().st_size > 1000
    assert notes and "Fmax" in notes[0] and not (tmp_path / "explore_fmax.png").exists()
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert len(rows) == 4
    assert list(rows[0]) == explore_out.CSV_COLUMNS + ["rel_l2_gelu_in", "rel_l2_attn_softmax"]
    assert rows[0]["fmax_mhz"] == "" and float(rows[3]["area_nand2_eq"]) == 3240
    data = json.loads((tmp_path / "results.json").read_text())
    assert set(data) == {"settings", "points", "rejected", "computed", "cached", "skipped",
                         "seconds", "cpu_seconds", "cold_run", "reused_parts", "warm_syntheses"}
    assert len(data["points"]) == 4
    summary = (tmp_path / "summary.md").read_text()
    front = {(p["config"], p["stages"]) for p in explore_out.fronts(res["points"])[8]}
    assert (CFGS[0].name, 1) in front and (CFGS[0].name, 2) not in front  # same error, larger
    for p in res["points"]:
        assert (f"| {p['config']} | {p['stages']} |" in summary) == ((p["config"], p["stages"]) in front)
    assert "Fmax: not measured" in summary


def test_fmax_used_when_synth_config_has_timing(tmp_path, dump, monkeypatch):
    f = TimedSynth(fmax=100.0)
    monkeypatch.setattr(synth_flow, "synth_config", f)
    opts = explore.synth_options()
    assert opts["timing"] is True
    res = explore.run(CFGS[:1], [1, 2], dump, tmp_path, opts, progress=False)
    # Totals only, and one yosys per point: -j runs points side by side.
    assert all(kw == {"timing": True, "hierarchy": False, "jobs": 1,
                      "cache": str(tmp_path / "cache" / "yosys")} for kw in f.kwargs)
    assert [(p["encoder_fmax_mhz"], p["decoder_fmax_mhz"], p["fmax_mhz"]) for p in res["points"]] == \
        [(100.0, 200.0, 100.0), (200.0, 400.0, 200.0)]
    files, notes = explore_out.write_all(_result(res), tmp_path)
    assert not notes and (tmp_path / "explore_fmax.png") in files


def test_no_timing_without_the_keyword(fake):
    opts = explore.synth_options()
    assert opts["timing"] is False and opts["timing_off"] == "this synthesis flow has no timing"
    assert opts["codecs"] == list(explore.CODECS) == ["facet", *MX_CODECS]
    with pytest.raises(ValueError, match="--timing: this synthesis flow has no timing"):
        explore.synth_options(timing=True)


def test_timing_option(tmp_path, dump, monkeypatch):
    """--no-timing skips Fmax where the tools exist, and is cached apart from a timed run;
    --timing without the tools is an error, not a silent sweep without Fmax."""
    f = TimedSynth(fmax=100.0)
    monkeypatch.setattr(synth_flow, "synth_config", f)
    monkeypatch.setattr(timing, "missing_tools", lambda liberty=None: None)
    off = explore.synth_options(timing=False)
    assert off["timing"] is False and off["timing_off"] == "--no-timing"
    assert explore.synth_options(timing=True)["timing"] is explore.synth_options()["timing"] is True
    res = sweep(dump, tmp_path, stages=(1,), cfgs=CFGS[:1], timing=False)
    assert f.kwargs == [{"timing": False, "hierarchy": False, "jobs": 1,
                         "cache": str(tmp_path / "cache" / "yosys")}]
    assert res["points"][0]["fmax_mhz"] is None
    summary = explore_out.format_summary(_result(res, timing=False, timing_off=off["timing_off"]))
    assert "Fmax: not measured (--no-timing)" in summary
    timed = sweep(dump, tmp_path, stages=(1,), cfgs=CFGS[:1])
    assert timed["computed"] == {"error": 0, "synth": 1} and timed["points"][0]["fmax_mhz"] == 100.0
    assert sweep(dump, tmp_path, stages=(1,), cfgs=CFGS[:1], timing=False)["computed"]["synth"] == 0
    monkeypatch.setattr(timing, "missing_tools", lambda liberty=None: timing.INSTALL_HINT)
    assert explore.synth_options()["timing_off"] == timing.INSTALL_HINT
    with pytest.raises(ValueError, match="make timing-tools"):
        explore.synth_options(timing=True)


def test_mx_points(tmp_path, dump, fake, monkeypatch):
    """MX baselines: one point per (format, N, stages) up to their 2 stages, their fixed rate,
    the error of what their RTL computes, cached like facet's, on the front of T nearest."""
    res = sweep(dump, tmp_path, stages=(1, 3), cfgs=CFGS + MX)
    assert [(s["config"], s["stages"]) for s in res["skipped"]] == [(m.name, 3) for m in MX]
    assert sorted(c for c in fake.calls if "mx" in c[0]) == sorted((m.name, 1) for m in MX)
    pts = {p["config"]: p for p in res["points"] if p["stages"] == 1}
    tensors = load_tensors(str(dump))
    for m, bits in zip(MX, (9.0, 8.5)):
        p = pts[m.name]
        assert (p["codec"], p["bits"], p["front_bits"], p["k"], p["policy"]) == (m.codec, bits, 8, None, None)
        assert p["compression_ratio"] == round(16 / bits, 4)
        assert p["area_nand2_eq"] == 2 * (100.0 * m.block + 10) and p["encoder_latency"] == 1
        want = codec_errors(tensors, m)
        assert p["rel_l2"] == want.pop(OVERALL) and p["rel_l2_by_class"] == want
    assert pts[MX[0].name]["rel_l2"] != pts[MX[1].name]["rel_l2"]
    assert sweep(dump, tmp_path, stages=(1, 3), cfgs=CFGS + MX)["computed"] == {"error": 0, "synth": 0}
    # The MX error has its own sources (the RTL package it imports through): only it reruns.
    monkeypatch.setattr(explore, "MX_ERROR_SOURCES", explore.MX_ERROR_SOURCES + ("facet/cli.py",))
    again = sweep(dump, tmp_path, stages=(1, 3), cfgs=CFGS + MX)
    assert again["computed"] == {"error": 2, "synth": 0} and again["cached"] == {"error": 2, "synth": 6}
    # Only MX: the rate is its own, with no facet T to join.
    alone = sweep(dump, tmp_path, stages=(1,), cfgs=MX)["points"]
    assert [p["front_bits"] for p in alone] == [9.0, 8.5]


def test_front_bits():
    m = MxConfig("mxint8", "bf16", 32)  # 8.25 bits per value
    assert explore.front_bits(m, [4, 6, 8]) == 8 and explore.front_bits(m, [8, 8.5]) == 8
    assert explore.front_bits(MxConfig("mxint8", "bf16", 8), [8, 10]) == 8  # 9: a tie, the lower
    assert explore.front_bits(m, []) == 8.25 and explore.front_bits(CFGS[0], [4, 6]) == 8


def test_classes_better():
    p = {"rel_l2_by_class": {"a": 0.1, "b": 0.3, "c": None}}
    q = {"rel_l2_by_class": {"a": 0.2, "b": 0.2, "c": 0.1, "d": 0.1}}
    assert explore_out.classes_better(p, q) == (1, 2)
    assert explore_out.classes_better(q, p) == (1, 2)
    assert explore_out.classes_better(p, {}) == (0, 0)


def test_label():
    base = {"format": "bf16", "block": 16, "stages": 2, "codec": "facet"}
    assert explore_out.label({**base, "k": 3, "policy": "plane"}) == "bf16 N16 K3 plane s2"
    assert explore_out.label({**base, "k": None, "policy": "window"}) == "bf16 N16 window s2"
    assert explore_out.label({**base, "codec": "mxint8", "k": None, "policy": None}) == \
        "bf16 N16 MXINT8 s2"


def test_mx_on_the_front_and_against_facet(tmp_path, dump, fake):
    res = _result(sweep(dump, tmp_path, stages=(1,), cfgs=CFGS + MX), codecs=("facet", *MX_CODECS))
    # MX points (9 and 8.5 bits per value) are candidates of the T = 8 front.
    front = explore_out.fronts(res["points"])
    assert list(front) == [8]
    assert front[8] == [res["points"][i] for i in explore_out.pareto_front(res["points"])]
    made_up = [{"codec": "facet", "bits": 8, "area_nand2_eq": 10, "rel_l2": 0.1},
               {"codec": "mxint8", "bits": 8.25, "front_bits": 8, "area_nand2_eq": 5, "rel_l2": 0.05},
               {"codec": "facet", "bits": 6, "area_nand2_eq": 1, "rel_l2": 0.01}]
    assert explore_out.fronts(made_up) == {6: [made_up[2]], 8: [made_up[1]]}
    pts = {p["config"]: p for p in res["points"]}
    files, notes = explore_out.write_all(res, tmp_path)
    assert [f.name for f in files if f.suffix == ".png"] == ["explore_pareto_t8.png"]
    summary = (tmp_path / "summary.md").read_text()
    assert "mxint8, mxfp8-e4m3" in summary and "4 configs, 2 of them MX" in summary
    table = summary.split("### MX baselines against facet")[1].split("\n\n")[2].splitlines()[2:]
    assert len(table) == 2
    for row, m in zip(table, MX):  # the fake areas grow with N: facet N <= MX N fits
        peer = min((pts[c.name] for c in CFGS if c.block <= m.block), key=lambda p: p["rel_l2"])
        assert row.startswith(f"| {explore_out.label(pts[m.name])} | ")
        k, n = explore_out.classes_better(peer, pts[m.name])
        assert n == 2 and row.endswith(f"| {explore_out.label(peer)} | "
                                       f"{peer['area_nand2_eq']:,.0f} | 8 | {peer['rel_l2']:.4f} "
                                       f"| {k} of {n} |")


def test_summary_run_line(tmp_path, dump, fake, monkeypatch):
    first = _result(sweep(dump, tmp_path))
    line = explore_out.format_summary(first).strip().splitlines()[-1]
    assert line.startswith("This run: ") and " CPU (all processes, yosys included) at -j 1;" in line
    assert "computed 2 errors and 4 syntheses, 0 results from the cache." in line
    again = _result(sweep(dump, tmp_path))
    line = explore_out.format_summary(again).strip().splitlines()[-1]
    assert "computed 0 errors and 0 syntheses, 6 results from the cache." in line
    # The recorded per-result times are the first run's, added up (each error once).
    syn = sum(p["synth_seconds"] for p in again["points"])
    err = sum({p["config"]: p["error_seconds"] for p in again["points"]}.values())
    assert f"add up to {explore_out._dur(syn)} of synthesis and {explore_out._dur(err)} of error" in line
    # The first run computed everything: a warm rerun of the same sweep still reports its cost.
    assert "from an empty cache" not in explore_out.format_summary(first)
    cold = (f"The last run of this sweep from an empty cache ({first['cold_run']['date']}) took "
            f"{explore_out._dur(first['seconds'])} wall and {explore_out._dur(first['cpu_seconds'])} "
            "CPU at -j 1.")
    assert line.endswith(cold)
    # Another sweep over the same cache (one more stage count) was never run cold: no such line,
    # and running it does not replace the first sweep's record.
    more = _result(sweep(dump, tmp_path, stages=(1, 2, 0)))
    assert more["cold_run"] is None and "from an empty cache" not in explore_out.format_summary(more)
    assert _result(sweep(dump, tmp_path))["cold_run"] == first["cold_run"]
    # A damaged record is no record.
    (tmp_path / "cache" / "cold_run.json").write_text("not json")
    assert _result(sweep(dump, tmp_path))["cold_run"] is None
    # A change of the record makes every result new: that run is the sweep's cold run.
    monkeypatch.setattr(explore, "RECORD_VERSION", explore.RECORD_VERSION + 1)
    fresh = _result(sweep(dump, tmp_path))
    assert fresh["cold_run"]["seconds"] == fresh["seconds"]
    assert _result(sweep(dump, tmp_path))["cold_run"] == fresh["cold_run"]
    assert [explore_out._dur(s) for s in (4.24, 59.96, 61, 3600 + 5 * 60 + 29)] == \
        ["4.2 s", "60.0 s", "1 min 01 s", "1 h 05 min"]


def test_cli_end_to_end(tmp_path, dump, fake, capsys):
    out = tmp_path / "o"
    argv = ["explore", "--out", str(out), "--dump", str(dump), "--formats", "bf16", "--blocks",
            "8,16", "--bits", "8", "--policies", "plane", "--stages", "1", "--no-progress",
            "--no-timing"]
    assert cli.main(argv) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["settings"]["codecs"] == ["facet", *MX_CODECS] and data["settings"]["timing"] is False
    assert sorted(p["config"] for p in data["points"]) == sorted(
        [c.name for c in CFGS] + [MxConfig(c, "bf16", n).name for c in MX_CODECS for n in (8, 16)])
    summary = (out / "summary.md").read_text()
    assert "Fmax: not measured (--no-timing)" in summary
    assert "computed 6 errors and 6 syntheses, 0 results from the cache" in summary
    printed = capsys.readouterr().out
    assert "6 syntheses" in printed and "Fmax plot skipped: no point has an Fmax (--no-timing)" in printed
    assert cli.main(argv[:-1] + ["--codecs", "mxint8"]) == 0
    data = json.loads((out / "results.json").read_text())
    assert [p["codec"] for p in data["points"]] == ["mxint8"] * 2 and data["computed"]["synth"] == 0


def test_default_policies(tmp_path, dump, fake):
    """The sweep takes `plane`, `significance` and `window` by default, all with RTL; `vlc`
    (whose syntheses at large N are too long for the default sweep) runs through it when
    asked for."""
    default = ("plane", "significance", "window")
    assert set(default) < set(HARDWARE_POLICIES)
    assert explore.DEFAULTS["policies"] == default
    assert cli.explore_defaults()["policies"] == ",".join(default)
    res = _result(sweep(dump, tmp_path, stages=(1,), cfgs=[Config("bf16", 16, 8, None, "vlc")]))
    assert res["points"][0]["failed"] is None and res["points"][0]["rel_l2"] > 0
    explore_out.write_all(res, tmp_path)


def test_sweep_configs():
    cfgs, rejected = explore.sweep_configs(["bf16"], [8], [4, 8], ["plane"], [None, 2, 3], ["facet"])
    # K = None is the default K, 2 here: one config; K = 3 does not fit at N = 8.
    assert [c.name for c in cfgs] == ["bf16_n8_t8_k2_plane"]
    assert sorted((r["bits"], r["k"] or 0) for r in rejected) == [(4, 0), (4, 2), (4, 3), (8, 3)]
    # The MX codecs: one config per format and N, whatever T, policy and K; by default all.
    mx, none = explore.sweep_configs(["bf16", "fp16"], [8, 32], [4], ["plane"], [None], ["mxint8"])
    assert mx == [MxConfig("mxint8", f, n) for f in ("bf16", "fp16") for n in (8, 32)]
    assert none == []  # no facet config, none rejected
    every, _ = explore.sweep_configs(["bf16"], [8], [8], ["plane"], [None])
    assert [explore.codec_of(c) for c in every] == ["facet", *MX_CODECS]


@pytest.mark.parametrize("argv, words", [
    (["--formats", "bf16,fp8"], ["--formats", "fp8"]),
    (["--blocks", "12"], ["--blocks", "12"]),
    (["--bits", "eight"], ["--bits", "eight"]),
    (["--policies", "bogus"], ["--policies", "bogus"]),
    (["--codecs", "facet,mxint4"], ["--codecs", "mxint4"]),
    (["--codecs", "mxint8", "--stages", "3"], ["--stages", "3"]),
    (["--timing"], ["--timing", "no timing"]),
    (["--stages", "9"], ["--stages", "9"]),
    (["--ks", "x"], ["--ks", "x"]),
    (["-j", "0"], ["-j"]),
    (["--dump", "missing.npz"], ["--dump", "missing.npz"]),
    (["--bits", "4", "--formats", "bf16", "--policies", "plane,significance"], ["does not fit"]),
])
def test_cli_errors(argv, words, capsys, fake, tmp_path, dump):
    assert cli.main(["explore", "--out", str(tmp_path / "o"), "--dump", str(dump), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("facet explore: error: "), err
    assert all(w in err[0] for w in words), err
    assert fake.calls == []


def _facet_modules(mods):
    code = (f"import sys, {', '.join(mods)}; print('\\n'.join(m.__file__ for n, m in "
            "sys.modules.items() if n.startswith('facet.')))")
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, cwd=explore.ROOT).stdout.split())


def test_source_lists_cover_the_imports():
    """Every facet module the error or the synthesis imports is hashed into its cache key
    (leaving out the modules that ``import facet`` alone loads, its public API: the RTL and
    synthesis do not use the model)."""
    package = _facet_modules(["facet"])
    for mods, pats in ((["facet.eval", "facet.model", "facet.vlc"], explore.ERROR_SOURCES),
                       (["facet.compare"], explore.MX_ERROR_SOURCES),
                       (["facet.generate", "facet.synth_flow"], explore.SYNTH_SOURCES)):
        used = _facet_modules(mods) - package
        hashed = {str(p) for pat in pats for p in explore.ROOT.glob(pat)}
        assert used and used <= hashed, sorted(used - hashed)
