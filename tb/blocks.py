"""Blocks the stage and model tests share: seeds, hand-made blocks, activation-like values."""

import os
import zlib

import numpy as np

from facet.model import to_bits

__all__ = ["seed_for", "make_block", "activations", "activation_bits"]


def seed_for(name):
    """The seed of a test case: ``FACET_SEED`` if set, else a hash of ``name``; printed, so a
    failing case can be rerun."""
    seed = int(os.environ.get("FACET_SEED", zlib.crc32(name.encode())))
    print(f"seed {seed} (FACET_SEED={seed} to rerun)")
    return seed


def make_block(cfg, sign, exp, man):
    """One raw block from its fields, each a scalar or N values."""
    fmt = cfg.fmt
    s, e, mm = (np.broadcast_to(np.asarray(v, np.uint64), (cfg.n,)) for v in (sign, exp, man))
    return ((s << np.uint64(fmt.width - 1)) | (e << np.uint64(fmt.man_bits)) | mm).astype(fmt.dtype)


def activations(cfg, nblocks, seed):
    """Heavy-tailed activation-like values with outlier blocks, zeros and tiny values."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((nblocks, cfg.n)) * np.exp(rng.standard_normal((nblocks, 1)))
    x[rng.random((nblocks, cfg.n)) < 0.02] *= 50.0
    x[rng.random((nblocks, cfg.n)) < 0.05] = 0.0
    x[rng.random((nblocks, cfg.n)) < 0.02] *= 1e-6
    return x.astype(np.float32).reshape(-1)


def activation_bits(cfg, nb, rng):
    """Raw ``(nb, N)`` blocks of activation-like values with outliers of three sizes."""
    x = rng.standard_normal((nb, cfg.n)) * np.exp(rng.standard_normal((nb, 1)))
    x[rng.random((nb, cfg.n)) < 0.03] *= rng.choice([8.0, 50.0, 1000.0])
    x[rng.random((nb, cfg.n)) < 0.05] = 0.0
    x[rng.random((nb, cfg.n)) < 0.03] *= 1e-6
    return to_bits(x.astype(np.float32).reshape(-1), cfg).reshape(nb, cfg.n)
