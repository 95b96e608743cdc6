"""The MX baseline hardware (facet.rtl.mx) against facet.baselines, bit for bit.

The encoder's reference is :func:`facet.baselines.mx_pack` (scale byte, then the element
codes); the decoder's is :func:`facet.baselines.mx_unpack` rounded to the value format by
:func:`facet.model.to_bits`. The stage tests drive each combinational stage with the blocks'
model values; the top-level tests go through the stream ports under gaps and backpressure
with the harness of tests/test_rtl_top.py, which also checks the lib.stream rules.
"""

import re

import numpy as np
import pytest
from amaranth.back import rtlil

from facet import baselines, model
from facet.config import HARDWARE_POLICIES, Config
from facet.rtl import FacetDecoder
from facet.rtl.mx import MX_CODECS, Dequantize, MxConfig, MxDecoder, MxEncoder, Quantize, Scale
from tb import stimulus
from tb.combinational import check_stage
from tb.ports import array_to_int
from tb.amaranth_bench import StreamRun
from tests.test_rtl_top import _rng

CONFIGS = [MxConfig(c, f, n) for c in MX_CODECS for f, n in (("bf16", 32), ("fp16", 16), ("fp32", 8))]
IDS = [c.name for c in CONFIGS]


def _host(cfg):
    """A facet config of the same format and N, for the stimulus and format helpers."""
    return Config(cfg.format, cfg.n, 16)


def _raw(values, cfg):
    return model.to_bits(np.asarray(values, np.float32).reshape(-1), _host(cfg))


def _adversarial(cfg, rng):
    """Blocks at the edges of the codecs: zeros, extreme normals, subnormals, Inf and NaN,
    rounding ties, saturation, elements far below the block maximum."""
    fmt, n = cfg.fmt, cfg.n
    big = float(np.ldexp(2.0 - 2.0 ** -min(fmt.man_bits, 7), (1 << fmt.exp_bits) - 2 - fmt.bias))
    tiny = float(np.ldexp(1.0, 1 - fmt.bias))
    sub = float(np.ldexp(1.0, 1 - fmt.bias - fmt.man_bits))
    k = rng.integers(0, 64, n)
    rows = [
        np.zeros(n), -np.zeros(n), np.full(n, big), np.full(n, -tiny),
        np.where(rng.random(n) < 0.5, tiny, -sub) * rng.integers(1, 4, n),
        sub * rng.integers(0, 1 << min(fmt.man_bits, 7), n),                # subnormals only
        np.r_[tiny, sub * rng.integers(0, 8, n - 1)],
        np.r_[1.0, (2 * k[1:] + 1) / 128.0],                                 # MXINT8 ties
        np.r_[1.0, -(2 * k[1:] + 1) / 128.0],
        np.r_[256.0, 1.0 + (2 * (k[1:] % 8) + 1) / 16.0],                    # E4M3 ties
        np.r_[256.0, (2 * (k[1:] % 4) + 1) / 1024.0 * 256],                  # E4M3 subnormal ties
        np.r_[1.9921875, -1.9921875, rng.standard_normal(n - 2)],            # MXINT8 saturation
        np.r_[500.0, -480.0, 464.0, rng.standard_normal(n - 3)],             # E4M3 saturation
        np.r_[1e4, 1e-4 * rng.standard_normal(n - 1)],                       # underflow
        np.r_[np.inf, rng.standard_normal(n - 1)],
        np.r_[rng.standard_normal(n - 1), -np.inf],
        np.r_[np.nan, np.zeros(n - 1)],
    ]
    with np.errstate(over="ignore"):
        return _raw(np.concatenate(rows), cfg)


def _encoder_blocks(cfg, rng, nb=24):
    host = _host(cfg)
    mixed = stimulus.encoder_values(host, nb, rng, minilm=False)[0][:nb]
    bits = rng.integers(0, 1 << cfg.fmt.width, (nb // 2, cfg.n)).astype(cfg.fmt.dtype)
    return np.concatenate([_adversarial(cfg, rng), mixed, bits])


def _pack(raw, cfg):
    x = model.to_float(raw, cfg.format)
    with np.errstate(invalid="ignore"):
        return baselines.mx_pack(x, cfg.codec, cfg.n).reshape(-1, cfg.budget_bytes)


def _decode(packed, cfg):
    return model.to_bits(baselines.mx_unpack(packed, cfg.codec).reshape(-1), _host(cfg))


def _decoder_blocks(cfg, rng, raw):
    """Encoded blocks, then arbitrary bytes (every scale code, FP8 NaN elements, -128)."""
    words = rng.integers(0, 256, (cfg.n + 64, cfg.budget_bytes)).astype(np.uint8)
    words[:256 % len(words), 0] = np.arange(256 % len(words))
    words[-8:, 0] = rng.choice([0, 1, 126, 127, 128, 254, 255], 8)
    return np.concatenate([_pack(raw, cfg), words])


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_packed_decodes_like_the_baseline(cfg):
    """mx_unpack(mx_pack(x)) is the fake quantizer's output (MXINT8 has no -0)."""
    rng, _ = _rng("mx packed " + cfg.name)
    x = model.to_float(_encoder_blocks(cfg, rng), cfg.format)
    with np.errstate(invalid="ignore", over="ignore"):
        got = baselines.mx_unpack(baselines.mx_pack(x, cfg.codec, cfg.n), cfg.codec).reshape(x.shape)
        want = baselines.BASELINES[cfg.codec](x)
    assert np.array_equal(got, want, equal_nan=True)
    nz = ~np.isnan(want) & (want != 0)
    assert np.array_equal(np.signbit(got[nz]), np.signbit(want[nz]))
    if cfg.codec != "mxint8":
        assert np.array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]))


