"""`facet eval` internals: loading, metrics, tables, the rate-distortion sweep and its summary."""

import json

import numpy as np
import pytest

from facet import eval as ev
from facet.baselines import BASELINES, bits_per_value
from facet.config import POLICIES, Config

RNG_SEED = 20241130


@pytest.fixture(scope="module")
def tensors():
    rng = np.random.default_rng(RNG_SEED)
    return {"emb.ln_in": rng.standard_normal(2048).astype(np.float32),
            "L0.gelu_in": (rng.standard_normal((32, 32)) * 3).astype(np.float32),
            "L1.gelu_in": rng.laplace(size=1000).astype(np.float32)}


def test_load_tensors_skips_unusable_arrays(tmp_path):
    p = tmp_path / "a.npz"
    np.savez(p, x=np.ones((2, 3), np.float64), ids=np.arange(4), empty=np.zeros(0, np.float32))
    skipped = []
    t = ev.load_tensors(p, skipped)
    assert list(t) == ["x"] and t["x"].dtype == np.float32 and t["x"].shape == (2, 3)
    assert dict(skipped) == {"ids": "int64, not floating point", "empty": "empty"}
    q = tmp_path / "b.npy"
    np.save(q, np.float16([1, 2]))
    assert ev.load_tensors(q)["tensor"].tolist() == [1, 2]


def test_tensor_class_and_groups(tensors):
    assert ev.tensor_class("L3.gelu_in") == "gelu_in" and ev.tensor_class("emb.ln_in") == "ln_in"
    g = ev.tensors._groups(tensors, by_class=True)
    assert list(g) == ["ln_in", "gelu_in"] and [p.size for p in g["gelu_in"]] == [1024, 1000]


def test_metrics_by_hand():
    x = np.float32([3, 4, 0, 0])
    y = np.float32([3, 4.5, 0, 0.5])
    m = ev.metrics(x, y, 2)
    # noise 0.5 on |x| = 5; block 0 max error 0.5 / 4, block 1 error with zero reference: inf.
    assert m["rel_l2"] == pytest.approx(np.sqrt(0.5) / 5)
    assert m["max_err_rel_block"] == np.inf
    assert m["snr_db"] == pytest.approx(10 * np.log10(25 / 0.5))
    assert ev.metrics(x, x, 2)["snr_db"] == np.inf


def test_evaluate_has_every_baseline(tensors):
    cfg = Config("bf16", 32, 8)
    rows = ev.evaluate(tensors, [cfg])
    methods = [r["method"] for r in rows if r["tensor"] == "ln_in"]
    assert methods == [f"facet-plane K={cfg.k}"] + list(BASELINES)
    assert {"mxint8", "nvfp4"} <= set(methods)
    groups = ev.tensors._groups(tensors, True)
    for r in rows:
        if r["policy"] is None:
            # Each tensor is quantized on its own (its own tensor scale), then pooled.
            parts = groups[r["tensor"]]
            y = np.concatenate([BASELINES[r["method"]](p) for p in parts])
            assert r["bits_per_value"] == bits_per_value(r["method"])
            assert r["rel_l2"] == ev.metrics(np.concatenate(parts), y, 32)["rel_l2"]
    table = ev.format_table(rows)
    assert table.splitlines()[0].startswith("| tensor") and "| mxint8 " in table and "| nvfp4 " in table
    assert len(table.splitlines()) == len(rows) + 2
    summary = ev.format_summary(rows)
    assert "mxint8 (8.25 b/v)" in summary and "nvfp4 (4.5 b/v)" in summary
    with pytest.raises(ValueError, match="unknown baseline"):
        ev.evaluate(tensors, [cfg], ["mxint9"])


def test_tensor_scales_are_per_tensor():
    # Two tensors of one class, 1000x apart: pooled, the small one would share the large
    # one's NVFP4 tensor scale and lose its block scales to E4M3 underflow.
    rng = np.random.default_rng(RNG_SEED + 1)
    t = {"L0.x": rng.standard_normal(512).astype(np.float32) * 1e4,
         "L1.x": rng.standard_normal(512).astype(np.float32) * 1e-2}
    rows = {r["method"]: r for r in ev.evaluate(t, [], ["nvfp4"])}
    alone = ev.evaluate({"L1.x": t["L1.x"]}, [], ["nvfp4"])[0]
    small = ev.metrics(t["L1.x"], BASELINES["nvfp4"](t["L1.x"]), 32)["rel_l2"]
    assert alone["rel_l2"] == small < 0.2
    x = np.concatenate(list(t.values()))
    y = np.concatenate([BASELINES["nvfp4"](v) for v in t.values()])
    assert rows["nvfp4"]["rel_l2"] == ev.metrics(x, y, 32)["rel_l2"]
    # Pooled, every block of the small tensor would be flushed: error = the block's maximum.
    assert ev.metrics(x, BASELINES["nvfp4"](x), 32)["max_err_rel_block"] == 1.0
    assert rows["nvfp4"]["max_err_rel_block"] < 0.5


def test_evaluate_at_a_fractional_rate(tensors):
    cfgs, _ = ev.rd_configs(bits=(4.5,))
    assert cfgs, "some policy must take T = 4.5 at bf16 N = 32"
    rows = ev.evaluate(tensors, cfgs, ["nvfp4"])
    assert {r["bits_per_value"] for r in rows} == {4.5}


