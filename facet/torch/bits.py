"""Bit machinery shared by every policy: raw bit patterns, bit-plane transposes, byte streams.

Integer work is done in signed types on the device of the input: torch's unsigned integer
types have few kernels. Per-value work (raw values, code words) uses :func:`work_dtype`:
int32 for the 16-bit formats, whose code words have at most 17 bits, and int64 for fp32.
Headers and 64-bit words are int64. A value with its top bit set comes out negative, which
changes nothing for the bitwise operations used here.
"""

import torch

__all__ = [
    "to_raw", "raw_to_float", "pad_to_blocks", "to_planes", "from_planes",
    "words_to_bytes", "bytes_to_words", "or_at", "read_at", "header_int", "bits_to_bytes",
    "bytes_to_bits", "arange", "reverse_bits", "work_dtype",
]

_RAW_DTYPES = {16: (torch.int16, torch.uint16), 32: (torch.int32, torch.uint32)}


def work_dtype(fmt):
    """Integer dtype of raw values and code words of format ``fmt``."""
    return torch.int32 if fmt.width <= 16 else torch.int64


def arange(n, like):
    """``torch.arange(n)`` on the device of tensor ``like``, in its dtype if that is int32 or
    int64, else in int64."""
    dtype = like.dtype if like.dtype in (torch.int32, torch.int64) else torch.int64
    return torch.arange(n, dtype=dtype, device=like.device)


def _bf16_rne(bits):
    """float32 bit patterns (int32) rounded to bf16, nearest even; NaN stays NaN.

    The int32 sum wraps exactly as the uint32 one does in the model."""
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    rounded = (bits + (0x7FFF + ((bits >> 16) & 1))) >> 16
    # A NaN whose payload sits in the low half must stay NaN after the cut.
    return torch.where(nan, (bits >> 16) | 0x40, rounded) & 0xFFFF


def to_raw(x, fmt):
    """Raw bit patterns of ``x`` in format ``fmt`` (a :class:`facet.config.Format`), as int64.

    Integer input of the format's width (int16/uint16 for bf16 and fp16, int32/uint32 for
    fp32) is taken as raw bit patterns. Floating-point input is converted to float32 and
    rounded to nearest even to the format, as :func:`facet.model.to_bits` does.
    """
    mask, dt = (1 << fmt.width) - 1, work_dtype(fmt)
    if not x.is_floating_point():
        if x.dtype not in _RAW_DTYPES[fmt.width]:
            raise ValueError(f"raw {fmt.name} values must be one of {_RAW_DTYPES[fmt.width]}, "
                             f"not {x.dtype}")
        return x.to(dt) & mask
    f32 = x.to(torch.float32)
    if fmt.name == "fp32":
        return f32.view(torch.int32).to(dt) & mask
    if fmt.name == "fp16":
        return f32.to(torch.float16).view(torch.int16).to(dt) & mask
    return _bf16_rne(f32.view(torch.int32))


def raw_to_float(raw, fmt):
    """float32 values of raw bit patterns of format ``fmt`` (exact for all three)."""
    if fmt.name == "fp32":
        return (raw & 0xFFFFFFFF).to(torch.int32).view(torch.float32)  # wraps to the same bits
    if fmt.name == "fp16":
        return raw.to(torch.int16).view(torch.float16).to(torch.float32)
    return (raw << 16).to(torch.int32).view(torch.float32)


def pad_to_blocks(flat, n):
    """``flat`` zero-padded to a whole number of ``n``-value blocks, shape ``(blocks, n)``."""
    pad = -flat.numel() % n
    if pad:
        flat = torch.cat([flat, flat.new_zeros(pad)])
    return flat.reshape(-1, n)


# -- bit-plane transposes -----------------------------------------------------------------

def _transpose8(x):
    """Transpose each int64 as an 8x8 bit matrix: bit ``8r + c`` moves to bit ``8c + r``.

    torch shifts int64 arithmetically; every mask below stops short of the bits the sign
    extension fills, so the result is that of the unsigned transpose.
    """
    for shift, m in ((7, 0x00AA00AA00AA00AA), (14, 0x0000CCCC0000CCCC), (28, 0x00000000F0F0F0F0)):
        t = (x ^ (x >> shift)) & m
        x = x ^ t ^ (t << shift)
    return x


def _as_int64(by):
    """``(..., 8)`` uint8 -> ``(...)`` int64 of those little-endian bytes (one copy at most)."""
    return by.contiguous().reshape(-1).view(torch.int64).reshape(by.shape[:-1])


def _as_bytes(x):
    """``(...)`` integers -> ``(..., itemsize)`` their little-endian bytes."""
    return x.contiguous().reshape(-1).view(torch.uint8).reshape(*x.shape, x.element_size())


