"""The MX baselines in the tool flow: `facet gen/synth --codec`, the comparison table of
`make synth` and the error of what the RTL computes (facet.compare)."""

import json

import numpy as np
import pytest

from facet import cli, compare, synth_flow
from facet import eval as ev
from facet.config import Config
from facet.rtl.mx import MxConfig

RNG_SEED = 20261201


@pytest.fixture
def tensors():
    rng = np.random.default_rng(RNG_SEED)
    return {"L0.gelu_in": (rng.standard_normal(4096) * 3).astype(np.float32),
            "L1.gelu_in": rng.standard_normal(1000).astype(np.float32),
            "emb.ln_in": (rng.standard_normal(2048) ** 3).astype(np.float32)}


@pytest.mark.parametrize("argv,names", [
    (["gen", "--codec", "mxint8", "--bits", "8"], ["--bits", "mxint8", "8.25"]),
    (["gen", "--codec", "mxfp8-e4m3", "--policy", "plane", "-K", "2"], ["-K/--policy"]),
    (["gen", "--codec", "mxint4"], ["mxint4", "mxfp8-e4m3"]),
    (["gen", "--codec", "mxint8", "--stages", "3"], ["0..2"]),
    (["synth", "--codec", "mxint8,mxfp8-e4m3", "--bits", "8"], ["--bits"]),
    (["synth", "--codec", "facet,mxfp4"], ["mxfp4"]),
])
def test_codec_arguments_fail_in_one_line(argv, names, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"facet {argv[0]}: error: ")
    for n in names:
        assert n in err, (n, err)
    assert not any(tmp_path.iterdir())


def test_gen_mx(tmp_path, capsys):
    assert cli.main(["gen", "--codec", "mxfp8-e4m3", "--block", "8", "--stages", "2",
                     "-o", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["config.json"] + [f"mxfp8_e4m3_{part}.{ext}" for part in
                                              ("encoder", "decoder") for ext in ("v", "il", "vlt")])
    info = json.loads((tmp_path / "config.json").read_text())
    assert info["config"]["codec"] == "mxfp8-e4m3" and info["config"]["budget_bits"] == 72
    assert info["latency"] == {"mxfp8_e4m3_encoder": 2, "mxfp8_e4m3_decoder": 2}
    widths = {p["name"]: p["width"] for p in info["ports"]["mxfp8_e4m3_encoder"]}
    assert widths["i__payload"] == 8 * 16 and widths["o__payload"] == 72


def test_facet_errors_are_eval_errors(tensors):
    cfg = Config("bf16", 32, 8)
    errs = compare.codec_errors(tensors, cfg)
    rows = {r["tensor"]: r["rel_l2"] for r in ev.evaluate(tensors, [cfg], [])}
    assert set(errs) == {"gelu_in", "ln_in", "all"}
    for c in ("gelu_in", "ln_in"):
        assert errs[c] == pytest.approx(rows[c], rel=1e-12)
    assert min(rows.values()) <= errs["all"] <= max(rows.values())


@pytest.mark.parametrize("codec", ["mxint8", "mxfp8-e4m3"])
def test_mx_errors_are_the_baseline_errors_at_fp32(tensors, codec):
    """At fp32 nothing rounds around the codec, so the RTL's error is the baseline's."""
    errs = compare.codec_errors(tensors, MxConfig(codec, "fp32", 32))
    rows = {r["tensor"]: r["rel_l2"] for r in ev.evaluate(tensors, [], [codec])}
    for c in ("gelu_in", "ln_in"):
        assert errs[c] == pytest.approx(rows[c], rel=1e-12)
    bf16 = compare.codec_errors(tensors, MxConfig(codec, "bf16", 32))
    assert bf16["all"] != errs["all"] and bf16["all"] == pytest.approx(errs["all"], rel=0.2)


def test_comparison_table(tensors, tmp_path, monkeypatch):
    """MX rows beside the policies, areas relative to MXINT8, errors per class and overall."""
    area = {"plane": (800, 600), "significance": (1600, 1500), "mxint8": (400, 300),
            "mxfp8-e4m3": (500, 200)}

    def fake(cfg, stages, liberty, nand2, outdir=None, jobs=2):
        e, d = area[cfg.policy]
        part = lambda a: {"total": {"nand2_eq": a, "flops": a // 10}, "depth": {"levels": a // 100},
                          "blocks": [{"name": "top", "level": 0, "nand2_eq": a - 10}]}
        return {"encoder": part(e), "decoder": part(d),
                "summary": {"encoder_nand2_eq": e, "decoder_nand2_eq": d}}

    monkeypatch.setattr(synth_flow, "synth_config", fake)
    cfgs = [Config(policy="plane"), Config(policy="significance"), MxConfig("mxint8"),
            MxConfig("mxfp8-e4m3")]
    rows = synth_flow.synth_policies(cfgs, 1, outdir=tmp_path, tensors=tensors)
    by = {r["policy"]: r for r in rows}
    assert by["plane"]["encoder_vs_mxint8"] == 2.0 and by["mxfp8-e4m3"]["decoder_vs_mxint8"] == pytest.approx(0.667)
    assert by["mxint8"]["bits_per_value"] == 8.25
    assert by["significance"]["rel_l2"] == compare.codec_errors(tensors, cfgs[1])
    md = (tmp_path / "bf16_n32_t8_k3_s1_policies.md").read_text()
    assert "| mxfp8-e4m3 | 8.25 | 500 | 200 | 1.25 | 0.67 | 490 / 190 | 5 / 2 | 50 / 20 |" in md
    assert "| rel. L2 by tensor class | gelu_in | ln_in | all |" in md
    assert json.loads((tmp_path / "bf16_n32_t8_k3_s1_policies.json").read_text()) == rows
