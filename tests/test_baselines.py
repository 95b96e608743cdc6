"""Baseline quantizers against references built by a different route.

The small float formats are checked against tables of every representable value, decoded
from bit fields, searched with ``np.searchsorted``, and against the casts of ``ml_dtypes``;
bf16 against integer RNE on the bits and against ``ml_dtypes.bfloat16``.
"""

import functools

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from facet.baselines import (
    BASELINES, BF16, ELEMENT_FORMATS, bf16_round, bits_per_value, fp8_cast, mx_encode,
    mx_quantize, mxint8_encode, mxint8_quantize, nvfp4_encode, nvfp4_quantize, round_to_format,
)

RNG_SEED = 20240611
F32 = dict(width=32, allow_nan=True, allow_infinity=True, allow_subnormal=True)
EMAX = {"fp8_e4m3": 8, "fp8_e5m2": 15, "fp6_e2m3": 2, "fp6_e3m2": 4, "fp4_e2m1": 2}
MAX_NORMAL = {"fp8_e4m3": 448.0, "fp8_e5m2": 57344.0, "fp6_e2m3": 7.5, "fp6_e3m2": 28.0,
              "fp4_e2m1": 6.0}
MIN_SUBNORMAL = {"fp8_e4m3": 2.0**-9, "fp8_e5m2": 2.0**-16, "fp6_e2m3": 2.0**-3,
                 "fp6_e3m2": 2.0**-4, "fp4_e2m1": 0.5}


# -- independent reference ----------------------------------------------------------------

def decode_all(name):
    """Every bit pattern of a format, decoded from its fields: (values, mantissa LSBs)."""
    exp_bits, man_bits = {"fp8_e4m3": (4, 3), "fp8_e5m2": (5, 2), "fp6_e2m3": (2, 3),
                          "fp6_e3m2": (3, 2), "fp4_e2m1": (2, 1)}[name]
    bias = (1 << (exp_bits - 1)) - 1
    codes = np.arange(1 << (1 + exp_bits + man_bits))
    sign = np.where(codes >> (exp_bits + man_bits) & 1, -1.0, 1.0)
    e = codes >> man_bits & ((1 << exp_bits) - 1)
    m = codes & ((1 << man_bits) - 1)
    mag = np.where(e == 0, m * 2.0 ** (1 - bias - man_bits),
                   (1 + m / 2.0**man_bits) * 2.0 ** (e - bias))
    top = e == (1 << exp_bits) - 1
    if name == "fp8_e4m3":
        mag = np.where(top & (m == 7), np.nan, mag)
    elif name == "fp8_e5m2":
        mag = np.where(top, np.where(m == 0, np.inf, np.nan), mag)
    return sign * mag, m & 1


@functools.cache
def table(name):
    """Sorted non-negative finite values of a format and their mantissa LSBs."""
    values, lsb = decode_all(name)
    keep = np.isfinite(values) & (values >= 0) & ~np.signbit(values)
    order = np.argsort(values[keep])
    return values[keep][order], lsb[keep][order]


def reference_round(x, name):
    """Nearest table value, ties to even mantissa, saturating; Inf kept where it exists."""
    vals, lsb = table(name)
    with np.errstate(invalid="ignore"):  # signalling NaNs among the raw bit patterns
        x = np.asarray(x, dtype=np.float64)
    mag = np.minimum(np.abs(x), vals[-1])  # saturation: past the top, the top is nearest
    hi = np.clip(np.searchsorted(vals, mag), 1, len(vals) - 1)
    lo = hi - 1
    dlo, dhi = mag - vals[lo], vals[hi] - mag
    pick = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(lsb[lo] == 0, lo, hi)))
    out = np.copysign(vals[pick], x)
    if name == "fp8_e5m2":
        out = np.where(np.isinf(x), x, out)
    return np.where(np.isnan(x), np.nan, out)


