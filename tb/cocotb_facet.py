"""cocotb tests of the generated encoder and decoder, run on the wrapper top ``facet_tb_top``.

Run by ``tb/test_rtl.py`` through ``cocotb_tools.runner``; not a pytest module. Inputs come
from the environment: ``FACET_TB_CONFIG`` (tb_config.json: the facet Config, DUT infos),
``FACET_TB_STIMULUS`` (stimulus.npz written by the pytest side) and ``FACET_TB_RESULTS``
(directory for ``result_<test>.json``). Expected outputs come from :mod:`facet.model` only.
The seed is ``cocotb.RANDOM_SEED`` (``SEED=`` on the pytest side).
"""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock

from facet import model
from facet.config import Config

from .bench import Bench, BenchError, Phases, Scoreboard, StreamDriver, StreamMonitor, make_rng

WATCHDOG_CYCLES = 3000  # no transfer at all for this long: the DUT is stuck


# -- environment ----------------------------------------------------------------------------

class Env:
    def __init__(self, dut, kind):
        self.dut, self.kind = dut, kind
        self.tb = json.loads(Path(os.environ["FACET_TB_CONFIG"]).read_text())
        c = self.tb["config"]
        self.cfg = Config(format=c["format"], block=c["block"], bits=c["bits"], k=c["k"],
                          policy=c["policy"])
        self.stim = np.load(os.environ["FACET_TB_STIMULUS"])
        self.categories = [str(x) for x in self.stim["categories"]]
        self.out_dir = Path(os.environ["FACET_TB_RESULTS"])
        # SEED / COCOTB_RANDOM_SEED as given; cocotb derives RANDOM_SEED from it per test.
        self.seed = int(os.environ.get("COCOTB_RANDOM_SEED", "0") or 0)
        self.rng = make_rng(cocotb.RANDOM_SEED, kind)
        self.t0 = time.monotonic()
        self.nw = self.cfg.n * self.cfg.fmt.width
        self.four_state = self.tb.get("sim") != "verilator"  # X/Z exist (Icarus)
        self.b = self.cfg.budget
        dut._log.info("facet tb: %s %s seed=%s (rerun: SEED=%s)", self.cfg.name, kind,
                      self.seed, self.seed)

    def raw_ints(self, raw):
        raw = np.ascontiguousarray(np.asarray(raw).astype(f"<u{self.cfg.fmt.width // 8}"))
        return [int.from_bytes(row.tobytes(), "little") for row in raw]

    @staticmethod
    def block_ints(blocks):
        blocks = np.ascontiguousarray(blocks, dtype=np.uint8)
        return [int.from_bytes(row.tobytes(), "little") for row in blocks]

    def describe_raw(self, raw, labels):
        fmt = self.cfg.fmt

        def describe(i):
            vals = [f"{int(v):0{fmt.width // 4}x}" for v in raw[i]]
            return {"category": self.categories[int(labels[i])], "input_values": vals,
                    "input": f"{self.raw_ints(raw[i:i + 1])[0]:#x}"}
        return describe

    def describe_blocks(self, blocks, labels):
        def describe(i):
            return {"category": self.categories[int(labels[i])],
                    "input": f"{self.block_ints(blocks[i:i + 1])[0]:#x}",
                    "input_bytes": bytes(blocks[i]).hex()}
        return describe

    def write(self, blocks_in, scoreboards, extra=None, error=None):
        sbs = {name: sb.summary() for name, sb in scoreboards.items()}
        passed = error is None and all(sb.ok for sb in scoreboards.values())
        result = {
            "test": self.kind, "config": self.cfg.name, "stages": self.tb.get("stages"),
            "sim": self.tb.get("sim"), "seed": self.seed, "blocks_in": blocks_in,
            "blocks_checked": sum(s["checked"] for s in sbs.values()),
            "scoreboards": sbs, "passed": passed, "error": error,
            "sim_wall_s": round(time.monotonic() - self.t0, 2),
        }
        result.update(extra or {})
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / f"result_{self.kind}.json").write_text(json.dumps(result, indent=2))
        return result


