"""The `window` policy (docs/format.md, section 11): worked example, offset and precision
rule, layout, round trips, specials, error bound, foreign blocks."""

import numpy as np
import pytest

import facet
from facet import window as w
from facet.config import Config, valid_configs
from facet.model import fields, to_bits, to_float
from tb.blocks import activations

EXAMPLE = np.array([0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8], np.uint16)
CONFIGS = valid_configs(["window"], (4, 4.5, 5, 6, 8, 10, 12, 16))
SOME = [Config("bf16", 32, 8, policy="window"), Config("bf16", 16, 4, policy="window"),
        Config("fp16", 32, 4.5, policy="window"), Config("fp32", 64, 6, policy="window"),
        Config("bf16", 8, 5, policy="window"), Config("fp16", 8, 16, policy="window")]


def _bits_of(values, cfg):
    return to_bits(values, cfg).reshape(-1, cfg.n)


def _size(cls, o, p, n):
    """size(P, o) of 11.2, straight from the definition."""
    c = w._c(o)[w._code_of(cls.astype(np.int64), o)]
    return int(np.maximum(0, p - c).sum())


def _offset_by_search(cls, cfg):
    """(o, P, L) of 11.2 by trying every offset and every P: the reference for the shortcut."""
    room = cfg.budget - cfg.header_bits - 3 * cfg.n
    best = None
    for o in range(4):
        p = max(q for q in range(-1, 64) if _size(cls, o, q, cfg.n) <= room)
        if o > 0 and p < o + 2:
            continue
        key = (p, room - _size(cls, o, p, cfg.n))
        if best is None or key > best[1:]:
            best = (o, *key)
    return best


def test_worked_example():
    cfg = Config("bf16", 8, 8, policy="window")
    s = w.encoder_stages(EXAMPLE, cfg)
    assert (s["o"][0], s["p"][0], s["left"][0]) == (0, 5, 0)
    np.testing.assert_array_equal(s["code"][0], [1, 2, 3, 0, 3, 3, 0, 1])
    assert s["packed"][0].tobytes().hex() == "80d4da081a12008a"
    out = to_float(facet.decode(s["packed"], cfg), "bf16")
    np.testing.assert_array_equal(out, [1.03125, -0.78125, 0.40625, 3.03125, 0, 0, 2.53125, -1.34375])


def test_offset_matches_a_search_over_every_offset_and_precision():
    """The division of 11.2 against the definition: the largest (P, L) over allowed offsets."""
    for cfg in SOME:
        for x in (activations(cfg, 16, 1), np.repeat([1.0, 1.5], cfg.n * 4).astype(np.float32)):
            s = w.encoder_stages(x, cfg)
            for i in range(len(s["o"])):
                assert (s["o"][i], s["p"][i], s["left"][i]) == _offset_by_search(s["cls"][i], cfg), cfg


def test_an_outlier_block_takes_a_wider_window():
    cfg = Config("bf16", 32, 8, policy="window")
    x = np.full(32, 0.1, np.float32)
    x[7] = 5.0                                    # 6 binades above the rest
    s = w.encoder_stages(x, cfg)
    assert s["o"][0] == 3
    assert s["code"][0][7] == 0 and (s["code"][0] == 3).sum() == 31


def test_low_precision_stores_a_prefix_of_the_top_list():
    """bf16, N = 16, T = 4: R = 6 bits. At o = 0 there are 8 code-0 values (t = 0) and 8 of
    code 1 (t = 1): R + S(0) = 14 < 2N and n_0 > R, so P = 0, L = 6: the first six code-0
    values store plane 1, every other value keeps its exponent and a midpoint."""
    cfg = Config("bf16", 16, 4, policy="window")
    x = np.tile(np.array([3.0, 2.5, 1.0, 1.25], np.float32), 4)
    s = w.encoder_stages(x, cfg)
    assert (s["o"][0], s["p"][0], s["left"][0]) == (0, 0, 6)
    out = to_float(facet.decode(s["packed"], cfg), "bf16")
    np.testing.assert_array_equal(out, [3.5, 2.5, 1.5, 1.5] * 3 + [3.0, 3.0, 1.5, 1.5])


