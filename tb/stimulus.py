"""Stimulus for the cocotb regression, built vectorized in NumPy on the pytest side.

Every generator returns raw bit patterns of the config's format, shape ``(blocks, N)``, or packed
blocks, shape ``(blocks, B/8)`` uint8, plus one category label per block (used in mismatch
reports). The expected outputs are never computed here: the cocotb scoreboard gets them from
:mod:`facet.model`. The only format knowledge used is what :class:`facet.Config` exposes (field
widths, number of planes) and :func:`facet.model.pack`, which builds decoder inputs from a base,
a presence mask and plane words.
"""

import os
from pathlib import Path

import numpy as np

from facet import model
from facet.config import Config

from . import stimulus_vlc, stimulus_window

__all__ = ["ROOT", "MINILM", "CATEGORIES", "truncated_bits", "encoder_values", "decoder_blocks",
           "random_blocks", "minilm_values", "save", "build_stimulus"]

ROOT = Path(__file__).resolve().parent.parent
#: The MiniLM activation dump written by ``make data``; ``FACET_TB_MINILM`` overrides the path.
MINILM = Path(os.environ.get("FACET_TB_MINILM", ROOT / "data" / "minilm_acts.npz"))

CATEGORIES = (
    "uniform_bits", "structured_bits", "gelu", "outlier_channels", "softmax_causal",
    "layernorm", "wide_range", "all_zero", "all_negative", "specials", "minilm",
    "pack_random", "uniform_bytes", "skewed_spread",
)


# -- helpers ------------------------------------------------------------------------------

def _assemble(sign, exp, man, cfg):
    fmt = cfg.fmt
    raw = ((sign.astype(np.uint64) << np.uint64(fmt.width - 1))
           | (exp.astype(np.uint64) << np.uint64(fmt.man_bits))
           | man.astype(np.uint64))
    return raw.astype(fmt.dtype)


def _blocks_of(values, cfg):
    """float array -> raw (blocks, N), zero-padded to a whole number of blocks."""
    flat = np.asarray(values, np.float32).reshape(-1)
    pad = (-flat.size) % cfg.n
    if pad:
        flat = np.concatenate([flat, np.zeros(pad, np.float32)])
    return model.to_bits(flat, cfg)


def _take(raw, nb, rng):
    """``nb`` consecutive blocks from a random offset (all of them if there are fewer)."""
    if raw.shape[0] <= nb:
        return raw
    start = int(rng.integers(0, raw.shape[0] - nb + 1))
    return raw[start:start + nb]


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


# -- random bit patterns of the format ----------------------------------------------------

def uniform_bits(cfg, nb, rng):
    """Uniformly random raw patterns: every sign, exponent (NaN/Inf/subnormal too), mantissa."""
    fmt = cfg.fmt
    return rng.integers(0, 1 << fmt.width, size=(nb, cfg.n), dtype=np.uint64).astype(fmt.dtype)


def structured_bits(cfg, nb, rng):
    """Random blocks shaped to exercise every stage of the format.

    Per block: a base exponent anywhere in the range (edges included), exponents spread by
    0 .. 2^K + 2 below it (so some values are flushed), a random subset of mantissa bit
    positions kept (so mantissa planes go absent in every combination), sign and zero
    densities from all-off to all-on.
    """
    fmt, n, k = cfg.fmt, cfg.n, stimulus_vlc.span_bits(cfg)
    edges = np.array([1, 2, fmt.exp_max - 1, fmt.exp_max, (1 << k), (1 << k) + 1])
    top = np.where(rng.random(nb) < 0.25, rng.choice(edges, nb),
                   rng.integers(1, fmt.exp_max + 1, nb))
    spread = rng.choice([0, 1, 2, (1 << k) - 1, 1 << k, (1 << k) + 2, fmt.exp_max], nb)
    exp = top[:, None] - (rng.random((nb, n)) * (spread[:, None] + 1)).astype(np.int64)
    exp = np.clip(exp, 0, fmt.exp_max)
    man = rng.integers(0, 1 << fmt.man_bits, size=(nb, n), dtype=np.uint64)
    keep_p = rng.choice([0.0, 0.1, 0.3, 0.5, 0.8, 1.0], nb)
    bits = np.uint64(1) << np.arange(fmt.man_bits, dtype=np.uint64)
    keep = ((rng.random((nb, fmt.man_bits)) < keep_p[:, None]) * bits).sum(axis=1, dtype=np.uint64)
    man &= keep[:, None]
    # Inf/NaN only where the exponent is all ones; keep a few, otherwise pull back to normals.
    special = exp == fmt.exp_max
    man = np.where(special & (rng.random((nb, n)) < 0.5), 0, man)
    sign_p = rng.choice([0.0, 0.5, 1.0], nb)
    sign = rng.random((nb, n)) < sign_p[:, None]
    zero_p = rng.choice([0.0, 0.0, 0.1, 0.5, 0.95, 1.0], nb)
    zero = rng.random((nb, n)) < zero_p[:, None]
    exp = np.where(zero, 0, exp)
    man = np.where(zero & (rng.random((nb, n)) < 0.7), 0, man)  # the rest: subnormals
    return _assemble(sign, exp, man, cfg)