def _fail_message(result):
    lines = [f"{result['config']} {result['test']} seed={result['seed']}: "
             f"{result['blocks_checked']} blocks checked"]
    if result.get("error"):
        lines.append(f"error: {result['error']}")
    for name, sb in result["scoreboards"].items():
        if sb["mismatch_count"] or sb["error_count"]:
            lines.append(f"[{name}] {sb['mismatch_count']} mismatches, {sb['error_count']} "
                         "protocol/X errors")
            for m in sb["mismatches"][:3]:
                lines.append(f"  block #{m['index']} ({m.get('category')}): input {m['input']}"
                             f"\n    expected {m['expected']}\n    got      {m['got']}")
            lines.extend(f"  {e}" for e in sb["errors"][:5])
    return "\n".join(lines)


async def _start(dut, env, loop):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.loop.value = 1 if loop else 0
    for name in ("enc_i_valid", "dec_i_valid", "enc_o_ready", "dec_o_ready", "rst"):
        getattr(dut, name).value = 0
    dut.enc_i_payload.value = 0
    dut.dec_i_payload.value = 0


def _watchdog(agents_progress):
    state = {"last": 0, "mark": None}

    def check(cycle):
        mark = tuple(agents_progress())
        if mark != state["mark"]:
            state["mark"], state["last"] = mark, cycle
        elif cycle - state["last"] > WATCHDOG_CYCLES:
            raise BenchError(f"no transfer for {WATCHDOG_CYCLES} cycles: the DUT is stuck "
                             f"(progress counters {mark})")
    return check


async def _drain(bench, phases):
    """32 more cycles with ready high: any extra output block is an error."""
    phases.force(0.0, 1.0)
    await bench.cycles(count=32)


def _check(result):
    assert result["passed"], _fail_message(result)


# -- single-stream tests --------------------------------------------------------------------

async def _stream_test(dut, kind, loop=False):
    env = Env(dut, kind)
    cfg = env.cfg
    rng = env.rng
    phases = Phases(rng)
    arr = env.stim[f"{kind}_in"]
    labels = env.stim[f"{kind}_label"]
    agents, sbs = [], {}
    if kind in ("encoder", "loopback"):
        inputs = env.raw_ints(arr)
        describe = env.describe_raw(arr, labels)
        encoded = model.encode(arr, cfg)
        sb_enc = Scoreboard("encoder", env.block_ints(encoded), describe)
        sbs["encoder"] = sb_enc
        if kind == "loopback":
            decoded = model.decode(encoded, cfg).reshape(-1, cfg.n)
            sb_loop = Scoreboard("loopback", env.raw_ints(decoded), describe)
            sbs["loopback"] = sb_loop

            def on_accept(i, c):
                sb_enc.expect(i, c)
                sb_loop.expect(i, c)
        else:
            on_accept = sb_enc.expect
        drv = StreamDriver("enc_i", dut.enc_i_valid, dut.enc_i_ready, dut.enc_i_payload, env.nw,
                           rng, phases, on_accept=on_accept, sb=sb_enc, idle_x=env.four_state)
        agents.append(drv)
        if loop:
            agents.append(StreamMonitor("enc_o", dut.enc_o_valid, None, dut.enc_o_payload, rng,
                                        phases, sb_enc, fire=dut.enc_o_fire))
            mon = StreamMonitor("dec_o", dut.dec_o_valid, dut.dec_o_ready, dut.dec_o_payload,
                                rng, phases, sb_loop)
        else:
            mon = StreamMonitor("enc_o", dut.enc_o_valid, dut.enc_o_ready, dut.enc_o_payload,
                                rng, phases, sb_enc)
    else:  # decoder, decoder_random
        inputs = env.block_ints(arr)
        describe = env.describe_blocks(arr, labels)
        decoded = model.decode(arr, cfg).reshape(-1, cfg.n)
        sb = Scoreboard(kind, env.raw_ints(decoded), describe)
        sbs[kind] = sb
        drv = StreamDriver("dec_i", dut.dec_i_valid, dut.dec_i_ready, dut.dec_i_payload, env.b,
                           rng, phases, on_accept=sb.expect, sb=sb, idle_x=env.four_state)
        agents.append(drv)
        mon = StreamMonitor("dec_o", dut.dec_o_valid, dut.dec_o_ready, dut.dec_o_payload, rng,
                            phases, sb)
    agents.append(mon)
    bench = Bench(dut, agents, rng, phases)
    await _start(dut, env, loop)
    bench.in_reset = True
    await bench.cycles(count=3)
    bench.in_reset = False
    phases.force(0.0, 1.0, 65)  # steps before the first cycle: 64 full-rate cycles
    drv.load(enumerate(inputs))
    error = None
    extra = {}
    try:
        watchdog = _watchdog(lambda: (drv.accepted, mon.transfers))
        await bench.cycles(count=64, watchdog=watchdog)  # full-rate phase first
        extra["full_rate_accepts_first_64"] = drv.accepted
        await bench.cycles(until=lambda: drv.idle and all(not s.queue for s in sbs.values()),
                           max_cycles=200 * len(inputs) + 20_000, watchdog=watchdog)
        await _drain(bench, phases)
    except BenchError as exc:
        error = str(exc)
    pending = {n: len(s.queue) for n, s in sbs.items() if s.queue}
    if pending and error is None:
        error = f"outputs missing at the end: {pending}"
    main_sb = sbs.get("loopback") or next(iter(sbs.values()))
    lat = main_sb.latencies
    declared = _declared_latency(env.tb, kind)
    extra.update({"cycles": bench.cycle, "latency_first": lat[0] if lat else None,
                  "declared_latency": declared})
    # Pipeline contract (config.json): latency = declared cycles, one block per clock. The
    # first 64 cycles run at full rate (no gaps, ready high), so both show there.
    if error is None and lat and declared is not None and lat[0] != declared:
        error = (f"latency {lat[0]} cycles from input transfer to output valid, config.json "
                 f"declares {declared}")
    if error is None and extra["full_rate_accepts_first_64"] < 64 and len(inputs) >= 64:
        error = (f"throughput: {extra['full_rate_accepts_first_64']} blocks accepted in 64 "
                 "full-rate cycles, expected one per clock")
    result = env.write(len(inputs), sbs, extra, error)
    if kind == "loopback":
        result["blocks_checked"] = sbs["loopback"].checked  # end-to-end blocks
        result["encoder_blocks_checked"] = sbs["encoder"].checked
        env.out_dir.joinpath(f"result_{kind}.json").write_text(json.dumps(result, indent=2))
    dut._log.info("facet tb: %s %s: %d blocks checked in %d cycles, %s", cfg.name, kind,
                  result["blocks_checked"], bench.cycle, "PASS" if result["passed"] else "FAIL")
    _check(result)


