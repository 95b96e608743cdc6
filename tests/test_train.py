"""Saved-tensor compression in training: exact gradients when lossless, stats, the run."""

import json
import math

import numpy as np
import pytest
import torch

# pytest-xdist runs one worker per core; more threads per worker only wait on each other.
torch.set_num_threads(1)

import facet
from facet import baselines, cli, train as tr
from facet.torch import compress_saved_tensors, decode, encode

TINY = tr.GPTConfig(width=32, layers=2, heads=2, context=32)
# fp32 with K = 8 flushes nothing but subnormals, and at N = 64, T = 32 a block fits whole
# unless all 8 delta planes are present (exponents 128 binades apart): lossless here.
LOSSLESS = facet.Config("fp32", 64, 32, k=8)
LOSSY = facet.Config("bf16", 32, 8)


@pytest.fixture(scope="module")
def data():
    train, held, info = tr.corpus()
    return train, held


def _grads(data, spec, steps=1, seed=0):
    """Gradients of a tiny GPT after ``steps`` forward/backward passes under ``spec``."""
    torch.manual_seed(seed)
    model = tr.GPT(TINY)
    xs, ys = tr.batches(data[0], steps, 4, TINY.context, seed)
    ctx = compress_saved_tensors(spec, exclude=model.parameters()) if spec else None
    for x, y in zip(xs, ys):
        if ctx:
            with ctx:
                loss = model(x, y)
        else:
            loss = model(x, y)
        loss.backward()
    return [p.grad.clone() for p in model.parameters()], ctx


@pytest.mark.parametrize("policy", ["plane", "significance"])
def test_lossless_config_gives_exact_gradients(data, policy):
    cfg = facet.Config("fp32", 64, 32, k=8, policy=policy)
    ref, _ = _grads(data, None, steps=2)
    got, ctx = _grads(data, cfg, steps=2)
    stats = ctx.stats()
    assert stats["tensors"] > 20 and stats["skipped"] > 0       # token ids, tiny and excluded
    for a, b in zip(ref, got):
        assert torch.equal(a, b)


def test_lossy_config_changes_gradients_a_little(data):
    ref, _ = _grads(data, None)
    got, ctx = _grads(data, LOSSY)
    rel = [((a - b).norm() / a.norm()).item() for a, b in zip(ref, got) if a.norm() > 0]
    assert max(rel) > 0 and np.median(rel) < 0.05


def test_stats_count_blocks_and_raw_bytes():
    x = torch.randn(1000, 40, requires_grad=True)   # 40,000 values: 1250 blocks of 32
    with compress_saved_tensors(LOSSY) as ctx:
        y = (x.sin() * 2).sum()                     # sin saves its input
    y.backward()
    s = ctx.stats()
    assert s["tensors"] == 1 and s["raw_bytes"] == 4 * 40_000
    assert s["stored_bytes"] == 1250 * LOSSY.budget_bytes and s["ratio"] == 4.0
    # Backward saw the decoded input, and only that.
    x_hat = decode(encode(x.detach(), LOSSY), LOSSY, x.shape)
    assert not torch.equal(x_hat, x.detach())
    torch.testing.assert_close(x.grad, 2 * x_hat.cos(), rtol=0, atol=0)


def test_integer_tiny_and_excluded_tensors_are_kept():
    w = torch.randn(64, 64, requires_grad=True)
    idx = torch.arange(64).repeat(40)
    with compress_saved_tensors(LOSSY, exclude=[w]) as ctx:
        small = torch.randn(10, requires_grad=True)
        loss = torch.nn.functional.embedding(idx, w).exp().sum() + (small * small).sum()
    loss.backward()
    s = ctx.stats()
    assert s["tensors"] == 1            # only the exp output (2560 x 64)
    assert s["skipped"] >= 2            # the indices and the small tensor


def test_non_contiguous_saves_get_their_layout_back():
    t = torch.randn(48, 64).t()
    ctx = compress_saved_tensors(LOSSLESS)
    back = ctx._unpack(ctx._pack(t))
    assert back.stride() == t.stride() and torch.equal(back, t)


@pytest.mark.parametrize("name", [b for b in ("mxfp8-e4m3", "mxint8", "nvfp4", "mxfp4")
                                  if b in baselines.BASELINES])
def test_baseline_storage_counts_bits_per_value(name):
    x = torch.randn(512, 64, requires_grad=True)
    with compress_saved_tensors(name) as ctx:
        y = x.exp().sum()
    y.backward()
    s = ctx.stats()
    assert s["stored_bytes"] == math.ceil(512 * 64 * baselines.bits_per_value(name) / 8)
    want = torch.from_numpy(baselines.BASELINES[name](x.detach().exp().numpy()))
    torch.testing.assert_close(x.grad, want, rtol=0, atol=0)


def test_unknown_method_is_a_value_error():
    with pytest.raises(ValueError, match="unknown storage method"):
        compress_saved_tensors("no-such-format")
    with pytest.raises(ValueError, match="unknown method"):
        tr.parse_method("nope")


def test_lossy_training_decreases_the_loss(data):
    s = tr.Settings(steps=40, batch=8, lr=3e-3, warmup=5, eval_batches=2, model=TINY)
    r = tr.train_run(LOSSY, data[0], data[1], s)
    assert r["steps"] == 40 and all(math.isfinite(v) for v in r["losses"])
    assert np.mean(r["losses"][-5:]) < r["losses"][0] - 1.0
    assert r["bytes_ratio"] == pytest.approx(4.0, rel=0.01)
    assert r["heldout_loss"] < r["losses"][0] - 1.0


def test_default_methods_list_what_is_skipped():
    methods, skipped = tr.default_methods()
    assert methods[:2] == ["fp32", "bf16"] and "plane:8" in methods
    names = {m for m, _ in skipped}
    assert "plane:4" in names          # the fit rule: a bf16 block needs more than 4 bits/value
    for m in methods:
        tr.parse_method(m)


def test_cli_train_writes_results_and_plot(tmp_path, capsys):
    out = tmp_path / "train"
    rc = cli.main(["train", "--steps", "3", "--methods", "fp32,plane:8", "--out", str(out),
                   "--width", "32", "--layers", "1", "--jobs", "1", "--no-progress"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert [r["method"] for r in res["runs"]] == ["fp32", "plane:8"]
    assert all(len(r["losses"]) == 3 for r in res["runs"])
    assert res["runs"][1]["stored_bytes"] * 4 == res["runs"][1]["raw_bytes"]
    assert (out / "loss.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "| plane:8 |" in out and "CPU s (`--jobs 1`)." in out


def test_cli_train_rejects_a_bad_method(capsys):
    assert cli.main(["train", "--methods", "plane:4", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("facet train: error:") and err.count("\n") == 1
