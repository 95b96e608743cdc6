"""The `vlc` datapaths of :class:`~facet.rtl.FacetEncoder` and :class:`~facet.rtl.FacetDecoder`:
the stage components of :mod:`facet.rtl.vlc` in the order of the golden model, with the
register stages of the shared :class:`~facet.rtl.pipeline.Pipeline` at the cuts in use."""

from .._common import drive
from ..fields import Fields
from .base import Base
from .classes import Classes, signed_flags
from .codewords import Codewords
from .cost import Cost
from .depth import Depth
from .header import Header
from .histogram import Histogram
from .pack import Pack
from .precision import Precision
from .reconstruct import Reconstruct
from .unpack_classes import UnpackClasses, class_region_bits, decoded_signed
from .unpack_fields import UnpackFields, field_region_bits
from .widths import Widths

__all__ = ["ENCODER_CUTS", "DECODER_CUTS", "build_encoder", "build_decoder"]

#: Register positions of the encoder, in the order ``stages`` takes them: the B-bit output;
#: after ``widths`` (everything ``codewords`` and ``pack`` need: b, D, mode, classes, kept
#: bits, signs, mantissas), which leaves the packing networks after it; after ``depth``,
#: which splits the analysis (maximum, classes, histogram, depth search) from
#: ``precision`` and ``widths``.
ENCODER_CUTS = ("output", "widths", "depth")
#: Register positions of the decoder: the B-bit input; after ``unpack_classes`` (b, D, mode,
#: the classes and the value-field region), which splits the class walk from the rest; the
#: N*W-bit output.
DECODER_CUTS = ("input", "classes", "output")


def build_encoder(m, pipe, cuts, cfg, raw):
    """``fields -> base -> classes -> histogram -> depth -> precision -> widths -> codewords
    -> pack`` (golden model: :func:`facet.vlc.encode`); returns the packed block."""
    m.submodules.fields = fields = Fields(cfg)
    m.submodules.base = base = Base(cfg)
    m.submodules.classes = classes = Classes(cfg)
    m.submodules.histogram = histogram = Histogram(cfg)
    m.submodules.depth = depth = Depth(cfg)
    m.submodules.precision = precision = Precision(cfg)
    m.submodules.widths = widths = Widths(cfg)
    m.submodules.codewords = codewords = Codewords(cfg)
    m.submodules.pack = pack = Pack(cfg)

    drive(m, fields, i=raw)
    drive(m, base, exp=fields.exp)
    drive(m, classes, exp=fields.exp, man=fields.man, base=base.base)
    drive(m, histogram, cls=classes.cls)
    drive(m, depth, hist=histogram.hist)
    b, cls, hist, sign, man = base.base, classes.cls, histogram.hist, fields.sign, fields.man
    d, mode, cost = depth.d, depth.mode, depth.cost
    if "depth" in cuts:
        b, cls, hist, sign, man, d, mode, cost = pipe.register(b, cls, hist, sign, man, d, mode,
                                                               cost)
    drive(m, precision, hist=hist, d=d, cost=cost)
    drive(m, widths, cls=cls, d=d, p=precision.p, left=precision.left)
    k = widths.k
    if "widths" in cuts:
        b, cls, sign, man, d, mode, k = pipe.register(b, cls, sign, man, d, mode, k)
    drive(m, codewords, cls=cls, d=d, mode=mode)
    drive(m, pack, base=b, d=d, mode=mode, code=codewords.code, length=codewords.length,
          field=signed_flags(m, cls, d), sign=sign, man=man, k=k)
    out = pack.o
    if "output" in cuts:
        out, = pipe.register(out)
    return out


def build_decoder(m, pipe, cuts, cfg, blk):
    """``header -> unpack_classes -> histogram -> cost -> precision -> widths -> unpack_fields
    -> reconstruct`` (golden model: :func:`facet.vlc.decode`); returns the raw values."""
    m.submodules.header = header = Header(cfg)
    m.submodules.unpack_classes = unpack_classes = UnpackClasses(cfg)
    m.submodules.histogram = histogram = Histogram(cfg)
    m.submodules.cost = cost = Cost(cfg)
    m.submodules.precision = precision = Precision(cfg)
    m.submodules.widths = widths = Widths(cfg)
    m.submodules.unpack_fields = unpack_fields = UnpackFields(cfg)
    m.submodules.reconstruct = reconstruct = Reconstruct(cfg)

    h, budget, cap = cfg.header_bits, cfg.budget, field_region_bits(cfg)
    if "input" in cuts:
        blk, = pipe.register(blk)
    drive(m, header, i=blk[:h])
    drive(m, unpack_classes, i=blk[h:h + class_region_bits(cfg)], d=header.d, mode=header.mode)
    b, d, mode, cls, region = header.base, header.d, header.mode, unpack_classes.cls, blk[budget - cap:]
    if "classes" in cuts:
        b, d, mode, cls, region = pipe.register(b, d, mode, cls, region)
    drive(m, histogram, cls=cls)
    drive(m, cost, hist=histogram.hist, d=d, mode=mode)
    drive(m, precision, hist=histogram.hist, d=d, cost=cost.cost)
    drive(m, widths, cls=cls, d=d, p=precision.p, left=precision.left)
    drive(m, unpack_fields, i=region, signed=decoded_signed(m, cls), k=widths.k)
    drive(m, reconstruct, base=b, cls=cls, k=widths.k, sign=unpack_fields.sign,
          man=unpack_fields.man)
    out = reconstruct.o
    if "output" in cuts:
        out, = pipe.register(out)
    return out
