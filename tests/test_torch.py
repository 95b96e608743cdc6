"""facet.torch against the NumPy golden model: packed bytes and decoded bits, every policy."""

import numpy as np
import pytest
import torch

# pytest-xdist runs one worker per core; more threads per worker only wait on each other.
torch.set_num_threads(1)

import facet
import facet.torch as ft
from tb.torch_check import check_against_model, check_float_tensor, odd_float_tensor, torch_raw
from facet.config import BLOCK_SIZES, FORMATS



def _configs():
    """Every valid config over formats x N x T x policy, at the default K and at K = 1.

    T runs over the integers and the halves: a fractional T only changes the budget B,
    which the codec reads from the config, never from T.
    """
    out = []
    for policy in ft.POLICIES:
        for fmt in FORMATS.values():
            for n in BLOCK_SIZES:
                for t in [x / 2 for x in range(2, 2 * fmt.width + 1)]:
                    t = int(t) if t.is_integer() else t
                    for k in (None, 1) if isinstance(t, int) else (None,):
                        try:
                            cfg = facet.Config(fmt.name, n, t, k, policy)
                        except ValueError:
                            continue
                        if cfg not in out:
                            out.append(cfg)
    return out


# Policies built on K delta planes; `vlc` has its own tests in tests/test_torch_vlc.py.
CONFIGS = [c for c in _configs() if c.k is not None]
PLANE_POLICIES = sorted({c.policy for c in CONFIGS})


def adversarial_raw(cfg, blocks, seed):
    """Raw bit patterns: exponents spread around a per-block centre, plus special values.

    Blocks mix narrow and wide exponent spreads (flushes), short mantissas (absent planes),
    zeros, subnormals, Inf, NaN with any payload and sign, all-zero blocks and single
    outliers over tiny values.
    """
    fmt = cfg.fmt
    rng = np.random.default_rng(seed)
    n = cfg.n
    spread = rng.choice([0, 1, 3, (1 << cfg.k) - 1, 1 << cfg.k, fmt.exp_max], size=(blocks, 1))
    centre = rng.integers(1, fmt.exp_max + 1, size=(blocks, 1))
    exp = np.clip(centre - (rng.random((blocks, n)) * (spread + 1)).astype(np.int64), 0, fmt.exp_max)
    man = rng.integers(0, 1 << fmt.man_bits, size=(blocks, n))
    short = rng.random((blocks, 1)) < 0.3
    man = np.where(short, man & ~((1 << max(fmt.man_bits - 2, 0)) - 1), man)
    sign = rng.integers(0, 2, size=(blocks, n))
    raw = (sign << (fmt.width - 1)) | (exp << fmt.man_bits) | man
    flat = raw.reshape(-1)
    size = flat.size
    special = {
        "zero": 0, "negzero": 1 << (fmt.width - 1),
        "inf": fmt.exp_max << fmt.man_bits,
        "neginf": (1 << (fmt.width - 1)) | (fmt.exp_max << fmt.man_bits),
        "qnan": (fmt.exp_max << fmt.man_bits) | (1 << (fmt.man_bits - 1)),
        "snan": (fmt.exp_max << fmt.man_bits) | 1,
        "negnan": (1 << (fmt.width - 1)) | (fmt.exp_max << fmt.man_bits) | 3,
        "subnormal": 1, "negsubnormal": (1 << (fmt.width - 1)) | ((1 << fmt.man_bits) - 1),
        "maxnormal": ((fmt.exp_max - 1) << fmt.man_bits) | ((1 << fmt.man_bits) - 1),
    }
    for value in special.values():
        flat[rng.integers(0, size, size=max(size // 97, 1))] = value
    raw[rng.integers(0, blocks)] = 0                                    # an all-zero block
    b = rng.integers(0, blocks)                                         # one outlier over tiny values
    raw[b] = (1 << fmt.man_bits) | rng.integers(0, 1 << fmt.man_bits, size=n)
    raw[b, rng.integers(0, n)] = ((fmt.exp_max - 1) << fmt.man_bits) | 5
    return raw.reshape(-1).astype(fmt.dtype)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.name for c in CONFIGS])
def test_matches_model_on_adversarial_raw(cfg):
    check_against_model(cfg, adversarial_raw(cfg, 97, seed=hash(cfg.name) % 2**32))


@pytest.mark.parametrize("policy", PLANE_POLICIES)
def test_decodes_random_bytes_like_the_model(policy):
    """Every byte string decodes to defined values, the same ones as the model's."""
    rng = np.random.default_rng(1)
    for cfg in (c for c in CONFIGS if c.policy == policy):
        blocks = rng.integers(0, 256, size=(64, cfg.budget_bytes), dtype=np.uint8)
        got = ft.decode_raw(torch.from_numpy(blocks), cfg).numpy()
        np.testing.assert_array_equal(got, facet.decode(blocks, cfg).astype(np.int64), err_msg=cfg.name)


@pytest.mark.parametrize("policy", PLANE_POLICIES)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_float_input_padded_and_cut_back(fmt, policy):
    """Float tensors of any shape, lengths not a multiple of N: rounded and padded like the
    model, and decoded back to the input's shape."""
    rng = np.random.default_rng(2)
    for n in BLOCK_SIZES:
        bits = max(c.bits for c in CONFIGS if c.format == fmt and c.n == n and c.policy == policy)
        for t in sorted({bits, min(c.bits for c in CONFIGS if c.format == fmt and c.n == n and c.policy == policy)}):
            cfg = facet.Config(fmt, n, t, policy=policy)
            check_float_tensor(cfg, odd_float_tensor(n, rng))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_float_dtypes_go_through_float32(dtype):
    cfg = facet.Config("bf16", 32, 8)
    x = torch.randn(1000, generator=torch.Generator().manual_seed(3)).to(dtype) * 100
    flat = np.concatenate([x.float().numpy(), np.zeros(-x.numel() % 32, np.float32)])
    np.testing.assert_array_equal(ft.encode(x, cfg).numpy(), facet.encode(flat, cfg))


def test_lossless_round_trip_is_canonical():
    """fp32 at full width: every block fits, and the round trip returns canonical(x)."""
    cfg = facet.Config("fp32", 16, 32)
    raw = adversarial_raw(cfg, 50, seed=4)
    assert (facet.lossless_bits(raw, cfg) <= cfg.budget).all()
    out = ft.decode_raw(ft.encode(torch_raw(raw, cfg.fmt), cfg), cfg).numpy()
    np.testing.assert_array_equal(out, facet.canonical(raw, cfg).astype(np.int64))


def test_errors():
    cfg = facet.Config("bf16", 32, 8)
    with pytest.raises(ValueError, match="raw bf16"):
        ft.encode(torch.zeros(32, dtype=torch.int32), cfg)
    with pytest.raises(ValueError, match="uint8"):
        ft.decode_raw(torch.zeros(32, dtype=torch.int32), cfg)
    with pytest.raises(ValueError, match="whole number"):
        ft.decode_raw(torch.zeros(33, dtype=torch.uint8), cfg)


def test_runs_on_the_input_device():
    """The codec allocates on the input's device: a 'meta' tensor never touches CPU data."""
    cfg = facet.Config("bf16", 32, 8)
    blocks = ft.encode(torch.randn(64, 32, device="meta"), cfg)
    assert blocks.device.type == "meta" and tuple(blocks.shape) == (64, cfg.budget_bytes)
    assert ft.decode(blocks, cfg, (64, 32)).device.type == "meta"
