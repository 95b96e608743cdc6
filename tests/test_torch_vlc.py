"""facet.torch's `vlc` policy against the NumPy golden model (facet.vlc): packed bytes and
decoded bits on random, activation-like and adversarial data, foreign bytes, float input of
any shape, and training with compressed saved tensors."""

import math
import zlib

import numpy as np
import pytest
import torch

# pytest-xdist runs one worker per core; more threads per worker only wait on each other.
torch.set_num_threads(1)

import facet
import facet.torch as ft
from tb.torch_check import check_against_model, check_float_tensor, odd_float_tensor, torch_raw
from facet import train as tr
from facet.config import FORMATS, Config, valid_configs
from facet.torch import vlc as tv

EXAMPLE = np.array([0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8], np.uint16)


CONFIGS = valid_configs(["vlc"], (4, 4.5, 6, 8, 12))


def _random_raw(cfg, nblocks, rng):
    """Uniformly random bit patterns: wide exponent spreads, many specials and subnormals."""
    return rng.integers(0, 1 << cfg.fmt.width, nblocks * cfg.n, dtype=np.uint64).astype(cfg.fmt.dtype)


def _activations(cfg, nblocks, rng):
    """Heavy-tailed activation-like values: per-block scales, outliers, zeros, tiny values."""
    x = rng.standard_normal((nblocks, cfg.n)) * np.exp(rng.standard_normal((nblocks, 1)))
    x[rng.random(x.shape) < 0.02] *= 300.0
    x[rng.random(x.shape) < 0.05] = 0.0
    x[rng.random(x.shape) < 0.03] *= 1e-5
    relu = rng.random(nblocks) < 0.2
    x[relu] = np.maximum(x[relu], 0)
    return x.astype(np.float32).reshape(-1)


