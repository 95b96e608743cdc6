"""Stage ``planes``: transpose per-value fields into bit-planes in stream order."""

from amaranth.hdl import Cat, Module
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._common import Stage, check_config

__all__ = ["plane_names", "Planes"]


def plane_names(cfg):
    """Names of the P planes in stream order, e.g. ``["zero", "delta[2]", ..., "man[0]"]``."""
    k, mb = check_config(cfg).k, cfg.fmt.man_bits
    return (["zero"] + [f"delta[{b}]" for b in reversed(range(k))] + ["sign"]
            + [f"man[{b}]" for b in reversed(range(mb))])


class Planes(Stage):
    """Bit-planes of the block in stream order (golden model: ``planes``).

    Pure wiring, no logic. Plane 0 is the zero plane, planes 1..K the delta bits MSB first,
    plane K+1 the sign plane and planes K+2..K+M+1 the mantissa bits MSB first; element ``i`` is
    bit ``i`` of every plane.

    Members
    -------
    sign : ``In(data.ArrayLayout(1, N))``
    delta : ``In(data.ArrayLayout(K, N))``
    zero : ``In(data.ArrayLayout(1, N))``
    man : ``In(data.ArrayLayout(M, N))``
        Per-value fields, as :class:`Deltas` and :class:`Fields` give them.
    words : ``Out(data.ArrayLayout(N, P))``
        Plane ``j`` of the stream order in element ``j``.
    """

    def ports(self, cfg):
        fmt, n, k = cfg.fmt, cfg.n, cfg.k
        return {
            "sign": In(data.ArrayLayout(1, n)),
            "delta": In(data.ArrayLayout(k, n)),
            "zero": In(data.ArrayLayout(1, n)),
            "man": In(data.ArrayLayout(fmt.man_bits, n)),
            "words": Out(data.ArrayLayout(n, cfg.num_planes)),
        }

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        n, k, mb = cfg.n, cfg.k, cfg.fmt.man_bits
        rows = ([lambda i: self.zero[i]]
                + [lambda i, b=b: self.delta[i][b] for b in reversed(range(k))]
                + [lambda i: self.sign[i]]
                + [lambda i, b=b: self.man[i][b] for b in reversed(range(mb))])
        for j, bit in enumerate(rows):
            m.d.comb += self.words[j].eq(Cat(bit(i) for i in range(n)))
        return m
