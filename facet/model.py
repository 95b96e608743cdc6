"""Bit-exact golden model of the block format in docs/format.md.

One function per hardware stage, each vectorized over blocks:

encoder   ``fields -> base -> deltas -> planes -> mask -> pack``
decoder   ``header -> unpack -> reconstruct``

The ``significance`` policy adds ``precision -> widths -> pack_mantissa`` to the encoder and
``precision_field -> widths -> unpack_mantissa`` to the decoder.

The RTL in ``facet.rtl`` has a component or function with the same name for each stage, and
its unit test compares the two. Arrays of per-value quantities have shape ``(blocks, N)``;
plane words have shape ``(blocks, P)`` and hold one N-bit plane each, element ``i`` at bit ``i``,
planes in stream order.
"""

import functools

import numpy as np

from .bitfield import get_fields, join_factor, join_fields, put_fields, split_fields
from .config import FORMATS, Config

__all__ = [
    "to_bits", "to_float", "fields", "base", "deltas", "planes", "mask", "pack",
    "header", "unpack", "reconstruct", "encode", "decode", "lossless_bits", "canonical",
    "precision", "widths", "pack_mantissa", "precision_field", "unpack_mantissa",
]

_WORD = {8: np.dtype("<u1"), 16: np.dtype("<u2"), 32: np.dtype("<u4"), 64: np.dtype("<u8")}


# -- input conversion ---------------------------------------------------------------------

def _check(cfg):
    if not isinstance(cfg, Config):
        raise ValueError(f"cfg must be a facet.Config, not {type(cfg).__name__}")
    return cfg


def to_bits(values, cfg: Config):
    """Raw bit patterns of ``values`` in the config's format, as a ``(blocks, N)`` array.

    Unsigned integer input (``uint16`` for bf16/fp16, ``uint32`` for fp32) is taken as raw
    bit patterns. Float input is converted to float32 and then rounded to nearest even to
    the format (fp16 and bf16 overflow to Inf; NaN stays NaN).
    """
    fmt = _check(cfg).fmt
    values = np.asarray(values)
    if values.size % cfg.n:
        raise ValueError(f"{values.size} values are not a whole number of blocks of N={cfg.n}; "
                         "pad the input to a multiple of N")
    if values.dtype.kind == "u":
        if values.dtype.itemsize * 8 != fmt.width:
            raise ValueError(f"raw {cfg.format} values must be {fmt.dtype}, not {values.dtype}")
        raw = values.astype(fmt.dtype, copy=False)
    elif values.dtype.kind == "f":
        f32 = values.astype(np.float32, copy=False)
        if cfg.format == "fp32":
            raw = f32.view(np.uint32)
        elif cfg.format == "fp16":
            with np.errstate(over="ignore"):  # overflow to Inf is the rounding rule
                raw = f32.astype(np.float16).view(np.uint16)
        else:
            raw = _bf16_rne(f32)
    else:
        raise ValueError(f"values must be float or raw unsigned bit patterns, not {values.dtype}")
    return raw.reshape(-1, cfg.n)


def _bf16_rne(f32):
    bits = np.ascontiguousarray(f32).view(np.uint32)
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    rounded = (bits + (0x7FFF + ((bits >> 16) & 1))) >> 16
    # A NaN whose payload sits in the low half must stay NaN after the cut.
    return np.where(nan, (bits >> 16) | 0x40, rounded).astype(np.uint16)


def to_float(raw, fmt):
    """float32 values of raw bit patterns of ``fmt``: a :class:`Config` or a format name."""
    if isinstance(fmt, Config):
        fmt = fmt.format
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValueError(f"fmt must be a facet.Config or one of {sorted(FORMATS)}, not {fmt!r}")
    raw = np.asarray(raw)
    if fmt == "fp32":
        return raw.astype(np.uint32).view(np.float32)
    if fmt == "fp16":
        return raw.astype(np.uint16).view(np.float16).astype(np.float32)
    return (raw.astype(np.uint32) << 16).view(np.float32)


# -- bit-matrix transpose -----------------------------------------------------------------