def _adversarial_raw(cfg, nblocks, rng):
    """Raw bit patterns built to reach every branch of the code and the cost choices.

    Exponents spread 0..20 binades below a per-block centre (across the depth limit of 15),
    the centre anywhere from the subnormal range to the largest normal; short mantissas;
    +-0, subnormals, +-Inf, NaN with any payload and sign; an all-zero block, an all-special
    block, a block of one outlier over tiny values and a block of one class only.
    """
    fmt, n = cfg.fmt, cfg.n
    spread = rng.choice([0, 1, 2, 3, 6, 15, 16, 20, fmt.exp_max], size=(nblocks, 1))
    centre = rng.integers(1, fmt.exp_max, size=(nblocks, 1))
    exp = np.clip(centre - (rng.random((nblocks, n)) * (spread + 1)).astype(np.int64), 0, fmt.exp_max - 1)
    man = rng.integers(0, 1 << fmt.man_bits, size=(nblocks, n))
    short = rng.random((nblocks, 1)) < 0.3
    man = np.where(short, man & ~((1 << max(fmt.man_bits - 2, 0)) - 1), man)
    sign = rng.integers(0, 2, size=(nblocks, n))
    raw = (sign << (fmt.width - 1)) | (exp << fmt.man_bits) | man
    top = 1 << (fmt.width - 1)
    inf = fmt.exp_max << fmt.man_bits
    specials = [0, top, inf, top | inf, inf | 1, inf | (1 << (fmt.man_bits - 1)), top | inf | 3,
                1, top | ((1 << fmt.man_bits) - 1), ((fmt.exp_max - 1) << fmt.man_bits) | 7]
    flat = raw.reshape(-1)
    for value in specials:
        flat[rng.integers(0, flat.size, size=max(flat.size // 101, 1))] = value
    rows = rng.choice(nblocks, size=4, replace=False)
    raw[rows[0]] = 0                                                    # all zero
    raw[rows[1]] = rng.choice(specials[2:7], size=n)                    # specials only
    raw[rows[2]] = (1 << fmt.man_bits) | rng.integers(0, 1 << fmt.man_bits, size=n)
    raw[rows[2], rng.integers(0, n)] = ((fmt.exp_max - 1) << fmt.man_bits) | 5  # one outlier
    raw[rows[3]] = (centre[rows[3]] << fmt.man_bits) | man[rows[3]]     # distance 0 only
    return raw.reshape(-1).astype(fmt.dtype)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.name for c in CONFIGS])
def test_matches_model(cfg):
    """Random, activation-like and adversarial blocks, bit for bit, and stable re-compression."""
    rng = np.random.default_rng(zlib.crc32(cfg.name.encode()))
    check_against_model(cfg, _random_raw(cfg, 60, rng))
    got = check_against_model(cfg, _adversarial_raw(cfg, 150, rng))
    # Decoding and encoding again gives the same blocks (docs/format.md, section 10.6).
    again = ft.encode(ft.decode_raw(got, cfg).to(torch.int32 if cfg.fmt.width == 32 else torch.int16), cfg)
    assert torch.equal(again, got)
    x = _activations(cfg, 150, rng)
    want = facet.encode(x, cfg)
    got = ft.encode(torch.from_numpy(x), cfg)
    np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{cfg.name}: activations")
    np.testing.assert_array_equal(ft.decode_raw(got, cfg).numpy(),
                                  facet.decode(want, cfg).astype(np.int64))


def test_decodes_random_bytes_like_the_model():
    """Foreign blocks: random bytes, and every depth and mode in the header (modes whose
    offset exceeds the depth among them), over random bodies and over all-ones bodies."""
    rng = np.random.default_rng(1)
    for cfg in CONFIGS:
        blocks = rng.integers(0, 256, size=(96, cfg.budget_bytes), dtype=np.uint8)
        e = cfg.fmt.exp_bits
        hdr = rng.integers(0, 1 << e, 64) | (np.arange(64) << e)          # every (mode, depth)
        ones = np.full((64, cfg.budget_bytes), 255, np.uint8)
        for part in (blocks[:64], ones):
            bits = np.unpackbits(part, axis=1, bitorder="little")
            bits[:, :cfg.header_bits] = (hdr[:, None] >> np.arange(cfg.header_bits)) & 1
            part[:] = np.packbits(bits, axis=1, bitorder="little")
        for b in (blocks, ones):
            got = ft.decode_raw(torch.from_numpy(b), cfg).numpy()
            np.testing.assert_array_equal(got, facet.decode(b, cfg).astype(np.int64), err_msg=cfg.name)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_float_input_padded_and_cut_back(fmt):
    """Float tensors of any shape, lengths not a multiple of N: rounded and padded like the
    model, and decoded back to the input's shape."""
    rng = np.random.default_rng(2)
    for cfg in (c for c in CONFIGS if c.format == fmt):
        check_float_tensor(cfg, odd_float_tensor(cfg.n, rng))


def test_worked_example_stages():
    """docs/format.md section 10.7, stage by stage."""
    cfg = Config("bf16", 8, 8, policy="vlc")
    raw16 = torch_raw(EXAMPLE, cfg.fmt)
    raw = raw16.to(torch.int32).reshape(1, -1) & 0xFFFF
    sign, exp, man = ft.stages.fields(raw, cfg)
    b = tv.base(exp, cfg)
    cls = tv.classes(exp, man, b, cfg)
    assert b.tolist() == [128] and cls.tolist() == [[1, 2, 3, 0, tv.ZERO, 11, 0, 1]]
    hist = tv._histogram(cls)
    d, mode = tv.depth(hist, cfg)
    assert (d.tolist(), mode.tolist()) == ([3], [0])
    code, length = tv.codewords(cls, d, mode)
    assert code.tolist() == [[0, 2, 5, 1, 3, 3, 1, 0]] and length.tolist() == [[2, 2, 3, 3, 2, 2, 3, 2]]
    cost = tv._code_cost(length, tv._signed(cls, d), cfg)
    assert cost.tolist() == [39]
    p, left = tv.precision(hist, d, cost, cfg)
    assert (p.tolist(), left.tolist()) == ([5], [2])
    assert tv.widths(cls, d, p, left, cfg).tolist() == [[5, 4, 2, 5, 0, 0, 5, 4]]
    blocks = ft.encode(raw16, cfg)
    assert bytes(blocks.numpy().tobytes()) == bytes.fromhex("80039f4c2a020903")
    hb, hd, hm = tv.header(blocks, cfg)
    assert (hb.tolist(), hd.tolist(), hm.tolist()) == ([128], [3], [0])
    dcls, end = tv.unpack_classes(blocks, hd, hm, cfg)
    assert dcls.tolist() == [[1, 2, 3, 0, tv.ZERO, tv.ZERO, 0, 1]] and end.tolist() == [33]
    assert ft.decode_raw(blocks, cfg).tolist() == [0x3F82, 0xBF44, 0x3ED0, 0x4042, 0, 0, 0x4022, 0xBFAC]


def test_train_lists_vlc():
    methods, skipped = tr.default_methods()
    assert {"vlc:8", "vlc:6", "vlc:4.5", "vlc:4"} <= set(methods)
    assert "vlc" not in {m for m, _ in skipped}
    assert tr.parse_method("vlc:8") == Config("bf16", 32, 8, policy="vlc")


def test_training_with_vlc_saved_tensors_decreases_the_loss():
    """A tiny GPT whose saved activations are stored as vlc blocks still learns."""
    train, held, _ = tr.corpus()
    model = tr.GPTConfig(width=32, layers=1, heads=2, context=32)
    s = tr.Settings(steps=15, batch=8, lr=3e-3, warmup=3, eval_batches=1, model=model)
    r = tr.train_run(Config("bf16", 32, 8, policy="vlc"), train, held, s)
    assert r["steps"] == 15 and all(math.isfinite(v) for v in r["losses"])
    assert np.mean(r["losses"][-5:]) < r["losses"][0] - 0.5
    assert r["saved_tensors"] > 10 and r["bytes_ratio"] == pytest.approx(4.0, rel=0.01)


def test_saved_tensor_hooks_store_vlc_blocks():
    """The backward pass sees exactly the vlc round trip of what forward saved."""
    cfg = Config("bf16", 32, 8, policy="vlc")
    x = torch.randn(1000, 40, requires_grad=True)     # 40,000 values: 1250 blocks of 32
    with ft.compress_saved_tensors(cfg) as ctx:
        y = (x.sin() * 2).sum()
    y.backward()
    s = ctx.stats()
    assert s["tensors"] == 1 and s["stored_bytes"] == 1250 * cfg.budget_bytes
    x_hat = ft.decode(ft.encode(x.detach(), cfg), cfg, x.shape)
    assert not torch.equal(x_hat, x.detach())
    torch.testing.assert_close(x.grad, 2 * x_hat.cos(), rtol=0, atol=0)


@pytest.mark.parametrize("cfg", [Config("fp32", 16, 32, policy="vlc"), Config("bf16", 64, 16, policy="vlc")],
                         ids=lambda c: c.name)
def test_lossless_round_trip_is_canonical(cfg):
    """Blocks whose lossless size fits come back as canonical(x) (docs/format.md 10.6)."""
    raw = _adversarial_raw(cfg, 200, np.random.default_rng(4))
    fits = np.repeat(facet.lossless_bits(raw, cfg) <= cfg.budget, cfg.n)
    assert fits.mean() > 0.5
    out = ft.decode_raw(ft.encode(torch_raw(raw, cfg.fmt), cfg), cfg).numpy()
    np.testing.assert_array_equal(out[fits], facet.vlc.canonical(raw, cfg).astype(np.int64)[fits])
