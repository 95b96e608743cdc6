"""The `significance` stage components against their golden-model functions.

``Precision``, ``Widths``, ``PackMantissa`` and ``UnpackMantissa`` are simulated with the
Amaranth simulator on blocks built from the model's own stages
(``fields -> base -> deltas -> planes -> mask -> precision -> widths``), on edge cases, and, for
the decoder side, on random bytes with every P the header field can carry. Nothing of the
format is re-implemented here: every expected value comes from :mod:`facet.model`.
"""

import numpy as np
import pytest

from facet import model
from facet.config import Config
from facet.rtl.pack_mantissa import PackMantissa
from facet.rtl.precision import Precision
from facet.rtl.unpack_mantissa import UnpackMantissa
from facet.rtl.widths import Widths
from tb import stimulus
from tb.combinational import check_stage, mask_int
from tb.ports import array_to_int

CONFIGS = [
    Config("bf16", 32, 8, 3, "significance"),
    Config("bf16", 16, 8, None, "significance"),
    Config("fp16", 32, 8, None, "significance"),
    Config("fp32", 16, 8, None, "significance"),
]
IDS = [c.name for c in CONFIGS]
RANDOM_BLOCKS = 40    # model-built blocks per config
DECODER_BLOCKS = 24   # random-byte blocks per config


# -- stimulus -----------------------------------------------------------------------------

def _edge_raw(cfg, rng):
    """All zero, equal exponents (lossless), maximum spread, specials, and blocks that fill R
    exactly (S(P) = R, no leftover bits; and lossless with M * values = R where possible)."""
    fmt, n, k = cfg.fmt, cfg.n, cfg.k
    full = (1 << fmt.man_bits) - 1
    ones, idx = np.ones(n, int), np.arange(n)

    def mk(s, e, m):
        return ((np.asarray(s) << (fmt.width - 1)) | (np.asarray(e) << fmt.man_bits)
                | np.asarray(m)).astype(fmt.dtype)

    blocks = [
        mk(0, 0 * ones, 0 * ones),                                       # all +0
        mk(ones, 0 * ones, rng.integers(0, full + 1, n)),                # -0 and subnormals
        mk(0, 9 * ones, rng.integers(0, full + 1, n)),                   # equal exponents
        mk(rng.integers(0, 2, n), 9 * ones, full * ones),                # equal, all ones
        mk(0, 20 - idx % (1 << k), full * ones),                         # deltas 0 .. 2**K - 1
        mk(1, 20 - idx % ((1 << k) + 2), rng.integers(0, full + 1, n)),  # spread + flushed
        mk(idx % 2, np.where(idx % 3 == 0, fmt.exp_max, fmt.exp_max - 1 - idx % 3),
           (idx % 5 == 0) << (fmt.man_bits - 1)),                        # Inf, NaN and neighbours
    ]
    cand = stimulus.truncated_bits(cfg, 4000, rng)
    st = _stages(cand, cfg)
    room = cfg.budget - cfg.header_bits - n * st["present"].sum(axis=1)
    s_p = np.where(st["zero"], 0, np.clip(st["p"][:, None] - st["delta"], 0, fmt.man_bits)).sum(axis=1)
    exact = np.flatnonzero((s_p == room) & (st["p"] < cfg.max_precision))[:3]
    lossless = np.flatnonzero(fmt.man_bits * (~st["zero"]).sum(axis=1) == room)[:2]
    assert len(exact), "no block with S(P) = R found"
    return np.concatenate([np.stack(blocks), cand[exact], cand[lossless]])


def _stages(raw, cfg):
    """The model's encoder stages up to ``widths``, with the presence bits the header holds."""
    s = model.encoder_stages(raw, cfg)
    return dict(delta=s.delta, zero=s.zero, man=s.man, present=s.present[:, :cfg.mask_bits],
                p=s.precision, k=s.widths)


def _encoder_side(cfg, seed):
    rng = np.random.default_rng(seed)
    raw = np.concatenate([_edge_raw(cfg, rng), stimulus.truncated_bits(cfg, RANDOM_BLOCKS, rng)])
    st = _stages(raw, cfg)
    # The stimulus covers what it should: all-zero, lossless and truncated blocks.
    assert (st["p"] == cfg.max_precision).any() and (st["p"] < cfg.max_precision).sum() >= 20
    assert (st["zero"].all(axis=1)).any()
    return st


