"""facet.torch's `vlc` policy against the NumPy golden model (facet.vlc): packed bytes and
decoded bits on random, activation-like and adversarial data, foreign bytes, float input of
any shape, and training with compressed saved tensors."""

import numpy as np
import pytest
import torch

# pytest-xdist runs one worker per core; more threads per worker only wait on each other.
torch.set_num_threads(1)

import facet
import facet.torch as ft
from facet import train as tr
from facet.config import FORMATS, Config, valid_configs
from facet.torch import vlc as tv
from tb.torch_check import (check_float_input, check_foreign_blocks, check_lossless_canonical,
                            check_policy, check_tiny_training, torch_raw)

EXAMPLE = np.array([0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8], np.uint16)
CONFIGS = valid_configs(["vlc"], (4, 4.5, 6, 8, 12))


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.name for c in CONFIGS])
def test_matches_model(cfg):
    """Random, activation-like and adversarial blocks, bit for bit, and stable re-compression."""
    check_policy(cfg)


def test_decodes_random_bytes_like_the_model():
    """Foreign blocks: random bytes, and every depth and mode in the header (modes whose
    offset exceeds the depth among them), over random bodies and over all-ones bodies."""
    rng = np.random.default_rng(1)
    for cfg in CONFIGS:
        e = cfg.fmt.exp_bits                                          # every (mode, depth):
        check_foreign_blocks(cfg, rng.integers(0, 1 << e, 64) | (np.arange(64) << e))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_float_input_padded_and_cut_back(fmt):
    """Float tensors of any shape, lengths not a multiple of N, padded and cut back."""
    check_float_input(CONFIGS, fmt)


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
    check_tiny_training(Config("bf16", 32, 8, policy="vlc"))


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
    check_lossless_canonical(cfg, facet.vlc.canonical, facet.lossless_bits)
