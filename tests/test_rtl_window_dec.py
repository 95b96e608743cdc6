"""Each combinational stage of the `window` decoder (facet.rtl.window) against the golden-model
function of the same name (facet.window), bit for bit, and the whole decoder against
:func:`facet.window.decode`.

The blocks are the model encoder's output for activation-like values (with outlier blocks
that take wider windows, and blocks holding Inf or NaN), and foreign blocks: random bytes of
several bit densities, some with the special base forced, whose offsets may not be allowed
and whose lists may be any length. Every stage gets the model's inputs of its stage and must
give the model's outputs. The seed of every case is printed; rerun one with FACET_SEED=<seed>.
"""

import os
import zlib

import numpy as np
import pytest
from facet import window as w
from facet.config import Config
from facet.rtl import FacetDecoder
from facet.rtl.window.header import Header
from facet.rtl.window.layout import far, plane_region, top_shape
from facet.rtl.window.list_ranks import ListRanks
from facet.rtl.window.precision import Precision
from facet.rtl.window.reconstruct import Reconstruct
from facet.rtl.window.unpack_codes import UnpackCodes
from facet.rtl.window.unpack_planes import UnpackPlanes
from tb.amaranth_bench import StreamRun
from tb.combinational import check_stage
from tb.network import list_ranks_ports, network_selects
from tb.ports import array_to_int

CONFIGS = [Config("bf16", 32, 8, policy="window"), Config("bf16", 16, 4, policy="window"),
           Config("fp16", 32, 4.5, policy="window"), Config("fp32", 16, 8, policy="window"),
           Config("bf16", 8, 6, policy="window"), Config("bf16", 64, 6, policy="window"),
           Config("fp16", 8, 16, policy="window")]
IDS = [c.name for c in CONFIGS]
#: The configs the larger stages run on by default: the reference, the low regime
#: (bf16/16/4) and the smallest; the rest run under ``slow``.
FEW = [CONFIGS[i] for i in (0, 1, 4)]
REST = [c for c in CONFIGS if c not in FEW]
#: Planes as deep as the exponent range (far(cfg) - 1 >= 2^(E - 1)): the plain subtractor of
#: :class:`~facet.rtl.window.Reconstruct`.
DEEP = CONFIGS[6]


def _params(fast, slow):
    return [pytest.param(c, id=c.name) for c in fast] + \
        [pytest.param(c, id=c.name, marks=pytest.mark.slow) for c in slow]


def _rng(name, cfg):
    seed = int(os.environ.get("FACET_SEED", zlib.crc32((name + cfg.name).encode())))
    print(f"seed {seed} (FACET_SEED={seed} to rerun)")
    return np.random.default_rng(seed)


def _values(cfg, nb, rng):
    """Activation-like values (as tests/test_window.py's), some blocks with outliers 2^4 ..
    2^9 above the rest (wider windows), some narrow (high P), a quarter with Inf or NaN."""
    n = cfg.n
    x = rng.standard_normal((nb, n)) * np.exp(rng.standard_normal((nb, 1)))
    x[rng.random((nb, n)) < 0.02] *= 50.0
    x[rng.random((nb, n)) < 0.05] = 0.0
    x[rng.random((nb, n)) < 0.02] *= 1e-6
    out = rng.random(nb) < 0.3
    x[out, :3] *= 2.0 ** rng.integers(4, 10, (out.sum(), 3))
    narrow = rng.random(nb) < 0.2
    x[narrow] = 1.0 + np.round(rng.random((narrow.sum(), n)) * 4) / 4
    special = np.flatnonzero(rng.random(nb) < 0.25)
    x[special, rng.integers(0, n, len(special))] = rng.choice([np.inf, -np.inf, np.nan],
                                                              len(special))
    return x.astype(np.float32).reshape(-1)


def blocks(cfg, name, nb=16):
    """Encoded blocks of :func:`_values`, then as many foreign blocks of random bytes."""
    rng = _rng(name, cfg)
    enc = w.encode(_values(cfg, nb, rng), cfg)
    density = rng.choice([0.05, 0.2, 0.5, 0.5, 0.8, 0.95], (nb, 1))
    bits = rng.random((nb, cfg.budget)) < density
    e = cfg.fmt.exp_bits
    bits[rng.random(nb) < 0.15, :e] = True                         # Inf or NaN in the block
    bits[:, e:e + 2] = rng.integers(0, 2, (nb, 2))                 # any offset
    return np.concatenate([enc, np.packbits(bits, axis=1, bitorder="little")])


