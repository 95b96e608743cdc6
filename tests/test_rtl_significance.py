"""The `significance` stage components against their golden-model functions.

Every component is simulated with the Amaranth simulator on blocks built from the model's own
stages (``fields -> base -> deltas -> planes -> mask -> precision -> widths``), on edge cases,
and, for the decoder side, on random bytes with every P the header field can carry. Nothing of
the format is re-implemented here: every expected value comes from :mod:`facet.model`.
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
RANDOM_BLOCKS = 40


# -- stimulus -----------------------------------------------------------------------------

def _random_raw(cfg, nb, rng):
    """Raw blocks with varied exponent spreads, zeros, subnormals, Inf and NaN."""
    fmt = cfg.fmt
    spread = rng.choice([0, 1, 2, (1 << cfg.k) - 1, 1 << cfg.k, 2 << cfg.k, fmt.exp_max], size=(nb, 1))
    centre = rng.integers(1, fmt.exp_max, size=(nb, 1))
    exp = np.clip(centre - rng.integers(0, spread + 1, size=(nb, cfg.n)), 0, fmt.exp_max - 1)
    man = rng.integers(0, 1 << fmt.man_bits, size=(nb, cfg.n))
    low = rng.random((nb, 1)) < 0.3  # few mantissa bits
    man = np.where(low, man & ~((1 << max(fmt.man_bits - 2, 0)) - 1), man)
    zero = rng.random((nb, cfg.n)) < rng.choice([0.0, 0.1, 0.5], size=(nb, 1))
    exp = np.where(zero, 0, exp)
    special = rng.random((nb, cfg.n)) < 0.02
    exp = np.where(special, fmt.exp_max, exp)
    sign = rng.integers(0, 2, size=(nb, cfg.n)) & (rng.random((nb, 1)) < 0.8)
    raw = (sign << (fmt.width - 1)) | (exp << fmt.man_bits) | man
    return raw.astype(fmt.dtype)


def _edge_raw(cfg, rng):
    """All zero, all equal exponent (lossless), maximum spread, and blocks that fill R."""
    fmt, n = cfg.fmt, cfg.n
    mk = lambda s, e, m: ((np.asarray(s) << (fmt.width - 1)) | (np.asarray(e) << fmt.man_bits)
                          | np.asarray(m)).astype(fmt.dtype)
    full = (1 << fmt.man_bits) - 1
    blocks = [
        mk(0, np.zeros(n, int), np.zeros(n, int)),                                  # all +0
        mk(np.ones(n, int), np.zeros(n, int), rng.integers(0, full + 1, n)),        # -0, subnormals
        mk(0, np.full(n, 100 % fmt.exp_max), rng.integers(0, full + 1, n)),         # equal exponents
        mk(rng.integers(0, 2, n), np.full(n, 7), np.full(n, full)),                 # equal, all ones
        mk(0, 20 - np.arange(n) % (1 << cfg.k), np.full(n, full)),                  # max spread
        mk(1, 20 - np.arange(n) % ((1 << cfg.k) + 2), rng.integers(0, full + 1, n)),  # spread + flushed
        mk(0, np.where(np.arange(n) % 3 == 0, fmt.exp_max, 12), rng.integers(0, 2, n) << (fmt.man_bits - 1)),
    ]
    # Blocks whose widths fill R exactly: truncated with L = 0, and lossless with M * nnz = R.
    cand = _random_raw(cfg, 4000, rng)
    sign, exp, man = model.fields(cand, cfg)
    delta, zero, man = model.deltas(exp, man, model.base(exp, cfg), cfg)
    present = model.mask(model.planes(sign, delta, zero, man, cfg))[:, :cfg.mask_bits]
    p = model.precision(delta, zero, present, cfg)
    room = cfg.budget - cfg.header_bits - n * present.sum(axis=1)
    s_p = np.where(zero, 0, np.clip(p[:, None] - delta, 0, fmt.man_bits)).sum(axis=1)
    exact = np.flatnonzero((s_p == room) & (p < cfg.max_precision))[:2]
    lossless = np.flatnonzero((fmt.man_bits * (~zero).sum(axis=1) == room))[:2]
    return np.concatenate([np.stack(blocks), cand[exact], cand[lossless]])


def _stages(raw, cfg):
    """The model's encoder stages up to ``widths``."""
    sign, exp, man = model.fields(raw, cfg)
    b = model.base(exp, cfg)
    delta, zero, man = model.deltas(exp, man, b, cfg)
    words = model.planes(sign, delta, zero, man, cfg)
    present = model.mask(words)[:, :cfg.mask_bits]
    p = model.precision(delta, zero, present, cfg)
    k = model.widths(p, delta, zero, present, cfg)
    return dict(delta=delta, zero=zero, man=man, present=present, p=p, k=k)


def _blocks(cfg, seed):
    rng = np.random.default_rng(seed)
    raw = np.concatenate([_edge_raw(cfg, rng), _random_raw(cfg, RANDOM_BLOCKS, rng)])
    return _stages(raw, cfg)


def _sigma(k):
    return np.cumsum(k, axis=1) - k


# -- simulation ---------------------------------------------------------------------------

def _run(dut, vectors, drive, check):
    """Drive each vector, let the combinational logic settle, check the outputs."""
    errors = []

    async def bench(ctx):
        for j, vec in enumerate(vectors):
            drive(ctx, vec)
            await ctx.delay(1e-9)
            errors.extend(f"vector {j}: {e}" for e in check(ctx, vec))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not errors, "\n".join(errors[:10])


