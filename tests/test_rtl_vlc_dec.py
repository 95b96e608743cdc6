"""Each combinational stage of the `vlc` decoder (facet.rtl.vlc) against the golden-model
function of the same name (facet.vlc), bit for bit.

The blocks are the model encoder's output for random, activation-like and adversarial values
(zeros, subnormals, Inf/NaN, outliers that select modes 1 and 2, lossless blocks), and
foreign blocks: random bytes of several bit densities, some with the deepest depth or mode 3
forced, whose codewords run past B or whose mode's offset exceeds D. Every stage gets the
model's inputs of its stage and must give the model's outputs. The seed of every case is
printed; rerun one with FACET_SEED=<seed>.
"""

import os
import zlib

import numpy as np
import pytest

from facet import vlc, vlc_code
from facet.config import Config
from facet.config import VLC_OFFSETS
from facet.rtl.vlc import Cost, Header, Precision, Reconstruct, UnpackClasses, UnpackFields
from facet.rtl.vlc.unpack_classes import class_region_bits
from facet.rtl.vlc.unpack_fields import field_region_bits
from facet.rtl import FacetDecoder
from tb import stimulus
from tb.amaranth_bench import StreamRun
from tb.combinational import check_stage
from tb.ports import array_to_int

CONFIGS = [Config("bf16", 32, 8, policy="vlc"), Config("bf16", 16, 6, policy="vlc"),
           Config("fp16", 32, 4.5, policy="vlc"), Config("fp32", 16, 8, policy="vlc"),
           Config("bf16", 8, 8, policy="vlc")]
IDS = [c.name for c in CONFIGS]


def _rng(name, cfg):
    seed = int(os.environ.get("FACET_SEED", zlib.crc32((name + cfg.name).encode())))
    print(f"seed {seed} (FACET_SEED={seed} to rerun)")
    return np.random.default_rng(seed)


def _values(cfg, nb, rng):
    """Raw values: activation-like, adversarial bit patterns, outlier and lossless blocks."""
    fmt, n = cfg.fmt, cfg.n
    x = rng.standard_normal((nb, n)) * np.exp(rng.standard_normal((nb, 1)))
    x[rng.random((nb, n)) < 0.05] = 0.0
    x[rng.random((nb, n)) < 0.03] *= 1e-6
    # Outliers: one to three values 2**4 .. 2**9 above a block of small values (modes 1, 2).
    out = rng.random(nb) < 0.3
    x[out] *= 2.0 ** -4
    x[out, :3] *= np.where(rng.random((out.sum(), 3)) < 0.6, 2.0 ** rng.integers(6, 14, (out.sum(), 3)), 1)
    if fmt.name == "bf16":
        raw_act = (np.asarray(x, np.float32).view(np.uint32) >> np.uint32(16)).astype(np.uint16)
    elif fmt.name == "fp16":
        raw_act = x.astype(np.float16).view(np.uint16)
    else:
        raw_act = x.astype(np.float32).view(np.uint32)
    raw = rng.integers(0, 1 << fmt.width, (nb, n), dtype=np.uint64)
    pick = rng.random((nb, n))
    raw[pick < 0.08] = fmt.exp_max << fmt.man_bits                          # +Inf
    raw[(pick >= 0.08) & (pick < 0.12)] |= fmt.exp_max << fmt.man_bits       # Inf or NaN
    raw[(pick >= 0.12) & (pick < 0.2)] &= (1 << fmt.man_bits) - 1             # zero, subnormal
    # Lossless: a few mantissa bits over a narrow exponent range.
    lo = rng.integers(0, 1 << fmt.width, (nb, n), dtype=np.uint64)
    exp = fmt.bias + rng.integers(-2, 2, (nb, n))
    lo = (lo & (1 << (fmt.width - 1))) | (exp.astype(np.uint64) << fmt.man_bits) \
        | (lo & (0b11 << (fmt.man_bits - 2)))
    lo[rng.random((nb, n)) < 0.1] = 0
    return np.concatenate([raw_act, raw, lo]).astype(fmt.dtype)


def blocks(cfg, name, nb=12):
    """Encoded blocks of :func:`_values`, then foreign blocks of random bytes."""
    rng = _rng(name, cfg)
    enc = vlc.encode(_values(cfg, nb, rng).reshape(-1), cfg)
    nf = 4 * nb
    density = rng.choice([0.5, 0.5, 0.8, 0.95, 1.0], (nf, 1))
    bits = rng.random((nf, cfg.budget)) < density
    e = cfg.fmt.exp_bits
    force = rng.random(nf)
    bits[force < 0.3, e:e + 4] = True                               # D = 15
    bits[(force < 0.15)[:, None] & (np.arange(cfg.budget) >= e + 4) & (np.arange(cfg.budget) < e + 6)] = True
    foreign = np.packbits(bits, axis=1, bitorder="little")
    return np.concatenate([enc, foreign])


