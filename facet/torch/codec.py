"""``encode`` / ``decode`` of tensors of any shape, bit-identical to :mod:`facet.model`."""

import math

import torch

from .bits import pad_to_blocks, raw_to_float, to_raw
from .policies import POLICIES

__all__ = ["encode", "decode", "decode_raw", "policy"]

#: Values per chunk: large enough to amortize the per-op overhead, small enough that the
#: (blocks, planes, N)-sized temporaries of a chunk stay in the tens of MB.
CHUNK_VALUES = 1 << 19


def policy(cfg):
    """The torch implementation of ``cfg.policy``."""
    try:
        return POLICIES[cfg.policy]
    except KeyError:
        raise ValueError(f"policy {cfg.policy!r} has no torch implementation; "
                         f"available: {', '.join(POLICIES)}") from None


def _chunk(pol, cfg):
    """Blocks per chunk for this policy and config."""
    return max(CHUNK_VALUES // (cfg.n * getattr(pol, "chunk_scale", 1)), 1)


def encode(x, cfg):
    """Compress a tensor into packed blocks, on its device.

    Parameters
    ----------
    x : torch.Tensor
        Values of any shape: floating point (converted to float32, then rounded to nearest
        even to ``cfg.format``), or raw bit patterns (int16/uint16 for bf16 and fp16,
        int32/uint32 for fp32). Flattened in C order; the tail is zero-padded to a whole
        block.
    cfg : facet.Config

    Returns
    -------
    torch.Tensor
        ``(ceil(x.numel() / N), B/8)`` uint8, the bytes :func:`facet.encode` returns.
    """
    pol = policy(cfg)
    raw = pad_to_blocks(to_raw(x.reshape(-1), cfg.fmt), cfg.n)
    out = torch.empty((raw.shape[0], cfg.budget_bytes), dtype=torch.uint8, device=x.device)
    step = _chunk(pol, cfg)
    for i in range(0, raw.shape[0], step):
        out[i:i + step] = pol.encode(raw[i:i + step], cfg)[:, :cfg.budget_bytes]
    return out


def decode_raw(blocks, cfg, count=None):
    """Decompress packed blocks into raw bit patterns.

    Parameters
    ----------
    blocks : torch.Tensor
        uint8, whole blocks of ``B/8`` bytes (any shape).
    cfg : facet.Config
    count : int or None
        Values to keep (the padding of the last block is cut off); all if ``None``.

    Returns
    -------
    torch.Tensor
        int64 bit patterns, shape ``(count,)``: the values :func:`facet.decode` returns.
    """
    if blocks.dtype != torch.uint8:
        raise ValueError(f"packed blocks must be uint8, not {blocks.dtype}")
    if blocks.numel() % cfg.budget_bytes:
        raise ValueError(f"{blocks.numel()} bytes are not a whole number of "
                         f"{cfg.budget_bytes}-byte blocks")
    pol = policy(cfg)
    blocks = blocks.reshape(-1, cfg.budget_bytes)
    nb = blocks.shape[0]
    out = torch.empty((nb, cfg.n), dtype=torch.int64, device=blocks.device)
    step = _chunk(pol, cfg)
    for i in range(0, nb, step):
        out[i:i + step] = pol.decode(blocks[i:i + step], cfg)
    out = out.reshape(-1)
    return out if count is None else out[:count]


def decode(blocks, cfg, shape, dtype=torch.float32):
    """Decompress packed blocks into a tensor of ``shape`` and ``dtype``.

    The decoded values of the format are exact in float32; other dtypes are a cast of that.
    """
    shape = torch.Size(shape)
    raw = decode_raw(blocks, cfg, math.prod(shape))
    return raw_to_float(raw, cfg.fmt).reshape(shape).to(dtype)