def bf16_reference(x):
    """bf16 RNE on the raw bits: add 0x7FFF plus the kept LSB, cut the low half."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16).astype(np.uint32)
    out = rounded.view(np.float32)
    return np.where(np.isnan(x), np.float32(np.nan), out)


def probe_values(name, rng):
    """float32 inputs that stress a format: ties, ties +- 1 ulp, its range, raw bit noise."""
    vals, _ = table(name)
    mids = ((vals[:-1] + vals[1:]) / 2).astype(np.float32)
    near = np.concatenate([mids, np.nextafter(mids, np.float32(0)),
                           np.nextafter(mids, np.float32(np.inf))])
    lo, hi = np.log2(vals[1] / 8), np.log2(vals[-1] * 8)
    spread = (2.0 ** rng.uniform(lo, hi, 20000)).astype(np.float32)
    raw = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    edges = np.float32([0, vals[-1], vals[-1] * 1.0625, 3.4e38, np.inf, np.nan, 1e-45])
    both = np.concatenate([near, spread, edges, vals.astype(np.float32)])
    return np.concatenate([both, -both, raw])


def assert_same(actual, expected):
    """Equal values, NaN where NaN, and equal signs of zeros."""
    np.testing.assert_array_equal(actual, expected)
    number = ~np.isnan(expected)
    assert np.array_equal(np.signbit(actual)[number], np.signbit(expected)[number])


# -- generic rounding ---------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ELEMENT_FORMATS))
def test_format_parameters_match_bit_fields(name):
    vals, _ = table(name)
    fmt = ELEMENT_FORMATS[name]
    assert vals[-1] == fmt.max_normal == MAX_NORMAL[name]
    assert vals[1] == fmt.min_subnormal == MIN_SUBNORMAL[name]
    assert fmt.emax == EMAX[name]


@pytest.mark.parametrize("name", sorted(ELEMENT_FORMATS))
def test_rounding_matches_table_search(name):
    x = probe_values(name, np.random.default_rng(RNG_SEED))
    assert_same(round_to_format(x, name), reference_round(x, name))


@pytest.mark.parametrize("name", sorted(ELEMENT_FORMATS))
def test_every_representable_value_maps_to_itself(name):
    values, _ = decode_all(name)
    finite = values[np.isfinite(values)]
    assert_same(round_to_format(finite, name), finite)


@pytest.mark.parametrize("name", sorted(ELEMENT_FORMATS))
def test_saturation(name):
    top = MAX_NORMAL[name]
    x = np.float32([top * 1.01, top * 1.5, top * 4, 3.4e38])
    assert_same(round_to_format(x, name), np.full(4, top))
    assert_same(round_to_format(-x, name), np.full(4, -top))


def test_nan_stays_nan():
    for name in ELEMENT_FORMATS:
        assert np.isnan(round_to_format(np.float32([np.nan]), name)).all()
    for fmt in ("e4m3", "e5m2"):
        assert np.isnan(fp8_cast(np.float32([np.nan, -np.nan]), fmt)).all()


def test_e4m3_has_no_inf():
    x = np.float32([np.inf, -np.inf, 1e30, -3.4e38, 449, 464, 465, 480, 1000])
    out = fp8_cast(x, "e4m3")
    assert not np.isinf(out).any()
    assert_same(out, np.float32([448, -448, 448, -448, 448, 448, 448, 448, 448]))


def test_e5m2_keeps_inf_and_saturates_finite():
    x = np.float32([np.inf, -np.inf, 61440, 1e9, -3.4e38])
    assert_same(fp8_cast(x, "e5m2"), np.float32([np.inf, -np.inf, 57344, 57344, -57344]))


def test_subnormal_rounding_by_hand():
    # E4M3 subnormals are k * 2**-9: ties go to even k, half the smallest goes to zero.
    q = 2.0**-9
    x = np.float32([0.5 * q, 0.51 * q, 1.5 * q, 2.5 * q, 7.5 * q, -0.5 * q])
    assert_same(fp8_cast(x, "e4m3"), np.float32([0, q, 2 * q, 2 * q, 8 * q, -0.0]))


def test_non_saturating_overflow():
    x = np.float64([464, 465, np.inf])
    out = round_to_format(x, "fp8_e4m3", saturate=False)
    assert out[0] == 448 and np.isnan(out[1:]).all()
    out = round_to_format([61439, 61440, -1e6], "fp8_e5m2", saturate=False)
    assert_same(out, np.float64([57344, np.inf, -np.inf]))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 64), elements=st.floats(**F32)),
       st.sampled_from(sorted(ELEMENT_FORMATS)))
def test_rounding_property(x, name):
    assert_same(round_to_format(x, name), reference_round(x, name))


def test_unknown_format_names():
    with pytest.raises(ValueError, match="unknown FP8 format"):
        fp8_cast(np.float32([1]), "e3m4")
    with pytest.raises(ValueError, match="unknown element format"):
        mx_quantize(np.float32([1]), "fp8")
    with pytest.raises(ValueError, match="unknown element format"):
        round_to_format([1.0], "int8")
    with pytest.raises(ValueError, match="scale"):
        fp8_cast(np.float32([1]), scale="block")
    with pytest.raises(ValueError, match="scale"):
        fp8_cast(np.float32([1]), scale=-2.0)


# -- FP8 casts ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_fp8_cast_matches_reference(fmt):
    x = probe_values(f"fp8_{fmt}", np.random.default_rng(RNG_SEED + 1))
    out = fp8_cast(x, fmt)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert_same(out, reference_round(x, f"fp8_{fmt}").astype(np.float32))


@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_fp8_per_tensor_scale(fmt):
    rng = np.random.default_rng(RNG_SEED + 2)
    x = (rng.standard_normal((16, 48)) * 1e-3).astype(np.float32)
    x[3, 5] = np.inf  # ignored by amax, then clamped (E4M3) or kept (E5M2)
    finite = np.isfinite(x)
    amax = np.abs(x[finite]).max()
    s = float(amax) / MAX_NORMAL[f"fp8_{fmt}"]
    out = fp8_cast(x, fmt, scale="tensor")
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.abs(out[finite]).max() == amax
    expected = (reference_round(x.astype(np.float64) / s, f"fp8_{fmt}") * s).astype(np.float32)
    assert_same(out, expected)
    assert_same(fp8_cast(x, fmt, scale=s), expected)
    assert_same(fp8_cast(np.zeros(5, np.float32), fmt, scale="tensor"), np.zeros(5))


# -- bf16 ---------------------------------------------------------------------------------

def test_bf16_matches_integer_rne():
    rng = np.random.default_rng(RNG_SEED + 3)
    raw = rng.integers(0, 2**32, 1 << 18, dtype=np.uint64).astype(np.uint32)
    ties = (raw & 0xFFFF0000) | 0x8000
    near = np.concatenate([ties - 1, ties + 1])
    special = np.uint32([0, 0x80000000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF,
                         0x7F800000, 0xFF800000, 0x00000001, 0x00008000, 0x00018000])
    x = np.concatenate([raw, ties, near, special]).view(np.float32)
    out = bf16_round(x)
    assert out.dtype == np.float32
    assert_same(out, bf16_reference(x))
    assert not (out[~np.isnan(out)].view(np.uint32) & 0xFFFF).any()


def test_bf16_overflow_and_nan():
    top = np.float32(BF16.max_normal)
    out = bf16_round(np.float32([3.4e38, -3.4e38, top, np.nan, np.inf]))
    assert_same(out[:3], np.float32([np.inf, -np.inf, top]))
    assert np.isnan(out[3]) and out[4] == np.inf


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 64), elements=st.floats(**F32)))
def test_bf16_property(x):
    assert_same(bf16_round(x), bf16_reference(x))


# -- MX -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ELEMENT_FORMATS))
def test_mx_scale_and_elements(name):
    rng = np.random.default_rng(RNG_SEED + 4)
    # Block magnitudes from 2**-30 to 2**30, so scales span a wide range.
    x = (rng.standard_normal((64, 32)) * 2.0 ** rng.integers(-30, 30, (64, 1))).astype(np.float32)
    scales, elements = mx_encode(x, name)
    assert scales.shape == (64, 1) and elements.shape == (64, 1, 32)
    amax = np.abs(x).max(axis=-1).astype(np.float64)
    assert_same(scales[:, 0], 2.0 ** (np.floor(np.log2(amax)) - EMAX[name]))
    assert np.abs(elements).max(axis=-1).max() <= MAX_NORMAL[name]
    # Elements are values of the format: rounding them again changes nothing.
    assert_same(reference_round(elements, name), elements)
    assert_same(elements, reference_round(x[:, None] / scales[..., None], name))
    out = mx_quantize(x, name)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert_same(out, (elements * scales[..., None]).reshape(x.shape).astype(np.float32))


def test_mx_hand_worked_e4m3():
    x = np.zeros(32, np.float32)
    x[:4] = [1000, 3, 0.1, -0.001]
    # amax 1000: floor(log2) = 9, E4M3 emax = 8, so X = 2. 1000/2 = 500 saturates to 448;
    # 3/2 = 1.5 is exact; 0.1/2 = 0.05 lies in [2**-5, 2**-4), quantum 2**-8, and
    # 12.8 quanta round to 13; -0.0005 is below half the smallest subnormal 2**-9: -0.
    scales, _ = mx_encode(x, "fp8_e4m3")
    assert scales.tolist() == [2.0]
    out = mx_quantize(x, "fp8_e4m3")
    assert_same(out[:4], np.float32([896, 3, 13 / 256 * 2, -0.0]))
    assert_same(out[4:], np.zeros(28))


def test_mx_hand_worked_fp4_ties():
    # amax 5: floor(log2) = 2 = E2M1 emax, so X = 1. E2M1 values: 0 .5 1 1.5 2 3 4 6.
    # Every input but the last is a tie; each goes to the neighbour with even mantissa.
    x = np.zeros(32, np.float32)
    x[:7] = [5, 2.5, 0.25, 0.75, 1.25, -1.75, -3.5]
    out = mx_quantize(x, "fp4_e2m1")
    assert_same(out[:7], np.float32([4, 2, 0, 1, 1, -2, -4]))


def test_mx_all_zero_block():
    x = np.zeros((2, 64), np.float32)
    x[1, 32:] = -0.0
    scales, _ = mx_encode(x, "fp6_e3m2")
    assert (scales == 1).all()
    assert_same(mx_quantize(x, "fp6_e3m2"), x)


def test_mx_scale_clamped_to_e8m0():
    x = np.zeros(32, np.float32)
    x[0], x[1] = 2.0**-140, 2.0**-135
    # floor(log2 amax) - 8 = -143 clamps to -127; the elements 2**-13 and 2**-8 round to 0 and
    # to the E4M3 subnormal 2**-8.
    scales, _ = mx_encode(x, "fp8_e4m3")
    assert scales.tolist() == [2.0**-127]
    assert_same(mx_quantize(x, "fp8_e4m3")[:2], np.float32([0, 2.0**-135]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_mx_nonfinite_poisons_only_its_block(bad):
    rng = np.random.default_rng(RNG_SEED + 5)
    x = rng.standard_normal(96).astype(np.float32)
    x[40] = bad
    out = mx_quantize(x, "fp8_e5m2")
    assert np.isnan(out[32:64]).all()
    assert_same(out[:32], mx_quantize(x[:32], "fp8_e5m2"))
    assert_same(out[64:], mx_quantize(x[64:], "fp8_e5m2"))


def test_mx_axis():
    rng = np.random.default_rng(RNG_SEED + 6)
    x = rng.standard_normal((3, 64, 5)).astype(np.float32)
    out = mx_quantize(x, "fp6_e2m3", axis=1)
    assert out.shape == x.shape
    ref = mx_quantize(np.moveaxis(x, 1, -1), "fp6_e2m3")
    assert_same(out, np.moveaxis(ref, -1, 1))
    assert_same(mx_quantize(x, "fp6_e2m3", axis=-2), out)
    assert not np.array_equal(mx_quantize(x, "fp6_e2m3", axis=0), out)


def test_mx_padding():
    rng = np.random.default_rng(RNG_SEED + 7)
    x = rng.standard_normal((4, 40)).astype(np.float32)
    x[:, 32:] *= 1000  # the tail block has its own scale, not the first block's
    out = mx_quantize(x, "fp4_e2m1")
    assert out.shape == x.shape
    padded = np.pad(x, [(0, 0), (0, 24)])
    assert_same(out, mx_quantize(padded, "fp4_e2m1")[:, :40])
    assert_same(out[:, 32:], mx_quantize(x[:, 32:], "fp4_e2m1"))
    assert_same(out[:, :32], mx_quantize(x[:, :32], "fp4_e2m1"))
    assert mx_quantize(np.zeros((3, 0), np.float32)).shape == (3, 0)


def test_mx_other_block_size():
    x = np.arange(1, 17, dtype=np.float32)
    scales, elements = mx_encode(x, "fp8_e4m3", block=8)
    # amax 8 and 16, floor(log2) 3 and 4, minus E4M3 emax 8.
    assert scales.tolist() == [2.0**-5, 2.0**-4]
    assert_same(elements.ravel() * np.repeat(scales, 8), x)
    with pytest.raises(ValueError, match="block"):
        mx_quantize(x, block=0)


# -- registry -----------------------------------------------------------------------------

def test_bits_per_value():
    expected = {"bf16": 16, "fp8-e4m3": 8, "fp8-e5m2": 8, "fp8-e4m3-scaled": 8,
                "fp8-e5m2-scaled": 8, "mxfp8-e4m3": 8.25, "mxfp8-e5m2": 8.25,
                "mxfp6-e2m3": 6.25, "mxfp6-e3m2": 6.25, "mxfp4": 4.25, "mxint8": 8.25,
                "nvfp4": 4.5}
    assert {name: bits_per_value(name) for name in BASELINES} == expected
    assert [bits_per_value(f) for f in ("bf16", "fp8", "mxfp8", "mxfp6", "mxfp4", "mxint8",
                                        "nvfp4")] == [16, 8, 8.25, 6.25, 4.25, 8.25, 4.5]
    # The MX scale is shared by `block` values; NVFP4's block is fixed at 16.
    assert bits_per_value("mxint8", block=16) == 8.5
    assert bits_per_value("nvfp4", block=64) == 4.5
    with pytest.raises(ValueError, match="unknown baseline"):
        bits_per_value("int8")


def test_registry_shapes_and_error_order():
    rng = np.random.default_rng(RNG_SEED + 8)
    x = rng.standard_normal((7, 50)).astype(np.float32)
    err = {}
    for name, quantize in BASELINES.items():
        out = quantize(x)
        assert out.dtype == np.float32 and out.shape == x.shape, name
        assert np.isfinite(out).all(), name
        err[name] = float(np.sqrt(np.mean((out - x) ** 2)))
    assert err["bf16"] < err["mxfp8-e4m3"] < err["mxfp6-e2m3"] < err["mxfp4"]
    assert err["mxfp8-e4m3"] < err["mxfp8-e5m2"]
    assert err["mxint8"] < err["mxfp8-e4m3"] and err["nvfp4"] < err["mxfp4"]


# -- ml_dtypes as an oracle ---------------------------------------------------------------

ML_DTYPES = {"fp8_e4m3": ml_dtypes.float8_e4m3fn, "fp8_e5m2": ml_dtypes.float8_e5m2,
             "fp6_e2m3": ml_dtypes.float6_e2m3fn, "fp6_e3m2": ml_dtypes.float6_e3m2fn,
             "fp4_e2m1": ml_dtypes.float4_e2m1fn}


def ml_round(x, name):
    """``x`` cast to the ml_dtypes type of ``name`` and back, as float64."""
    with np.errstate(invalid="ignore"):  # signalling NaNs among raw bit patterns
        return np.asarray(x, np.float32).astype(ML_DTYPES[name]).astype(np.float64)


def oracle_inputs(name, seed):
    """Ties and their neighbours, every float16, 200k raw float32 bit patterns."""
    every_f16 = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    raw = np.random.default_rng(seed).integers(0, 2**32, 200_000, dtype=np.uint64)
    x = np.concatenate([probe_values(name, np.random.default_rng(seed)), every_f16,
                        raw.astype(np.uint32).view(np.float32)])
    x[np.isnan(x)] = np.nan  # quiet NaNs: casts of signalling ones warn
    return x


@pytest.mark.parametrize("name", sorted(ELEMENT_FORMATS))
def test_rounding_matches_ml_dtypes(name):
    x = oracle_inputs(name, RNG_SEED + 20)
    fmt = ELEMENT_FORMATS[name]
    if fmt.has_nan:
        # The FP8 casts of ml_dtypes overflow (to NaN in E4M3, to Inf in E5M2): saturate=False.
        assert_same(round_to_format(x, name, saturate=False), ml_round(x, name))
        # Saturating: values past the top clamp to it, which the oracle sees as a clipped input.
        finite = x[np.isfinite(x)]
        clipped = np.clip(finite, -fmt.max_normal, fmt.max_normal)
        assert_same(round_to_format(finite, name), ml_round(clipped, name))
    else:
        # FP6 and FP4 have no NaN or Inf; ml_dtypes saturates their casts, as we do.
        x = x[~np.isnan(x)]
        assert_same(round_to_format(x, name), ml_round(x, name))
    # The ties really are there: some inputs lie exactly halfway between two values.
    vals, _ = table(name)
    mids = (vals[:-1] + vals[1:]) / 2
    assert np.isin(mids, x.astype(np.float64)).sum() > len(mids) // 2


def test_bf16_matches_ml_dtypes():
    x = oracle_inputs("fp8_e4m3", RNG_SEED + 21)
    assert_same(bf16_round(x), x.astype(ml_dtypes.bfloat16).astype(np.float32))


# -- MXINT8 -------------------------------------------------------------------------------

INT8_TABLE = np.arange(-127, 128) / 64.0  # every element value, 2**-6 apart


def int8_reference(x):
    """Nearest of INT8_TABLE by table search, ties to the even code, saturating."""
    x = np.clip(np.asarray(x, np.float64), INT8_TABLE[0], INT8_TABLE[-1])
    hi = np.clip(np.searchsorted(INT8_TABLE, x), 1, len(INT8_TABLE) - 1)
    lo = hi - 1
    dlo, dhi = x - INT8_TABLE[lo], INT8_TABLE[hi] - x
    even_lo = (lo - 127) % 2 == 0
    pick = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(even_lo, lo, hi)))
    return np.copysign(INT8_TABLE[pick], x)


def test_mxint8_scale_and_elements():
    rng = np.random.default_rng(RNG_SEED + 22)
    x = (rng.standard_normal((256, 32)) * 2.0 ** rng.integers(-40, 40, (256, 1))).astype(np.float32)
    # Some blocks of whole and half codes at X = 1 or 2: exact values and ties.
    x[:8] = np.round(rng.uniform(-1.5, 1.5, (8, 32)) * 128) / 128
    scales, elements = mxint8_encode(x)
    amax = np.abs(x).max(axis=-1).astype(np.float64)
    assert_same(scales[:, 0], 2.0 ** np.floor(np.log2(amax)))
    assert_same(elements, int8_reference(x[:, None] / scales[..., None]))
    assert np.abs(elements).max() <= 127 / 64
    out = mxint8_quantize(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert_same(out, (elements * scales[..., None]).reshape(x.shape).astype(np.float32))


def test_mxint8_hand_worked():
    x = np.zeros(32, np.float32)
    x[:6] = [3, 1, 0.1, -3.99, 0.046875, 0.078125]
    # amax 3.99: floor(log2) = 1 and emax 0, so X = 2 and codes are x / 2 * 64 = 32 x.
    # 3 -> 96 and 1 -> 32 are exact; 0.1 -> 3.2 -> 3; -3.99 -> -127.68 -> -128, clamped to
    # -127; 0.046875 -> 1.5 and 0.078125 -> 2.5 are ties and go to the even code 2.
    scales, elements = mxint8_encode(x)
    assert scales.tolist() == [2.0]
    assert_same(elements[0, :6] * 64, np.float64([96, 32, 3, -127, 2, 2]))
    assert_same(mxint8_quantize(x)[:6], np.float32([3, 1, 3 / 32, -127 / 32, 1 / 16, 1 / 16]))


def test_mxint8_symmetric_saturation():
    # amax in [1, 2): X = 1, and 1.999 * 64 = 127.9 rounds to 128, clamped to 127 on both sides.
    x = np.zeros(32, np.float32)
    x[:4] = [1.999, -1.999, 1.0, -1.9921875]
    assert_same(mxint8_quantize(x)[:4], np.float32([127, -127, 64, -127]) / 64)
    # -2 is a power of two: X = 2 and -2 / 2 * 64 = -64, no saturation; -128 is never used.
    x[0] = -2
    out = mxint8_quantize(x)
    assert out[0] == -2 and (np.abs(mxint8_encode(x)[1]) * 64 <= 127).all()


def test_mxint8_zero_block_and_scale_clamp():
    x = np.zeros((2, 32), np.float32)
    x[0, 5] = -0.0
    scales, _ = mxint8_encode(x)
    assert (scales == 1).all()
    assert_same(mxint8_quantize(x), x)
    y = np.zeros(32, np.float32)
    y[0], y[1] = 2.0**-130, 2.0**-140
    # floor(log2 amax) = -130 clamps to -127: 2**-130 is code 8 and 2**-140 is below code 1/2.
    scales, _ = mxint8_encode(y)
    assert scales.tolist() == [2.0**-127]
    assert_same(mxint8_quantize(y)[:2], np.float32([2.0**-130, 0]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_mxint8_nonfinite_poisons_only_its_block(bad):
    rng = np.random.default_rng(RNG_SEED + 23)
    x = rng.standard_normal(96).astype(np.float32)
    x[70] = bad
    scales, _ = mxint8_encode(x)
    assert np.isnan(scales[2]) and np.isfinite(scales[:2]).all()
    out = mxint8_quantize(x)
    assert np.isnan(out[64:]).all()
    assert_same(out[:64], mxint8_quantize(x[:64]))


def test_mxint8_axis_and_padding():
    rng = np.random.default_rng(RNG_SEED + 24)
    x = rng.standard_normal((3, 40, 2)).astype(np.float32)
    x[:, 32:] *= 1000
    out = mxint8_quantize(x, axis=1)
    ref = np.moveaxis(mxint8_quantize(np.moveaxis(x, 1, -1)), -1, 1)
    assert_same(out, ref)
    assert_same(out[:, 32:], mxint8_quantize(x[:, 32:], axis=1))


# -- NVFP4 --------------------------------------------------------------------------------

def test_nvfp4_hand_worked():
    x = np.zeros(32, np.float32)
    x[:2] = [2688, 1000]
    x[16:20] = [10, 2.4375, -4.0625, 0.5]
    # Tensor amax 2688 = 6 * 448, so s_t = 1.
    # Block 0: s_b = E4M3(2688 / 6) = 448; 2688 / 448 = 6; 1000 / 448 = 2.23 -> 2, i.e. 896.
    # Block 1: 10 / 6 = 1.667 -> E4M3 (quantum 1/8 in [1, 2)) 13/8 = 1.625. Elements:
    # 10 / 1.625 = 6.15 saturates to 6; 2.4375 = 1.5 * 1.625 is exact; -4.0625 = -2.5 * 1.625
    # is a tie between 2 and 3 and goes to 2 (even mantissa); 0.5 / 1.625 = 0.31 -> 0.5.
    s_t, s_b, elements = nvfp4_encode(x)
    assert s_t == 1.0 and s_b.tolist() == [448, 1.625]
    assert_same(elements[0, :2], np.float64([6, 2]))
    assert_same(elements[1, :4], np.float64([6, 1.5, -2, 0.5]))
    out = nvfp4_quantize(x)
    assert_same(out[:2], np.float32([2688, 896]))
    assert_same(out[16:20], np.float32([9.75, 2.4375, -3.25, 0.8125]))
    assert_same(out[20:], np.zeros(12, np.float32))


def test_nvfp4_tensor_scale_is_float32():
    x = np.float32([1.0, -0.3, 0.7] + [0] * 13)
    s_t, s_b, _ = nvfp4_encode(x)
    assert s_t == float(np.float32(1.0 / 2688)) and s_t != 1.0 / 2688
    # amax / 6 / s_t is 448 up to the float32 rounding of s_t; E4M3 rounds it to 448.
    assert s_b.tolist() == [448]


def test_nvfp4_block_scale_rounds_to_zero():
    x = np.zeros(48, np.float32)
    x[0] = 2688                       # s_t = 1
    x[16:18] = [0.005, -0.001]        # 0.005 / 6 < 2**-10, half the smallest E4M3: s_b = 0
    x[32:34] = [6 * 2.0**-9, 0.004]   # s_b = 2**-9, the smallest E4M3 subnormal
    s_t, s_b, elements = nvfp4_encode(x)
    assert s_b.tolist() == [448, 0, 2.0**-9]
    assert (elements[1] == 0).all()
    out = nvfp4_quantize(x)
    assert (out[16:32] == 0).all()
    # 0.004 / 2**-9 = 2.05 -> 2.
    assert_same(out[32:34], np.float32([6 * 2.0**-9, 2 * 2.0**-9]))


def test_nvfp4_zero_tensor_and_saturation():
    x = np.zeros((2, 32), np.float32)
    s_t, s_b, _ = nvfp4_encode(x)
    assert s_t == 1.0 and (s_b == 0).all()
    assert (nvfp4_quantize(x) == 0).all()
    rng = np.random.default_rng(RNG_SEED + 25)
    y = (rng.standard_normal(4096) * 1e5).astype(np.float32)
    s_t, s_b, elements = nvfp4_encode(y)
    assert s_b.max() == 448 and np.abs(elements).max() == 6
    # The largest magnitude maps to 6 * 448 * s_t: within one E2M1 step of itself.
    assert abs(np.abs(nvfp4_quantize(y)).max() - np.abs(y).max()) <= np.abs(y).max() / 6


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nvfp4_nonfinite_poisons_only_its_block(bad):
    rng = np.random.default_rng(RNG_SEED + 26)
    base = rng.standard_normal(64).astype(np.float32)
    base[40] = 0
    x = base.copy()
    x[40] = bad
    s_t, s_b, _ = nvfp4_encode(x)
    assert np.isfinite(s_t) and np.isnan(s_b[2]) and np.isfinite(np.delete(s_b, 2)).all()
    out, ref = nvfp4_quantize(x), nvfp4_quantize(base)
    assert np.isnan(out[32:48]).all()
    keep = np.r_[0:32, 48:64]
    assert_same(out[keep], ref[keep])


def test_nvfp4_matches_ml_dtypes():
    rng = np.random.default_rng(RNG_SEED + 27)
    x = (rng.standard_normal((512, 16)) * 2.0 ** rng.integers(-12, 4, (512, 1))).astype(np.float32)
    s_t, s_b, elements = nvfp4_encode(x)
    amax = np.abs(x).max(axis=-1).astype(np.float64)
    want_sb = ml_round(np.minimum(amax / 6 / s_t, 448), "fp8_e4m3")
    assert_same(s_b[:, 0], want_sb)
    scale = (s_b * s_t)[:, 0]
    ok = scale > 0
    assert ok.sum() > 400
    want = ml_round(x[ok] / scale[ok, None], "fp4_e2m1")
    assert_same(elements[ok, 0], want)
    assert_same(nvfp4_quantize(x)[ok], (want * scale[ok, None]).astype(np.float32))


def test_nvfp4_axis_and_padding():
    rng = np.random.default_rng(RNG_SEED + 28)
    x = rng.standard_normal((3, 20, 2)).astype(np.float32)
    out = nvfp4_quantize(x, axis=1)
    assert out.shape == x.shape
    assert_same(out, np.moveaxis(nvfp4_quantize(np.moveaxis(x, 1, -1)), -1, 1))