def _int(row, lo, hi):
    return (array_to_int(row, 8) >> lo) & ((1 << (hi - lo)) - 1)


def _planes(mag, cfg):
    """The model's planes (plane q' at bit ``_W - q'``) as :class:`UnpackPlanes` gives them."""
    q = np.arange(far(cfg))
    bits = (mag[..., None] >> (w._W - q)) & 1
    assert np.array_equal((bits << (w._W - q)).sum(-1), mag)     # no plane past far
    return (bits << q).sum(-1)


def _stages(packed, cfg):
    """The model decoder's per-stage values of ``packed``."""
    b_, o_hdr = w.header(packed, cfg)
    code, sign = w.unpack_codes(packed, cfg)
    o, p, left = w.precision(code, b_, o_hdr, cfg)
    mag, top = w.unpack_planes(packed, code, o, p, left, cfg)
    values = w.reconstruct(b_, o, code, sign, mag, top, cfg)
    assert np.array_equal(values.reshape(-1), w.decode(packed, cfg))
    return dict(base=b_, o_hdr=o_hdr, code=code, sign=sign, o=o, p=p, left=left,
                planes=_planes(mag, cfg), top=top, values=values, **list_ranks_ports(code, cfg))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_header(cfg):
    packed = blocks(cfg, "header")
    b_, o = w.header(packed, cfg)
    check_stage(Header(cfg), lambda i: {"i": _int(packed[i], 0, cfg.header_bits)},
                lambda i: {"base": int(b_[i]), "o": int(o[i])}, len(packed))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_unpack_codes(cfg):
    packed = blocks(cfg, "unpack_codes")
    code, sign = w.unpack_codes(packed, cfg)
    h, n = cfg.header_bits, cfg.n
    check_stage(UnpackCodes(cfg), lambda i: {"i": _int(packed[i], h, h + 3 * n)},
                lambda i: {"code": array_to_int(code[i], 2), "sign": array_to_int(sign[i], 1)},
                len(packed))


def _random_codes(cfg, rng, count=64):
    """Codes drawn with every mix of code-0 and code-1 counts, any offset and base."""
    n = cfg.n
    mix = rng.dirichlet(np.full(4, 0.5), count)
    code = np.array([rng.choice(4, n, p=pr) for pr in mix])
    o = rng.integers(0, 4, count)
    base = np.where(rng.random(count) < 0.1, cfg.fmt.exp_max,
                    rng.integers(0, cfg.fmt.exp_max, count))
    return code, base, o


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_precision(cfg):
    packed = blocks(cfg, "precision")
    s = _stages(packed, cfg)
    rc, rb, ro = _random_codes(cfg, _rng("precision codes", cfg))
    code = np.concatenate([s["code"], rc])
    base = np.concatenate([s["base"], rb])
    o_in = np.concatenate([s["o_hdr"], ro])
    o, p, left = w.precision(code, base, o_in, cfg)
    check_stage(Precision(cfg),
                lambda i: {"code": array_to_int(code[i], 2), "base": int(base[i]),
                           "o": int(o_in[i])},
                lambda i: {"o_eff": int(o[i]), "p": int(p[i]), "left": int(left[i])}, len(code))


def test_precision_low_regime_occurs():
    """bf16/16/4 (R = 6 < 2N) reaches P = 0 and P = 1, and o > 0 falls back there."""
    cfg = CONFIGS[1]
    code, base, o_in = _random_codes(cfg, _rng("low regime", cfg), 400)
    o, p, _ = w.precision(code, base, o_in, cfg)
    assert {0, 1} <= set(p[o == 0].tolist()) and ((o_in > 0) & (o == 0)).any()


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_list_ranks(cfg):
    s = _stages(blocks(cfg, "list_ranks"), cfg)
    code = np.concatenate([s["code"], _random_codes(cfg, _rng("list_ranks codes", cfg))[0]])
    want = list_ranks_ports(code, cfg)
    check_stage(ListRanks(cfg), lambda i: {"code": array_to_int(code[i], 2)},
                lambda i: {name: v[i] for name, v in want.items()}, len(code))


