"""The sizes of the `window` format (docs/format.md, section 11) that its golden model
(:mod:`facet.window`) and its RTL (:mod:`facet.rtl.window`) share. The RTL imports them from
here, not from the model, so that the synthesis of `window` depends on this file alone and a
change to the model does not recompute it (``facet explore`` caches by source)."""

from .config import Config

__all__ = ["OFFSETS", "WINDOW_TOP", "room", "far"]

#: Window offsets o (the header's 2-bit field).
OFFSETS = 4
#: The decoder counts plane q as q - o + WINDOW_TOP (:func:`facet.window.unpack_planes`): from
#: plane o - 3, the top of the window at the largest offset, so no stored plane counts below 0.
WINDOW_TOP = OFFSETS - 1


def room(cfg: Config):
    """R = B - H - 3N: the bits the planes share after the header, codes and signs."""
    return cfg.budget - cfg.header_bits - 3 * cfg.n


def far(cfg: Config):
    """The class of the values that store no bit: zeros, subnormals and values at least
    this far below the base (no block stores a plane past R div N + 6, as P <= (R + 5N) div N).
    Classes 0 .. far - 1 are distances, far + 1 is Inf and far + 2 NaN."""
    return room(cfg) // cfg.n + 7
