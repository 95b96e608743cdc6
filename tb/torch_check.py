"""The torch codec against the NumPy model, bit for bit, and the data it is checked on: shared
by the torch tests."""

import math
import zlib

import numpy as np
import pytest
import torch

import facet
import facet.torch as ft
from facet import train as tr

__all__ = ["torch_raw", "check_against_model", "odd_float_tensor", "check_float_tensor", "random_raw",
           "activations", "adversarial_raw", "check_policy", "check_float_input",
           "check_lossless_canonical", "check_tiny_training", "check_foreign_blocks"]

_NP_SIGNED = {16: np.int16, 32: np.int32}


def torch_raw(raw, fmt):
    """Raw bit patterns as the signed integer tensor the torch codec takes."""
    return torch.from_numpy(raw.view(_NP_SIGNED[fmt.width]).copy())


def check_against_model(cfg, raw):
    """Packed bytes and decoded bits of facet.torch equal the model's on ``raw``; returns the
    torch blocks."""
    want = facet.encode(raw, cfg)
    got = ft.encode(torch_raw(raw, cfg.fmt), cfg)
    assert got.dtype == torch.uint8 and tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{cfg.name}: packed bytes")
    dec = ft.decode_raw(got, cfg).numpy()
    np.testing.assert_array_equal(dec, facet.decode(want, cfg).astype(np.int64),
                                  err_msg=f"{cfg.name}: decoded bits")
    return got


def odd_float_tensor(n, rng):
    """A (3, 5, n + 3) float32 array whose length is no multiple of N, with NaN, Inf, zeros,
    a subnormal and values near the format limits."""
    x = (rng.standard_normal((3, 5, n + 3)) * np.exp(4 * rng.standard_normal((3, 5, n + 3)))).astype(np.float32)
    x.flat[::29] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-41, 7e4, -3e38][: len(x.flat[::29])]
    return x


def check_float_tensor(cfg, x):
    """Float input of any shape, padded to whole blocks and cut back, matches the model."""
    flat = np.concatenate([x.reshape(-1), np.zeros(-x.size % cfg.n, np.float32)])
    want = facet.encode(flat, cfg)
    got = ft.encode(torch.from_numpy(x), cfg)
    np.testing.assert_array_equal(got.numpy(), want, err_msg=cfg.name)
    y = ft.decode(got, cfg, x.shape)
    assert y.shape == x.shape and y.dtype == torch.float32
    ref = facet.to_float(facet.decode(want, cfg), cfg)[: x.size].reshape(x.shape)
    np.testing.assert_array_equal(y.numpy().view(np.uint32), ref.view(np.uint32), err_msg=cfg.name)


def random_raw(cfg, nblocks, rng):
    """Uniformly random bit patterns: wide exponent spreads, many specials and subnormals."""
    return rng.integers(0, 1 << cfg.fmt.width, nblocks * cfg.n, dtype=np.uint64).astype(cfg.fmt.dtype)


def activations(cfg, nblocks, rng):
    """Heavy-tailed activation-like values: per-block scales, outliers, zeros, tiny values."""
    x = rng.standard_normal((nblocks, cfg.n)) * np.exp(rng.standard_normal((nblocks, 1)))
    x[rng.random(x.shape) < 0.02] *= 300.0
    x[rng.random(x.shape) < 0.05] = 0.0
    x[rng.random(x.shape) < 0.03] *= 1e-5
    relu = rng.random(nblocks) < 0.2
    x[relu] = np.maximum(x[relu], 0)
    return x.astype(np.float32).reshape(-1)


def adversarial_raw(cfg, nblocks, rng):
    """Raw bit patterns built to reach every branch of a policy's choices.

    Exponents spread 0..20 binades below a per-block centre (across the depth limit of
    `vlc` and the class cap of `window`), the centre anywhere from the subnormal range to
    the largest normal; short mantissas;
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


def check_policy(cfg):
    """Random, activation-like and adversarial blocks of ``cfg`` bit for bit against the
    model, and stable re-compression (decoding and encoding again gives the same blocks)."""
    rng = np.random.default_rng(zlib.crc32(cfg.name.encode()))
    check_against_model(cfg, random_raw(cfg, 60, rng))
    got = check_against_model(cfg, adversarial_raw(cfg, 150, rng))
    again = ft.encode(ft.decode_raw(got, cfg).to(torch.int32 if cfg.fmt.width == 32 else torch.int16), cfg)
    assert torch.equal(again, got)
    x = activations(cfg, 150, rng)
    want = facet.encode(x, cfg)
    got = ft.encode(torch.from_numpy(x), cfg)
    np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{cfg.name}: activations")
    np.testing.assert_array_equal(ft.decode_raw(got, cfg).numpy(),
                                  facet.decode(want, cfg).astype(np.int64))


def check_float_input(configs, fmt):
    """Float tensors of any shape, lengths not a multiple of N, for the configs of format
    ``fmt``: rounded and padded like the model, and decoded back to the input's shape."""
    rng = np.random.default_rng(2)
    for cfg in (c for c in configs if c.format == fmt):
        check_float_tensor(cfg, odd_float_tensor(cfg.n, rng))


def check_lossless_canonical(cfg, canonical, lossless_bits):
    """Blocks whose lossless size fits come back as ``canonical(x)``."""
    raw = adversarial_raw(cfg, 200, np.random.default_rng(4))
    fits = np.repeat(lossless_bits(raw, cfg) <= cfg.budget, cfg.n)
    assert fits.mean() > 0.5
    out = ft.decode_raw(ft.encode(torch_raw(raw, cfg.fmt), cfg), cfg).numpy()
    np.testing.assert_array_equal(out[fits], canonical(raw, cfg).astype(np.int64)[fits])


def check_tiny_training(cfg):
    """A tiny GPT whose saved activations are stored as ``cfg`` blocks still learns, and
    stores 4x less than fp32 at T = 8."""
    train, held, _ = tr.corpus()
    net = tr.GPTConfig(width=32, layers=1, heads=2, context=32)
    s = tr.Settings(steps=15, batch=8, lr=3e-3, warmup=3, eval_batches=1, model=net)
    r = tr.train_run(cfg, train, held, s)
    assert r["steps"] == 15 and all(math.isfinite(v) for v in r["losses"])
    assert np.mean(r["losses"][-5:]) < r["losses"][0] - 0.5
    assert r["saved_tensors"] > 10 and r["bytes_ratio"] == pytest.approx(32 / cfg.bits, rel=0.01)



def check_foreign_blocks(cfg, hdr):
    """Foreign blocks decode as the model decodes them: 96 random byte strings, the first 64
    with the header fields ``hdr`` (64 integers), and 64 all-ones bodies under the same
    headers."""
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 256, size=(96, cfg.budget_bytes), dtype=np.uint8)
    ones = np.full((64, cfg.budget_bytes), 255, np.uint8)
    for part in (blocks[:64], ones):
        bits = np.unpackbits(part, axis=1, bitorder="little")
        bits[:, :cfg.header_bits] = (hdr[:, None] >> np.arange(cfg.header_bits)) & 1
        part[:] = np.packbits(bits, axis=1, bitorder="little")
    for b in (blocks, ones):
        got = ft.decode_raw(torch.from_numpy(b), cfg).numpy()
        np.testing.assert_array_equal(got, facet.decode(b, cfg).astype(np.int64), err_msg=cfg.name)
