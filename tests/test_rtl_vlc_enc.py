"""The `vlc` encoder stage components against the golden-model functions of the same name
(:mod:`facet.vlc`).

Every block goes through the model stage by stage; each component gets the model's inputs of
its stage and must give the model's outputs, bit for bit (Amaranth simulator). The blocks:
activation-like values, raw random bit patterns with specials and subnormals, hand-made
corner blocks (all zero, all special, flat, one outlier per mode, a value 15 and 16 binades
down), and blocks picked from a large random pool because they are lossless or fill the
budget exactly or tie two code modes. The whole encoder (one register stage, gaps and
backpressure) gives the model's packed bytes on the same blocks. The seed of every case is printed; rerun one with FACET_SEED=<seed>.
"""

import functools

import numpy as np
import pytest

from facet import vlc
from facet.config import VLC_OFFSETS, Config
from facet.vlc_code import INF, NAN, _cost_table
from facet.rtl.vlc.base import Base
from facet.rtl.vlc.classes import CLASS_BITS, Classes
from facet.rtl.vlc.codewords import Codewords, code_bits, length_bits
from facet.rtl.vlc.depth import Depth
from facet.rtl.vlc.histogram import Histogram, count_bits
from facet.rtl.vlc.pack import Pack
from facet.rtl.vlc.precision import Precision
from facet.rtl.vlc.widths import Widths, width_bits
from facet.rtl import FacetEncoder
from tb.amaranth_bench import StreamRun
from tb.combinational import check_stage
from tb.ports import array_to_int
from tb.blocks import activation_bits, make_block, seed_for

CONFIGS = [Config("bf16", 32, 8, policy="vlc"), Config("bf16", 16, 6, policy="vlc"),
           Config("fp16", 32, 4.5, policy="vlc"), Config("fp32", 8, 8, policy="vlc")]
IDS = [c.name for c in CONFIGS]
POOL = 3000        # random blocks searched for lossless and exactly full ones


def _corners(cfg, rng):
    """Hand-made blocks: zeros, subnormals, specials, flat, deep and outlier blocks."""
    fmt, n = cfg.fmt, cfg.n
    full, emax = (1 << fmt.man_bits) - 1, fmt.exp_max
    idx = np.arange(n)
    top = min(100, emax - 2)
    man = rng.integers(0, full + 1, n)
    blocks = [
        make_block(cfg, 0, 0, 0),                                           # all +0
        make_block(cfg, idx % 2, 0, man),                                   # -0 and subnormals
        make_block(cfg, idx % 2, emax, np.where(idx % 3 == 0, 0, man | 1)), # all Inf / NaN
        make_block(cfg, 0, top, man),                                       # flat: lossless
        make_block(cfg, 1, top, full),                                      # flat, all ones
        make_block(cfg, 0, top - idx % 16, full),                           # every distance 0..15
        make_block(cfg, 0, top - 15 - (idx % 3), man),                      # 15, 16, 17 down from ...
        make_block(cfg, 0, np.where(idx == 0, top + 15, top), man),         # ... one value 15 up
        make_block(cfg, 0, np.where(idx < 2, top + 1, top - 1 - idx % 2), man),  # modes 1 and 2:
        make_block(cfg, 0, np.where(idx < 2, top + 4, top - idx % 3), man),      # a few outliers
        make_block(cfg, 0, np.where(idx == 3, top + 8, top - idx % 4), man),
        make_block(cfg, idx % 2, np.where(idx == 5, emax, top - idx % 5), man),  # one Inf in a spread
        make_block(cfg, 0, np.where(idx == 0, emax, 0), 0),                 # Inf among zeros
        make_block(cfg, 0, np.where(idx % 2, 1, 0), man),                   # smallest normals
        make_block(cfg, 0, emax - 1 - idx % 4, full),                       # largest exponents
    ] + [make_block(cfg, idx % 2, np.where(idx == 0, top, np.where(idx == 1, top - dd, 0)), man)
         for dd in (12, 13, 15)]                                     # deep D among zeros
    return np.stack(blocks)