def test_network_selects_route_slots():
    """The oracle's select signals, run through the network backwards as
    :func:`facet.rtl.network.expand` does (stage k moves position p + 2^k's data to p when
    its select is set, MSB stage first, reversed), bring slot k to the k-th member."""
    rng = _rng("network selects", CONFIGS[0])
    for n in (8, 16, 32, 64):
        present = rng.random((200, n)) < rng.random((200, 1))
        rank = w.list_ranks(np.where(present, 0, 3), Config("bf16", n, 8, policy="window"))[0]
        sel = network_selects(present, rank)
        at, parts = 0, []
        for k in range((n - 1).bit_length()):
            parts.append(sel[:, at:at + n - (1 << k)])
            at += n - (1 << k)
        data = np.tile(np.arange(n), (len(present), 1))
        for k in reversed(range(len(parts))):
            d = 1 << k
            moved = data.copy()
            moved[:, d:] = np.where(parts[k], data[:, :n - d], data[:, d:])
            data = moved
        assert np.array_equal(np.where(present, data, -1), np.where(present, rank, -1))


def _check_unpack_planes(cfg, packed):
    s = _stages(packed, cfg)
    first, width = plane_region(cfg)
    tw = top_shape(cfg).width
    check_stage(UnpackPlanes(cfg),
                lambda i: {"i": _int(packed[i], first, first + width),
                           "code": array_to_int(s["code"][i], 2), "o": int(s["o"][i]),
                           "p": int(s["p"][i]), "left": int(s["left"][i]),
                           "sel0": s["sel0"][i], "sel1": s["sel1"][i], "len0": s["len0"][i]},
                lambda i: {"planes": array_to_int(s["planes"][i], far(cfg)),
                           "top": array_to_int(s["top"][i], tw)}, len(packed))
    return s


@pytest.mark.parametrize("cfg", _params(FEW, REST))
def test_unpack_planes(cfg):
    s = _check_unpack_planes(cfg, blocks(cfg, "unpack_planes"))
    assert (s["p"] >= 0).any() and (s["p"] < 0).any()


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_no_plane_above_the_window_top(cfg):
    """The planes counted from the window hold nothing below q' = 3 - o (plane 0), in valid
    and foreign blocks alike, so :class:`Reconstruct`'s exponent (b + 3 - o) - t' is at
    most b and needs no check against 2^E - 2."""
    s = _stages(blocks(cfg, "window top", 64), cfg)
    q = np.arange(far(cfg))
    below = q[None, None, :] < (3 - s["o"])[:, None, None]
    assert not (((s["planes"][..., None] >> q) & 1).astype(bool) & below).any()
    assert ((s["planes"] > 0) & (s["o"] > 0)[:, None]).any()     # offsets above 0 occur


@pytest.mark.parametrize("cfg", _params(FEW + [DEEP], [c for c in REST if c is not DEEP]))
def test_reconstruct(cfg):
    packed = blocks(cfg, "reconstruct")
    s = _stages(packed, cfg)
    tw, wd = top_shape(cfg).width, cfg.fmt.width
    check_stage(Reconstruct(cfg),
                lambda i: {"base": int(s["base"][i]), "offset": int(s["o"][i]),
                           "code": array_to_int(s["code"][i], 2),
                           "sign": array_to_int(s["sign"][i], 1),
                           "planes": array_to_int(s["planes"][i], far(cfg)),
                           "top": array_to_int(s["top"][i], tw)},
                lambda i: {"o": array_to_int(s["values"][i], wd)}, len(packed))


@pytest.mark.parametrize("cfg,stages", [(CONFIGS[1], 3), pytest.param(CONFIGS[0], 1, marks=pytest.mark.slow)]
                         + [pytest.param(c, 2, marks=pytest.mark.slow) for c in CONFIGS[2:]],
                         ids=lambda v: getattr(v, "name", f"s{v}"))
def test_decoder(cfg, stages):
    """The whole decoder, registers at ``stages`` cuts, with gaps and backpressure, on the
    stream bits, against :func:`facet.window.decode`."""
    packed = blocks(cfg, "decoder chain")
    want = w.decode(packed, cfg).reshape(-1, cfg.n)
    StreamRun(FacetDecoder(cfg, stages), [array_to_int(row, 8) for row in packed],
              [array_to_int(row, cfg.fmt.width) for row in want],
              seed=zlib.crc32(f"window-dec-top{cfg.name}".encode())).check()
