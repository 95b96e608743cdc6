"""The base of the MX stage components, and the field split of raw values."""

from amaranth.hdl import Module

from .._common import Stage
from .config import MxConfig

__all__ = ["MxStage", "split"]


class MxStage(Stage):
    """A component built for one :class:`~facet.rtl.mx.config.MxConfig`; subclasses give their
    members in :meth:`ports` and their logic in :meth:`build`."""

    def check(self, cfg):
        if not isinstance(cfg, MxConfig):
            raise TypeError(f"cfg must be a facet.rtl.mx.MxConfig, not {cfg!r}")

    def elaborate(self, platform):
        m = Module()
        self.build(m)
        return m

    def build(self, m):
        raise NotImplementedError


def split(fmt, raw):
    """``(sign, exponent field, mantissa field)`` of a raw value of ``fmt``."""
    return raw[fmt.width - 1], raw[fmt.man_bits:fmt.width - 1], raw[:fmt.man_bits]
