"""Stage ``quantize``: every value of the block to its 8-bit element code, given the scale
code (model: :func:`facet.baselines.mx_element_codes` of the elements of ``mx_encode`` /
``mxint8_encode``)."""

import math

from amaranth.hdl import Cat, Const, Mux, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._stage import MxStage, split
from .arith import clamp, leading_one, rne_shift, signed_sig
from .config import SCALE_BIAS, SCALE_NAN

__all__ = ["Quantize", "shift_range"]


def _clip(v):
    return max(-SCALE_BIAS, min(SCALE_BIAS, v))


def _quantum_exp(cfg, fl_x, xe):
    """Exponent of the element quantum (in value units) for a value with
    ``floor(log2|x|) = fl_x`` under the scale ``2**xe``."""
    if cfg.elem is None:  # MXINT8: a fixed point with fraction bits below the scale
        return xe - cfg.int_fraction_bits
    return max(fl_x, xe + cfg.elem.emin) - cfg.elem.man_bits


def shift_range(cfg):
    """``(lo, hi)`` of the right shift that takes a value's significand to its element quantum,
    over every value and every scale a block holding it can have.

    The shift grows with the scale, so the extremes are at the smallest scale (the value is
    the block maximum) and the largest (the format's largest value is in the block).
    """
    fmt, emax_el = cfg.fmt, cfg.elem_emax
    emin, mb = 1 - fmt.bias, fmt.man_bits
    fl_top = (1 << fmt.exp_bits) - 2 - fmt.bias
    classes = [(e - fmt.bias, e) for e in range(1, (1 << fmt.exp_bits) - 1)]
    classes += [(emin - mb + msb, 1) for msb in range(mb)]  # subnormals
    shifts = [_quantum_exp(cfg, fl, xe) - (e_eff - fmt.bias - mb)
              for fl, e_eff in classes for xe in (_clip(fl - emax_el), _clip(fl_top - emax_el))]
    return min(shifts), max(shifts)


class Quantize(MxStage):
    """Element codes of a block: ``x / X`` rounded to nearest even and saturated.

    A value is ``sig * 2**(e - bias - M)`` (``e`` at least 1); its element is ``sig`` shifted
    right to the element quantum with round to nearest even (:func:`shift_range` bounds the
    shift). MXINT8: the quantum is ``X / 64``; the magnitude saturates at 127 and the sign
    makes it two's complement. FP8: the quantum is ``2**(max(fl, emin) - M_elem)`` times ``X``;
    the code is ``(max(fl, emin) - emin) << M_elem`` plus the rounded significand, whose carry
    moves it to the next binade by itself, and saturates at ``max_normal``. A block with scale
    code 255 (NaN) gets zero codes.

    Members
    -------
    i : ``In(data.ArrayLayout(unsigned(W), N))``
        The block's raw values.
    scale : ``In(8)``
        The block's scale code (:class:`~facet.rtl.mx.scale.Scale`).
    codes : ``Out(data.ArrayLayout(8, N))``
        Element codes.
    """

    def ports(self, cfg):
        return {"i": In(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n)), "scale": In(8),
                "codes": Out(data.ArrayLayout(8, cfg.n))}

    def build(self, m):
        cfg = self._cfg
        xe = signed_sig(m, self.scale - SCALE_BIAS, 10, "xe")
        nan = self.scale == SCALE_NAN
        for i in range(cfg.n):
            code = self._element(m, i, xe)
            m.d.comb += self.codes[i].eq(Mux(nan, 0, code))

    def _element(self, m, i, xe):
        cfg, fmt = self._cfg, self._cfg.fmt
        mb, bias = fmt.man_bits, fmt.bias
        sign, exp, man = split(fmt, self.i[i])
        normal = exp.any()
        e_eff = Mux(normal, exp, 1)
        sig = Cat(man, normal)
        lo, hi = shift_range(cfg)
        pad = max(0, -lo)  # a left shift, of a subnormal, becomes a fixed one
        pre = Cat(Const(0, pad), sig) if pad else sig
        width = fmt.exp_bits + 6
        if cfg.elem is None:
            shift = signed_sig(m, xe - cfg.int_fraction_bits - e_eff + bias + mb + pad, width,
                               f"shift{i}")
            amount = clamp(shift, 0, min(hi + pad, len(pre) + 1))
            k = rne_shift(m, pre, amount[:len(pre).bit_length() + 1], 8, f"k{i}")
            mag = Mux(k[7], 127, k)
            return Mux(sign, -mag, mag)[:8]
        el = cfg.elem
        fl = signed_sig(m, Mux(normal, exp - bias, 1 - bias - mb + leading_one(man)), width,
                        f"fl{i}")
        t = signed_sig(m, Mux(fl > xe + el.emin, fl, xe + el.emin), width, f"t{i}")
        shift = signed_sig(m, t - el.man_bits - e_eff + bias + mb + pad, width, f"shift{i}")
        amount = clamp(shift, 0, min(hi + pad, len(pre) + 1))
        k = rne_shift(m, pre, amount[:len(pre).bit_length() + 1], el.man_bits + 2, f"k{i}")
        binade = signed_sig(m, t - xe - el.emin, width, f"binade{i}")
        mag = signed_sig(m, (binade << el.man_bits) + k, width + el.man_bits + 1, f"mag{i}")
        top = _max_code(el)
        mag = Mux(sig.any(), Mux(mag > top, top, mag), 0)
        return Cat(mag[:el.width - 1], sign)


def _max_code(el):
    """Magnitude code of ``max_normal`` of the FP8 element format ``el``."""
    frac, e = math.frexp(el.max_normal)
    return ((e - 1 + el.bias) << el.man_bits) | (int(frac * 2 ** (el.man_bits + 1)) - (1 << el.man_bits))