def _set_array(ctx, port, values):
    """Set a whole ``ArrayLayout`` port at once (every ``ctx.set`` settles the design)."""
    w = port.shape().elem_shape.width if hasattr(port.shape().elem_shape, "width") \
        else port.shape().elem_shape
    ctx.set(port.as_value(), sum(int(v) << (i * w) for i, v in enumerate(values)))


def _get_array(ctx, port, n):
    raw = ctx.get(port.as_value())
    w = len(port.as_value()) // n
    return [(raw >> (i * w)) & ((1 << w) - 1) for i in range(n)]


def _present_int(present):
    return int(sum(int(b) << j for j, b in enumerate(present)))


# -- tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_precision(cfg):
    st = _blocks(cfg, 1)
    dut = Precision(cfg)
    vecs = list(range(len(st["p"])))

    def drive(ctx, j):
        _set_array(ctx, dut.delta, st["delta"][j])
        _set_array(ctx, dut.zero, st["zero"][j])
        ctx.set(dut.present, _present_int(st["present"][j]))

    def check(ctx, j):
        got, want = ctx.get(dut.p), int(st["p"][j])
        return [] if got == want else [f"P {got} != {want}"]

    _run(dut, vecs, drive, check)


def _decoder_side(cfg, seed, nb):
    """Random packed bytes decoded by the model: deltas, zero marks, presence, raw P field."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(nb, cfg.budget_bytes), dtype=np.uint8)
    _, present = model.header(blocks, cfg)
    words, _ = model.unpack(blocks, present, cfg)
    codes = model._words_to_codes(np.ascontiguousarray(words[:, ::-1]), cfg.n)
    delta = ((codes >> 1) & ((1 << cfg.k) - 1)).astype(np.int32)
    zero = (codes >> (cfg.k + 1)).astype(bool)
    p = rng.integers(0, 1 << cfg.policy_bits, size=nb)  # every value of the header field
    p[:4] = [0, cfg.max_precision, (1 << cfg.policy_bits) - 1, 1][:min(4, nb)]
    return blocks, present, delta, zero, p


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_widths(cfg):
    st = _blocks(cfg, 2)
    blocks, present, delta, zero, p = _decoder_side(cfg, 3, 24)
    p_all = np.concatenate([st["p"], p])
    delta_all = np.concatenate([st["delta"], delta])
    zero_all = np.concatenate([st["zero"], zero])
    present_all = np.concatenate([st["present"], present])
    k = model.widths(p_all, delta_all, zero_all, present_all, cfg)
    sigma = _sigma(k)
    dut = Widths(cfg)
    n = cfg.n

    def drive(ctx, j):
        ctx.set(dut.p, int(p_all[j]))
        _set_array(ctx, dut.delta, delta_all[j])
        _set_array(ctx, dut.zero, zero_all[j])
        ctx.set(dut.present, _present_int(present_all[j]))

    def check(ctx, j):
        gk, gs = _get_array(ctx, dut.k, n), _get_array(ctx, dut.sigma, n)
        out = []
        if gk != list(k[j]):
            out.append(f"k {gk} != {list(k[j])} (P={p_all[j]})")
        if gs != list(sigma[j]):
            out.append(f"sigma {gs} != {list(sigma[j])}")
        return out

    _run(dut, range(len(p_all)), drive, check)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_pack_mantissa(cfg):
    st = _blocks(cfg, 4)
    want = model.pack_mantissa(st["man"], st["k"], cfg)
    sigma = _sigma(st["k"])
    dut = PackMantissa(cfg)
    n = cfg.n

    def drive(ctx, j):
        _set_array(ctx, dut.man, st["man"][j])
        _set_array(ctx, dut.k, st["k"][j])
        _set_array(ctx, dut.sigma, sigma[j])

    def check(ctx, j):
        got, exp = ctx.get(dut.o), int.from_bytes(want[j].tobytes(), "little")
        return [] if got == exp else [f"region {got:#x} != {exp:#x}"]

    _run(dut, range(len(want)), drive, check)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_unpack_mantissa(cfg):
    st = _blocks(cfg, 5)
    # Encoder-produced regions (packed by the model), read back.
    blocks_enc = model.pack_mantissa(st["man"], st["k"], cfg)
    k_enc, present_enc = st["k"], st["present"]
    # Random bytes with random P (decoder side): widths from the model.
    blocks_rnd, present_rnd, delta, zero, p = _decoder_side(cfg, 6, 24)
    k_rnd = model.widths(p, delta, zero, present_rnd, cfg)
    blocks = np.concatenate([blocks_enc, blocks_rnd])
    k = np.concatenate([k_enc, k_rnd])
    present = np.concatenate([present_enc, present_rnd])
    man, fill = model.unpack_mantissa(blocks, k, present, cfg)
    sigma = _sigma(k)
    dut = UnpackMantissa(cfg)
    n = cfg.n

    def drive(ctx, j):
        ctx.set(dut.i, int.from_bytes(blocks[j].tobytes(), "little"))
        _set_array(ctx, dut.k, k[j])
        _set_array(ctx, dut.sigma, sigma[j])
        ctx.set(dut.present, _present_int(present[j]))

    def check(ctx, j):
        gm, gf = _get_array(ctx, dut.man, n), _get_array(ctx, dut.fill, n)
        out = []
        if gm != [int(v) for v in man[j]]:
            out.append(f"man {gm} != {list(man[j])}")
        if gf != [int(v) for v in fill[j]]:
            out.append(f"fill {gf} != {list(fill[j])}")
        return out

    _run(dut, range(len(blocks)), drive, check)
