"""Amaranth hardware for the FACET encoder and decoder.

One combinational component per stage of the golden model (:mod:`facet.model`), with the same
name, and the two pipelined stream components built from them.
"""

from .base import Base
from .decoder import FacetDecoder
from .deltas import Deltas
from .encoder import FacetEncoder
from .fields import Fields, value_layout
from .header import Header
from .mask import Mask
from .pack import Pack
from .pipeline import Pipeline
from .planes import Planes, plane_names
from .reconstruct import Reconstruct
from .unpack import Unpack

__all__ = [
    "FacetEncoder", "FacetDecoder",
    "Fields", "Base", "Deltas", "Planes", "Mask", "Pack", "Header", "Unpack", "Reconstruct",
    "Pipeline", "value_layout", "plane_names",
]