@pytest.mark.parametrize("cfg", SOME, ids=lambda c: c.name)
def test_layout_regions_meet_exactly(cfg):
    """Every stored bit has its own position, inside [H + 3N, B), and they fill it: the
    stored full-plane slots from H + 3N up, the two lists from B - 1 down (positions as
    11.3 gives them, block by block)."""
    s = w.encoder_stages(activations(cfg, 60, 2), cfg)
    top, _, _ = w._stored(s["code"], s["o"], s["p"], s["left"])
    n, B, first = cfg.n, cfg.budget, cfg.header_bits + 3 * cfg.n
    for blk in range(len(top)):
        o, code, last = int(s["o"][blk]), s["code"][blk], top[blk]
        c0 = -1 if o > 0 else 0
        nb = o + 1 - c0
        used = [first + (q - o - 3) * n + i for i in range(n) for q in range(o + 3, last[i] + 1)]
        zero = np.flatnonzero(code == 0)
        used += [B - 1 - (k * nb + q - c0 - 1) for k, i in enumerate(zero)
                 for q in range(c0 + 1, min(o + 1, last[i]) + 1)]
        used += [B - 1 - nb * len(zero) - k for k, i in enumerate(np.flatnonzero(code <= 1))
                 if o + 2 <= last[i]]
        if s["p"][blk] < 0:
            assert not used
            continue
        np.testing.assert_array_equal(np.sort(used), np.arange(first, B))


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_lossless_blocks_round_trip_and_recompress(cfg):
    x = activations(cfg, 30, 3)
    x[: cfg.n] = 0.0                                         # blocks that fit losslessly
    x[cfg.n:2 * cfg.n] = 1.0                                 # (this one at high rates)
    blocks = facet.encode(x, cfg)
    assert blocks.shape == (30, cfg.budget // 8)
    out = facet.decode(blocks, cfg).reshape(-1, cfg.n)
    fits = facet.lossless_bits(x, cfg) <= cfg.budget
    assert fits.any()
    np.testing.assert_array_equal(out[fits], facet.canonical(x, cfg).reshape(-1, cfg.n)[fits])
    np.testing.assert_array_equal(facet.encode(out.reshape(-1), cfg), blocks)


@pytest.mark.parametrize("cfg", SOME, ids=lambda c: c.name)
def test_error_bound(cfg):
    x = activations(cfg, 200, 4)
    s = w.encoder_stages(x, cfg)
    y = to_float(facet.decode(s["packed"], cfg), cfg.format).astype(np.float64).reshape(-1, cfg.n)
    raw = _bits_of(x, cfg)
    xr = to_float(raw.reshape(-1), cfg.format).astype(np.float64).reshape(-1, cfg.n)
    _, exp, _ = fields(raw, cfg)
    fmt = cfg.fmt
    bias = (1 << (fmt.exp_bits - 1)) - 1
    top, _, _ = w._stored(s["code"], s["o"], s["p"], s["left"])
    step = np.exp2(s["base"][:, None] - bias - top.astype(np.float64))
    t = s["base"][:, None].astype(np.int64) - exp
    err = np.abs(y - xr)
    normal = (exp > 0) & (exp < fmt.exp_max)
    kept = normal & (t <= top)
    assert np.all(err[kept] <= step[kept] / 2)
    implied = normal & (t > top) & np.isin(s["code"], (1, 2))
    assert np.all(err[implied] <= np.abs(xr[implied]) / 2)
    rest = normal & ~kept & ~implied
    assert np.all(err[rest] <= np.abs(xr[rest]))


@pytest.mark.parametrize("special", ["inf", "nan"])
def test_specials_keep_kind_and_sign(special):
    cfg = Config("bf16", 32, 8, policy="window")
    x = np.linspace(-3, 3, 64).astype(np.float32)
    x[5] = -np.inf if special == "inf" else np.nan
    x[6] = np.inf
    out = to_float(facet.decode(facet.encode(x, cfg), cfg), "bf16")
    assert (np.isneginf(out[5]) if special == "inf" else np.isnan(out[5])) and np.isposinf(out[6])
    raw = facet.decode(facet.encode(x, cfg), cfg)
    np.testing.assert_array_equal(raw[:32], facet.canonical(x, cfg)[:32])
    assert np.all(out[:32][np.isfinite(out[:32])] == 0)
    np.testing.assert_array_equal(np.signbit(out[:5]), np.signbit(x[:5]))
    assert np.array_equal(out[32:] != 0, x[32:] != 0)              # the next block is untouched


def test_fit_rule():
    assert Config("bf16", 16, 4, policy="window").header_bits == 10
    with pytest.raises(ValueError, match="window does not fit.*header \\(10 bits\\)"):
        Config("bf16", 8, 4, policy="window")
    with pytest.raises(ValueError, match="K must be None"):
        Config("bf16", 32, 8, k=2, policy="window")


@pytest.mark.parametrize("cfg", SOME, ids=lambda c: c.name)
def test_every_byte_string_decodes(cfg):
    rng = np.random.default_rng(5)
    blocks = rng.integers(0, 256, (400, cfg.budget // 8), dtype=np.uint8)
    out = facet.decode(blocks, cfg)
    assert out.shape == (400 * cfg.n,)
    # Decoding is a function of the block alone: one at a time gives the same values.
    np.testing.assert_array_equal(np.concatenate([facet.decode(b[None], cfg) for b in blocks[:20]]),
                                  out[:20 * cfg.n])


def test_vectorized_over_blocks():
    cfg = Config("bf16", 32, 8, policy="window")
    x = activations(cfg, 16, 6)
    together = facet.encode(x, cfg)
    alone = np.concatenate([facet.encode(x[i * 32:(i + 1) * 32], cfg) for i in range(16)])
    np.testing.assert_array_equal(together, alone)