def _adversarial(cfg, nb, rng):
    fmt = cfg.fmt
    raw = rng.integers(0, 1 << fmt.width, (nb, cfg.n), dtype=np.uint64)
    # Narrow the exponents of most blocks so that every depth occurs.
    spread = rng.choice([1, 3, 8, 16, 24, 1 << fmt.exp_bits], (nb, 1))
    centre = rng.integers(spread // 2 + 1, fmt.exp_max, (nb, 1))
    exp = np.clip(centre - rng.integers(0, spread, (nb, cfg.n)), 0, fmt.exp_max - 1)
    keep = spread == 1 << fmt.exp_bits
    raw = np.where(keep, raw, (raw & ~np.uint64(fmt.exp_max << fmt.man_bits))
                   | (exp.astype(np.uint64) << np.uint64(fmt.man_bits)))
    pick = rng.random((nb, cfg.n)) * (rng.random((nb, 1)) < 0.3)
    raw[(pick > 0) & (pick < 0.05)] |= np.uint64(fmt.exp_max << fmt.man_bits)  # Inf or NaN
    raw[(pick >= 0.05) & (pick < 0.1)] &= np.uint64((1 << fmt.man_bits) - 1)    # zero, subnormal
    return raw.astype(fmt.dtype)


def _mode_ties(st, cfg):
    """Blocks whose chosen depth has two allowed modes of the same cost (the lowest wins)."""
    full, _ = _cost_table(cfg.fmt.man_bits)
    costs = np.stack([(st["hist"] * full[m, st["d"]]).sum(axis=1) for m in range(4)], axis=1)
    special = st["hist"][:, INF] + st["hist"][:, NAN] > 0
    allowed = (np.array(VLC_OFFSETS + (0,))[None, :] <= st["d"][:, None]) & \
        np.where(special[:, None], np.arange(4) == 3, np.arange(4) < 3)
    costs = np.where(allowed, costs, np.iinfo(np.int64).max)
    return (costs == costs.min(axis=1, keepdims=True)).sum(axis=1) > 1


def _full_and_lossless(cfg, rng):
    """Blocks from a random pool that are lossless, fill B exactly, or tie two modes."""
    pool = np.concatenate([activation_bits(cfg, POOL // 2, rng), _adversarial(cfg, POOL // 2, rng)])
    st = vlc.encoder_stages(pool, cfg)
    full = np.flatnonzero(st["left"] == 0)[:4]
    lossless = np.flatnonzero(st["p"] == st["d"] + cfg.fmt.man_bits)[:3]
    ties = np.flatnonzero(_mode_ties(st, cfg))[:4]
    assert len(full) and len(lossless) and len(ties)
    return pool[np.concatenate([full, lossless, ties])]


@functools.lru_cache(maxsize=None)
def _case(cfg):
    """``(cfg, model stages)`` of the test blocks of one config."""
    rng = np.random.default_rng(seed_for("vlc-enc" + cfg.name))
    raw = np.concatenate([_corners(cfg, rng), _full_and_lossless(cfg, rng),
                          activation_bits(cfg, 24, rng), _adversarial(cfg, 24, rng)])
    st = vlc.encoder_stages(raw, cfg)
    modes = set(st["mode"].tolist())
    assert modes == {0, 1, 2, 3}, f"modes covered: {modes}"
    return cfg, st


@pytest.fixture(params=CONFIGS, ids=IDS)
def case(request):
    return _case(request.param)


#: Depth and pack simulate slowly (many small signals): the smallest config (fp32, N = 8) in
#: the default suite, the others, the reference config among them, with the slow tests.
SLOW_CONFIGS = [c if c.n == 8 else pytest.param(c, marks=pytest.mark.slow) for c in CONFIGS]


def test_base(case):
    cfg, s = case
    e = cfg.fmt.exp_bits
    check_stage(Base(cfg), lambda b: {"exp": array_to_int(s["exp"][b], e)},
                lambda b: {"base": int(s["base"][b])}, len(s["base"]))


def test_classes(case):
    cfg, s = case
    fmt = cfg.fmt
    check_stage(Classes(cfg),
                lambda b: {"exp": array_to_int(s["exp"][b], fmt.exp_bits),
                           "man": array_to_int(s["man"][b], fmt.man_bits), "base": int(s["base"][b])},
                lambda b: {"cls": array_to_int(s["cls"][b], CLASS_BITS)}, len(s["base"]))


def test_histogram(case):
    cfg, s = case
    check_stage(Histogram(cfg), lambda b: {"cls": array_to_int(s["cls"][b], CLASS_BITS)},
                lambda b: {"hist": array_to_int(s["hist"][b], count_bits(cfg))}, len(s["base"]))


@pytest.mark.parametrize("cfg", SLOW_CONFIGS, ids=IDS)
def test_depth(cfg):
    cfg, s = _case(cfg)
    check_stage(Depth(cfg), lambda b: {"hist": array_to_int(s["hist"][b], count_bits(cfg))},
                lambda b: {"d": int(s["d"][b]), "mode": int(s["mode"][b]), "cost": int(s["cost"][b])},
                len(s["base"]))


def test_precision(case):
    cfg, s = case
    check_stage(Precision(cfg),
                lambda b: {"hist": array_to_int(s["hist"][b], count_bits(cfg)), "d": int(s["d"][b]),
                           "cost": int(s["cost"][b])},
                lambda b: {"p": int(s["p"][b]), "left": int(s["left"][b])}, len(s["base"]))


def test_widths(case):
    cfg, s = case
    check_stage(Widths(cfg),
                lambda b: {"cls": array_to_int(s["cls"][b], CLASS_BITS), "d": int(s["d"][b]),
                           "p": int(s["p"][b]), "left": int(s["left"][b])},
                lambda b: {"k": array_to_int(s["k"][b], width_bits(cfg))}, len(s["base"]))


def test_codewords(case):
    cfg, s = case
    check_stage(Codewords(cfg),
                lambda b: {"cls": array_to_int(s["cls"][b], CLASS_BITS), "d": int(s["d"][b]),
                           "mode": int(s["mode"][b])},
                lambda b: {"code": array_to_int(s["code"][b], code_bits(cfg)),
                           "length": array_to_int(s["length"][b], length_bits(cfg))},
                len(s["base"]))


@pytest.mark.parametrize("cfg", SLOW_CONFIGS, ids=IDS)
def test_pack(cfg):
    cfg, s = _case(cfg)
    fmt = cfg.fmt
    check_stage(Pack(cfg),
                lambda b: {"base": int(s["base"][b]), "d": int(s["d"][b]), "mode": int(s["mode"][b]),
                           "code": array_to_int(s["code"][b], code_bits(cfg)),
                           "length": array_to_int(s["length"][b], length_bits(cfg)),
                           "field": array_to_int(s["signed"][b], 1),
                           "sign": array_to_int(s["sign"][b], 1),
                           "man": array_to_int(s["man"][b], fmt.man_bits),
                           "k": array_to_int(s["k"][b], width_bits(cfg))},
                lambda b: {"o": array_to_int(s["packed"][b], 8)}, len(s["base"]))


#: The whole encoder: N = 8 in the default suite, the reference config with the slow tests.
TOP_CONFIGS = [Config("bf16", 8, 8, policy="vlc"),
               pytest.param(Config("bf16", 32, 8, policy="vlc"), marks=pytest.mark.slow)]


@pytest.mark.parametrize("cfg", TOP_CONFIGS, ids=["bf16_n8_t8_vlc", "bf16_n32_t8_vlc"])
def test_encoder(cfg):
    cfg, s = _case(cfg)
    raw = (s["sign"].astype(np.uint64) << np.uint64(cfg.fmt.width - 1)) \
        | (s["exp"].astype(np.uint64) << np.uint64(cfg.fmt.man_bits)) | s["man"].astype(np.uint64)
    payloads = [array_to_int(row, cfg.fmt.width) for row in raw]
    want = [array_to_int(row, 8) for row in s["packed"]]
    StreamRun(FacetEncoder(cfg, 1), payloads, want, seed=seed_for("vlc-enc-top" + cfg.name)).check()
