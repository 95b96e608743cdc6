"""The small float formats of the baselines and the one rounding routine they all share."""

from dataclasses import dataclass
import math

import numpy as np

__all__ = ["FloatFormat", "ELEMENT_FORMATS", "BF16", "E8M0_EMIN", "E8M0_EMAX", "round_to_format"]


# -- formats ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FloatFormat:
    """A sign-magnitude binary float format with subnormals.

    Parameters
    ----------
    name : str
        Format name.
    exp_bits, man_bits : int
        Widths of the exponent and the (trailing) mantissa fields.
    bias : int
        Exponent bias; the smallest normal exponent is ``1 - bias``.
    max_normal : float
        Largest finite magnitude. Given explicitly because formats differ in how much of the
        top exponent they spend on Inf and NaN (E4M3 keeps all but one code of it).
    has_inf : bool
        Whether the format encodes infinities.
    has_nan : bool
        Whether the format encodes NaN.
    """

    name: str
    exp_bits: int
    man_bits: int
    bias: int
    max_normal: float
    has_inf: bool = False
    has_nan: bool = False

    @property
    def width(self):
        return 1 + self.exp_bits + self.man_bits

    @property
    def emin(self):
        """Unbiased exponent of the smallest normal, also the exponent of the subnormals."""
        return 1 - self.bias

    @property
    def emax(self):
        """Unbiased exponent of ``max_normal``."""
        return math.frexp(self.max_normal)[1] - 1

    @property
    def min_subnormal(self):
        return math.ldexp(1.0, self.emin - self.man_bits)


#: Element formats of OCP FP8 (OFP8 v1.0) and of OCP Microscaling (MX v1.0).
ELEMENT_FORMATS = {
    "fp8_e4m3": FloatFormat("fp8_e4m3", 4, 3, 7, 448.0, has_inf=False, has_nan=True),
    "fp8_e5m2": FloatFormat("fp8_e5m2", 5, 2, 15, 57344.0, has_inf=True, has_nan=True),
    "fp6_e2m3": FloatFormat("fp6_e2m3", 2, 3, 1, 7.5),
    "fp6_e3m2": FloatFormat("fp6_e3m2", 3, 2, 3, 28.0),
    "fp4_e2m1": FloatFormat("fp4_e2m1", 2, 1, 1, 6.0),
}

BF16 = FloatFormat("bf16", 8, 7, 127, math.ldexp(2.0 - 2.0 ** -7, 127), has_inf=True, has_nan=True)

#: The E8M0 shared scale of MX encodes 2**e for e in [-127, 127] (code 255 is NaN).
E8M0_EMIN, E8M0_EMAX = -127, 127


def _element_format(name):
    try:
        return ELEMENT_FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown element format {name!r}; "
                         f"expected one of {sorted(ELEMENT_FORMATS)}") from None


def _as_f32(x):
    return np.asarray(x, dtype=np.float32)


def _as_f64(x):
    # Widening a signalling NaN raises "invalid"; it just becomes a quiet NaN, which is fine.
    with np.errstate(invalid="ignore"):
        return np.asarray(x, dtype=np.float64)


# -- generic rounding ---------------------------------------------------------------------

def round_to_format(x, fmt, saturate=True):
    """Round to the nearest value of a small float format, ties to even.

    Parameters
    ----------
    x : array_like
        Values, converted to float64 (exact for float32 input).
    fmt : FloatFormat or str
        Target format, or the name of one of :data:`ELEMENT_FORMATS`.
    saturate : bool
        If true, finite values that round beyond ``max_normal`` become ``±max_normal``, and so
        do infinities when the format has no Inf. If false they overflow to ``±Inf``, or to
        NaN when the format has no Inf.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape holding exact values of the format. NaN stays NaN
        (also for formats without NaN: there is no better answer for a fake quantizer).
        Infinities stay infinite in formats that have them, whatever ``saturate`` says.
    """
    if isinstance(fmt, str):
        fmt = _element_format(fmt)
    x = _as_f64(x)
    mag = np.abs(x)
    with np.errstate(invalid="ignore", over="ignore"):
        # frexp is exact, unlike log2, which is off by one just below powers of two.
        _, e = np.frexp(mag)
        exp = np.maximum(e - 1, fmt.emin)  # below the normal range the quantum stays fixed
        quantum = np.ldexp(1.0, exp - fmt.man_bits)
        # Scaling by a power of two is exact in float64, and rint rounds half to even.
        # A value that rounds up to the next binade lands on its first value, which is right.
        out = np.rint(mag / quantum) * quantum
    over = out > fmt.max_normal
    if saturate:
        out = np.where(over, fmt.max_normal, out)
    else:
        out = np.where(over, np.inf if fmt.has_inf else np.nan, out)
    if fmt.has_inf:
        out = np.where(np.isinf(mag), np.inf, out)
    out = np.where(np.isnan(x), np.nan, out)
    return np.copysign(out, x)
