"""cocotb regression of the generated Verilog, run from pytest.

Fast subset (default selection, ``FAST_CONFIGS``): the reference config bf16/N=32/T=8 under
every policy and fp16/N=16/T=8 (``plane``), one pytest test per cocotb test
(encoder, decoder, decoder_random, loopback, reset), 2000+ blocks each. Slow sweep
(``-m slow``, ``make regress``): every policy x format x N {8,16,32,64} x T {6,8,10,12}; valid
configs run all five cocotb tests (``python -m tb.summary`` lists the configs that
:class:`facet.Config` rejects). Test ids name the policy,
e.g. ``test_rtl[bf16_n32_t8_significance-encoder]``, ``test_sweep[fp16_n64_t12_plane]``.

Environment: ``SIM`` (verilator, default; icarus), ``SEED`` (rerun a seed), ``WAVES=1``
(FST for Verilator, VCD for Icarus, in the run directory), ``FACET_TB_BLOCKS`` /
``FACET_TB_SLOW_BLOCKS`` (blocks per test; defaults 2000 / 1000 on Verilator,
200 / 100 on Icarus), ``FACET_TB_STAGES`` (pipeline stages, default 1),
``FACET_TB_MINILM_ALL=1`` (feed every block of the MiniLM dump, not a sample of each array).
"""

import json
import os
import time

import pytest

from facet.config import Config

from . import environment
from . import sim as tbsim
from . import stimulus
from .configs import FAST_CONFIGS, case_id, spec_id, sweep

KINDS = ("encoder", "decoder", "decoder_random", "loopback", "reset")
#: Blocks per cocotb test (the reset test gets this many per stream, encoder and decoder).
#: Icarus runs these designs some 100x slower than Verilator, hence its smaller defaults.
BLOCKS = {"verilator": (2000, 1000), "icarus": (200, 100)}


def blocks(sim, slow):
    env = os.environ.get("FACET_TB_SLOW_BLOCKS" if slow else "FACET_TB_BLOCKS")
    if env:
        return int(env)
    return BLOCKS.get(sim, BLOCKS["verilator"])[1 if slow else 0]


STAGES = int(os.environ.get("FACET_TB_STAGES", "1"))
MINILM_ALL = os.environ.get("FACET_TB_MINILM_ALL", "0") == "1"
REGRESS_DIR = tbsim.ROOT / "build" / "regress"


@pytest.fixture(scope="session")
def simulator():
    sim = environment.simulator()
    reason = environment.prepare_simulator(sim)
    if reason:
        environment.unavailable(reason)
    return sim


def _record(request, rec):
    request.node.user_properties.append(("facet_tb", rec))


def _run(request, sim, cfg, kinds, nblocks, run_name, regress=False):
    seed = tbsim.pick_seed()
    print(f"[facet-tb] {cfg.name} {'+'.join(kinds)} sim={sim} seed={seed} "
          f"(rerun: SEED={seed})")
    t0 = time.monotonic()
    try:
        build = tbsim.ensure_build(cfg, STAGES, sim)
    except RuntimeError as exc:  # simulator build failed
        bdir = tbsim.build_dir_for(cfg, STAGES, sim, tbsim.waves_enabled())
        pytest.fail(f"{cfg.name}: {sim} build failed: {exc}\n"
                    f"{tbsim.log_tail(bdir / 'build.log')}", pytrace=False)
    if build["waves"]:
        fmt = tbsim.waves_format(sim, True)
        print(f"[facet-tb] waves: {build['build_dir'] / run_name / ('dump.' + fmt)}"
              + ("" if fmt == "fst" or sim != "verilator" else
                 " (VCD: Verilator's FST writer needs the lz4 and zlib headers, "
                 "e.g. apt-get install liblz4-dev zlib1g-dev)"))
    arrays = stimulus.build_stimulus(kinds, cfg, nblocks, seed, minilm_all=MINILM_ALL)
    results, sim_wall, error = tbsim.run_tests(build, cfg, STAGES, kinds, arrays, seed, run_name)
    wall = time.monotonic() - t0
    blocks = sum(r.get("blocks_checked", 0) for r in results.values())
    passed = error is None and len(results) == len(kinds) and all(
        r.get("passed") for r in results.values())
    rec = {
        "config": cfg.name, "config_id": tbsim.config_id(cfg, STAGES), "stages": STAGES,
        "format": cfg.format, "block": cfg.block, "bits": cfg.bits, "k": cfg.k,
        "policy": cfg.policy,
        "sim": sim, "tests": list(kinds), "seed": seed, "blocks_checked": blocks,
        "blocks_per_test": {k: r.get("blocks_checked", 0) for k, r in results.items()},
        "passed": passed, "wall_s": round(wall, 2), "sim_s": round(sim_wall, 2),
        "build_s": round(build["build_s"], 2), "gen_s": round(build["gen_s"], 2),
        "build_reused": build["reused"], "run_dir": str(build["build_dir"] / run_name),
        "error": error, "time": time.time(),
        "session": os.environ.get("FACET_TB_SESSION"),
        "latency": {k: r.get("latency_first") for k, r in results.items()
                    if r.get("latency_first") is not None},
    }
    run_dir = build["build_dir"] / run_name
    (run_dir / "run.json").write_text(json.dumps(rec | {"results": results}, indent=2))
    if regress:
        out = REGRESS_DIR / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{rec['config_id']}_{sim}.json").write_text(json.dumps(rec, indent=2))
    _record(request, rec)
    print(f"[facet-tb] {cfg.name} {'+'.join(kinds)}: {blocks} blocks checked, "
          f"{'PASS' if passed else 'FAIL'} ({sim}, {wall:.1f} s, build {build['build_s']:.1f} s)")
    if not passed:
        msgs = [f"{cfg.name} {'+'.join(kinds)} FAILED on {sim} (rerun: SEED={seed}); "
                f"run dir {run_dir}"]
        if error:
            msgs.append(f"error: {error}")
        for r in results.values():
            if not r.get("passed"):
                msgs.append(_describe_failure(r))
        if not results:
            msgs.append(tbsim.log_tail(run_dir / "sim.log"))
        pytest.fail("\n".join(msgs), pytrace=False)


def _describe_failure(r):
    lines = [f"- test_{r['test']}: {r['blocks_checked']} blocks checked"
             + (f"; {r['error']}" if r.get("error") else "")]
    for name, sb in r.get("scoreboards", {}).items():
        if sb["mismatch_count"] or sb["error_count"]:
            lines.append(f"  [{name}] {sb['mismatch_count']} mismatching blocks, "
                         f"{sb['error_count']} protocol/X errors")
            for m in sb["mismatches"][:2]:
                lines.append(f"    block #{m['index']} ({m.get('category')}) input {m['input']}\n"
                             f"      expected {m['expected']}\n      got      {m['got']}")
            lines.extend(f"    {e}" for e in sb["errors"][:4])
    return "\n".join(lines)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spec", FAST_CONFIGS, ids=lambda s: spec_id(*s))
def test_rtl(request, simulator, spec, kind):
    """Fast subset: one cocotb test on one config, 2000+ blocks (Verilator)."""
    fmt, n, t, policy = spec
    _run(request, simulator, Config(fmt, n, t, policy=policy), [kind], blocks(simulator, False),
         kind)


_VALID, _ = sweep()


@pytest.mark.slow
@pytest.mark.parametrize("cfg", _VALID, ids=case_id)
def test_sweep(request, simulator, cfg):
    """Full sweep: all five cocotb tests in one simulator run per valid config."""
    _run(request, simulator, cfg, KINDS, blocks(simulator, True), "sweep", regress=True)

