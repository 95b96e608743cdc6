"""FacetEncoder and FacetDecoder against the golden model, through their stream ports.

Every block is checked bit for bit and in order, under random input gaps and random output
backpressure, with the lib.stream rules checked on every cycle:

* ``o.valid`` does not depend combinationally on ``o.ready``;
* once ``o.valid`` is high it stays high, with the same payload, until ``o.ready`` takes it;
* no block is lost, duplicated or reordered; after a reset no stale block comes out.

The stream agents are those of the cocotb regression (tb/stream.py), run here in the Amaranth
simulator by tb/amaranth_bench.py. Seeds are printed; rerun a case with FACET_SEED=<seed>.
"""

import gc
import os
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, UnusedElaboratable, Value
from amaranth.lib import wiring
from amaranth.sim import Simulator

from facet import model
from facet.config import Config
from facet.rtl import FacetDecoder, FacetEncoder
from tb import stimulus
from tb.environment import unavailable
from tb.amaranth_bench import StreamRun
from tb.ports import array_to_int

#: The `vlc` designs simulate slowly in the Amaranth simulator (the two placement networks
#: and the depth search): the default suite runs N = 8 with
#: a quarter of the blocks (see :func:`_blocks`) on the encoder and the decoder, the slow
#: suite the rest and the reference config.
VLC_SMALL = Config("bf16", 8, 8, policy="vlc")
VLC_REF = Config("bf16", 32, 8, policy="vlc")
BASE_CONFIGS = [Config("bf16", 32, 8), Config("bf16", 16, 8), Config("fp16", 32, 8),
                Config("fp32", 16, 8), Config("bf16", 32, 8, policy="significance"),
                Config("fp32", 16, 8, policy="significance")]
SLOW = pytest.mark.slow
#: `window`: bf16/16/4 (which reaches the low regime) in the default suite, the reference
#: config in the slow one; its stage tests (tests/test_rtl_window_*.py) cover more configs.
WINDOW_SMALL = Config("bf16", 16, 4, policy="window")
WINDOW_REF = Config("bf16", 32, 8, policy="window")
CONFIGS = BASE_CONFIGS + [VLC_SMALL, pytest.param(VLC_REF, marks=SLOW), WINDOW_SMALL,
                          pytest.param(WINDOW_REF, marks=SLOW)]
#: Configs of the longer checks (MiniLM blocks, encoder into decoder).
LONG_CONFIGS = BASE_CONFIGS + [pytest.param(c, marks=SLOW) for c in (VLC_SMALL, VLC_REF)] + \
    [WINDOW_SMALL, pytest.param(WINDOW_REF, marks=SLOW)]
IDS = [c.name for c in BASE_CONFIGS] + [VLC_SMALL.name, VLC_REF.name, WINDOW_SMALL.name,
                                         WINDOW_REF.name]
MINILM = Path(__file__).resolve().parent.parent / "data" / "minilm_acts.npz"


def _rng(name):
    seed = int(os.environ.get("FACET_SEED", zlib.crc32(name.encode())))
    print(f"{name}: seed {seed} (FACET_SEED={seed} to rerun)")
    return np.random.default_rng(seed), seed


