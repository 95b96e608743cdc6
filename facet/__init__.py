"""FACET-style fixed-rate activation compressor: golden model, configuration and tools.

The block format is specified in docs/format.md; :mod:`facet.model` implements it bit for bit.
"""

from .config import Config, FORMATS, DEFAULT_K, POLICIES
from .model import encode, decode, lossless_bits, canonical, to_bits, to_float

__all__ = ["Config", "FORMATS", "POLICIES", "DEFAULT_K", "encode", "decode", "lossless_bits", "canonical",
           "to_bits", "to_float"]
