"""Amaranth hardware of the `vlc` policy (docs/format.md, section 10): one combinational
component per stage of the golden model (:mod:`facet.vlc`), with the same name; each is
compared with its model function in the stage tests."""

from .base import Base
from .classes import Classes
from .codewords import Codewords
from .cost import Cost
from .depth import Depth
from .header import Header
from .histogram import Histogram
from .pack import Pack
from .precision import Precision
from .reconstruct import Reconstruct
from .unpack_classes import UnpackClasses
from .unpack_fields import UnpackFields
from .widths import Widths

__all__ = ["Base", "Classes", "Histogram", "Depth", "Precision", "Widths", "Codewords", "Pack",
           "Header", "UnpackClasses", "Cost", "UnpackFields", "Reconstruct"]
