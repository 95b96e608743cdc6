"""facet.torch's `window` policy against the NumPy golden model (facet.window): packed bytes
and decoded bits on random, activation-like and adversarial data, foreign bytes, float input
of any shape, the worked example stage by stage, and training with compressed saved
tensors."""

import numpy as np
import pytest
import torch

# pytest-xdist runs one worker per core; more threads per worker only wait on each other.
torch.set_num_threads(1)

import facet
import facet.torch as ft
from facet import train as tr
from facet import window as model
from facet.config import FORMATS, Config, valid_configs
from facet.torch import window as tw
from tb.torch_check import (adversarial_raw, check_against_model, check_float_input,
                            check_foreign_blocks, check_lossless_canonical, check_policy,
                            check_tiny_training, torch_raw)

EXAMPLE = np.array([0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8], np.uint16)
CONFIGS = valid_configs(["window"], (4, 4.5, 6, 8, 12))


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.name for c in CONFIGS])
def test_matches_model(cfg):
    """Random, activation-like and adversarial blocks, bit for bit, and stable re-compression."""
    check_policy(cfg)


def test_every_offset_is_taken():
    """The data above reaches every offset, so the comparison covers every list layout."""
    cfg = Config("bf16", 32, 8, policy="window")
    raw = adversarial_raw(cfg, 400, np.random.default_rng(3))
    o = model.encoder_stages(raw, cfg)["o"]
    assert set(o.tolist()) == set(range(model.OFFSETS))
    check_against_model(cfg, raw)


def test_decodes_random_bytes_like_the_model():
    """Foreign blocks: random bytes, and every offset in the header (offsets the codes do not
    allow among them) over random bodies and over all-ones bodies, with bases at their edges."""
    rng = np.random.default_rng(1)
    for cfg in CONFIGS:
        base = rng.choice([0, 1, cfg.fmt.exp_max - 1, cfg.fmt.exp_max, 100], 64)
        check_foreign_blocks(cfg, base | (np.arange(64) % model.OFFSETS << cfg.fmt.exp_bits))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_float_input_padded_and_cut_back(fmt):
    """Float tensors of any shape, lengths not a multiple of N, padded and cut back."""
    check_float_input(CONFIGS, fmt)


def test_worked_example_stages():
    """docs/format.md section 11.6, stage by stage."""
    cfg = Config("bf16", 8, 8, policy="window")
    raw16 = torch_raw(EXAMPLE, cfg.fmt)
    raw = raw16.to(torch.int64).reshape(1, -1) & 0xFFFF
    sign, exp, man = ft.stages.fields(raw, cfg)
    b = tw.base(exp, cfg)
    cls = tw.classes(exp, man, b, cfg)
    want = model.encoder_stages(EXAMPLE, cfg)
    assert b.tolist() == want["base"].tolist() and cls.tolist() == want["cls"].tolist()
    hist, special = tw.histogram(cls, cfg)
    assert hist.tolist() == want["hist"].tolist() and special.tolist() == [False]
    o, p, left = tw.offset(hist, special, cfg)
    assert (o.tolist(), p.tolist(), left.tolist()) == ([0], [5], [0])
    code = tw.codes(cls, o, cfg)
    assert code.tolist() == [[1, 2, 3, 0, 3, 3, 0, 1]]
    blocks = ft.encode(raw16, cfg)
    assert bytes(blocks.numpy().tobytes()) == bytes.fromhex("80d4da081a12008a")
    hb, ho = tw.header(blocks, cfg)
    dcode, dsign = tw.unpack_codes(blocks, cfg)
    assert (hb.tolist(), ho.tolist(), dcode.tolist()) == ([want["base"][0]], [0], code.tolist())
    assert dsign.tolist() == sign.tolist()
    assert [v.tolist() for v in tw.precision(dcode, hb, ho, cfg)] == [[0], [5], [0]]
    out = facet.to_float(ft.decode_raw(blocks, cfg).numpy().astype(np.uint16), cfg)
    np.testing.assert_array_equal(out, [1.03125, -0.78125, 0.40625, 3.03125, 0, 0, 2.53125, -1.34375])


def test_train_lists_window():
    methods, skipped = tr.default_methods()
    assert {"window:8", "window:6", "window:4.5", "window:4"} <= set(methods)
    assert "window" not in {m for m, _ in skipped}


def test_training_with_window_saved_tensors_decreases_the_loss():
    """A tiny GPT whose saved activations are stored as window blocks still learns."""
    check_tiny_training(Config("bf16", 32, 8, policy="window"))


@pytest.mark.parametrize("cfg", [Config("fp32", 16, 32, policy="window"),
                                 Config("bf16", 64, 16, policy="window")], ids=lambda c: c.name)
def test_lossless_round_trip_is_canonical(cfg):
    """Blocks whose lossless size fits come back as canonical(x) (docs/format.md 11)."""
    check_lossless_canonical(cfg, model.canonical, model.lossless_bits)
