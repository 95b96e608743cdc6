"""The `window` encoder stage components against the golden-model functions of the same
name (:mod:`facet.window`).

Every block goes through the model stage by stage; each component gets the model's inputs of
its stage and must give the model's outputs, bit for bit (Amaranth simulator). The blocks:
activation-like values, raw random bit patterns with specials and subnormals, hand-made
corner blocks, and blocks of every offset, of the low regime (P <= 1) and exactly full.
The seed of every case is printed; rerun one with FACET_SEED=<seed>.
"""

import functools

import numpy as np
import pytest

from facet import window
from facet.config import Config
from facet.generate import generate, module_names
from facet.rtl.vlc.base import Base
from facet.rtl.window.classes import Classes
from facet.rtl.window.codec import ENCODER_CUTS
from facet.rtl.window.codes import Codes
from facet.rtl.window.histogram import Histogram
from facet.rtl.window.layout import class_bits, count_bits
from facet.rtl.window.offset import Offset
from facet.rtl.window.pack import Pack
from facet.rtl import FacetEncoder
from tb.amaranth_bench import StreamRun
from tb.combinational import check_stage
from tb.ports import array_to_int
from tb.network import list_ranks_ports
from tb.blocks import activation_bits, make_block, seed_for

CONFIGS = [Config("bf16", 32, 8, policy="window"), Config("bf16", 16, 4, policy="window"),
           Config("fp16", 32, 4.5, policy="window"), Config("fp32", 8, 8, policy="window")]
IDS = [c.name for c in CONFIGS]
#: The reference config and bf16/16/4 (the low regime) in the default suite, the rest slow.
PARAMS = [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if i >= 2 else [])
          for i, c in enumerate(CONFIGS)]


def _corners(cfg, rng):
    """Zeros, subnormals, specials, flat blocks, one outlier per offset, deep values."""
    fmt, n = cfg.fmt, cfg.n
    full, emax = (1 << fmt.man_bits) - 1, fmt.exp_max
    idx = np.arange(n)
    top = min(100, emax - 2)
    man = rng.integers(0, full + 1, n)
    return np.stack([
        make_block(cfg, 0, 0, 0), make_block(cfg, idx % 2, 0, man),
        make_block(cfg, idx % 2, emax, np.where(idx % 3 == 0, 0, man | 1)),
        make_block(cfg, 0, top, man), make_block(cfg, 1, top, full),
        make_block(cfg, 0, top - idx % 16, full),
        *[make_block(cfg, 0, np.where(idx == 0, top + up, top), man) for up in (1, 2, 3, 4, 6)],
        make_block(cfg, idx % 2, np.where(idx == 5, emax, top - idx % 5), man),
        make_block(cfg, 0, np.where(idx == 0, emax, 0), 0),
        make_block(cfg, 0, np.where(idx % 2, 1, 0), man),
        make_block(cfg, 0, emax - 1 - idx % 4, full),
    ])


