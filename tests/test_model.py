"""Golden model against docs/format.md: round trip, error bound, specials, worked example."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from facet import Config, canonical, decode, encode, lossless_bits, to_bits, to_float
from facet.config import BLOCK_SIZES, FORMATS, NO_K_POLICIES, POLICIES
from facet import model


def _all_combinations():
    for policy in ("plane", "significance"):
        for fmt in FORMATS.values():
            for n in BLOCK_SIZES:
                for t in range(1, fmt.width + 1):
                    for k in range(1, fmt.exp_bits + 1):
                        yield fmt, n, t, k, policy


def _valid_configs():
    out = []
    for fmt, n, t, k, policy in _all_combinations():
        try:
            out.append(Config(fmt.name, n, t, k, policy))
        except ValueError:
            pass
    return out


VALID = _valid_configs()
configs = st.sampled_from(VALID)


@st.composite
def config_and_raw(draw, max_blocks=6):
    """A config and raw blocks whose exponents span a chosen range around a chosen centre."""
    cfg = draw(configs)
    fmt = cfg.fmt
    nb = draw(st.integers(1, max_blocks))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    size = nb * cfg.n
    spread = draw(st.sampled_from([0, 1, 3, 2**cfg.k - 1, 2**cfg.k, fmt.exp_max]))
    centre = rng.integers(0, fmt.exp_max + 1, size=(nb, 1))
    exp = np.clip(centre - rng.integers(0, spread + 1, size=(nb, cfg.n)), 0, fmt.exp_max)
    man = rng.integers(0, 1 << fmt.man_bits, size=(nb, cfg.n))
    if draw(st.booleans()):  # few significant mantissa bits: planes go absent
        man &= ~((1 << max(fmt.man_bits - 2, 0)) - 1)
    sign = rng.integers(0, 2, size=(nb, cfg.n))
    raw = (sign << (fmt.width - 1)) | (exp << fmt.man_bits) | man
    return cfg, raw.astype(fmt.dtype).reshape(-1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_and_raw())
def test_round_trip_exact_when_lossless(case):
    cfg, raw = case
    out = decode(encode(raw, cfg), cfg).reshape(-1, cfg.n)
    want = canonical(raw, cfg).reshape(-1, cfg.n)
    fits = lossless_bits(raw, cfg) <= cfg.budget
    np.testing.assert_array_equal(out[fits], want[fits])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_and_raw())
def test_error_bound_when_truncated(case):
    cfg, raw = case
    x = to_float(canonical(raw, cfg), cfg.format).astype(np.float64)
    y = to_float(decode(encode(raw, cfg), cfg), cfg.format).astype(np.float64)
    nan = np.isnan(x)
    np.testing.assert_array_equal(np.isnan(y), nan)
    finite = np.isfinite(x)
    np.testing.assert_array_equal(x[~finite & ~nan], y[~finite & ~nan])  # Inf stays Inf
    nz = finite & (x != 0)
    if cfg.policy == "plane":
        # docs/format.md section 6: |x^ - x| <= 2^(floor(log2|x|) - m_min - 1)
        bound = np.exp2(np.floor(np.log2(np.abs(x[nz]))) - cfg.min_mantissa_bits - 1)
    else:
        # section 8: |x^ - x| <= 2^(floor(log2 max|x|) - P_min - 1) in blocks without Inf/NaN
        xb = x.reshape(-1, cfg.n)
        clean = np.isfinite(xb).all(axis=1, keepdims=True)
        top = np.floor(np.log2(np.maximum(np.abs(np.where(np.isfinite(xb), xb, 0)).max(axis=1, keepdims=True), 1e-300)))
        bound = np.where(clean, np.exp2(top - cfg.min_precision - 1), np.inf)
        bound = np.broadcast_to(bound, xb.shape).reshape(-1)[nz]
    assert np.all(np.abs(y[nz] - x[nz]) <= bound)
    # the exponent is exact: decoded values stay in the same binade and keep their sign
    assert np.all(np.floor(np.log2(np.abs(y[nz]))) == np.floor(np.log2(np.abs(x[nz]))))
    assert np.all(np.signbit(y) == np.signbit(x))


@settings(max_examples=200, deadline=None)
@given(configs, st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_flush_bound(cfg, nb, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(nb * cfg.n) * np.exp2(rng.uniform(-20, 20, nb * cfg.n))).astype(np.float32)
    raw = to_bits(x, cfg).reshape(-1)
    xf = to_float(raw, cfg.format).astype(np.float64).reshape(-1, cfg.n)
    flushed = (to_float(canonical(raw, cfg), cfg.format).reshape(-1, cfg.n) == 0) & (xf != 0)
    subnormal = np.abs(xf) < 2.0 ** (1 - cfg.fmt.bias)
    assert np.all(np.abs(xf[flushed & subnormal]) < 2.0 ** (1 - cfg.fmt.bias))
    by_delta = flushed & ~subnormal
    blockmax = np.abs(xf).max(axis=1, keepdims=True)
    limit = np.broadcast_to(blockmax * 2.0 ** (1 - 2**cfg.k), xf.shape)
    assert np.all(np.abs(xf[by_delta]) < limit[by_delta])


@settings(max_examples=200, deadline=None)
@given(configs, st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_random_bytes_decode_to_defined_values(cfg, nb, seed):
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(nb, cfg.budget_bytes), dtype=np.uint8)
    out = decode(blocks, cfg)
    assert out.shape == (nb * cfg.n,) and out.dtype == np.dtype(cfg.fmt.dtype)
    # decoding is a pure function of the bytes
    np.testing.assert_array_equal(out, decode(blocks.copy(), cfg))
    # and re-encoding a decoded block is a fixed point of decode . encode when it fits
    again = decode(encode(out, cfg), cfg)
    fits = lossless_bits(out, cfg) <= cfg.budget
    np.testing.assert_array_equal(again.reshape(-1, cfg.n)[fits], canonical(out, cfg).reshape(-1, cfg.n)[fits])


@pytest.mark.parametrize("kwargs, match", [
    (dict(format="bf8"), "format must be one of"),
    (dict(block=12), "block size N must be one of"),
    (dict(block=32.0), "block size N must be one of"),
    (dict(bits=0), "bits per value T"),
    (dict(bits=17), "bits per value T"),
    (dict(format="fp32", bits=33), "bits per value T"),
    (dict(k=0), "delta planes K"),
    (dict(k=9), "delta planes K"),
    (dict(format="fp16", k=6), "delta planes K"),
    (dict(policy="greedy"), "policy must be one of"),
    (dict(block=8, bits=8, k=3, policy="significance"), r"header \(17 bits\).*the largest K that fits is 2"),
    (dict(block=32, bits=8, k=5), r"exceeds the budget B = N\*T = 256 bits; the largest K that fits is 4"),
    (dict(block=8, bits=4), r"no K fits, raise T"),
    (dict(format="fp32", block=16, bits=8, k=3), r"header \(36 bits\)"),
])
def test_invalid_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Config(**kwargs)


def test_every_invalid_combination_raises():
    """Exactly the combinations that break the fit rule are rejected."""
    for fmt, n, t, k, policy in _all_combinations():
        if policy == "plane":
            h = fmt.exp_bits + k + fmt.man_bits + 2
        else:
            h = fmt.exp_bits + k + 2 + (fmt.man_bits + 2**k - 1).bit_length()
        if h + n * (k + 3) <= n * t:
            Config(fmt.name, n, t, k, policy)
        else:
            with pytest.raises(ValueError, match="does not fit"):
                Config(fmt.name, n, t, k, policy)


def test_default_k_is_largest_fitting_up_to_default():
    assert Config().k == 3
    assert Config("bf16", 64, 12).k == 3
    assert Config("bf16", 8, 8).k == 2
    assert Config("fp32", 16, 8).k == 2


SPECIAL_CONFIGS = [Config(), Config("fp16", 16, 8), Config("fp32", 32, 10), Config("bf16", 8, 8),
                   Config(policy="significance"), Config("fp32", 16, 8, policy="significance")]


@pytest.mark.parametrize("cfg", SPECIAL_CONFIGS, ids=lambda c: c.name)
def test_specials(cfg):
    fmt = cfg.fmt
    emax = fmt.exp_max << fmt.man_bits
    sign = 1 << (fmt.width - 1)
    qnan = emax | (1 << (fmt.man_bits - 1))
    vals = np.zeros(cfg.n, np.uint64)
    vals[0] = emax                      # +Inf
    vals[1] = sign | emax               # -Inf
    vals[2] = emax | 1                  # signalling NaN with low payload
    vals[3] = sign | emax | (1 << fmt.man_bits) - 1   # -NaN, all payload bits
    vals[4] = sign                      # -0
    vals[5] = 1                         # subnormal
    vals[6] = sign | 3                  # negative subnormal
    vals[7] = (fmt.exp_max - 1) << fmt.man_bits | 5   # largest binade, flushed? no: d = 1
    raw = vals.astype(fmt.dtype)
    # one block with specials, one block of only zeros and subnormals
    block2 = np.array([0, sign, 1, sign | 7] * (cfg.n // 4), np.uint64).astype(fmt.dtype)
    data = np.concatenate([raw, block2])
    out = decode(encode(data, cfg), cfg)
    assert out[0] == emax and out[1] == sign | emax
    assert out[2] == qnan and out[3] == sign | qnan
    assert out[4] == sign and out[5] == 0 and out[6] == sign
    np.testing.assert_array_equal(out[8:], canonical(data, cfg)[8:])
    np.testing.assert_array_equal(out[cfg.n:], np.array([0, sign, 0, sign] * (cfg.n // 4), fmt.dtype))


@pytest.mark.parametrize("policy", POLICIES)
def test_specials_survive_truncation(policy):
    """A block full of mantissa noise still keeps every NaN and Inf."""
    cfg = Config(policy=policy)
    rng = np.random.default_rng(7)
    fmt = cfg.fmt
    raw = ((fmt.exp_max - rng.integers(1, 4, 32)) << fmt.man_bits) | rng.integers(0, 128, 32)
    raw[::5] = fmt.exp_max << fmt.man_bits
    raw[2::5] = (fmt.exp_max << fmt.man_bits) | 0x11
    raw = raw.astype(np.uint16)
    # window stores no planes in a block with Inf or NaN, so such a block is never cut.
    assert (lossless_bits(raw, cfg)[0] > cfg.budget) != (policy == "window")
    out = to_float(decode(encode(raw, cfg), cfg), "bf16")
    assert np.all(np.isinf(out[::5])) and np.all(np.isnan(out[2::5]))


def test_float_input_rounding():
    cfg = Config()
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, np.finfo(np.float32).max, np.nan, -np.inf, 1e-45] + [0.0] * 26, np.float32)
    raw = to_bits(x, cfg).reshape(-1)
    assert raw[0] == 0x3F80           # tie rounds to even
    assert raw[1] == 0x3F82           # tie rounds to even (up)
    assert raw[2] == 0x7F80           # overflow -> Inf
    assert (raw[3] & 0x7FFF) > 0x7F80  # NaN stays NaN
    assert raw[4] == 0xFF80
    np.testing.assert_array_equal(to_bits(x.astype(np.float64), cfg), to_bits(x, cfg))
    h = Config("fp16", 32, 8)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).view(np.uint16)
    np.testing.assert_array_equal(to_bits(x, h).reshape(-1), want)


def test_bad_inputs_raise():
    cfg = Config()
    with pytest.raises(ValueError, match="whole number of blocks"):
        encode(np.zeros(31, np.float32), cfg)
    with pytest.raises(ValueError, match="must be uint16"):
        encode(np.zeros(32, np.uint32), cfg)
    with pytest.raises(ValueError, match="float or raw unsigned"):
        encode(np.zeros(32, np.int16), cfg)
    with pytest.raises(ValueError, match="must be uint8"):
        decode(np.zeros(32, np.uint16), cfg)
    with pytest.raises(ValueError, match="whole number of 32-byte blocks"):
        decode(np.zeros(33, np.uint8), cfg)


def test_worked_example():
    """docs/format.md section 7, bit for bit."""
    cfg = Config("bf16", 8, 8, k=2)
    assert (cfg.budget, cfg.num_planes, cfg.header_bits, cfg.full_slots, cfg.partial_elems) == (64, 11, 19, 5, 5)
    raw = np.array([0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8], np.uint16)
    np.testing.assert_array_equal(raw, to_bits(np.array([1.0, -0.75, 0.40625, 3.0, 0.0, 1e-3, 2.5, -1.3125], np.float32), cfg).reshape(-1))
    blocks = encode(raw, cfg)
    assert blocks[0].tobytes().hex(" ") == "80 ff 80 31 28 14 74 00"
    assert lossless_bits(raw, cfg)[0] == 83
    want = np.array([0x3F90, 0xBF50, 0x3ED0, 0x4050, 0x0000, 0x0000, 0x4020, 0xBFA0], np.uint16)
    np.testing.assert_array_equal(decode(blocks, cfg), want)


def test_worked_example_stages():
    cfg = Config("bf16", 8, 8, k=2)
    raw = np.array([[0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8]], np.uint16)
    s = model.encoder_stages(raw, cfg)
    assert s.base[0] == 128
    np.testing.assert_array_equal(s.delta[0], [1, 2, 3, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(s.zero[0], [0, 0, 0, 0, 1, 1, 0, 0])
    words = s.words
    rows = ["00001100", "01100000", "10100001", "01000001", "01110000", "00000011", "00100000", "00000001", "00000000", "00000000", "00000000"]
    assert [format(int(w), "08b")[::-1] for w in words[0]] == rows
    np.testing.assert_array_equal(s.present[0], [w != "0" * 8 for w in rows])
    assert s.precision is None and s.widths is None
    blocks = encode(raw, cfg)
    b2, present2 = model.header(blocks, cfg)
    assert b2[0] == 128 and np.array_equal(present2, s.present)
    words2, fill = model.unpack(blocks, present2, cfg)
    # slots 0..4 whole, slot 5 (mantissa bit 5) keeps elements 0..4, mantissa bits 4, 3 cut
    np.testing.assert_array_equal(words2[0, :5], words[0, :5])
    assert words2[0, 5] == words[0, 5] & 0b11111 and words2[0, 6] == 0 and words2[0, 7] == 0
    np.testing.assert_array_equal(fill[0], [16] * 5 + [32] * 3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_and_raw())
def test_from_planes_inverts_planes(case):
    cfg, raw = case
    assume(cfg.policy not in NO_K_POLICIES)
    s = model.encoder_stages(raw, cfg, upto="planes")
    want = (s.sign, s.delta, s.zero, s.man)
    for got, ref in zip(model.from_planes(s.words, cfg), want):
        np.testing.assert_array_equal(got, ref)
    # The zero, delta and sign planes alone, as significance keeps them: mantissas read as 0.
    sign, delta, zero, man = model.from_planes(s.words[:, :cfg.k + 2], cfg)
    for got, ref in zip((sign, delta, zero), want):
        np.testing.assert_array_equal(got, ref)
    assert not man.any()


def test_encoder_stages_upto_and_errors():
    cfg = Config("bf16", 8, 8, k=2, policy="significance")
    raw = np.array([[0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8]], np.uint16)
    s = model.encoder_stages(raw, cfg, upto="deltas")
    assert s.delta is not None and s.words is None and s.precision is None
    full = model.encoder_stages(raw, cfg)
    for a, b in zip(s[:8], full[:8]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="upto"):
        model.encoder_stages(raw, cfg, upto="pack")
    with pytest.raises(ValueError, match="vlc"):
        model.encoder_stages(np.zeros(8, np.uint16), Config("bf16", 8, 8, policy="vlc"))


def test_transpose_is_exact():
    rng = np.random.default_rng(3)
    for n in BLOCK_SIZES:
        for nbits in (1, 7, 13, 16, 17, 33, 40):
            dt = model._code_dtype(nbits)
            codes = (rng.integers(0, 2**63, (5, n), dtype=np.uint64) & np.uint64((1 << nbits) - 1)).astype(dt)
            words = model._codes_to_words(codes, nbits, n)
            bits = (codes[:, :, None].astype(np.uint64) >> np.arange(nbits, dtype=np.uint64)) & np.uint64(1)
            want = (bits << np.arange(n, dtype=np.uint64)[None, :, None]).sum(axis=1)
            np.testing.assert_array_equal(words.astype(np.uint64), want)
            np.testing.assert_array_equal(model._words_to_codes(words, n), codes)


def test_decode_accepts_flat_bytes_and_encode_any_shape():
    cfg = Config("fp16", 16, 8)
    x = np.linspace(-3, 3, 64, dtype=np.float32).reshape(4, 4, 4)
    blocks = encode(x, cfg)
    assert blocks.shape == (4, cfg.budget_bytes)
    np.testing.assert_array_equal(decode(blocks.reshape(-1), cfg), decode(blocks, cfg))


def test_worked_example_significance():
    """docs/format.md section 8, bit for bit."""
    cfg = Config("bf16", 8, 8, k=2, policy="significance")
    assert (cfg.header_bits, cfg.mask_bits, cfg.policy_bits, cfg.max_precision) == (16, 4, 4, 10)
    raw = np.array([[0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8]], np.uint16)
    s = model.encoder_stages(raw, cfg)
    assert s.precision[0] == 3
    np.testing.assert_array_equal(s.widths[0], [3, 2, 1, 4, 0, 0, 4, 2])
    blocks = encode(raw, cfg)
    assert blocks[0].tobytes().hex(" ") == "80 3f 30 06 85 82 11 16"
    assert model.precision_field(blocks, cfg)[0] == 3
    want = np.array([0x3F88, 0xBF50, 0x3EE0, 0x4044, 0x0000, 0x0000, 0x4024, 0xBFB0], np.uint16)
    np.testing.assert_array_equal(decode(blocks, cfg), want)
    assert lossless_bits(raw, cfg)[0] == 16 + 4 * 8 + 6 * 7


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_and_raw())
def test_significance_spends_the_budget(case):
    """P is the largest precision that fits, and the leftover bits are all spent."""
    cfg, raw = case
    if cfg.policy != "significance":
        assume(_fits_sig(cfg))
        cfg = Config(cfg.format, cfg.block, cfg.bits, cfg.k, "significance")
    raw = raw.reshape(-1, cfg.n)
    s = model.encoder_stages(raw, cfg)
    zero, p, k = s.zero, s.precision, s.widths
    room = cfg.budget - cfg.header_bits - cfg.n * s.present[:, :cfg.mask_bits].sum(axis=1)
    assert np.all(k.sum(axis=1) <= room)
    assert np.all(p >= cfg.min_precision)
    full = np.where(zero, 0, cfg.fmt.man_bits).sum(axis=1)
    # either everything fits whole, or the region is full to the last bit
    assert np.all((k.sum(axis=1) == room) | (k.sum(axis=1) == full))
    assert np.all((p == cfg.max_precision) | (k.sum(axis=1) == room))


def _fits_sig(cfg):
    try:
        Config(cfg.format, cfg.block, cfg.bits, cfg.k, "significance")
        return True
    except ValueError:
        return False
