"""Arithmetic the MX stages share: maximum, leading one, clamps and a round-to-nearest-even
shift."""

from amaranth.hdl import Cat, Const, Mux, Signal, signed

__all__ = ["tree_max", "leading_one", "signed_sig", "clamp", "rne_shift"]


def tree_max(values):
    """Largest of unsigned ``values``, as a balanced tree of two-input maxima."""
    values = list(values)
    while len(values) > 1:
        pairs = [Mux(a > b, a, b) for a, b in zip(values[::2], values[1::2])]
        values = pairs + values[len(pairs) * 2:]
    return values[0]


def leading_one(value):
    """Index of the highest set bit of ``value`` (0 when ``value`` is 0)."""
    out = Const(0, max(1, (len(value) - 1).bit_length()))
    for b in range(1, len(value)):
        out = Mux(value[b], b, out)
    return out


def signed_sig(m, value, width, name):
    """A ``signed(width)`` signal equal to ``value``, so that arithmetic on it stays signed."""
    s = Signal(signed(width), name=name)
    m.d.comb += s.eq(value)
    return s


def clamp(value, lo, hi):
    """``value`` limited to ``[lo, hi]`` (constants)."""
    return Mux(value < lo, lo, Mux(value > hi, hi, value))


def rne_shift(m, value, amount, width, name):
    """``round_half_even(value / 2**amount)`` in ``width`` bits, ``amount`` unsigned.

    The caller makes sure the result fits ``width`` bits and limits ``amount`` to at most
    ``len(value) + 1``, where the result is 0 whatever ``value`` is.
    """
    w = len(value) + 1
    ext = Cat(Const(0, 1), value)  # ext bit j is value bit j - 1
    quot = Signal(width, name=f"{name}_q")
    m.d.comb += quot.eq((ext >> amount)[1:])
    guard = (ext >> amount)[0]                              # value bit amount - 1
    sticky = (ext & ~(Const((1 << w) - 1, w) << amount)[:w]).any()  # the bits below it
    out = Signal(width, name=name)
    m.d.comb += out.eq(quot + (guard & (sticky | quot[0])))
    return out
