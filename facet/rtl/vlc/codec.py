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

#: Register positions of the encoder, in the order ``stages`` takes them. Its longest path
#: runs through every stage, ``base -> classes -> histogram -> depth -> precision -> widths
#: -> pack``, and ``depth``'s outputs sit about halfway along it:
#:
#: 1. after ``depth`` (b, classes, signs, mantissas, histogram, D, mode, cost): the maximum,
#:    the classes, the histogram and the depth search before it; ``precision``, ``widths``,
#:    ``codewords`` and ``pack`` after it;
#: 2. after ``histogram`` (b, classes, signs, mantissas, histogram), which leaves the depth
#:    search alone between two registers. One more register can split only one of the two
#:    halves, so the second half stays the longest segment;
#: 3. after ``precision`` (b, classes, signs, mantissas, D, mode, P, L), which splits the
#:    second half: ``widths``, ``codewords`` and ``pack`` after it.
#:
#: The output is not registered: a register there would not shorten any segment.
ENCODER_CUTS = ("depth", "histogram", "precision")
#: Register positions of the decoder, in the order ``stages`` takes them:
#:
#: 1. at the N*W-bit output, so ``o.payload`` and ``o.valid`` come from flops and
#:    ``o.ready`` only reaches the register enables;
#: 2. after ``precision`` (b, D, classes, the value-field region, P, L), about halfway along
#:    the longest path: ``header``, ``unpack_classes``, ``histogram``, ``cost`` and
#:    ``precision`` before it; ``widths``, ``unpack_fields`` and ``reconstruct`` after it;
#: 3. after ``histogram`` (b, D, mode, classes, the value-field region, histogram), which
#:    splits the first half: ``header``, ``unpack_classes`` and ``histogram`` before it,
#:    ``cost`` and ``precision`` after it.
DECODER_CUTS = ("output", "precision", "histogram")


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
    # `v` holds the values that later stages read, as they are at the current point.
    v = dict(b=base.base, cls=classes.cls, sign=fields.sign, man=fields.man, hist=histogram.hist)
    pipe.cut(cuts, "histogram", v)
    drive(m, depth, hist=v["hist"])
    v.update(d=depth.d, mode=depth.mode, cost=depth.cost)
    pipe.cut(cuts, "depth", v)
    drive(m, precision, hist=v.pop("hist"), d=v["d"], cost=v.pop("cost"))
    v.update(p=precision.p, left=precision.left)
    pipe.cut(cuts, "precision", v)
    drive(m, widths, cls=v["cls"], d=v["d"], p=v["p"], left=v["left"])
    drive(m, codewords, cls=v["cls"], d=v["d"], mode=v["mode"])
    drive(m, pack, base=v["b"], d=v["d"], mode=v["mode"], code=codewords.code,
          length=codewords.length, field=signed_flags(m, v["cls"], v["d"]), sign=v["sign"],
          man=v["man"], k=widths.k)
    return pack.o


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
    drive(m, header, i=blk[:h])
    drive(m, unpack_classes, i=blk[h:h + class_region_bits(cfg)], d=header.d, mode=header.mode)
    drive(m, histogram, cls=unpack_classes.cls)
    # `v` holds the values that later stages read, as they are at the current point.
    v = dict(b=header.base, d=header.d, mode=header.mode, cls=unpack_classes.cls,
             region=blk[budget - cap:], hist=histogram.hist)
    pipe.cut(cuts, "histogram", v)
    drive(m, cost, hist=v["hist"], d=v["d"], mode=v.pop("mode"))
    drive(m, precision, hist=v.pop("hist"), d=v["d"], cost=cost.cost)
    v.update(p=precision.p, left=precision.left)
    pipe.cut(cuts, "precision", v)
    drive(m, widths, cls=v["cls"], d=v["d"], p=v["p"], left=v["left"])
    drive(m, unpack_fields, i=v["region"], signed=decoded_signed(m, v["cls"]), k=widths.k)
    drive(m, reconstruct, base=v["b"], cls=v["cls"], k=widths.k, sign=unpack_fields.sign,
          man=unpack_fields.man)
    out = reconstruct.o
    if "output" in cuts:
        out, = pipe.register(out)
    return out
