"""Small float formats, their rounding and the per-value casts, against references built by a
different route (tb/float_reference.py).

The small float formats are checked against tables of every representable value, decoded
from bit fields, searched with ``np.searchsorted``, and against the casts of ``ml_dtypes``;
bf16 against integer RNE on the bits and against ``ml_dtypes.bfloat16``.
"""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from facet.baselines import BF16, ELEMENT_FORMATS, bf16_round, fp8_cast, mx_quantize, round_to_format
from tb.float_reference import (
    EMAX, F32, MAX_NORMAL, MIN_SUBNORMAL, RNG_SEED, assert_same, bf16_reference, decode_all,
    ml_round, oracle_inputs, probe_values, reference_round, table,
)


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

# -- ml_dtypes as an oracle ---------------------------------------------------------------

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
