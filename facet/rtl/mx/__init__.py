"""Amaranth hardware for the MX baselines of :mod:`facet.baselines` (MXINT8, MXFP8-E4M3),
built to compare facet against: ``scale -> quantize`` (encoder) and ``dequantize`` (decoder),
with the stream ports and register options of :class:`facet.rtl.FacetEncoder`."""

from .codec import MxDecoder, MxEncoder
from .config import MX_CODECS, MxConfig
from .dequantize import Dequantize
from .quantize import Quantize
from .scale import Scale

__all__ = ["MX_CODECS", "MxConfig", "MxEncoder", "MxDecoder", "Scale", "Quantize", "Dequantize"]