def _decoder_side(cfg, seed):
    """Random packed bytes as the model's decoder reads them: deltas, zero marks, presence
    bits, and a P field drawn from its whole range (values above P_max included)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(DECODER_BLOCKS, cfg.budget_bytes), dtype=np.uint8)
    blocks[0] = 0
    blocks[1] = 255
    _, present = model.header(blocks, cfg)
    words, _ = model.unpack(blocks, present, cfg)
    codes = model._words_to_codes(np.ascontiguousarray(words[:, ::-1]), cfg.n)
    delta = ((codes >> 1) & ((1 << cfg.k) - 1)).astype(np.int32)
    zero = (codes >> (cfg.k + 1)).astype(bool)
    p = rng.integers(0, 1 << cfg.policy_bits, size=DECODER_BLOCKS)
    p[:4] = [0, 1, cfg.max_precision, (1 << cfg.policy_bits) - 1]
    return dict(blocks=blocks, present=present, delta=delta, zero=zero, p=p)


def _sigma(k):
    return np.cumsum(k, axis=1) - k


def _ints(rows, port, n):
    """Per block, the integer of an ``ArrayLayout`` port holding ``rows[b]``."""
    w = len(port.as_value()) // n
    return [array_to_int(r, w) for r in rows]


# -- tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_precision(cfg):
    st = _encoder_side(cfg, 1)
    dut, n = Precision(cfg), cfg.n
    delta, zero = _ints(st["delta"], dut.delta, n), _ints(st["zero"], dut.zero, n)
    check_stage(dut, lambda j: {"delta": delta[j], "zero": zero[j],
                                "present": mask_int(st["present"][j])},
                lambda j: {"p": int(st["p"][j])}, len(st["p"]))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_widths(cfg):
    enc, dec = _encoder_side(cfg, 2), _decoder_side(cfg, 3)
    p, delta, zero, present = (np.concatenate([enc[x], dec[x]]) for x in ("p", "delta", "zero", "present"))
    k = model.widths(p, delta, zero, present, cfg)
    dut, n = Widths(cfg), cfg.n
    ins = {"delta": _ints(delta, dut.delta, n), "zero": _ints(zero, dut.zero, n)}
    outs = {"k": _ints(k, dut.k, n), "sigma": _ints(_sigma(k), dut.sigma, n)}
    check_stage(dut, lambda j: {"p": int(p[j]), "present": mask_int(present[j])}
                | {port: v[j] for port, v in ins.items()},
                lambda j: {port: v[j] for port, v in outs.items()}, len(p))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_pack_mantissa(cfg):
    st = _encoder_side(cfg, 4)
    want = model.pack_mantissa(st["man"], st["k"], cfg)
    dut, n = PackMantissa(cfg), cfg.n
    ins = {"man": _ints(st["man"], dut.man, n), "k": _ints(st["k"], dut.k, n),
           "sigma": _ints(_sigma(st["k"]), dut.sigma, n)}
    check_stage(dut, lambda j: {port: v[j] for port, v in ins.items()},
                lambda j: {"o": array_to_int(want[j], 8)}, len(want))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_unpack_mantissa(cfg):
    # Regions the encoder produces (packed by the model), then random bytes read with the
    # widths of a random P: bits at distance R or more from the top must read as 0.
    enc, dec = _encoder_side(cfg, 5), _decoder_side(cfg, 6)
    k_dec = model.widths(dec["p"], dec["delta"], dec["zero"], dec["present"], cfg)
    blocks = np.concatenate([model.pack_mantissa(enc["man"], enc["k"], cfg), dec["blocks"]])
    k = np.concatenate([enc["k"], k_dec])
    present = np.concatenate([enc["present"], dec["present"]])
    man, fill = model.unpack_mantissa(blocks, k, present, cfg)
    dut, n = UnpackMantissa(cfg), cfg.n
    ins = {"k": _ints(k, dut.k, n), "sigma": _ints(_sigma(k), dut.sigma, n),
           "i": [array_to_int(r, 8) >> (cfg.budget - len(dut.i)) for r in blocks]}
    outs = {"man": _ints(man, dut.man, n), "fill": _ints(fill, dut.fill, n)}
    check_stage(dut, lambda j: {"present": mask_int(present[j])}
                | {port: v[j] for port, v in ins.items()},
                lambda j: {port: v[j] for port, v in outs.items()}, len(blocks))


@pytest.mark.parametrize("cls", [Precision, Widths, PackMantissa, UnpackMantissa])
def test_plane_policy_rejected(cls):
    with pytest.raises(ValueError, match="significance"):
        cls(Config("bf16", 32, 8))
    with pytest.raises(TypeError):
        cls("bf16")


@pytest.mark.parametrize("prefix", [0, 4, "sklansky"])
def test_widths_prefix_forms(prefix):
    """The other prefix-sum forms of :class:`Widths` (chain, blocked, Sklansky) give the same
    widths and offsets as the model; the default (Brent-Kung) is covered by ``test_widths``."""
    cfg = CONFIGS[0]
    dec = _decoder_side(cfg, 7)
    p, delta, zero, present = (dec[x] for x in ("p", "delta", "zero", "present"))
    k = model.widths(p, delta, zero, present, cfg)
    dut, n = Widths(cfg, prefix=prefix), cfg.n
    ins = {"delta": _ints(delta, dut.delta, n), "zero": _ints(zero, dut.zero, n)}
    outs = {"k": _ints(k, dut.k, n), "sigma": _ints(_sigma(k), dut.sigma, n)}
    check_stage(dut, lambda j: {"p": int(p[j]), "present": mask_int(present[j])}
                | {port: v[j] for port, v in ins.items()},
                lambda j: {port: v[j] for port, v in outs.items()}, len(p))