def to_planes(codes, nbits):
    """``(blocks, N)`` code words -> ``(blocks, nbits, N/8)`` uint8 bit-planes in stream order.

    Plane ``j`` holds bit ``nbits - 1 - j`` of every code (the MSB first), element ``i`` of the
    block at bit ``i % 8`` of byte ``i // 8``: the plane as N stream bits. Eight elements by
    eight code bits at a time are one 8x8 bit-matrix transpose of an int64.
    """
    nb, n = codes.shape
    lanes, groups = -(-nbits // 8), n // 8
    by = _as_bytes(codes).reshape(nb, groups, 8, -1)[..., :lanes]
    x = _as_int64(by.permute(0, 3, 1, 2))                               # (nb, lanes, groups)
    y = _as_bytes(_transpose8(x)).reshape(nb, lanes, groups, 8)
    planes = y.permute(0, 1, 3, 2).reshape(nb, lanes * 8, groups)[:, :nbits]
    return planes.flip(1)


def from_planes(planes, dtype=torch.int64):
    """Inverse of :func:`to_planes`: ``(blocks, nbits, N/8)`` uint8 planes -> codes of ``dtype``."""
    nb, nbits, groups = planes.shape
    lanes = -(-nbits // 8)
    full = planes.new_zeros((nb, lanes * 8, groups))
    full[:, :nbits] = planes.flip(1)
    x = _as_int64(full.reshape(nb, lanes, 8, groups).permute(0, 1, 3, 2))
    y = _as_bytes(_transpose8(x)).reshape(nb, lanes, groups, 8)
    size = torch.empty((), dtype=dtype).element_size()
    codes = planes.new_zeros((nb, groups, 8, size))
    codes[..., :lanes] = y.permute(0, 2, 3, 1)
    return codes.reshape(-1).view(dtype).reshape(nb, groups * 8)


# -- byte streams -------------------------------------------------------------------------

def words_to_bytes(words, width):
    """``(blocks, W)`` words of ``width`` bits (a multiple of 8) -> little-endian bytes."""
    nb = words.shape[0]
    shift = 8 * arange(width // 8, words)
    return ((words[..., None] >> shift) & 0xFF).reshape(nb, -1)


def bytes_to_words(data, width):
    """Inverse of :func:`words_to_bytes`: ``(blocks, W * width / 8)`` bytes -> words."""
    nb = data.shape[0]
    per = width // 8
    by = data.to(torch.int64).reshape(nb, -1, per)
    return (by << (8 * arange(per, data))).sum(dim=2)


def or_at(out, bitpos, data):
    """OR the byte string ``data`` into the byte streams ``out`` starting at stream bit ``bitpos``.

    ``out`` is an integer ``(blocks, L)`` tensor with one spare byte at the end; bytes of
    ``data`` that would start past its last real byte are dropped (the block cut).
    """
    q, s = divmod(bitpos, 8)
    keep = max(min(data.shape[1], out.shape[1] - 1 - q), 0)
    shifted = data[:, :keep].to(out.dtype) << s
    out[:, q:q + keep] |= shifted & 0xFF
    out[:, q + 1:q + 1 + keep] |= shifted >> 8
    return out


def read_at(blocks, bitpos, nbytes):
    """``nbytes`` bytes (uint8) of the streams ``blocks`` starting at stream bit ``bitpos``.

    Bytes past the end of a block read as zero.
    """
    q, s = divmod(bitpos, 8)
    # int16: each byte and the next one's shifted bits, at half the cost of int64 shifts.
    ext = blocks.new_zeros((blocks.shape[0], nbytes + 1), dtype=torch.int16)
    have = blocks[:, q:q + nbytes + 1]
    ext[:, :have.shape[1]] = have
    return ((ext[:, :-1] >> s) | (ext[:, 1:] << (8 - s))).to(torch.uint8)


def header_int(blocks):
    """The first 64 stream bits of every block as an int64 (missing bytes read as zero)."""
    return bytes_to_words(read_at(blocks, 0, 8), 64)[:, 0]


_REV8 = {}


def reverse_bits(x, width):
    """Reverse the low ``width`` bits (``width`` <= 32) of every int64 in ``x``; higher bits
    must be zero."""
    table = _REV8.get(x.device)
    if table is None:
        i = torch.arange(256, dtype=torch.int64, device=x.device)
        table = sum(((i >> b) & 1) << (7 - b) for b in range(8))
        _REV8[x.device] = table
    if width <= 8:
        return table[x] >> (8 - width)
    r = table[x & 255] << 24 | table[(x >> 8) & 255] << 16 | table[(x >> 16) & 255] << 8 | table[(x >> 24) & 255]
    return r >> (32 - width)


def bits_to_bytes(bits):
    """``(blocks, L)`` 0/1 stream bits (L a multiple of 8) -> ``(blocks, L/8)`` bytes."""
    nb = bits.shape[0]
    return (bits.to(torch.int64).reshape(nb, -1, 8) << arange(8, bits)).sum(dim=2)


def bytes_to_bits(data):
    """Inverse of :func:`bits_to_bytes`."""
    nb = data.shape[0]
    return ((data.to(torch.int64)[..., None] >> arange(8, data)) & 1).reshape(nb, -1)
