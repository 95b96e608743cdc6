"""The `significance` stage components against their golden-model functions.

``Precision``, ``Widths``, ``PackMantissa`` and ``UnpackMantissa`` are simulated with the
Amaranth simulator on blocks built from the model's own stages
(``fields -> base -> deltas -> planes -> mask -> precision -> widths``), on edge cases, and, for
the decoder side, on random bytes with every P the header field can carry. Nothing of the
format is re-implemented here: every expected value comes from :mod:`facet.model`.
"""

import numpy as np
import pytest
from amaranth.sim import Simulator

from facet import model
from facet.config import Config
from facet.rtl.pack_mantissa import PackMantissa
from facet.rtl.precision import Precision
from facet.rtl.unpack_mantissa import UnpackMantissa
from facet.rtl.widths import Widths

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

def _random_raw(cfg, nb, rng):
    """Raw blocks: exponents within a chosen spread of a centre (mostly within 2**K, so most
    blocks are truncated), some zeros and subnormals, a few Inf and NaN."""
    fmt = cfg.fmt
    spread = rng.choice([0, 1, 2, 3, (1 << cfg.k) - 1, (1 << cfg.k) - 1, 1 << cfg.k, 3 << cfg.k],
                        size=(nb, 1))
    centre = rng.integers(1 << cfg.k, fmt.exp_max, size=(nb, 1))
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
    cand = _random_raw(cfg, 4000, rng)
    st = _stages(cand, cfg)
    room = cfg.budget - cfg.header_bits - n * st["present"].sum(axis=1)
    s_p = np.where(st["zero"], 0, np.clip(st["p"][:, None] - st["delta"], 0, fmt.man_bits)).sum(axis=1)
    exact = np.flatnonzero((s_p == room) & (st["p"] < cfg.max_precision))[:3]
    lossless = np.flatnonzero(fmt.man_bits * (~st["zero"]).sum(axis=1) == room)[:2]
    assert len(exact), "no block with S(P) = R found"
    return np.concatenate([np.stack(blocks), cand[exact], cand[lossless]])


def _stages(raw, cfg):
    """The model's encoder stages up to ``widths``."""
    sign, exp, man = model.fields(raw, cfg)
    delta, zero, man = model.deltas(exp, man, model.base(exp, cfg), cfg)
    present = model.mask(model.planes(sign, delta, zero, man, cfg))[:, :cfg.mask_bits]
    p = model.precision(delta, zero, present, cfg)
    k = model.widths(p, delta, zero, present, cfg)
    return dict(delta=delta, zero=zero, man=man, present=present, p=p, k=k)


def _encoder_side(cfg, seed):
    rng = np.random.default_rng(seed)
    raw = np.concatenate([_edge_raw(cfg, rng), _random_raw(cfg, RANDOM_BLOCKS, rng)])
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


# -- simulation ---------------------------------------------------------------------------

def _run(dut, count, drive, check):
    """Drive vectors ``0 .. count-1``, let the combinational logic settle, check the outputs."""
    errors = []

    async def bench(ctx):
        for j in range(count):
            drive(ctx, j)
            await ctx.delay(1e-9)
            errors.extend(f"vector {j}: {e}" for e in check(ctx, j))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not errors, "\n".join(errors[:10])


def _set(ctx, port, values):
    """Set a whole ``ArrayLayout`` port at once (every ``ctx.set`` settles the design)."""
    w = len(port.as_value()) // len(values)
    ctx.set(port.as_value(), sum(int(v) << (i * w) for i, v in enumerate(values)))


def _get(ctx, port, n):
    raw, w = ctx.get(port.as_value()), len(port.as_value()) // n
    return [(raw >> (i * w)) & ((1 << w) - 1) for i in range(n)]


def _bits(row):
    return int(sum(int(b) << j for j, b in enumerate(row)))


# -- tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_precision(cfg):
    st = _encoder_side(cfg, 1)
    dut = Precision(cfg)

    def drive(ctx, j):
        _set(ctx, dut.delta, st["delta"][j])
        _set(ctx, dut.zero, st["zero"][j])
        ctx.set(dut.present, _bits(st["present"][j]))

    def check(ctx, j):
        got, want = ctx.get(dut.p), int(st["p"][j])
        return [] if got == want else [f"P {got} != {want}"]

    _run(dut, len(st["p"]), drive, check)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_widths(cfg):
    enc, dec = _encoder_side(cfg, 2), _decoder_side(cfg, 3)
    p, delta, zero, present = (np.concatenate([enc[x], dec[x]]) for x in ("p", "delta", "zero", "present"))
    k = model.widths(p, delta, zero, present, cfg)
    sigma = _sigma(k)
    dut = Widths(cfg)
    n = cfg.n

    def drive(ctx, j):
        ctx.set(dut.p, int(p[j]))
        _set(ctx, dut.delta, delta[j])
        _set(ctx, dut.zero, zero[j])
        ctx.set(dut.present, _bits(present[j]))

    def check(ctx, j):
        gk, gs = _get(ctx, dut.k, n), _get(ctx, dut.sigma, n)
        out = []
        if gk != [int(v) for v in k[j]]:
            out.append(f"k {gk} != {k[j].tolist()} (P = {p[j]})")
        if gs != [int(v) for v in sigma[j]]:
            out.append(f"sigma {gs} != {sigma[j].tolist()}")
        return out

    _run(dut, len(p), drive, check)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_pack_mantissa(cfg):
    st = _encoder_side(cfg, 4)
    want = model.pack_mantissa(st["man"], st["k"], cfg)
    sigma = _sigma(st["k"])
    dut = PackMantissa(cfg)

    def drive(ctx, j):
        _set(ctx, dut.man, st["man"][j])
        _set(ctx, dut.k, st["k"][j])
        _set(ctx, dut.sigma, sigma[j])

    def check(ctx, j):
        got, exp = ctx.get(dut.o), int.from_bytes(want[j].tobytes(), "little")
        return [] if got == exp else [f"region {got:#x} != {exp:#x}"]

    _run(dut, len(want), drive, check)


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
    sigma = _sigma(k)
    dut = UnpackMantissa(cfg)
    n = cfg.n

    def drive(ctx, j):
        ctx.set(dut.i, int.from_bytes(blocks[j].tobytes(), "little"))
        _set(ctx, dut.k, k[j])
        _set(ctx, dut.sigma, sigma[j])
        ctx.set(dut.present, _bits(present[j]))

    def check(ctx, j):
        gm, gf = _get(ctx, dut.man, n), _get(ctx, dut.fill, n)
        out = []
        if gm != [int(v) for v in man[j]]:
            out.append(f"man {gm} != {man[j].tolist()}")
        if gf != [int(v) for v in fill[j]]:
            out.append(f"fill {gf} != {fill[j].tolist()}")
        return out

    _run(dut, len(blocks), drive, check)


@pytest.mark.parametrize("cls", [Precision, Widths, PackMantissa, UnpackMantissa])
def test_plane_policy_rejected(cls):
    with pytest.raises(ValueError, match="significance"):
        cls(Config("bf16", 32, 8))
    with pytest.raises(TypeError):
        cls("bf16")
