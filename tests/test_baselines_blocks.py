"""Block-scaled baselines (MX, MXINT8, NVFP4) and the registry, against references built by a
different route (tb/float_reference.py): table search and the casts of ``ml_dtypes``.
"""

import numpy as np
import pytest

from facet.baselines import (
    BASELINES, ELEMENT_FORMATS, bits_per_value, mx_encode, mx_quantize, mxint8_encode,
    mxint8_quantize, nvfp4_encode, nvfp4_quantize,
)
from tb.float_reference import (
    EMAX, MAX_NORMAL, RNG_SEED, assert_same, int8_reference, ml_round, reference_round,
)


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

# -- MXINT8 -------------------------------------------------------------------------------


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