def _adversarial(cfg, nb, rng):
    fmt = cfg.fmt
    spread = rng.choice([1, 2, 3, 5, 8, 16, 1 << fmt.exp_bits], (nb, 1))
    centre = rng.integers(spread // 2 + 1, fmt.exp_max, (nb, 1))
    exp = np.clip(centre - rng.integers(0, spread, (nb, cfg.n)), 0, fmt.exp_max - 1)
    man = rng.integers(0, 1 << fmt.man_bits, (nb, cfg.n))
    raw = (rng.integers(0, 2, (nb, cfg.n)) << (fmt.width - 1)) | (exp << fmt.man_bits) | man
    pick = rng.random((nb, cfg.n)) * (rng.random((nb, 1)) < 0.2)
    raw[(pick > 0) & (pick < 0.05)] |= fmt.exp_max << fmt.man_bits            # Inf or NaN
    raw[(pick >= 0.05) & (pick < 0.1)] &= (1 << fmt.man_bits) - 1            # zero, subnormal
    return raw.astype(fmt.dtype)


@functools.lru_cache(maxsize=None)
def _case(cfg):
    """``(cfg, model stages)`` of the test blocks of one config: every offset, both regimes
    where the config has them, full blocks, specials."""
    rng = np.random.default_rng(seed_for("window-enc" + cfg.name))
    pool = np.concatenate([activation_bits(cfg, 1500, rng), _adversarial(cfg, 1500, rng)])
    st = window.encoder_stages(pool, cfg)
    pick = [np.flatnonzero(st["o"] == o)[:6] for o in range(4)]
    pick += [np.flatnonzero((st["p"] >= 0) & (st["p"] <= 1))[:6], np.flatnonzero(st["left"] == 0)[:4],
             np.flatnonzero(st["special"])[:4], np.arange(40)]
    raw = np.concatenate([_corners(cfg, rng), pool[np.concatenate(pick)]])
    return cfg, window.encoder_stages(raw, cfg)


@pytest.fixture(params=PARAMS)
def case(request):
    return _case(request.param)


def test_cases_cover_every_offset_and_regime():
    for cfg in CONFIGS:
        _, s = _case(cfg)
        assert set(s["o"].tolist()) == {0, 1, 2, 3}, cfg.name
        assert s["special"].any() and (s["left"] == 0).any()
    _, s = _case(CONFIGS[1])
    assert ((s["p"] >= 0) & (s["p"] <= 1)).any()


def test_base(case):
    cfg, s = case
    check_stage(Base(cfg), lambda b: {"exp": array_to_int(s["exp"][b], cfg.fmt.exp_bits)},
                lambda b: {"base": int(s["base"][b])}, len(s["base"]))


def test_classes(case):
    cfg, s = case
    fmt = cfg.fmt
    check_stage(Classes(cfg),
                lambda b: {"exp": array_to_int(s["exp"][b], fmt.exp_bits),
                           "man": array_to_int(s["man"][b], fmt.man_bits), "base": int(s["base"][b])},
                lambda b: {"cls": array_to_int(s["cls"][b], class_bits(cfg))}, len(s["base"]))


def test_histogram(case):
    cfg, s = case
    check_stage(Histogram(cfg), lambda b: {"cls": array_to_int(s["cls"][b], class_bits(cfg))},
                lambda b: {"hist": array_to_int(s["hist"][b], count_bits(cfg)),
                           "special": int(s["special"][b])}, len(s["base"]))


def test_offset(case):
    cfg, s = case
    check_stage(Offset(cfg),
                lambda b: {"hist": array_to_int(s["hist"][b], count_bits(cfg)),
                           "special": int(s["special"][b])},
                lambda b: {"o": int(s["o"][b]), "p": int(s["p"][b]), "left": int(s["left"][b])},
                len(s["base"]))


def _every_histogram(n):
    """Every count of distances 0 .. 4 a block of N values can have (rows of five)."""
    grid = np.stack(np.meshgrid(*[np.arange(n + 1)] * 5, indexing="ij"), -1).reshape(-1, 5)
    return grid[grid.sum(1) <= n]


@pytest.mark.parametrize("cfg,low", [(Config("bf16", 8, t, policy="window"), t <= 6)
                                     for t in (5, 6, 8, 12)]
                         + [(Config("fp32", 8, 16, policy="window"), False)],
                         ids=lambda v: getattr(v, "name", str(v)))
def test_offset_every_histogram(cfg, low):
    """Every histogram of an 8-value block, with and without a special, against the model:
    all ties between offsets, every allowed set, and the low regime where the room has it."""
    hist = _every_histogram(cfg.n)
    special = np.arange(len(hist)) % 7 == 0
    o, p, left = window.offset(hist, special, cfg)
    assert set(o.tolist()) == {0, 1, 2, 3} and (p[~special] <= 1).any() == low
    check_stage(Offset(cfg),
                lambda b: {"hist": array_to_int(hist[b], count_bits(cfg)), "special": int(special[b])},
                lambda b: {"o": int(o[b]), "p": int(p[b]), "left": int(left[b])}, len(hist))


def test_codes(case):
    cfg, s = case
    check_stage(Codes(cfg),
                lambda b: {"cls": array_to_int(s["cls"][b], class_bits(cfg)), "o": int(s["o"][b]),
                           "special": int(s["special"][b])},
                lambda b: {"code": array_to_int(s["code"][b], 2)}, len(s["base"]))


def test_pack(case):
    cfg, s = case
    fmt = cfg.fmt
    ranks = list_ranks_ports(s["code"], cfg)
    check_stage(Pack(cfg),
                lambda b: {"base": int(s["base"][b]), "o": int(s["o"][b]), "p": int(s["p"][b]),
                           "left": int(s["left"][b]), "code": array_to_int(s["code"][b], 2),
                           "sign": array_to_int(s["sign"][b], 1),
                           "cls": array_to_int(s["cls"][b], class_bits(cfg)),
                           "man": array_to_int(s["man"][b], fmt.man_bits),
                           **{name: v[b] for name, v in ranks.items()}},
                lambda b: {"out": array_to_int(s["packed"][b], 8)}, len(s["base"]))


@pytest.mark.parametrize("cfg,stages", [(CONFIGS[1], 4), (CONFIGS[1], 3), (CONFIGS[1], 2),
                                        pytest.param(CONFIGS[3], 1, marks=pytest.mark.slow),
                                        pytest.param(CONFIGS[0], 2, marks=pytest.mark.slow)],
                         ids=lambda v: getattr(v, "name", str(v)))
def test_encoder(cfg, stages):
    """The whole encoder, registers at ``stages`` cuts, with gaps and backpressure."""
    cfg, s = _case(cfg)
    raw = (s["sign"].astype(np.uint64) << np.uint64(cfg.fmt.width - 1)) \
        | (s["exp"].astype(np.uint64) << np.uint64(cfg.fmt.man_bits)) | s["man"].astype(np.uint64)
    payloads = [array_to_int(row, cfg.fmt.width) for row in raw]
    want = [array_to_int(row, 8) for row in s["packed"]]
    StreamRun(FacetEncoder(cfg, stages), payloads, want,
              seed=seed_for("window-enc-top" + cfg.name)).check()


@pytest.mark.parametrize("stages,where", [(1, ["histogram"]), (2, ["classes", "offset"]),
                                          (3, ["classes", "offset", "list_ranks"])])
def test_register_positions(stages, where, tmp_path):
    """docs/format.md: one stage registers after `histogram`, two after `classes` and
    `offset`, three after those and `list_ranks`; the generated design records where."""
    cfg = CONFIGS[1]
    info = generate(cfg, stages, tmp_path)
    assert info["modules"][module_names(cfg)["encoder"]]["register_stages"] == where
    assert info["modules"][module_names(cfg)["encoder"]]["latency"] == stages


def test_four_stages_are_the_encoders_alone(tmp_path):
    """The encoder takes a fourth register (all four positions, :func:`test_encoder` runs
    it); the pair is generated with at most the decoder's three."""
    cfg = CONFIGS[1]
    assert set(ENCODER_CUTS) == {"histogram", "offset", "classes", "list_ranks"}
    with pytest.raises(ValueError, match="stages must be an integer in 0..3"):
        generate(cfg, 4, tmp_path)