def _int(row, lo, hi):
    return (array_to_int(row, 8) >> lo) & ((1 << (hi - lo)) - 1)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_header(cfg):
    packed = blocks(cfg, "header")
    b_, d, mode = vlc.header(packed, cfg)
    check_stage(Header(cfg), lambda i: {"i": _int(packed[i], 0, cfg.header_bits)},
                lambda i: {"base": int(b_[i]), "d": int(d[i]), "mode": int(mode[i])}, len(packed))


def test_header_mode_fallback():
    """A mode whose offset exceeds D reads as mode 0, in the model as in the RTL."""
    cfg = CONFIGS[0]
    e = cfg.fmt.exp_bits
    hdr = [(mode << (e + 4)) | (d << e) | 3 for mode in range(4) for d in range(16)]
    packed = np.array([list(h.to_bytes(2, "little")) + [0] * (cfg.budget_bytes - 2) for h in hdr],
                      np.uint8)
    _, d, mode = vlc.header(packed, cfg)
    want = [0 if (m == 1 and dd < 2) or (m == 2 and dd < 5) else m for m in range(4) for dd in range(16)]
    assert mode.tolist() == want
    check_stage(Header(cfg), lambda i: {"i": _int(packed[i], 0, cfg.header_bits)},
                lambda i: {"mode": want[i], "d": int(d[i])}, len(packed))


def _region(row, cfg):
    return _int(row, cfg.header_bits, cfg.header_bits + class_region_bits(cfg))


def _check_unpack_classes(packed, cfg):
    _, d, mode = vlc.header(packed, cfg)
    cls, _ = vlc.unpack_classes(packed, d, mode, cfg)
    check_stage(UnpackClasses(cfg),
                lambda i: {"i": _region(packed[i], cfg), "d": int(d[i]), "mode": int(mode[i])},
                lambda i: {"cls": array_to_int(cls[i], 5)}, len(packed))
    return cls


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_unpack_classes(cfg):
    packed = blocks(cfg, "unpack_classes")
    _, d, mode = vlc.header(packed, cfg)
    _check_unpack_classes(packed, cfg)


def test_unpack_classes_every_code():
    """Every head and tail index of every code a header can name, for the first value and
    for the last, whose tail follows N - 1 tails of head 11."""
    cfg = CONFIGS[-1]
    n, h, e = cfg.n, cfg.header_bits, cfg.fmt.exp_bits
    _, _, tail, _ = vlc_code._code_lookup()
    words = []
    for code in range(vlc_code.MODES * vlc_code.DEPTHS):
        mode, d = divmod(code, vlc_code.DEPTHS)
        f11 = int(tail[code * 4 + 3])
        for head in range(4):
            for g in range(1 << int(tail[code * 4 + head])):
                for v in (0, n - 1):
                    heads = [3] * v + [head] + [0] * (n - 1 - v)
                    bits = sum(((x & 1) << i) | ((x >> 1) << (n + i)) for i, x in enumerate(heads))
                    bits |= g << (2 * n + v * f11)
                    words.append((bits << h | d << e | mode << (e + 4)) & ((1 << cfg.budget) - 1))
    packed = np.array([list(w.to_bytes(cfg.budget_bytes, "little")) for w in words], np.uint8)
    _, d, mode = vlc.header(packed, cfg)
    cls, _ = vlc.unpack_classes(packed, d, mode, cfg)
    assert set(np.unique(cls)) == set(range(vlc_code.NCLASS))
    check_stage(UnpackClasses(cfg),
                lambda i: {"i": _region(packed[i], cfg), "d": int(d[i]), "mode": int(mode[i])},
                lambda i: {"cls": array_to_int(cls[i], 5)}, len(packed))


def _random_classes(cfg, name, rep=3):
    """Random decoded-looking classes in every code a header can name: distances up to D,
    ZERO, and Inf and NaN in mode 3 (the classes a decoder gives). Returns ``(cls, d, mode)``."""
    rng = _rng(name, cfg)
    codes = [(mo, dd) for mo in range(4) for dd in range(16) if mo == 3 or VLC_OFFSETS[mo] <= dd]
    code = np.repeat(np.array(codes), rep, axis=0)
    top = code[:, 1:2] + 1
    rnd = (rng.random((len(code), cfg.n)) * (top + 3)).astype(np.uint8)
    rnd = np.where(rnd < top, rnd, np.where(code[:, :1] == 3, vlc.ZERO + rnd - top, vlc.ZERO))
    # Half of the blocks mostly near D, where the precision search has most to do.
    near = np.where(rng.random(rnd.shape) < 0.8, np.maximum(code[:, 1:2] - (rnd & 3), 0), rnd)
    rnd = np.where(rng.random((len(code), 1)) < 0.5, rnd, np.where(rnd < vlc.ZERO, near, rnd))
    return np.where(rnd > vlc.NAN, vlc.ZERO, rnd).astype(np.uint8), code[:, 1], code[:, 0]


