"""Stimulus for testbenches: blocks of raw values that exercise every corner of the format.

Each generator returns a ``(blocks, N)`` array of raw bit patterns in the config's dtype
(``uint16`` or ``uint32``), drawn from a :class:`numpy.random.Generator`, so a seed reproduces
them.
"""

import numpy as np

from ._common import check_config

__all__ = ["KINDS", "blocks", "random_bytes"]


def _assemble(cfg, sign, exp, man):
    fmt = cfg.fmt
    raw = ((sign.astype(np.uint64) << (fmt.width - 1)) | (exp.astype(np.uint64) << fmt.man_bits)
           | man.astype(np.uint64))
    return raw.astype(fmt.dtype)


def _fields(cfg, rng, nb):
    fmt = cfg.fmt
    shape = (nb, cfg.n)
    return (rng.integers(0, 2, shape), rng.integers(0, fmt.exp_max + 1, shape),
            rng.integers(0, 1 << fmt.man_bits, shape))


def _random(cfg, rng, nb):
    """Uniformly random bit patterns."""
    return _assemble(cfg, *_fields(cfg, rng, nb))


def _activations(cfg, rng, nb):
    """Activation-like floats: Gaussian, heavy-tailed and ReLU'd, with per-block scales."""
    from ..model import to_bits
    shape = (nb, cfg.n)
    scale = np.exp2(rng.uniform(-12, 8, size=(nb, 1)))
    x = rng.standard_normal(shape) * scale
    x[: nb // 3] = rng.standard_t(2, size=x[: nb // 3].shape) * scale[: nb // 3]
    x[nb // 3: 2 * nb // 3] = np.maximum(x[nb // 3: 2 * nb // 3], 0)
    return to_bits(x.astype(np.float32), cfg)


def _zeros(cfg, rng, nb):
    """All +0 and all -0 blocks, and blocks of signed zeros."""
    sign = np.zeros((nb, cfg.n), np.uint64)
    sign[1::3] = 1
    sign[2::3] = rng.integers(0, 2, sign[2::3].shape)
    return _assemble(cfg, sign, np.zeros_like(sign), np.zeros_like(sign))


def _specials(cfg, rng, nb):
    """NaN with any payload, ±Inf, subnormals and ±0 among normal values."""
    fmt = cfg.fmt
    sign, exp, man = _fields(cfg, rng, nb)
    kind = rng.integers(0, 6, (nb, cfg.n))
    exp = np.where(kind == 0, fmt.exp_max, exp)                       # NaN (or Inf if man == 0)
    man = np.where((kind == 0) & (man == 0), 1, man)
    exp = np.where(kind == 1, fmt.exp_max, exp)                       # Inf
    man = np.where(kind == 1, 0, man)
    exp = np.where(kind == 2, 0, exp)                                 # subnormal
    man = np.where(kind == 3, 0, man)                                 # ±0 ...
    exp = np.where(kind == 3, 0, exp)
    return _assemble(cfg, sign, exp, man)


def _spread(cfg, rng, nb):
    """Exponents spanning the whole range (0 .. 2**E-1) in every block."""
    fmt = cfg.fmt
    sign, _, man = _fields(cfg, rng, nb)
    exp = np.stack([rng.permutation(np.linspace(0, fmt.exp_max, cfg.n).round()) for _ in range(nb)])
    return _assemble(cfg, sign, exp.astype(np.uint64), man)


def _delta_edge(cfg, rng, nb):
    """Exponents within 2**K of the block maximum, around the flush threshold."""
    fmt = cfg.fmt
    sign, _, man = _fields(cfg, rng, nb)
    top = rng.integers(1, fmt.exp_max + 1, (nb, 1))
    exp = np.clip(top - rng.integers(0, (1 << cfg.k) + 2, (nb, cfg.n)), 0, fmt.exp_max)
    return _assemble(cfg, sign, exp, man)


def _negative(cfg, rng, nb):
    """All-negative blocks of normal values."""
    _, exp, man = _fields(cfg, rng, nb)
    exp = np.clip(exp, 1, cfg.fmt.exp_max - 1)
    return _assemble(cfg, np.ones_like(exp), exp, man)


def _sparse(cfg, rng, nb):
    """Few significant mantissa bits and narrow exponent ranges: many absent planes."""
    fmt = cfg.fmt
    sign, _, man = _fields(cfg, rng, nb)
    top = rng.integers(1, fmt.exp_max, (nb, 1))
    exp = top - rng.integers(0, 2, (nb, cfg.n)) * rng.integers(0, 2, (nb, 1))
    keep = rng.integers(0, fmt.man_bits + 1, (nb, 1))
    man = man & ~((1 << (fmt.man_bits - keep)) - 1).astype(np.int64)
    sign = sign * rng.integers(0, 2, (nb, 1))
    return _assemble(cfg, sign, exp, man)


KINDS = {
    "random": _random, "activations": _activations, "zeros": _zeros, "specials": _specials,
    "spread": _spread, "delta_edge": _delta_edge, "negative": _negative, "sparse": _sparse,
}


def blocks(cfg, rng, nb, kinds=None):
    """``nb`` blocks of each kind in ``kinds`` (default: all of :data:`KINDS`), concatenated."""
    cfg = check_config(cfg)
    kinds = list(KINDS) if kinds is None else kinds
    return np.concatenate([KINDS[k](cfg, rng, nb) for k in kinds])


def random_bytes(cfg, rng, nb):
    """``nb`` packed blocks of random bytes (every byte string decodes)."""
    cfg = check_config(cfg)
    return rng.integers(0, 256, (nb, cfg.budget_bytes), dtype=np.uint8)