def _transpose8(x):
    """Transpose each uint64 as an 8x8 bit matrix: bit ``8r + c`` moves to bit ``8c + r``."""
    x = x.copy()
    for shift, m in ((7, 0x00AA00AA00AA00AA), (14, 0x0000CCCC0000CCCC), (28, 0x00000000F0F0F0F0)):
        s, m = np.uint64(shift), np.uint64(m)
        t = (x ^ (x >> s)) & m
        x ^= t ^ (t << s)
    return x


def _code_dtype(nbits):
    """Narrowest unsigned dtype holding a code word of ``nbits`` bits."""
    return next(np.dtype(f"<u{w}") for w in (2, 4, 8) if nbits <= 8 * w)


def _codes_to_words(codes, nbits, n):
    """(blocks, N) codes -> (blocks, nbits) words, word ``c`` = bit ``c`` of every code."""
    nb, cw = codes.shape[0], codes.dtype.itemsize
    lanes, groups = -(-nbits // 8), n // 8
    by = codes.view(np.uint8).reshape(nb, groups, 8, cw)[..., :lanes]
    x = np.ascontiguousarray(by.transpose(0, 3, 1, 2)).view("<u8")[..., 0]
    y = _transpose8(x).view(np.uint8).reshape(nb, lanes, groups, 8)
    words = np.ascontiguousarray(y.transpose(0, 1, 3, 2)).view(_WORD[n])
    return words.reshape(nb, lanes * 8)[:, :nbits]


def _words_to_codes(words, n):
    """Inverse of :func:`_codes_to_words`."""
    nb, nbits = words.shape
    lanes, groups = -(-nbits // 8), n // 8
    cdt = _code_dtype(nbits)
    padded = np.zeros((nb, lanes * 8), _WORD[n])
    padded[:, :nbits] = words
    by = padded.view(np.uint8).reshape(nb, lanes, 8, groups)
    x = np.ascontiguousarray(by.transpose(0, 1, 3, 2)).view("<u8")[..., 0]
    y = _transpose8(x).view(np.uint8).reshape(nb, lanes, groups, 8)
    codes = np.zeros((nb, groups, 8, cdt.itemsize), np.uint8)
    codes[..., :lanes] = y.transpose(0, 2, 3, 1)
    return codes.view(cdt).reshape(nb, n)


@functools.lru_cache(maxsize=None)
def _compaction_table(p):
    """For every P-bit presence mask, the plane order with present planes first."""
    masks = np.arange(1 << p, dtype=np.uint32)
    absent = ((masks[:, None] >> np.arange(p, dtype=np.uint32)) & 1) == 0
    return np.argsort(absent, axis=1, kind="stable").astype(np.uint8)


def _present_first(present, mask_int):
    """Per block, the plane order that moves present planes to the front (stable)."""
    if present.shape[1] <= 16:
        return _compaction_table(present.shape[1])[mask_int]
    return np.argsort(~present, axis=1, kind="stable")


# -- encoder stages -----------------------------------------------------------------------

def fields(raw, cfg: Config):
    """Split raw values into sign, biased exponent and mantissa fields."""
    fmt = cfg.fmt
    raw = raw.astype(np.uint32, copy=False)
    sign = (raw >> (fmt.width - 1)).astype(np.uint8)
    exp = ((raw >> fmt.man_bits) & fmt.exp_max).astype(np.int32)
    man = raw & ((1 << fmt.man_bits) - 1)
    return sign, exp, man


def base(exp, cfg: Config):
    """The block base: its largest biased exponent."""
    return exp.max(axis=1)


def deltas(exp, man, base_, cfg: Config):
    """Exponent deltas with the flush rule and NaN canonicalization.

    Returns ``(delta, zero, man)``: a value is zero-marked when its exponent field is 0
    (zero or subnormal) or its delta does not fit in K bits; zero-marked values get delta 0
    and mantissa 0, and a NaN gets the canonical quiet mantissa ``100...0``.
    """
    fmt = cfg.fmt
    delta = base_[:, None] - exp
    zero = (exp == 0) | (delta >= (1 << cfg.k))
    nan = (exp == fmt.exp_max) & (man != 0)
    man = np.where(nan, 1 << (fmt.man_bits - 1), man)
    return np.where(zero, 0, delta), zero, np.where(zero, 0, man)


def planes(sign, delta, zero, man, cfg: Config):
    """Transpose the per-value fields into P bit-planes, in stream order.

    Stream order (zero, delta MSB..LSB, sign, mantissa MSB..LSB) is the reverse of the bit
    order of the code word ``man | sign << M | delta << M+1 | zero << M+K+1``, so one bit-matrix
    transpose and a reversal produce it.
    """
    m, k = cfg.fmt.man_bits, cfg.k
    cdt = _code_dtype(cfg.num_planes)
    codes = man.astype(cdt)
    codes |= sign.astype(cdt) << cdt.type(m)
    codes |= delta.astype(cdt) << cdt.type(m + 1)
    codes |= zero.astype(cdt) << cdt.type(m + k + 1)
    return _codes_to_words(codes, cfg.num_planes, cfg.n)[:, ::-1]


def mask(words):
    """Presence mask: True for every plane that holds a one."""
    return words != 0


def pack(base_, present, words, cfg: Config, policy_field=None):
    """Concatenate header and present planes in stream order and cut at B bits.

    Returns the packed blocks as ``(blocks, B/8)`` uint8, stream bit ``j`` at bit ``j % 8``
    of byte ``j // 8``.
    """
    nb, p = words.shape
    n, h = cfg.n, cfg.header_bits
    # Absent planes are all-zero, so scattering present planes to their rank and leaving
    # zeros behind yields the concatenation followed by zero padding.
    weights = np.uint64(1) << np.arange(p, dtype=np.uint64)
    mask_int = present.astype(np.uint64) @ weights
    region = np.take_along_axis(words, _present_first(present, mask_int), axis=1)

    hdr = base_.astype(np.uint64) | (mask_int << np.uint64(cfg.fmt.exp_bits))
    if policy_field is not None:
        hdr |= policy_field.astype(np.uint64) << np.uint64(cfg.fmt.exp_bits + p)

    q, s = divmod(h, 8)
    nbytes = cfg.budget_bytes
    keep = nbytes - q  # region bytes that can reach the block
    rb = region.view(np.uint8)[:, :keep].astype(np.uint16) << s
    out = np.zeros((nb, max(nbytes, 8) + 1), np.uint8)
    out[:, q:q + rb.shape[1]] |= (rb & 0xFF).astype(np.uint8)
    out[:, q + 1:q + 1 + rb.shape[1]] |= (rb >> 8).astype(np.uint8)
    out[:, :8] |= hdr.astype("<u8").view(np.uint8).reshape(nb, 8)
    return out[:, :nbytes]


def lossless_bits(values, cfg: Config):
    """Each block's untruncated size in bits.

    ``plane``: header plus N bits per present plane. ``significance``: header, N bits per
    present zero/delta/sign plane, and M bits per value that is not zero-marked. ``vlc``:
    see :func:`facet.vlc.lossless_bits`.
    """
    if _check(cfg).policy == "vlc":
        from . import vlc
        return vlc.lossless_bits(values, cfg)
    raw = to_bits(values, cfg)
    sign, exp, man = fields(raw, cfg)
    delta, zero, man = deltas(exp, man, base(exp, cfg), cfg)
    present = mask(planes(sign, delta, zero, man, cfg))
    if cfg.policy == "plane":
        return cfg.header_bits + cfg.n * present.sum(axis=1)
    nm = cfg.mask_bits
    return cfg.header_bits + cfg.n * present[:, :nm].sum(axis=1) + cfg.fmt.man_bits * (~zero).sum(axis=1)


def encode(values, cfg: Config):
    """Compress ``values`` into ``(blocks, B/8)`` uint8 packed blocks."""
    if _check(cfg).policy == "vlc":
        from . import vlc
        return vlc.encode(values, cfg)
    sign, exp, man = fields(to_bits(values, cfg), cfg)
    b = base(exp, cfg)
    delta, zero, man = deltas(exp, man, b, cfg)
    words = planes(sign, delta, zero, man, cfg)
    present = mask(words)
    if cfg.policy == "plane":
        return pack(b, present, words, cfg)
    nm = cfg.mask_bits
    p = precision(delta, zero, present[:, :nm], cfg)
    k = widths(p, delta, zero, present[:, :nm], cfg)
    return pack(b, present[:, :nm], words[:, :nm], cfg, policy_field=p) | pack_mantissa(man, k, cfg)


# -- significance policy -----------------------------------------------------------------

def _mantissa_room(present, cfg):
    """R: the bits left for mantissas after the header and the present non-mantissa planes."""
    return cfg.budget - cfg.header_bits - cfg.n * present.sum(axis=1)


@functools.lru_cache(maxsize=None)
def _ramp_table(m, nd, pmax):
    """Mantissa bits ``clamp(P - d, 0, M)`` of a value with delta d at every precision P,
    shape (2**K, Pmax + 1), as floats: the histogram products are exact small integers."""
    p = np.arange(pmax + 1)
    return np.clip(p[None, :] - np.arange(nd)[:, None], 0, m).astype(np.float64)


def precision(delta, zero, present, cfg: Config):
    """The largest precision P whose mantissa widths fit in what the block has left.

    A value with delta d keeps ``clamp(P - d, 0, M)`` mantissa bits; the total over the
    block, S(P), is read off the histogram of the deltas of values that are not zero-marked.
    """
    nb = delta.shape[0]
    m, nd = cfg.fmt.man_bits, 1 << cfg.k
    # Zero-marked values count in an extra bin that the product leaves out.
    idx = np.where(zero, nd, delta) + np.arange(0, nb * (nd + 1), nd + 1, dtype=np.intp)[:, None]
    hist = np.bincount(idx.ravel(), minlength=nb * (nd + 1)).reshape(nb, nd + 1)[:, :nd]
    total = hist.astype(np.float64) @ _ramp_table(m, nd, cfg.max_precision)
    return (total <= _mantissa_room(present, cfg)[:, None]).sum(axis=1) - 1


def widths(p, delta, zero, present, cfg: Config):
    """Mantissa bits k_i each value keeps at precision ``p``.

    k_i = clamp(P - d_i, 0, M); the bits the block has left over go, one each, to the
    values that would gain a bit at P + 1, in element order.
    """
    m = cfg.fmt.man_bits
    p = np.minimum(p, cfg.max_precision).astype(np.int16)[:, None]
    ahead = p - delta.astype(np.int16)                      # P - d_i
    gains = (ahead.view(np.uint16) < m) & ~zero             # 0 <= P - d_i < M
    k = np.minimum(np.maximum(ahead, 0), m)
    k[zero] = 0
    left = np.maximum(_mantissa_room(present, cfg) - k.sum(axis=1), 0)
    before = np.cumsum(gains, axis=1, dtype=np.int16) - gains
    return k + (gains & (before < left[:, None]))


def _mantissa_slots(k, cfg):
    """Each value's field, joined in runs of adjacent values: ``(factor, pos, width)``.

    Value i's k_i leading mantissa bits form one field at stream bits
    ``[B - sigma_i - k_i, B - sigma_i)``, its MSB on top; value i + 1's field lies directly
    below it, so ``factor`` adjacent fields join into one of at most 64 bits, placed at
    ``pos`` with ``width`` bits.
    """
    c = join_factor(cfg.fmt.man_bits, cfg.n)
    top = np.cumsum(k, axis=1, dtype=np.int64)            # sigma_i + k_i
    width = top[:, c - 1::c] - np.concatenate([np.zeros((len(k), 1), np.int64), top[:, c - 1:-1:c]], axis=1)
    return c, cfg.budget - top[:, c - 1::c], width


def pack_mantissa(man, k, cfg: Config):
    """The mantissa region: value i's k_i leading mantissa bits at stream bits
    ``B - 1 - (sigma_i + t)``, ``sigma_i = k_0 + ... + k_(i-1)``, as packed block bytes."""
    m = cfg.fmt.man_bits
    k8 = k.astype(np.uint8)
    field = man.astype(np.uint32) >> (np.uint8(m) - k8)    # the k_i leading bits, MSB on top
    c, pos, _ = _mantissa_slots(k8, cfg)
    value, _ = join_fields(field, k8, c, upper_first=True, max_width=m)
    return put_fields(len(man), cfg.budget, pos[:, ::-1], value[:, ::-1])  # in stream order


def precision_field(blocks, cfg: Config):
    """The precision P from the header of `significance` blocks, clamped to its maximum."""
    head = np.zeros((blocks.shape[0], 8), np.uint8)
    take = min(8, blocks.shape[1])
    head[:, :take] = blocks[:, :take]
    hdr = head.view("<u8")[:, 0] >> np.uint64(cfg.fmt.exp_bits + cfg.mask_bits)
    p = (hdr & np.uint64((1 << cfg.policy_bits) - 1)).astype(np.int32)
    return np.minimum(p, cfg.max_precision)


def unpack_mantissa(blocks, k, present, cfg: Config):
    """Read every value's kept mantissa bits back; bits past the mantissa region read as 0.

    Returns ``(man, fill)``: the mantissas with cut bits 0, and each value's first cut bit.
    """
    m = cfg.fmt.man_bits
    k8 = k.astype(np.uint8)
    c, pos, width = _mantissa_slots(k8, cfg)
    chunk = get_fields(blocks, pos, width)
    # Bits at distance R or more from the top (below stream bit B - R) read as 0.
    cut = np.clip(cfg.budget - _mantissa_room(present, cfg)[:, None] - pos, 0, 64).astype(np.uint64)
    chunk = np.where(cut >= 64, np.uint64(0), chunk & ~((np.uint64(1) << np.minimum(cut, np.uint64(63))) - np.uint64(1)))
    field = split_fields(chunk, k8, c, upper_first=True, max_width=m)
    man = field.astype(np.uint32) << (np.uint8(m) - k8)
    fill = np.where(k8 < m, np.uint32(1) << (np.uint8(m - 1) - np.minimum(k8, np.uint8(m - 1))), np.uint32(0))
    return man, fill


# -- decoder stages -----------------------------------------------------------------------

def header(blocks, cfg: Config):
    """Parse the header: ``(base, present)``, ``present`` of shape ``(blocks, mask_bits)``."""
    nb = blocks.shape[0]
    head = np.zeros((nb, 8), np.uint8)
    take = min(8, blocks.shape[1])
    head[:, :take] = blocks[:, :take]
    hdr = head.view("<u8")[:, 0]
    e, p = cfg.fmt.exp_bits, cfg.mask_bits
    base_ = (hdr & np.uint64(cfg.fmt.exp_max)).astype(np.int32)
    bit = np.arange(p, dtype=np.uint64)
    present = ((hdr[:, None] >> (np.uint64(e) + bit)) & np.uint64(1)).astype(bool)
    return base_, present


def unpack(blocks, present, cfg: Config):
    """Route the slots after the header back to their planes.

    Returns ``(words, fill)``: plane words in stream order with cut bits read as 0, and per
    value, as a ``(blocks, N)`` mantissa bit mask, its first cut mantissa bit (or 0).
    """
    nb = blocks.shape[0]
    n, p, h = cfg.n, present.shape[1], cfg.header_bits
    q, s = divmod(h, 8)
    nreg = p * n // 8
    ext = np.zeros((nb, q + nreg + 1), np.uint8)
    take = min(blocks.shape[1], ext.shape[1])
    ext[:, :take] = blocks[:, :take]
    pair = ext[:, q:q + nreg].astype(np.uint16) | (ext[:, q + 1:q + nreg + 1].astype(np.uint16) << 8)
    region = ((pair >> s) & 0xFF).astype(np.uint8).view(_WORD[n])  # (nb, P) slots

    rank = np.cumsum(present, axis=1, dtype=np.int8) - present
    words = np.where(present, np.take_along_axis(region, rank, axis=1), 0).astype(_WORD[n])

    # Element i of slot s_full survives the cut for i < r, so the first cut bit of element i
    # is in the present plane of rank s_full (i >= r) or s_full + 1 (i < r). Both ranks lie
    # past the non-mantissa planes, which always fit.
    cdt = _code_dtype(cfg.fmt.man_bits + 1)
    j = np.arange(p) - cfg.first_mantissa_plane  # mantissa plane j holds bit M-1-j
    bit = np.where(j >= 0, 1 << np.clip(cfg.fmt.man_bits - 1 - j, 0, None), 0).astype(cdt)
    first_cut_hi = np.where(present & (rank == cfg.full_slots), bit, 0).max(axis=1)
    first_cut_lo = np.where(present & (rank == cfg.full_slots + 1), bit, 0).max(axis=1)
    fill = np.where(np.arange(n) >= cfg.partial_elems, first_cut_hi[:, None], first_cut_lo[:, None])
    return words, fill.astype(cdt)


def reconstruct(base_, words, fill, cfg: Config):
    """Rebuild raw values from the base and the planes; cut mantissas get their midpoint bit."""
    fmt = cfg.fmt
    m, k = fmt.man_bits, cfg.k
    codes = _words_to_codes(np.ascontiguousarray(words[:, ::-1]), cfg.n)
    out = np.dtype(fmt.dtype)
    man = (codes & ((1 << m) - 1)).astype(out)
    delta = ((codes >> (m + 1)) & ((1 << k) - 1)).astype(np.int32)
    e = base_[:, None] - delta
    special = e == fmt.exp_max
    man |= np.where(special, 0, fill).astype(out)
    mag = (e.astype(out) << out.type(m)) | man
    mag[(codes >> (m + k + 1)).astype(bool) | (e <= 0)] = 0
    sign = ((codes >> m) & 1).astype(out) << out.type(fmt.width - 1)
    return sign | mag


def decode(blocks, cfg: Config):
    """Decompress packed blocks into raw bit patterns, shape ``(blocks * N,)``.

    ``blocks`` is a ``(blocks, B/8)`` uint8 array, or anything of whole B/8-byte blocks.
    Every byte string decodes to defined values.
    """
    _check(cfg)
    blocks = np.asarray(blocks)
    if blocks.dtype != np.uint8:
        raise ValueError(f"packed blocks must be uint8, not {blocks.dtype}")
    if blocks.size % cfg.budget_bytes:
        raise ValueError(f"{blocks.size} bytes are not a whole number of {cfg.budget_bytes}-byte blocks")
    blocks = blocks.reshape(-1, cfg.budget_bytes)
    if cfg.policy == "vlc":
        from . import vlc
        return vlc.decode(blocks, cfg)
    b, present = header(blocks, cfg)
    words, fill = unpack(blocks, present, cfg)
    if cfg.policy == "significance":
        m, k = cfg.fmt.man_bits, cfg.k
        codes = _words_to_codes(np.ascontiguousarray(words[:, ::-1]), cfg.n)
        delta = ((codes >> 1) & ((1 << k) - 1)).astype(np.int32)
        zero = (codes >> (k + 1)).astype(bool)
        widths_ = widths(precision_field(blocks, cfg), delta, zero, present, cfg)
        man, fill = unpack_mantissa(blocks, widths_, present, cfg)
        mwords = _codes_to_words(man, m, cfg.n)[:, ::-1]
        words = np.concatenate([words, mwords.astype(words.dtype)], axis=1)
    return reconstruct(b, words, fill, cfg).reshape(-1)


def canonical(values, cfg: Config):
    """What a lossless round trip returns: the input after the flush and NaN rules."""
    if _check(cfg).policy == "vlc":
        from . import vlc
        return vlc.canonical(values, cfg)
    raw = to_bits(values, cfg)
    fmt = cfg.fmt
    sign, exp, man = fields(raw, cfg)
    _, zero, man = deltas(exp, man, base(exp, cfg), cfg)
    mag = np.where(zero, 0, (exp.astype(np.uint32) << fmt.man_bits) | man)
    return ((sign.astype(np.uint32) << (fmt.width - 1)) | mag).astype(fmt.dtype).reshape(-1)