def _encoder_case(cfg, stage):
    """The raw encoder blocks of ``stage``'s test and their packed bytes (the baseline's)."""
    rng, _ = _rng(f"mx {stage} {cfg.name}")
    raw = _encoder_blocks(cfg, rng)
    return raw, _pack(raw, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_scale(cfg):
    raw, packed = _encoder_case(cfg, "scale")
    check_stage(Scale(cfg), lambda b: {"i": array_to_int(raw[b], cfg.fmt.width)},
                lambda b: {"scale": int(packed[b, 0])}, len(raw))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_quantize(cfg):
    raw, packed = _encoder_case(cfg, "quantize")
    check_stage(Quantize(cfg),
                lambda b: {"i": array_to_int(raw[b], cfg.fmt.width), "scale": int(packed[b, 0])},
                lambda b: {"codes": array_to_int(packed[b, 1:], 8)}, len(raw))


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_dequantize(cfg):
    rng, _ = _rng("mx dequantize " + cfg.name)
    packed = _decoder_blocks(cfg, rng, _encoder_blocks(cfg, rng))
    want = _decode(packed, cfg).reshape(len(packed), cfg.n)
    w = cfg.fmt.width
    check_stage(Dequantize(cfg),
                lambda b: {"scale": int(packed[b, 0]), "codes": array_to_int(packed[b, 1:], 8)},
                lambda b: {"o": array_to_int(want[b], w)}, len(packed))


#: Each codec at the reference config, with no register and with every register position.
STREAM_CASES = [(c, s) for c in CONFIGS if c.format == "bf16" for s in (0, 2)] + [(CONFIGS[0], 1)]


@pytest.mark.parametrize("cfg,stages", STREAM_CASES,
                         ids=lambda v: v.name if isinstance(v, MxConfig) else f"s{v}")
def test_stream(cfg, stages):
    """Encoder and decoder through their stream ports, random gaps and backpressure."""
    rng, seed = _rng(f"mx stream {cfg.name} s{stages}")
    raw = _encoder_blocks(cfg, rng, nb=8)
    w = cfg.fmt.width
    StreamRun(MxEncoder(cfg, stages), [array_to_int(r, w) for r in raw],
              [array_to_int(p, 8) for p in _pack(raw, cfg)], seed=seed).check()
    blocks = _decoder_blocks(cfg, rng, raw)[: len(raw) + 16]
    want = _decode(blocks, cfg).reshape(len(blocks), cfg.n)
    StreamRun(MxDecoder(cfg, stages), [array_to_int(b, 8) for b in blocks],
              [array_to_int(r, w) for r in want], seed=seed).check()


def _flop_bits(dut):
    """Flop bits of ``dut``, counted on the ``$*dff*`` cells of its RTLIL."""
    text = rtlil.convert(dut, name="top", emit_src=False)
    cells = re.findall(r"cell \\?\$\w*dff\w* .*?\n(.*?)\n\s*end", text, re.S)
    return sum(int(re.search(r"parameter \\WIDTH (\d+)", c).group(1)) for c in cells)


@pytest.mark.parametrize("codec", [*MX_CODECS, *(f"facet-{p}" for p in HARDWARE_POLICIES)])
def test_one_stage_registers_the_decoder_output(codec):
    """Every decoder, MX or facet, spends its one register stage on its N*W-bit output (and
    the valid flop), so one stage costs the same register in the baselines as in facet."""
    if codec.startswith("facet-"):
        cfg = Config("fp16", 16, 8, None, codec.removeprefix("facet-"))
        dut = FacetDecoder(cfg, 1)
    else:
        cfg = MxConfig(codec, "fp16", 16)
        dut = MxDecoder(cfg, 1)
    assert _flop_bits(dut) == cfg.n * cfg.fmt.width + 1


def test_reset_drops_the_block_in_flight():
    """A reset drops the blocks in flight: after it, only blocks sent after it come out."""
    cfg = CONFIGS[0]
    rng, seed = _rng("mx reset")
    raw = _encoder_blocks(cfg, rng, nb=4)[:12]
    payloads = [array_to_int(r, cfg.fmt.width) for r in raw]
    want = [array_to_int(p, 8) for p in _pack(raw, cfg)]
    sb = StreamRun(MxEncoder(cfg, 2), payloads, want, seed=seed, p_stall=0.6, resets=[5]).check()
    assert sb.dropped > 0, "backpressure should have left blocks in flight"
    assert sb.checked >= len(payloads) - 5


def test_bad_arguments():
    with pytest.raises(ValueError):
        MxConfig("mxfp4")
    with pytest.raises(ValueError):
        MxEncoder(MxConfig(), 3)
    with pytest.raises(TypeError):
        Scale(Config())
    with pytest.raises(TypeError, match="MxConfig"):
        MxDecoder(Config())
