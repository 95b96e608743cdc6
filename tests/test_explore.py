"""`facet explore`: cache keys, Pareto fronts, output shape and option errors.

Synthesis is replaced by a stand-in with the report shape of ``synth_config`` (yosys is
exercised by tests/test_synth.py); the error runs on a small random dump.
"""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from facet import cli, explore, explore_out, synth_flow
from facet.config import Config
from facet.synth import SynthError


class FakeSynth:
    """``synth_config`` stand-in: counts its calls; area grows with N and stages."""

    def __init__(self, fmax=None, fail=()):
        self.calls, self.kwargs, self.fmax, self.fail = [], [], fmax, set(fail)

    def __call__(self, cfg, stages=1, liberty=None, nand2=None, outdir=None, adders=None,
                 depth=True, quiet=False):
        return self.report(cfg, stages)

    def report(self, cfg, stages, **kw):
        self.calls.append((cfg.name, stages))
        self.kwargs.append(kw)
        if (cfg.name, stages) in self.fail:
            raise SynthError(f"yosys failed on {cfg.name}\nsecond line")
        part = {"total": {"nand2_eq": 100.0 * cfg.block + 10 * stages, "flops": 5 * stages},
                "depth": {"levels": 40 // (stages + 1)}}
        rep = {"latency": {"facet_encoder": stages, "facet_decoder": stages},
               "encoder": part, "decoder": part,
               "summary": {"encoder_nand2_eq": part["total"]["nand2_eq"],
                           "decoder_nand2_eq": part["total"]["nand2_eq"]}}
        if self.fmax:
            rep["summary"] |= {"encoder_fmax_mhz": self.fmax * stages, "decoder_fmax_mhz": None}
            rep["decoder"] = {**part, "timing": {"fmax_mhz": 2 * self.fmax * stages}}
        return rep


class TimedSynth(FakeSynth):
    """A ``synth_config`` that takes ``timing=`` and reports Fmax, as the timing flow will."""

    def __call__(self, cfg, stages=1, liberty=None, nand2=None, outdir=None, adders=None,
                 depth=True, quiet=False, timing=False):
        return self.report(cfg, stages, timing=timing)


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


def sweep(dump, out, stages=(1, 2), cfgs=CFGS, jobs=1):
    return explore.run(cfgs, list(stages), dump, out, explore.synth_options(), jobs, progress=False)


def test_cache_hits_and_misses(tmp_path, dump, fake, monkeypatch):
    out = tmp_path / "x"
    first = sweep(dump, out)
    assert sorted(fake.calls) == sorted((c.name, s) for c in CFGS for s in (1, 2))
    assert first["computed"] == {"error": 2, "synth": 4}
    second = sweep(dump, out)
    assert len(fake.calls) == 4 and second["computed"] == {"error": 0, "synth": 0}
    drop = ("synth_seconds", "error_seconds")
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
    drop = ("synth_seconds", "error_seconds")
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


def _result(points):
    s = {"formats": ["bf16"], "blocks": [8, 16], "bits": [8], "policies": ["plane"], "ks": [None],
         "stages": [1, 2], "dump": "acts.npz", "liberty": "freepdk45_area.lib"}
    return {"settings": s, "points": points, "rejected": [], "computed": {}, "seconds": 0}


def test_outputs(tmp_path, dump, fake):
    res = _result(sweep(dump, tmp_path)["points"])
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
    assert set(data) == {"settings", "points", "rejected", "computed", "seconds"}
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
    pts = explore.run(CFGS[:1], [1, 2], dump, tmp_path, opts, progress=False)["points"]
    assert all(kw == {"timing": True} for kw in f.kwargs)
    assert [(p["encoder_fmax_mhz"], p["decoder_fmax_mhz"], p["fmax_mhz"]) for p in pts] == \
        [(100.0, 200.0, 100.0), (200.0, 400.0, 200.0)]
    files, notes = explore_out.write_all(_result(pts), tmp_path)
    assert not notes and (tmp_path / "explore_fmax.png") in files


def test_no_timing_without_the_keyword(fake):
    assert explore.synth_options()["timing"] is False
    assert explore.synth_options()["codecs"] == ["facet"]


def test_sweep_configs():
    cfgs, rejected = explore.sweep_configs(["bf16"], [8], [4, 8], ["plane"], [None, 2, 3])
    # K = None is the default K, 2 here: one config; K = 3 does not fit at N = 8.
    assert [c.name for c in cfgs] == ["bf16_n8_t8_k2_plane"]
    assert sorted((r["bits"], r["k"] or 0) for r in rejected) == [(4, 0), (4, 2), (4, 3), (8, 3)]


@pytest.mark.parametrize("argv, words", [
    (["--formats", "bf16,fp8"], ["--formats", "fp8"]),
    (["--blocks", "12"], ["--blocks", "12"]),
    (["--bits", "eight"], ["--bits", "eight"]),
    (["--policies", "nope"], ["--policies", "nope"]),
    (["--stages", "9"], ["--stages", "9"]),
    (["--ks", "x"], ["--ks", "x"]),
    (["-j", "0"], ["-j"]),
    (["--dump", "missing.npz"], ["--dump", "missing.npz"]),
    (["--bits", "4", "--formats", "bf16"], ["does not fit"]),
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
                       (["facet.generate", "facet.synth_flow"], explore.SYNTH_SOURCES)):
        used = _facet_modules(mods) - package
        hashed = {str(p) for pat in pats for p in explore.ROOT.glob(pat)}
        assert used and used <= hashed, sorted(used - hashed)
