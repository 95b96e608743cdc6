"""The `window` datapaths of :class:`~facet.rtl.FacetEncoder` and :class:`~facet.rtl.FacetDecoder`:
the stage components of :mod:`facet.rtl.window` in the order of the golden model, with the
register stages of the shared :class:`~facet.rtl.pipeline.Pipeline` at the cuts in use."""

from .._common import drive
from ..fields import Fields
from ..vlc.base import Base
from .classes import Classes
from .codes import Codes
from .header import Header
from .histogram import Histogram
from .list_ranks import ListRanks
from .layout import plane_region
from .offset import Offset
from .pack import Pack
from .precision import Precision
from .reconstruct import Reconstruct
from .unpack_codes import UnpackCodes
from .unpack_planes import UnpackPlanes

__all__ = ["ENCODER_CUTS", "ENCODER_STAGE_CUTS", "DECODER_CUTS", "build_encoder", "build_decoder"]

#: Register positions of the encoder, in the order ``stages`` takes them. Its longest path
#: runs ``base -> classes -> histogram -> offset -> codes -> list_ranks -> pack``:
#:
#: 1. after ``histogram`` (b, classes, signs, mantissas, the five counts, the special flag):
#:    the maximum, the distances and the popcounts before it; the choice of the offset, the
#:    codes and the placement of the top lists (rank networks and a shift) after it, the
#:    longer half;
#: 2. after ``offset`` (o, P, L in place of the counts), which splits that half;
#: 3. after ``classes`` (b, classes, signs, mantissas), which splits the first half;
#: 4. after ``list_ranks`` (the codes and the top lists' network selects, filled slots and
#:    n_0 in place of the classes' compares), which leaves ``pack`` the networks and shifts.
#:
#: The output is not registered: a register there would not shorten any segment. Four
#: stages are the encoder's alone; :func:`facet.generate.generate` builds the pair with at
#: most the decoder's three.
ENCODER_CUTS = ("histogram", "offset", "classes", "list_ranks")
#: Where the first n positions above are not the best set (``make timing POLICY=window
#: STAGES=n``):
#:
#: * two stages register after ``classes`` and after ``offset``: of the three segments these
#:   leave (``fields`` to ``classes``, ``histogram`` and ``offset``, ``codes`` to ``pack``),
#:   the last is the longest, while the register after ``histogram`` would leave ``fields``
#:   to ``histogram`` longer than it (fewer flops, too);
#: * three stages add the register after ``list_ranks`` to those two, which splits that last
#:   segment and leaves ``histogram`` and ``offset`` as the longest, where the register after
#:   ``histogram`` would leave ``codes`` to ``pack`` whole.
ENCODER_STAGE_CUTS = {2: ("classes", "offset"), 3: ("classes", "offset", "list_ranks")}
#: Register positions of the decoder, in the order ``stages`` takes them:
#:
#: 1. at the N*W-bit output, so ``o.payload`` and ``o.valid`` come from flops and
#:    ``o.ready`` only reaches the register enables;
#: 2. after ``precision`` (b, o, P, L, codes, signs, the plane region, and ``list_ranks``'
#:    select signals and n_0): the two popcounts and the choice of P, and the control of the
#:    top lists' rank networks, before it; the networks and the normalization of every value
#:    after it;
#: 3. after ``unpack_planes`` (b, o, codes, signs, the planes and last planes of every value),
#:    which splits the second half.
DECODER_CUTS = ("output", "precision", "unpack_planes")