def skewed_spread(cfg, nb, rng):
    """Flat blocks with a few outliers below them.

    Most values sit at the block's top exponent or one below it; 1 to N/8 values sit far
    below (delta 2^K - 1 mostly, some further down so they are flushed); often one value is
    zero. Every delta plane is then present while most values want full precision: under the
    ``significance`` policy this drives the precision P down to the lowest values the config
    allows and leaves the outliers with no mantissa bits at all; under ``plane`` it cuts deep
    into the mantissa planes.
    """
    fmt, n, k = cfg.fmt, cfg.n, stimulus_vlc.span_bits(cfg)
    dmax = (1 << k) - 1
    low = min(dmax + 3, fmt.exp_max - 1)  # the outliers stay normal numbers where possible
    top = rng.integers(low, fmt.exp_max, nb)
    delta = (rng.random((nb, n)) < rng.choice([0.0, 0.1, 0.5], nb)[:, None]).astype(np.int64)
    outliers = rng.choice([1, 2, 3, max(1, n // 8)], nb)
    out = rng.random((nb, n)).argsort(axis=1) < outliers[:, None]
    far = np.where(rng.random((nb, n)) < 0.6, dmax, rng.integers(2, dmax + 3, (nb, n)))
    delta = np.where(out, far, delta)
    exp = np.clip(top[:, None] - delta, 1, fmt.exp_max - 1)
    zero = (~out) & (rng.random((nb, n)).argsort(axis=1) == 0) & (rng.random((nb, 1)) < 0.6)
    exp = np.where(zero, 0, exp)
    full = (1 << fmt.man_bits) - 1
    man = rng.integers(0, full + 1, size=(nb, n), dtype=np.uint64)
    style = rng.choice(3, nb)[:, None]  # random, all ones (every cut bit matters), MSB only
    man = np.where(style == 1, full, np.where(style == 2, 1 << (fmt.man_bits - 1), man))
    man = np.where(zero, 0, man).astype(np.uint64)
    sign = rng.random((nb, n)) < rng.choice([0.0, 0.5, 1.0], nb)[:, None]
    return _assemble(sign, exp, man, cfg)


def specials(cfg, nb, rng):
    """Blocks sprinkled with NaN (any payload, both signs), +-Inf, -0, +0 and subnormals."""
    fmt, n = cfg.fmt, cfg.n
    bulk = rng.standard_normal((nb, n)) * np.exp2(rng.integers(-8, 8, (nb, 1)))
    raw = model.to_bits(bulk.astype(np.float32), cfg).astype(np.uint64)
    man_mask = (1 << fmt.man_bits) - 1
    sign = rng.integers(0, 2, (nb, n), dtype=np.uint64) << np.uint64(fmt.width - 1)
    exp_ones = np.uint64(fmt.exp_max << fmt.man_bits)
    payload = rng.integers(1, man_mask + 1, (nb, n), dtype=np.uint64)
    choices = np.stack([
        sign | exp_ones | payload,                                          # NaN, random payload
        sign | exp_ones | np.uint64(1 << (fmt.man_bits - 1)),               # quiet NaN
        sign | exp_ones | np.uint64(1),                                     # signalling NaN
        sign | exp_ones,                                                    # +-Inf
        np.full((nb, n), 1 << (fmt.width - 1), np.uint64),                  # -0
        np.zeros((nb, n), np.uint64),                                       # +0
        sign | payload,                                                     # subnormal
        sign | np.uint64(1),                                                # min subnormal
        sign | np.uint64(man_mask),                                         # max subnormal
        sign | np.uint64(1 << fmt.man_bits),                                # min normal
        sign | (exp_ones - np.uint64(1 << fmt.man_bits)) | np.uint64(man_mask),  # max normal
    ])
    pick = rng.integers(0, choices.shape[0], (nb, n))
    special = np.take_along_axis(choices, pick[None], axis=0)[0]
    rate = rng.choice([1.0 / n, 0.1, 0.5, 1.0], nb)
    where = rng.random((nb, n)) < rate[:, None]
    return np.where(where, special, raw).astype(fmt.dtype)


def truncated_bits(cfg, nb, rng):
    """Exponents within a chosen spread of a centre (mostly within 2**K, so most blocks are
    truncated, with every precision P), some zeros and subnormals, a few Inf and NaN."""
    fmt, k = cfg.fmt, stimulus_vlc.span_bits(cfg)
    spread = rng.choice([0, 1, 2, 3, (1 << k) - 1, (1 << k) - 1, 1 << k, 3 << k], size=(nb, 1))
    centre = rng.integers(1 << k, fmt.exp_max, size=(nb, 1))
    exp = np.clip(centre - rng.integers(0, spread + 1, size=(nb, cfg.n)), 1, fmt.exp_max - 1)
    man = rng.integers(0, 1 << fmt.man_bits, size=(nb, cfg.n))
    few = rng.random((nb, 1)) < 0.2  # few significant mantissa bits
    man = np.where(few, man & ~((1 << max(fmt.man_bits - 2, 0)) - 1), man)
    zero = rng.random((nb, cfg.n)) < rng.choice([0.0, 0.0, 0.05, 0.3], size=(nb, 1))
    exp = np.where(zero, 0, exp)
    special = rng.random((nb, cfg.n)) < rng.choice([0.0, 0.0, 0.05], size=(nb, 1))
    exp = np.where(special, fmt.exp_max, exp)
    sign = rng.integers(0, 2, size=(nb, cfg.n)) & (rng.random((nb, 1)) < 0.8)
    return ((sign << (fmt.width - 1)) | (exp << fmt.man_bits) | man).astype(fmt.dtype)


# -- activation-like tensors --------------------------------------------------------------

def _tensor_blocks(kind, cfg, nb, rng):
    n = cfg.n
    size = nb * n
    if kind == "gelu":
        scale = rng.choice([0.05, 0.5, 1.0, 3.0])
        x = _gelu(rng.standard_normal(size) * 1.5) * scale
    elif kind == "outlier_channels":
        channels = int(rng.choice([96, 384, 1536]))
        rows = -(-size // channels)
        x = rng.standard_normal((rows, channels)) * rng.choice([0.02, 0.3, 1.0])
        hot = rng.choice(channels, int(rng.integers(2, 7)), replace=False)
        x[:, hot] *= rng.uniform(30, 200, hot.size)
        x = x.reshape(-1)[:size]
    elif kind == "softmax_causal":
        parts, total = [], 0
        while total < size:
            length = int(rng.choice([8, 16, 31, 64, 128]))
            logits = rng.standard_normal((length, length)) * rng.choice([0.5, 2.0, 8.0])
            logits[np.triu_indices(length, 1)] = -np.inf
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            parts.append(p.reshape(-1))
            total += p.size
        x = np.concatenate(parts)[:size]
    elif kind == "layernorm":
        channels = 384
        rows = -(-size // channels)
        x = (rng.standard_normal((rows, channels)) * rng.uniform(0.2, 3.0, channels)
             + rng.normal(0, 0.5, channels)).reshape(-1)[:size]
    elif kind == "wide_range":
        mag = np.exp2(rng.uniform(-40, 40, size))
        x = np.where(rng.random(size) < 0.5, -mag, mag)
    elif kind == "all_zero":
        x = np.where(rng.random((nb, 1)) < 0.3, -0.0, 0.0) * np.ones((nb, n))
        x = np.where(rng.random((nb, n)) < 0.2, -0.0, x).reshape(-1)
    elif kind == "all_negative":
        x = -np.abs(_gelu(rng.standard_normal(size) * 2) + rng.exponential(0.1, size) + 1e-6)
    else:
        raise ValueError(kind)
    return _blocks_of(np.asarray(x, np.float32), cfg)


def minilm_values(cfg, nb_per_array, rng, path=None):
    """Blocks from the MiniLM dump: every array, flattened and zero-padded to a multiple of N.

    From each array a run of ``nb_per_array`` consecutive blocks at a random offset is taken
    (``None``: the whole array), plus always its last, padded block. Returns None when the dump
    is absent.
    """
    path = Path(path or MINILM)
    if not path.is_file():
        return None
    out = []
    with np.load(path) as npz:
        for key in sorted(npz.files):
            raw = _blocks_of(npz[key], cfg)
            if nb_per_array is None:
                out.append(raw)
            else:
                out.append(_take(raw[:-1], nb_per_array, rng))
                out.append(raw[-1:])
    return np.concatenate(out) if out else None


# -- mixes ----------------------------------------------------------------------------------

_MIX = {  # category -> share of the blocks
    "uniform_bits": 0.10, "structured_bits": 0.22, "skewed_spread": 0.08, "gelu": 0.08,
    "outlier_channels": 0.08, "softmax_causal": 0.08, "layernorm": 0.05, "wide_range": 0.05,
    "all_zero": 0.03, "all_negative": 0.05, "specials": 0.10, "minilm": 0.08,
}


def encoder_values(cfg, nb, rng, minilm_all=False, minilm=True):
    """A shuffled mix of every encoder stimulus category, ``(raw, labels)``.

    At least ``nb`` blocks; with the MiniLM dump present (and ``minilm``), every array
    contributes.
    """
    fmt = cfg.fmt
    parts, labels = [], []
    ml = minilm_values(cfg, None if minilm_all else 1, rng) if minilm else None
    if ml is not None and not minilm_all:
        # Spread the MiniLM share over the arrays, at least 2 blocks + the padded tail each.
        with np.load(MINILM) as npz:
            arrays = len(npz.files)
        per = max(2, int(nb * _MIX["minilm"]) // max(arrays, 1))
        ml = minilm_values(cfg, per, rng)
    shares = dict(_MIX)
    if ml is None:
        shares.pop("minilm")
    total_share = sum(shares.values())
    for cat, share in shares.items():
        if cat == "minilm":
            raw = ml
        else:
            count = max(1, int(round(nb * share / total_share)))
            if cat == "uniform_bits":
                raw = uniform_bits(cfg, count, rng)
            elif cat == "structured_bits":
                raw = structured_bits(cfg, count, rng)
            elif cat == "skewed_spread":
                raw = skewed_spread(cfg, count, rng)
            elif cat == "specials":
                raw = specials(cfg, count, rng)
            else:
                raw = _tensor_blocks(cat, cfg, count, rng)
        parts.append(raw.astype(fmt.dtype))
        labels.append(np.full(raw.shape[0], CATEGORIES.index(cat), np.uint8))
    raw, lab = np.concatenate(parts), np.concatenate(labels)
    if raw.shape[0] < nb:  # rounding: top up with structured blocks
        extra = structured_bits(cfg, nb - raw.shape[0], rng)
        raw = np.concatenate([raw, extra])
        lab = np.concatenate([lab, np.full(extra.shape[0], CATEGORIES.index("structured_bits"),
                                           np.uint8)])
    order = rng.permutation(raw.shape[0])
    return raw[order], lab[order]


def decoder_blocks(cfg, nb, rng):
    """Blocks the encoder produces: the model's encoding of an encoder mix."""
    raw, lab = encoder_values(cfg, nb, rng)
    return model.encode(raw, cfg), lab


def random_blocks(cfg, nb, rng):
    """Arbitrary compressed blocks for decoder robustness, ``(blocks, labels)``.

    Half uniformly random bytes; half built with :func:`facet.model.pack` from a random base
    (edges included), a random presence mask of any density and random words in the present
    planes, so every mask popcount, base 0 / all-ones and ``e <= 0`` cases occur.

    Under the ``significance`` policy the mask covers the zero, delta and sign planes only; the
    header's precision field gets a random P (0, the config's smallest and largest P and the
    field's all-ones value, which decoders clamp, included) and the mantissa region, the
    bits the header and the present planes leave at the top of the block, random bits of
    any density. Under ``vlc`` and ``window`` the second half is
    :func:`tb.stimulus_vlc.random_blocks` and :func:`tb.stimulus_window.random_blocks`.
    """
    fmt, n, p = cfg.fmt, cfg.n, cfg.mask_bits
    n_uniform = nb // 2
    n_pack = nb - n_uniform
    uni = rng.integers(0, 256, (n_uniform, cfg.budget_bytes), dtype=np.uint8)
    base = np.where(rng.random(n_pack) < 0.4,
                    rng.choice([0, 1, 2, fmt.exp_max - 1, fmt.exp_max], n_pack),
                    rng.integers(0, fmt.exp_max + 1, n_pack)).astype(np.int32)
    density = rng.choice([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0], n_pack)
    present = rng.random((n_pack, p)) < density[:, None]
    wdt = np.dtype(f"<u{n // 8}")
    words = rng.integers(0, 2**64 - 1, (n_pack, p), dtype=np.uint64, endpoint=True)
    words = (words & np.uint64((1 << n) - 1)).astype(wdt)
    sparse = rng.random((n_pack, p)) < 0.2  # some present planes all zero or single-bit
    words = np.where(sparse, words & (words - 1) & (words - 2), words)
    words = np.where(present, words, 0).astype(wdt)
    if cfg.policy == "vlc":
        packed = stimulus_vlc.random_blocks(cfg, n_pack, rng)
    elif cfg.policy == "window":
        packed = stimulus_window.random_blocks(cfg, n_pack, rng)
    elif cfg.policy == "significance":
        field_max = (1 << cfg.policy_bits) - 1
        prec = np.where(rng.random(n_pack) < 0.4,
                        rng.choice([0, cfg.min_precision, cfg.max_precision, field_max], n_pack),
                        rng.integers(0, field_max + 1, n_pack))
        packed = model.pack(base, present, words, cfg, policy_field=prec)
        # Mantissa region: the top R = B - H - N * (present planes) bits (docs/format.md).
        room = cfg.budget - cfg.header_bits - n * present.sum(axis=1)
        density = rng.choice([0.0, 0.5, 0.5, 0.9, 1.0], n_pack)
        bits = (rng.random((n_pack, cfg.budget)) < density[:, None]) & (
            np.arange(cfg.budget) >= cfg.budget - room[:, None])
        packed |= np.packbits(bits, axis=1, bitorder="little")
    else:
        packed = model.pack(base, present, words, cfg)
    blocks = np.concatenate([uni, packed])
    lab = np.concatenate([np.full(n_uniform, CATEGORIES.index("uniform_bytes"), np.uint8),
                          np.full(n_pack, CATEGORIES.index("pack_random"), np.uint8)])
    order = rng.permutation(nb)
    return blocks[order], lab[order]


# -- per-test stimulus files --------------------------------------------------------------

def build_stimulus(kinds, cfg: Config, nblocks: int, seed: int, minilm_all=False):
    """Arrays for the cocotb tests ``kinds``; the stream for test ``t`` is ``<t>_in``.

    Encoder-side inputs are raw ``(blocks, N)`` patterns, decoder-side inputs ``(blocks, B/8)``
    uint8 blocks; ``<t>_label`` holds the category index of each block.
    """
    arrays = {}
    for kind in kinds:
        rng = np.random.default_rng([seed, _KIND_SALT[kind]])
        if kind in ("encoder", "loopback"):
            arrays[f"{kind}_in"], arrays[f"{kind}_label"] = encoder_values(cfg, nblocks, rng,
                                                                          minilm_all)
        elif kind == "decoder":
            arrays["decoder_in"], arrays["decoder_label"] = decoder_blocks(cfg, nblocks, rng)
        elif kind == "decoder_random":
            arrays["decoder_random_in"], arrays["decoder_random_label"] = random_blocks(
                cfg, nblocks, rng)
        elif kind == "reset":
            arrays["reset_enc_in"], arrays["reset_enc_label"] = encoder_values(cfg, nblocks, rng)
            arrays["reset_dec_in"], arrays["reset_dec_label"] = decoder_blocks(cfg, nblocks, rng)
        else:
            raise ValueError(f"unknown test kind {kind!r}")
    return arrays


_KIND_SALT = {"encoder": 1, "decoder": 2, "decoder_random": 3, "loopback": 4, "reset": 5}


def save(path, arrays):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, categories=np.array(CATEGORIES), **arrays)
    os.replace(tmp, path)
    return path
