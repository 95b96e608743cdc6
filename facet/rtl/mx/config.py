"""Parameters of an MX baseline codec in hardware: codec, value format and block size."""

from dataclasses import dataclass, field

from facet.baselines import ELEMENT_FORMATS
from facet.baselines.mx import MXINT8_FRACTION_BITS
from facet.config import BLOCK_SIZES, FORMATS, Format

__all__ = ["MX_CODECS", "MxConfig"]

#: The MX codecs with hardware: facet.baselines names.
MX_CODECS = ("mxint8", "mxfp8-e4m3")

#: E8M0 bias: code ``c`` is the scale ``2**(c - 127)``; 255 is NaN.
SCALE_BIAS = 127
SCALE_NAN = 255


@dataclass(frozen=True)
class MxConfig:
    """One MX codec instance: ``codec`` (:data:`MX_CODECS`) over blocks of ``block`` values of
    ``format`` (a :data:`facet.config.FORMATS` name).

    A block packs into ``B = 8 + 8 * N`` bits (8.25 bits per value at N = 32): the E8M0 scale
    code in bits ``[0, 8)``, element ``i`` in bits ``[8 + 8i, 16 + 8i)``, as
    :func:`facet.baselines.mx_pack` lays it out.

    Raises
    ------
    ValueError
        On an unknown codec or format, or a block size not in ``BLOCK_SIZES``.
    """

    codec: str = "mxint8"
    format: str = "bf16"
    block: int = 32
    fmt: Format = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.codec not in MX_CODECS:
            raise ValueError(f"codec must be one of {MX_CODECS}, not {self.codec!r}")
        if not isinstance(self.format, str) or self.format not in FORMATS:
            raise ValueError(f"format must be one of {sorted(FORMATS)}, not {self.format!r}")
        if isinstance(self.block, bool) or self.block not in BLOCK_SIZES:
            raise ValueError(f"block size N must be one of {BLOCK_SIZES}, not {self.block!r}")
        object.__setattr__(self, "fmt", FORMATS[self.format])

    @property
    def n(self):
        return self.block

    @property
    def policy(self):
        """The codec name, where a facet :class:`~facet.config.Config` has its policy."""
        return self.codec

    @property
    def budget(self):
        return 8 + 8 * self.block

    @property
    def budget_bytes(self):
        return self.budget // 8

    @property
    def bits(self):
        return self.budget / self.block

    @property
    def elem(self):
        """The FP8 element format, or None for MXINT8."""
        return None if self.codec == "mxint8" else ELEMENT_FORMATS["fp8_" + self.codec.split("-")[1]]

    @property
    def elem_emax(self):
        """Exponent of the largest element magnitude's binade: the scale is
        ``2**(floor(log2(amax)) - elem_emax)``."""
        return 0 if self.elem is None else self.elem.emax

    @property
    def int_fraction_bits(self):
        return MXINT8_FRACTION_BITS

    @property
    def name(self):
        return f"{self.format}_n{self.block}_{self.codec.replace('-', '_')}"

    def to_dict(self):
        return {"codec": self.codec, "format": self.format, "exp_bits": self.fmt.exp_bits,
                "man_bits": self.fmt.man_bits, "block": self.block, "bits": self.bits,
                "budget_bits": self.budget}