def build_encoder(m, pipe, cuts, cfg, raw):
    """``fields -> base -> classes -> histogram -> offset -> codes -> list_ranks -> pack``
    (golden model: :func:`facet.window.encode`, with :func:`facet.window.list_ranks`, which it
    does not chain); returns the packed block."""
    m.submodules.fields = fields = Fields(cfg)
    m.submodules.base = base = Base(cfg)
    m.submodules.classes = classes = Classes(cfg)
    m.submodules.histogram = histogram = Histogram(cfg)
    m.submodules.offset = offset = Offset(cfg)
    m.submodules.codes = codes = Codes(cfg)
    m.submodules.list_ranks = list_ranks = ListRanks(cfg)
    m.submodules.pack = pack = Pack(cfg)

    drive(m, fields, i=raw)
    drive(m, base, exp=fields.exp)
    drive(m, classes, exp=fields.exp, man=fields.man, base=base.base)
    # `v` holds the values that later stages read, as they are at the current point.
    v = dict(b=base.base, cls=classes.cls, sign=fields.sign, man=fields.man)
    pipe.cut(cuts, "classes", v)
    drive(m, histogram, cls=v["cls"])
    v.update(hist=histogram.hist, special=histogram.special)
    pipe.cut(cuts, "histogram", v)
    drive(m, offset, hist=v.pop("hist"), special=v["special"])
    v.update(o=offset.o, p=offset.p, left=offset.left)
    pipe.cut(cuts, "offset", v)
    drive(m, codes, cls=v["cls"], o=v["o"], special=v.pop("special"))
    drive(m, list_ranks, code=codes.code)
    v.update(code=codes.code, sel0=list_ranks.sel0, sel1=list_ranks.sel1,
             fill0=list_ranks.fill0, fill1=list_ranks.fill1, len0=list_ranks.len0)
    pipe.cut(cuts, "list_ranks", v)
    drive(m, pack, base=v["b"], o=v["o"], p=v["p"], left=v["left"], code=v["code"],
          sign=v["sign"], cls=v["cls"], man=v["man"], sel0=v["sel0"], sel1=v["sel1"],
          fill0=v["fill0"], fill1=v["fill1"], len0=v["len0"])
    return pack.out


def build_decoder(m, pipe, cuts, cfg, blk):
    """``header -> unpack_codes -> precision -> unpack_planes -> reconstruct``, with
    ``list_ranks`` beside ``precision`` (golden model: :func:`facet.window.decode`); returns
    the raw values."""
    m.submodules.header = header = Header(cfg)
    m.submodules.unpack_codes = unpack_codes = UnpackCodes(cfg)
    m.submodules.precision = precision = Precision(cfg)
    m.submodules.list_ranks = list_ranks = ListRanks(cfg)
    m.submodules.unpack_planes = unpack_planes = UnpackPlanes(cfg)
    m.submodules.reconstruct = reconstruct = Reconstruct(cfg)

    h, n = cfg.header_bits, cfg.n
    first, _ = plane_region(cfg)
    drive(m, header, i=blk[:h])
    drive(m, unpack_codes, i=blk[h:first])
    drive(m, precision, code=unpack_codes.code, base=header.base, o=header.o)
    drive(m, list_ranks, code=unpack_codes.code)
    # `v` holds the values that later stages read, as they are at the current point.
    v = dict(b=header.base, o=precision.o_eff, p=precision.p, left=precision.left,
             code=unpack_codes.code, sign=unpack_codes.sign, region=blk[first:],
             sel0=list_ranks.sel0, sel1=list_ranks.sel1, len0=list_ranks.len0)
    pipe.cut(cuts, "precision", v)
    drive(m, unpack_planes, i=v.pop("region"), code=v["code"], o=v["o"], p=v.pop("p"),
          left=v.pop("left"), sel0=v.pop("sel0"), sel1=v.pop("sel1"), len0=v.pop("len0"))
    v.update(planes=unpack_planes.planes, top=unpack_planes.top)
    pipe.cut(cuts, "unpack_planes", v)
    drive(m, reconstruct, base=v["b"], offset=v.pop("o"), code=v["code"], sign=v["sign"],
          planes=v["planes"], top=v["top"])
    out = reconstruct.o
    if "output" in cuts:
        out, = pipe.register(out)
    return out
