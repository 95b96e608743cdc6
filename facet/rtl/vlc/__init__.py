"""Amaranth hardware of the `vlc` policy (docs/format.md, section 10): one combinational
component per stage of the golden model (:mod:`facet.vlc`), with the same name."""

from .header import Header
from .reconstruct import Reconstruct
from .unpack_classes import UnpackClasses
from .unpack_fields import UnpackFields

__all__ = ["Header", "UnpackClasses", "UnpackFields", "Reconstruct"]