def _decoded_and_random(cfg, name):
    """Classes of decoded blocks, then :func:`_random_classes`: ``(cls, d, mode)``."""
    packed = blocks(cfg, name)
    _, d, mode = vlc.header(packed, cfg)
    cls, _ = vlc.unpack_classes(packed, d, mode, cfg)
    rc, rd, rm = _random_classes(cfg, name)
    return np.concatenate([cls, rc]), np.concatenate([d, rd]), np.concatenate([mode, rm])


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_cost(cfg):
    cls, d, mode = _decoded_and_random(cfg, "cost")
    hist = vlc.histogram(cls)
    want = vlc.cost(hist, d, mode, cfg)
    cb = cfg.n.bit_length()
    check_stage(Cost(cfg),
                lambda i: {"hist": array_to_int(hist[i], cb), "d": int(d[i]), "mode": int(mode[i])},
                lambda i: {"cost": int(want[i])}, len(cls))


#: The precision stage simulates slowest at fp32 (about 19 s): that config in the slow suite.
PRECISION_CONFIGS = [pytest.param(c, marks=pytest.mark.slow) if c.format == "fp32" else c
                     for c in CONFIGS]


@pytest.mark.parametrize("cfg", PRECISION_CONFIGS, ids=IDS)
def test_precision(cfg):
    """Precision on decoded classes: the costs of the decoded blocks, and random ones up to
    the budget or the largest cost a block can have, H + N * (2 + TAIL_MAX + 1), where the
    bits over of a foreign block go far below zero."""
    cls, d, mode = _decoded_and_random(cfg, "precision")
    hist = vlc.histogram(cls)
    cost = vlc.cost(hist, d, mode, cfg)
    rng = _rng("precision costs", cfg)
    cost = np.where(rng.random(len(cost)) < 0.5, cost,
                    rng.integers(cfg.header_bits, min(cfg.budget, cfg.header_bits + cfg.n * (
                        3 + vlc_code.TAIL_MAX)) + 1, len(cost)))
    p, left = vlc.precision(hist, d, cost, cfg)
    cb = cfg.n.bit_length()
    check_stage(Precision(cfg),
                lambda i: {"hist": array_to_int(hist[i], cb), "d": int(d[i]), "cost": int(cost[i])},
                lambda i: {"p": int(p[i]), "left": int(left[i])}, len(cls))


def _decoder_stages(packed, cfg):
    """The model decoder's per-stage values of ``packed``."""
    b_, d, mode = vlc.header(packed, cfg)
    cls, _ = vlc.unpack_classes(packed, d, mode, cfg)
    hist = vlc.histogram(cls)
    p, left = vlc.precision(hist, d, vlc.cost(hist, d, mode, cfg), cfg)
    k = vlc.widths(cls, d, p, left, cfg)
    signed = vlc._signed(cls, d)
    sign, man = vlc.unpack_fields(packed, signed, k, cfg)
    values = vlc.reconstruct(b_, cls, d, k, sign, man, cfg)
    assert np.array_equal(values.reshape(-1), vlc.decode(packed, cfg))
    return dict(base=b_, d=d, cls=cls, k=k, signed=signed, sign=sign, man=man, values=values)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_unpack_fields(cfg):
    packed = blocks(cfg, "unpack_fields")
    s = _decoder_stages(packed, cfg)
    mb = cfg.fmt.man_bits
    cap = field_region_bits(cfg)
    check_stage(UnpackFields(cfg),
                lambda i: {"i": _int(packed[i], cfg.budget - cap, cfg.budget),
                           "signed": array_to_int(s["signed"][i], 1),
                           "k": array_to_int(s["k"][i], mb.bit_length())},
                lambda i: {"sign": array_to_int(s["sign"][i], 1),
                           "man": array_to_int(s["man"][i], mb)}, len(packed))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_reconstruct(cfg):
    packed = blocks(cfg, "reconstruct")
    s = _decoder_stages(packed, cfg)
    mb, w = cfg.fmt.man_bits, cfg.fmt.width
    check_stage(Reconstruct(cfg),
                lambda i: {"base": int(s["base"][i]),
                           "cls": array_to_int(s["cls"][i], 5),
                           "k": array_to_int(s["k"][i], mb.bit_length()),
                           "sign": array_to_int(s["sign"][i], 1),
                           "man": array_to_int(s["man"][i], mb)},
                lambda i: {"o": array_to_int(s["values"][i], w)}, len(packed))


@pytest.mark.slow
@pytest.mark.parametrize("cfg", [CONFIGS[0], CONFIGS[-1]], ids=[CONFIGS[0].name, CONFIGS[-1].name])
def test_decoder_random_bytes(cfg):
    """The whole decoder on many byte strings (random bytes of several densities, deepest
    depth and mode 3 forced, and the stimulus' random blocks) against the model's decode."""
    rng = _rng("decoder random bytes", cfg)
    packed = np.concatenate([blocks(cfg, "decoder random bytes", nb=24)[24 * 3:],
                             stimulus.random_blocks(cfg, 64, rng)[0]])
    want = vlc.decode(packed, cfg).reshape(-1, cfg.n)
    run = StreamRun(FacetDecoder(cfg, 1), [array_to_int(r, 8) for r in packed],
                    [array_to_int(r, cfg.fmt.width) for r in want], seed=1, p_gap=0, p_stall=0)
    run.check()
