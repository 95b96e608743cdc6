"""The base of the MX stage components, and the field split of raw values."""

from amaranth.hdl import Module
from amaranth.lib import wiring

from .config import MxConfig

__all__ = ["MxStage", "split"]


class MxStage(wiring.Component):
    """A component built for one :class:`~facet.rtl.mx.config.MxConfig`; subclasses give their
    members in :meth:`ports` and their logic in :meth:`build`."""

    def __init__(self, cfg):
        if not isinstance(cfg, MxConfig):
            self._MustUse__silence = True
            raise TypeError(f"cfg must be a facet.rtl.mx.MxConfig, not {cfg!r}")
        self._cfg = cfg
        super().__init__(self.ports(cfg))

    @property
    def cfg(self):
        return self._cfg

    def ports(self, cfg):
        raise NotImplementedError

    def elaborate(self, platform):
        m = Module()
        self.build(m)
        return m

    def build(self, m):
        raise NotImplementedError


def split(fmt, raw):
    """``(sign, exponent field, mantissa field)`` of a raw value of ``fmt``."""
    return raw[fmt.width - 1], raw[fmt.man_bits:fmt.width - 1], raw[:fmt.man_bits]
