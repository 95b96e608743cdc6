"""Signal shapes the `window` stages share (docs/format.md, section 11)."""

from amaranth.hdl import signed
from amaranth.lib import data

from ...window_layout import OFFSETS, far, room

__all__ = ["OFFSET_BITS", "class_bits", "class_layout", "code_layout", "count_bits", "len0_bits",
           "len0_layout", "p_shape", "left_bits", "plane_region", "full_slots", "top_shape"]

#: Width of the window offset o.
OFFSET_BITS = (OFFSETS - 1).bit_length()


def class_bits(cfg):
    """A class: a distance 0 .. far - 1, far, far + 1 (Inf) or far + 2 (NaN)."""
    return (far(cfg) + 2).bit_length()


def class_layout(cfg):
    return data.ArrayLayout(class_bits(cfg), cfg.n)


def code_layout(cfg):
    """The two-bit codes of a block, value i in element i."""
    return data.ArrayLayout(2, cfg.n)


def count_bits(cfg):
    """Bits of a count of values, 0 .. N."""
    return cfg.n.bit_length()


def len0_bits(cfg):
    """Bits of the code-0 list's length n_b*n_0, at most 5N."""
    return (5 * cfg.n).bit_length()


def len0_layout(cfg):
    """The code-0 list's length at each offset o = 0 .. 3, offset o in element o."""
    return data.ArrayLayout(len0_bits(cfg), OFFSETS)


def p_shape(cfg):
    """The precision P: -1 (a block with Inf or NaN) .. far - 2."""
    return signed(far(cfg).bit_length() + 1)


def top_shape(cfg):
    """The last plane a value stores, P or P + 1: -1 .. far - 1."""
    return p_shape(cfg)


def left_bits(cfg):
    """The bits over, L < N."""
    return (cfg.n - 1).bit_length()


def plane_region(cfg):
    """``(first, width)``: stream bits [H + 3N, B), where the planes are."""
    return cfg.header_bits + 3 * cfg.n, room(cfg)


def full_slots(cfg):
    """N-bit plane slots that start in the plane region, the last one possibly cut at B."""
    return -(-plane_region(cfg)[1] // cfg.n)