def test_rd_configs_cover_every_policy_and_rate():
    accepted, rejected = ev.rd_configs()
    assert ev.RD_BITS == tuple(np.arange(4, 12.5, 0.5))
    seen = sorted([(c.policy, float(c.bits)) for c in accepted]
                  + [(r["policy"], r["bits"]) for r in rejected])
    assert seen == sorted((p, t) for p in POLICIES for t in ev.RD_BITS)
    for c in accepted:
        assert c.budget == c.block * c.bits and isinstance(c.budget, int)
    for r in rejected:
        with pytest.raises(ValueError):
            Config("bf16", 32, ev.rd._whole(r["bits"]), None, r["policy"])
        assert r["reason"]
    # At N = 8, T = 4.5 is 36 bits, not whole bytes: no policy takes it.
    acc8, rej8 = ev.rd_configs(block=8, bits=(4.5,))
    assert not acc8 and all("whole number of bytes" in r["reason"] for r in rej8)


def test_rd_sweep_rows(tensors):
    cfgs, _ = ev.rd_configs(policies=POLICIES, bits=(6, 8, 12))
    rows = ev.rd_sweep(tensors, cfgs, progress=False)
    classes = ["ln_in", "gelu_in"]
    assert len(rows) == len(classes) * (len(cfgs) + len(BASELINES))
    for c in classes:
        for pol in {cfg.policy for cfg in cfgs}:
            err = {r["bits_per_value"]: r["rel_l2"] for r in rows
                   if r["tensor"] == c and r["policy"] == pol}
            # More bits, less error: the sweep is wired to the right configs.
            assert err[12.0] < err[8.0] < err[6.0], (c, pol)
    assert all(r["method"] == r["policy"] for r in rows if r["policy"])


def _row(tensor, method, bits, rel_l2, policy=None):
    return {"tensor": tensor, "method": method, "policy": policy, "bits_per_value": bits,
            "rel_l2": rel_l2}


def test_rd_summary_picks_the_strongest_baseline():
    rows = [_row("a", "mxint8", 8.25, 0.010), _row("a", "mxfp8-e4m3", 8.25, 0.030),
            _row("a", "mxfp6-e2m3", 6.25, 0.030), _row("a", "nvfp4", 4.5, 0.09),
            _row("a", "mxfp4", 4.25, 0.12), _row("b", "mxint8", 8.25, 0.05),
            _row("b", "mxfp8-e4m3", 8.25, 0.02),
            _row("a", "p", 8.0, 0.005, "p"), _row("a", "p", 6.0, 0.06, "p"),
            _row("a", "p", 4.0, 0.06, "p"), _row("b", "p", 8.0, 0.03, "p"),
            _row("a", "q", 8.0, 0.02, "q")]
    s = ev.rd_summary(rows)
    at = {(e["bits"], e["tensor"]): e for e in s}
    assert set(at) == {(8.0, "a"), (8.0, "b"), (6.0, "a"), (4.5, "a"), (4.0, "a")}
    assert at[(8.0, "a")]["reference"]["method"] == "mxint8"
    assert at[(8.0, "b")]["reference"]["method"] == "mxfp8-e4m3"
    assert at[(8.0, "a")]["policies"]["p"]["ratio"] == pytest.approx(0.5)
    assert at[(8.0, "b")]["policies"]["p"]["ratio"] == pytest.approx(1.5)
    assert at[(6.0, "a")]["policies"]["p"]["ratio"] == pytest.approx(2.0)
    assert at[(4.5, "a")]["policies"] == {"p": None, "q": None}
    assert at[(4.0, "a")]["policies"]["p"]["ratio"] == pytest.approx(0.5)
    md = ev.format_rd_summary(s)
    for t in ("8", "6", "4.5", "4"):
        assert f"### {t} bits per value" in md
    assert "0.0050 (0.50x)" in md and "does not fit" in md


def test_write_rd(tensors, tmp_path):
    result = ev.run_rd(tensors, policies=POLICIES[:1], baselines=["mxint8", "nvfp4", "mxfp4"],
                       progress=False, path="t.npz")
    files = ev.write_rd(result, tmp_path / "rd")
    names = sorted(f.name for f in files)
    assert names == ["rd_gelu_in.png", "rd_ln_in.png", "summary.json", "summary.md"]
    for f in files:
        if f.suffix == ".png":
            assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = json.loads((tmp_path / "rd" / "summary.json").read_text())
    assert len(back["rows"]) == len(result["rows"]) and back["sweep_seconds"] >= 0
    assert back["rejected"] == result["rejected"]
    assert {"tensor", "method", "bits_per_value", "rel_l2", "snr_db", "max_err_rel_block"} \
        <= set(back["rows"][0])
    md = (tmp_path / "rd" / "summary.md").read_text()
    assert "t.npz" in md and "### 4.5 bits per value" in md
    # The summary names the rates at which a policy does not fit.
    rejected = [f"{r['bits']:g}" for r in result["rejected"]]
    assert ("Configs that do not fit: plane at T = " + ", ".join(rejected) in md) == bool(rejected)
