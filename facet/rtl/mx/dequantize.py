"""Stage ``dequantize``: a block's scale and element codes back to raw values of the input
format (model: :func:`facet.baselines.mx_unpack`, rounded to the format by
:func:`facet.model.to_bits`)."""

from amaranth.hdl import Cat, Const, Mux, unsigned
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ._stage import MxStage
from .arith import leading_one, rne_shift, signed_sig
from .config import SCALE_BIAS, SCALE_NAN

__all__ = ["Dequantize"]


class Dequantize(MxStage):
    """Raw values ``element * 2**(scale - 127)``, rounded to nearest even into the format.

    Each element is a magnitude ``mag`` (MXINT8: ``|code|``, 0 to 128; FP8: the significand
    with its hidden bit) times ``2**e``. With ``fl = e + msb(mag)`` and ``t = max(fl, emin)``,
    the significand is ``mag << M`` shifted right by ``t - e`` with round to nearest even, and
    the code ``(t - emin) << M`` plus it; past the largest finite value it is Inf, as IEEE
    rounding has it. At the reference config (bf16) only FP8 subnormals under the smallest
    scales round; everything else is exact. Every code decodes: a scale code of 255 or an FP8
    NaN element gives the canonical quiet NaN (positive, top mantissa bit set).

    Members
    -------
    scale : ``In(8)``
        Scale code.
    codes : ``In(data.ArrayLayout(8, N))``
        Element codes.
    o : ``Out(data.ArrayLayout(unsigned(W), N))``
        Raw values.
    """

    def ports(self, cfg):
        return {"scale": In(8), "codes": In(data.ArrayLayout(8, cfg.n)),
                "o": Out(data.ArrayLayout(unsigned(cfg.fmt.width), cfg.n))}

    def build(self, m):
        cfg, fmt = self._cfg, self._cfg.fmt
        xe = signed_sig(m, self.scale - SCALE_BIAS, 10, "xe")
        # emin - e, less the element's own exponent field (FP8): once per block.
        lim_block = signed_sig(m, (1 - fmt.bias) - xe + (
            cfg.int_fraction_bits if cfg.elem is None else cfg.elem.bias + cfg.elem.man_bits),
            12, "lim_block")
        nan_block = self.scale == SCALE_NAN
        qnan = (fmt.exp_max << fmt.man_bits) | (1 << (fmt.man_bits - 1))
        for i in range(cfg.n):
            value, nan = self._element(m, i, lim_block)
            m.d.comb += self.o[i].eq(Mux(nan_block | nan, qnan, value))

    def _element(self, m, i, lim_block):
        cfg, fmt = self._cfg, self._cfg.fmt
        c = self.codes[i]
        sign = c[7]
        width = 12
        if cfg.elem is None:
            mag = Mux(sign, -c, c)[:8]  # -(-128) is 128, still 8 bits unsigned
            lim = lim_block
            nan = Const(0, 1)
        else:
            el = cfg.elem
            mb = el.man_bits
            ef, mf = c[mb:7], c[:mb]
            nz = ef.any()
            mag = Cat(mf, nz)
            lim = signed_sig(m, lim_block - Mux(nz, ef, 1), width, f"lim{i}")
            nan = ef.all() & mf.all() if not el.has_inf else ef.all() & mf.any()
        # With lim = emin - e: normal when fl = e + msb > emin, i.e. msb > lim; the shift
        # t - e is then msb, else lim; the binade t - emin is msb - lim, else 0.
        mo = fmt.man_bits
        p = leading_one(mag)
        normal = p > lim
        pre = Cat(Const(0, mo), mag)
        top = len(pre) + 1
        amount = Mux(normal, p, Mux(lim > top, top, lim[:top.bit_length()]))
        k = rne_shift(m, pre, amount[:top.bit_length()], mo + 2, f"k{i}")
        binade = signed_sig(m, Mux(normal, p - lim, 0), width, f"binade{i}")
        high = signed_sig(m, binade + k[mo:], width, f"high{i}")  # the carry of the rounding
        code = Mux(high >= fmt.exp_max, fmt.exp_max << mo, Cat(k[:mo], high[:fmt.exp_bits]))
        return Cat(Mux(mag.any(), code, 0)[:fmt.width - 1], sign), nan
