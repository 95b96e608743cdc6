"""FacetEncoder and FacetDecoder against the golden model, through their stream ports.

Every block is checked bit for bit and in order, under random input gaps and random output
backpressure, with the lib.stream rules checked on every cycle:

* ``o.valid`` does not depend combinationally on ``o.ready``;
* once ``o.valid`` is high it stays high, with the same payload, until ``o.ready`` takes it;
* no block is lost, duplicated or reordered; after a reset no stale block comes out.

Seeds are printed; rerun a case with FACET_SEED=<seed>.
"""

import gc
import os
import random
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
from tb.ports import array_to_int, int_to_packed, int_to_values

CONFIGS = [Config("bf16", 32, 8), Config("bf16", 16, 8), Config("fp16", 32, 8),
           Config("fp32", 16, 8), Config("bf16", 32, 8, policy="significance"),
           Config("fp32", 16, 8, policy="significance")]
IDS = [c.name for c in CONFIGS]
MINILM = Path(__file__).resolve().parent.parent / "data" / "minilm_acts.npz"


def _rng(name):
    seed = int(os.environ.get("FACET_SEED", zlib.crc32(name.encode())))
    print(f"{name}: seed {seed} (FACET_SEED={seed} to rerun)")
    return np.random.default_rng(seed), seed