def _declared_latency(tb, kind):
    enc, dec = tb.get("encoder", {}).get("latency"), tb.get("decoder", {}).get("latency")
    if kind == "encoder":
        return enc
    if kind in ("decoder", "decoder_random"):
        return dec
    if kind == "loopback" and enc is not None and dec is not None:
        return enc + dec
    return None


@cocotb.test()
async def test_encoder(dut):
    """Encoder stream against facet.model.encode: every category, gaps and backpressure."""
    await _stream_test(dut, "encoder")


@cocotb.test()
async def test_decoder(dut):
    """Decoder stream against facet.model.decode, fed blocks the model's encoder produced."""
    await _stream_test(dut, "decoder")


@cocotb.test()
async def test_decoder_random(dut):
    """Decoder robustness: arbitrary blocks decode like facet.model.decode, with no X/Z."""
    await _stream_test(dut, "decoder_random")


@cocotb.test()
async def test_loopback(dut):
    """Encoder -> decoder inside the wrapper equals decode(encode(x)) of the model."""
    await _stream_test(dut, "loopback", loop=True)


# -- reset ------------------------------------------------------------------------------------

@cocotb.test()
async def test_reset(dut):
    """Reset mid-stream on both pipelines at once: no stale or partial block survives.

    Episodes of traffic are cut by a 1-3 cycle reset at a random moment: with blocks in
    flight, with the outputs stalled through the reset so blocks wait at the output, or while
    inputs are presented. Blocks accepted before a reset are dropped from the expectation;
    the ones not yet accepted are sent after it. After each reset the outputs must be exactly
    the blocks of the inputs accepted after it, and ``valid`` must stay low until an input is
    accepted.
    """
    env = Env(dut, "reset")
    cfg, rng = env.cfg, env.rng
    phases = Phases(rng)
    enc_raw, enc_lab = env.stim["reset_enc_in"], env.stim["reset_enc_label"]
    dec_blk, dec_lab = env.stim["reset_dec_in"], env.stim["reset_dec_label"]
    sb_enc = Scoreboard("encoder", env.block_ints(model.encode(enc_raw, cfg)),
                        env.describe_raw(enc_raw, enc_lab))
    sb_dec = Scoreboard("decoder", env.raw_ints(model.decode(dec_blk, cfg).reshape(-1, cfg.n)),
                        env.describe_blocks(dec_blk, dec_lab))
    mon_enc = StreamMonitor("enc_o", dut.enc_o_valid, dut.enc_o_ready, dut.enc_o_payload, rng,
                            phases, sb_enc)
    mon_dec = StreamMonitor("dec_o", dut.dec_o_valid, dut.dec_o_ready, dut.dec_o_payload, rng,
                            phases, sb_dec)

    def accept(sb, mon):
        def on_accept(i, c):
            mon.require_idle = False
            sb.expect(i, c)
        return on_accept

    drv_enc = StreamDriver("enc_i", dut.enc_i_valid, dut.enc_i_ready, dut.enc_i_payload, env.nw,
                           rng, phases, on_accept=accept(sb_enc, mon_enc), sb=sb_enc,
                           idle_x=env.four_state)
    drv_dec = StreamDriver("dec_i", dut.dec_i_valid, dut.dec_i_ready, dut.dec_i_payload, env.b,
                           rng, phases, on_accept=accept(sb_dec, mon_dec), sb=sb_dec,
                           idle_x=env.four_state)
    bench = Bench(dut, [drv_enc, drv_dec, mon_enc, mon_dec], rng, phases)
    await _start(dut, env, loop=False)
    bench.in_reset = True
    await bench.cycles(count=3)
    bench.in_reset = False

    enc_items = list(enumerate(env.raw_ints(enc_raw)))
    dec_items = list(enumerate(env.block_ints(dec_blk)))
    n_ep = 8
    cuts = sorted(rng.sample(range(1, len(enc_items)), n_ep - 1))
    bounds = list(zip([0] + cuts, cuts + [len(enc_items)]))
    watchdog = _watchdog(lambda: (drv_enc.accepted, drv_dec.accepted, mon_enc.transfers,
                                  mon_dec.transfers))
    resets = 0
    error = None
    try:
        for ep, (lo, hi) in enumerate(bounds):
            dlo, dhi = lo * len(dec_items) // len(enc_items), hi * len(dec_items) // len(enc_items)
            drv_enc.load(enc_items[lo:hi])
            drv_dec.load(dec_items[dlo:dhi])
            last = ep == len(bounds) - 1
            if last:
                await bench.cycles(until=lambda: drv_enc.idle and drv_dec.idle and not sb_enc.queue
                                   and not sb_dec.queue, max_cycles=400 * len(enc_items) + 20_000,
                                   watchdog=watchdog)
                await _drain(bench, phases)
                break
            target = rng.randint(1, hi - lo)
            start_e, start_d = drv_enc.accepted, drv_dec.accepted
            await bench.cycles(until=lambda: (drv_enc.accepted - start_e >= target
                                              or drv_enc.idle) and
                               (drv_dec.accepted - start_d >= target or drv_dec.idle),
                               max_cycles=400 * (hi - lo) + 20_000, watchdog=watchdog)
            style = ep % 3
            length = rng.randint(1, 3)
            if style == 1:
                # Stall the outputs so blocks wait there, and keep them stalled through the
                # reset and one cycle after it: a block that survived would show as valid.
                stall = rng.randint(2, 6)
                phases.force(0.0, 0.0, stall + length + 2)
                await bench.cycles(count=stall)
            elif style == 2:  # reset while inputs are being presented
                phases.force(0.0, rng.choice([0.0, 0.5]), 3 + length)
                await bench.cycles(count=rng.randint(0, 2))
            await bench.reset(length)
            resets += 1
            # Blocks accepted before the reset are gone; the ones not yet accepted (including
            # one being presented) are sent after it.
            drv_enc.requeue()
            drv_dec.requeue()
            sb_enc.reset()
            sb_dec.reset()
            mon_enc.require_idle = mon_dec.require_idle = True
            if style != 1:
                phases.force(rng.choice([0.0, 0.5]), rng.choice([1.0, 0.5]), rng.randint(8, 64))
    except BenchError as exc:
        error = str(exc)
    sbs = {"encoder": sb_enc, "decoder": sb_dec}
    pending = {n: len(s.queue) for n, s in sbs.items() if s.queue}
    if pending and error is None:
        error = f"outputs missing at the end: {pending}"
    result = env.write(len(enc_items) + len(dec_items), sbs,
                       {"resets": resets, "cycles": bench.cycle}, error)
    dut._log.info("facet tb: %s reset: %d blocks checked across %d resets, %s", cfg.name,
                  result["blocks_checked"], resets, "PASS" if result["passed"] else "FAIL")
    _check(result)
