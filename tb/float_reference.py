"""Independent references for the baseline quantizers (tests/test_baselines*.py).

Every small float format is rebuilt from its bit fields, as a table of its values, and
rounding is a search of that table: nothing is shared with :mod:`facet.baselines`. The casts of
``ml_dtypes`` serve as a second, external oracle.
"""

import functools

import ml_dtypes
import numpy as np

RNG_SEED = 20240611
F32 = dict(width=32, allow_nan=True, allow_infinity=True, allow_subnormal=True)
EMAX = {"fp8_e4m3": 8, "fp8_e5m2": 15, "fp6_e2m3": 2, "fp6_e3m2": 4, "fp4_e2m1": 2}
MAX_NORMAL = {"fp8_e4m3": 448.0, "fp8_e5m2": 57344.0, "fp6_e2m3": 7.5, "fp6_e3m2": 28.0,
              "fp4_e2m1": 6.0}
MIN_SUBNORMAL = {"fp8_e4m3": 2.0**-9, "fp8_e5m2": 2.0**-16, "fp6_e2m3": 2.0**-3,
                 "fp6_e3m2": 2.0**-4, "fp4_e2m1": 0.5}


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