def _minilm_blocks(cfg, per_tensor=1):
    """The first block of every tensor of the MiniLM dump (31 blocks), or none if it is
    absent. The cocotb tests feed many more of its blocks to the same designs on Verilator."""
    if not MINILM.exists():
        return None
    with np.load(MINILM) as npz:
        parts = [npz[key].reshape(-1)[: per_tensor * cfg.n] for key in sorted(npz.files)]
    x = np.concatenate([p[: len(p) // cfg.n * cfg.n] for p in parts])
    return model.to_bits(x, cfg)


def _blocks(cfg, nb):
    """Blocks of a random-stimulus test: a quarter for `vlc`, whose designs simulate slowly."""
    return max(nb // 4, 6) if cfg.policy == "vlc" else nb


def _enc_payloads(raw, cfg):
    return [array_to_int(row, cfg.fmt.width) for row in raw]


def _stream(which, cfg, data):
    """The component, input payloads and expected outputs of the encoder (``data``: raw
    values) or the decoder (``data``: packed blocks)."""
    if which == "encoder":
        return FacetEncoder, _enc_payloads(data, cfg), [array_to_int(r, 8) for r in model.encode(data, cfg)]
    return (FacetDecoder, [array_to_int(r, 8) for r in data],
            _enc_payloads(model.decode(data, cfg).reshape(-1, cfg.n), cfg))


def _check(which, cfg, data, seed, stages=1, **kw):
    cls, payloads, want = _stream(which, cfg, data)
    return StreamRun(cls(cfg, stages), payloads, want, seed=seed, **kw).check()


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_encoder(cfg):
    rng, seed = _rng("encoder " + cfg.name)
    raw = stimulus.encoder_values(cfg, _blocks(cfg, 48), rng, minilm=False)[0]
    _check("encoder", cfg, raw, seed)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_decoder(cfg):
    rng, seed = _rng("decoder " + cfg.name)
    nb = _blocks(cfg, 24)
    raw = stimulus.encoder_values(cfg, nb, rng, minilm=False)[0]
    packed = np.concatenate([model.encode(raw, cfg), stimulus.random_blocks(cfg, nb, rng)[0]])
    packed[-1, :] = 0xFF
    packed[-2, :] = 0
    _check("decoder", cfg, packed, seed)


@pytest.mark.parametrize("cfg", LONG_CONFIGS, ids=IDS)
def test_minilm(cfg):
    raw = _minilm_blocks(cfg)
    if raw is None:
        unavailable(f"{MINILM} not present (make data)")
    rng, seed = _rng("minilm " + cfg.name)
    _check("encoder", cfg, raw, seed)
    _check("decoder", cfg, model.encode(raw, cfg), seed)


@pytest.mark.parametrize("cfg", LONG_CONFIGS, ids=IDS)
def test_loopback(cfg):
    """Encoder into decoder equals decode(encode(x)), under gaps and backpressure."""
    rng, seed = _rng("loopback " + cfg.name)
    raw = stimulus.encoder_values(cfg, 16, rng, minilm=False)[0]

    class Loop(wiring.Component):
        def __init__(self):
            self.enc, self.dec = FacetEncoder(cfg, 1), FacetDecoder(cfg, 1)
            super().__init__({"i": wiring.In(self.enc.i.signature.flip()),
                              "o": wiring.Out(self.dec.o.signature)})

        def elaborate(self, platform):
            m = Module()
            m.submodules.enc, m.submodules.dec = self.enc, self.dec
            wiring.connect(m, wiring.flipped(self.i), self.enc.i)
            wiring.connect(m, self.enc.o, self.dec.i)
            wiring.connect(m, self.dec.o, wiring.flipped(self.o))
            return m

    want = _enc_payloads(model.decode(model.encode(raw, cfg), cfg).reshape(-1, cfg.n), cfg)
    StreamRun(Loop(), _enc_payloads(raw, cfg), want, seed=seed).check()


#: The pipeline checks: a `plane` config, and `vlc`, whose register positions are its own.
STAGE_CONFIGS = [Config("bf16", 16, 8), pytest.param(VLC_SMALL, marks=SLOW)]
STAGE_IDS = ["bf16_n16_t8_k3_plane", VLC_SMALL.name]


@pytest.mark.parametrize("cfg", STAGE_CONFIGS, ids=STAGE_IDS)
@pytest.mark.parametrize("stages", [0, 1, 2, 3])
@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_stages(which, stages, cfg):
    """Every pipeline depth on one config: latency, full throughput, and backpressure."""
    rng, seed = _rng(f"stages {which} {stages}")
    raw = stimulus.encoder_values(cfg, 16, rng, minilm=False)[0]
    data = raw if which == "encoder" else model.encode(raw, cfg)
    cls, payloads, want = _stream(which, cfg, data)
    dut = cls(cfg, stages)
    assert dut.latency == stages
    # Full throughput: one block per cycle, the first out `latency` cycles after it went in.
    run = StreamRun(dut, payloads, want, seed=seed, p_gap=0, p_stall=0)
    sb = run.check()
    assert run.accept_cycles == list(range(len(payloads)))
    assert sb.latencies == [stages] * len(payloads)
    # Buffering: with the output stalled, the pipeline takes exactly `stages` blocks (an empty
    # stage accepts whatever the downstream ready), then gives them out in order.
    assert _capacity(cls(cfg, stages), payloads) == stages
    # Random gaps and backpressure.
    if which == "decoder":
        data = np.concatenate([data, stimulus.random_blocks(cfg, 8, rng)[0]])
    _check(which, cfg, data, seed, stages=stages, p_gap=0.4, p_stall=0.5)


@pytest.mark.parametrize("stages", [2, 3])
@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_stages_significance(which, stages):
    """The register positions of the significance codecs past the first (stages=1 is in
    test_encoder and test_decoder): bit-exact under gaps and backpressure, with the latency of
    ``stages``."""
    cfg = Config("fp32", 16, 8, policy="significance")
    rng, seed = _rng(f"stages significance {which} {stages}")
    raw = stimulus.encoder_values(cfg, 6, rng, minilm=False)[0]
    data = raw if which == "encoder" else np.concatenate(
        [model.encode(raw, cfg), stimulus.random_blocks(cfg, 4, rng)[0]])
    cls, payloads, want = _stream(which, cfg, data)
    run = StreamRun(cls(cfg, stages), payloads, want, seed=seed, p_gap=0, p_stall=0)
    assert run.check().latencies == [stages] * len(payloads)
    _check(which, cfg, data, seed, stages=stages, p_gap=0.4, p_stall=0.5)


def _capacity(dut, payloads):
    """Blocks the DUT accepts while its output is held not ready."""
    accepted = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 0)
        ctx.set(dut.i.valid, 1)
        for cycle in range(6):
            ctx.set(Value.cast(dut.i.payload), payloads[len(accepted)])
            if ctx.get(dut.i.ready):
                accepted.append(cycle)
            await ctx.tick()

    m = Module()
    m.domains.sync = ClockDomain()
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return len(accepted)


@pytest.mark.parametrize("cfg", STAGE_CONFIGS, ids=STAGE_IDS)
@pytest.mark.parametrize("stages", [1, 3])
@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_reset_mid_stream(which, stages, cfg):
    """A reset drops the blocks in flight: after it, only blocks sent after it come out."""
    rng, seed = _rng(f"reset {which} {stages}")
    raw = stimulus.encoder_values(cfg, 16, rng, minilm=False)[0]
    cls, payloads, want = _stream(which, cfg, raw if which == "encoder" else model.encode(raw, cfg))
    cut = len(payloads) // 2
    sb = StreamRun(cls(cfg, stages), payloads, want, seed=seed, p_stall=0.6, resets=[cut]).check()
    # check(): in order, none lost, and after the reset neither a stale block nor a valid
    # before the next input was accepted.
    assert sb.dropped > 0, "backpressure should have left blocks in flight"
    assert sb.checked >= len(payloads) - cut


@pytest.mark.parametrize("cls", [FacetEncoder, FacetDecoder])
def test_invalid_parameters(cls):
    # An invalid config is rejected by Config itself, with the model's message.
    with pytest.raises(ValueError) as error:
        cls(Config("bf16", 8, 8, 4))
    assert str(error.value).startswith("config bf16 N=8 T=8 K=4 does not fit: header (21 bits)")
    assert str(error.value).endswith("the largest K that fits is 2")
    # Half-built components would warn "created but never used" when collected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match=r"stages must be an integer in 0\.\.3, not 4"):
            cls(Config(), 4)
        with pytest.raises(ValueError, match="stages"):
            cls(Config(), -1)
        with pytest.raises(TypeError, match="stages must be an integer"):
            cls(Config(), 1.0)
        with pytest.raises(TypeError, match="facet.config.Config"):
            cls("bf16")
        gc.collect()