def _minilm_blocks(cfg, per_tensor=2):
    """A few blocks of every tensor of the MiniLM dump, or none if it is absent."""
    if not MINILM.exists():
        return None
    with np.load(MINILM) as npz:
        parts = [npz[key].reshape(-1)[: per_tensor * cfg.n] for key in sorted(npz.files)]
    x = np.concatenate([p[: len(p) // cfg.n * cfg.n] for p in parts])
    return model.to_bits(x, cfg)


class Harness:
    """Drive a stream component cycle by cycle and collect its output blocks.

    ``p_gap``: probability that the producer idles before offering a block. ``p_stall``:
    probability that the consumer is not ready in a cycle. ``resets``: input indices before
    which a reset is applied (the stream in flight is dropped).
    """

    def __init__(self, dut, *, seed, p_gap=0.3, p_stall=0.3, resets=(), garbage_width=None):
        self.dut = dut
        self.seed = seed
        self.p_gap = p_gap
        self.p_stall = p_stall
        self.resets = set(resets)
        self.errors = []
        self.outputs = []  # list of (epoch, payload); epoch counts resets
        self.accept_cycles = []
        self.output_cycles = []

    def run(self, payloads, max_cycles=None):
        dut = self.dut
        m = Module()
        m.domains.sync = cd = ClockDomain()
        m.submodules.dut = dut
        i_payload = Value.cast(dut.i.payload)
        o_payload = Value.cast(dut.o.payload)
        width = len(i_payload)
        max_cycles = max_cycles or 8 * len(payloads) + 50
        rng = random.Random(self.seed)

        async def bench(ctx):
            idx, offering, epoch = 0, False, 0
            held = None  # payload that was valid and not taken last cycle
            for cycle in range(max_cycles):
                if idx in self.resets and not offering:
                    self.resets.discard(idx)
                    ctx.set(dut.i.valid, 0)
                    ctx.set(dut.o.ready, 0)
                    ctx.set(cd.rst, 1)
                    await ctx.tick()
                    ctx.set(cd.rst, 0)
                    epoch += 1
                    held = None
                    continue
                # producer: once valid, hold valid and payload until taken
                if not offering and idx < len(payloads) and rng.random() >= self.p_gap:
                    offering = True
                if offering:
                    ctx.set(dut.i.valid, 1)
                    ctx.set(i_payload, payloads[idx])
                else:
                    ctx.set(dut.i.valid, 0)
                    ctx.set(i_payload, rng.getrandbits(width))  # garbage while not valid
                # consumer, and the check that valid does not depend on ready
                ready = rng.random() >= self.p_stall
                ctx.set(dut.o.ready, 0)
                valid_0 = ctx.get(dut.o.valid)
                ctx.set(dut.o.ready, 1)
                valid_1 = ctx.get(dut.o.valid)
                ctx.set(dut.o.ready, ready)
                if valid_0 != valid_1:
                    self.errors.append(f"cycle {cycle}: o.valid depends on o.ready")
                valid = ctx.get(dut.o.valid)
                payload = ctx.get(o_payload)
                if held is not None and (not valid or payload != held):
                    self.errors.append(f"cycle {cycle}: o.valid dropped or payload changed "
                                       "before the block was taken")
                held = payload if valid and not ready else None
                if valid and ready:
                    self.outputs.append((epoch, payload))
                    self.output_cycles.append(cycle)
                if offering and ctx.get(dut.i.ready):
                    self.accept_cycles.append(cycle)
                    offering = False
                    idx += 1
                await ctx.tick()
                if idx == len(payloads) and len(self.outputs) == len(self.accept_cycles):
                    break

        sim = Simulator(m)
        sim.add_clock(1e-8)
        sim.add_testbench(bench)
        sim.run()
        assert not self.errors, self.errors[:5]
        return [p for _, p in self.outputs]


def _enc_payloads(raw, cfg):
    return [array_to_int(row, cfg.fmt.width) for row in raw]


def _check_encoder(cfg, raw, seed, **kw):
    want = [array_to_int(row, 8) for row in model.encode(raw, cfg)]
    got = Harness(FacetEncoder(cfg, kw.pop("stages", 1)), seed=seed, **kw).run(
        _enc_payloads(raw, cfg))
    _compare(got, want, lambda p: int_to_packed(p, cfg))


def _check_decoder(cfg, packed, seed, **kw):
    want_vals = model.decode(packed, cfg).reshape(-1, cfg.n)
    want = [array_to_int(row, cfg.fmt.width) for row in want_vals]
    got = Harness(FacetDecoder(cfg, kw.pop("stages", 1)), seed=seed, **kw).run(
        [array_to_int(row, 8) for row in packed])
    _compare(got, want, lambda p: int_to_values(p, cfg))


def _compare(got, want, show):
    assert len(got) == len(want), f"{len(got)} blocks out, {len(want)} expected"
    for b, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"block {b}: got {show(g)}, want {show(w)}"


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_encoder(cfg):
    rng, seed = _rng("encoder " + cfg.name)
    raw = stimulus.encoder_values(cfg, 48, rng, minilm=False)[0]
    _check_encoder(cfg, raw, seed)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_decoder(cfg):
    rng, seed = _rng("decoder " + cfg.name)
    raw = stimulus.encoder_values(cfg, 24, rng, minilm=False)[0]
    packed = np.concatenate([model.encode(raw, cfg), stimulus.random_blocks(cfg, 24, rng)[0]])
    packed[-1, :] = 0xFF
    packed[-2, :] = 0
    _check_decoder(cfg, packed, seed)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_minilm(cfg):
    raw = _minilm_blocks(cfg)
    if raw is None:
        unavailable(f"{MINILM} not present (make data)")
    rng, seed = _rng("minilm " + cfg.name)
    _check_encoder(cfg, raw, seed)
    _check_decoder(cfg, model.encode(raw, cfg), seed)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
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

    want = [array_to_int(row, cfg.fmt.width)
            for row in model.decode(model.encode(raw, cfg), cfg).reshape(-1, cfg.n)]
    got = Harness(Loop(), seed=seed).run(_enc_payloads(raw, cfg))
    _compare(got, want, lambda p: int_to_values(p, cfg))


@pytest.mark.parametrize("stages", [0, 1, 2, 3])
@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_stages(which, stages):
    """Every pipeline depth on one config: latency, full throughput, and backpressure."""
    cfg = Config("bf16", 16, 8)
    rng, seed = _rng(f"stages {which} {stages}")
    raw = stimulus.encoder_values(cfg, 16, rng, minilm=False)[0]
    cls = FacetEncoder if which == "encoder" else FacetDecoder
    payloads = (_enc_payloads(raw, cfg) if which == "encoder"
                else [array_to_int(row, 8) for row in model.encode(raw, cfg)])
    dut = cls(cfg, stages)
    assert dut.latency == stages
    # Full throughput: one block per cycle, the first out `latency` cycles after it went in.
    h = Harness(dut, seed=seed, p_gap=0, p_stall=0)
    h.run(payloads)
    assert h.accept_cycles == list(range(len(payloads)))
    assert h.output_cycles == [c + stages for c in h.accept_cycles]
    # Buffering: with the output stalled, the pipeline takes exactly `stages` blocks (an empty
    # stage accepts whatever the downstream ready), then gives them out in order.
    assert _capacity(cls(cfg, stages), payloads) == stages
    # Random gaps and backpressure.
    if which == "encoder":
        _check_encoder(cfg, raw, seed, stages=stages, p_gap=0.4, p_stall=0.5)
    else:
        _check_decoder(cfg, np.concatenate([model.encode(raw, cfg),
                                            stimulus.random_blocks(cfg, 8, rng)[0]]),
                       seed, stages=stages, p_gap=0.4, p_stall=0.5)


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


@pytest.mark.parametrize("stages", [1, 3])
@pytest.mark.parametrize("which", ["encoder", "decoder"])
def test_reset_mid_stream(which, stages):
    """A reset drops the blocks in flight: after it, only blocks sent after it come out."""
    cfg = Config("bf16", 16, 8)
    rng, seed = _rng(f"reset {which} {stages}")
    raw = stimulus.encoder_values(cfg, 16, rng, minilm=False)[0]
    if which == "encoder":
        cls, payloads = FacetEncoder, _enc_payloads(raw, cfg)
        want = [array_to_int(row, 8) for row in model.encode(raw, cfg)]
    else:
        packed = model.encode(raw, cfg)
        cls, payloads = FacetDecoder, [array_to_int(row, 8) for row in packed]
        want = [array_to_int(row, cfg.fmt.width) for row in model.decode(packed, cfg).reshape(-1, cfg.n)]
    cut = len(payloads) // 2
    h = Harness(cls(cfg, stages), seed=seed, p_stall=0.6, resets=[cut])
    h.run(payloads)
    before = [p for e, p in h.outputs if e == 0]
    after = [p for e, p in h.outputs if e == 1]
    assert before == want[:len(before)], "blocks before the reset out of order"
    assert len(before) < cut, "backpressure should have left blocks in flight"
    assert after == want[cut:], "a stale block came out after the reset"


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
