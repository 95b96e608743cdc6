"""Cached simulator builds of the cocotb top, and cocotb test runs, from pytest.

One build per (config, stages, simulator, waves) under ``build/sim/<config>_s<stages>_top_<sim>``:
``facet gen``'s Verilog of the encoder and decoder plus the wrapper top (:mod:`tb.wrapper`).
Every cocotb test of that config runs on the same binary; each test run has its own directory
below it (``<build>/<test>/``), so waveforms and results of parallel runs don't collide.
Simulator discovery is in :mod:`tb.environment`.
"""

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

from facet.config import Config
from facet.generate import generate

from .environment import fst_available, simulator, simulator_version
from .wrapper import TOP, dut_info, wrapper_verilog

__all__ = ["ROOT", "config_id", "build_dir_for", "ensure_build", "run_tests", "waves_enabled",
           "waves_format", "pick_seed", "log_tail", "simulator"]

ROOT = Path(__file__).resolve().parent.parent
SIM_ROOT = ROOT / "build" / "sim"
TEST_MODULE = "tb.cocotb_facet"
#: C++ optimization of the Verilated model. The testbench is Python-bound, so the time of an
#: optimized C++ build (about twice as long) is never won back. FACET_TB_CXX_OPT overrides.
CXX_OPT = os.environ.get("FACET_TB_CXX_OPT", "-O0")
#: Verilator's runtime objects, compiled once for every build (:mod:`tb.objcache`).
OBJCACHE = Path(__file__).with_name("objcache.py")
#: The testbench touches only the top's ports, so only they are made visible to VPI. cocotb's
#: runner makes every signal public instead (``--public-flat-rw``), which keeps Verilator from
#: inlining and folding the codecs' logic: builds and runs of the large configs take several
#: times longer.
PUBLIC_VLT = f"""`verilator_config
public_flat_rw -module "{TOP}" -var "*"
"""


def waves_enabled():
    return os.environ.get("WAVES", "0").strip().lower() in ("1", "true", "yes", "on")


def waves_format(sim, waves):
    """``fst`` or ``vcd`` (Verilator without the lz4/zlib headers), None without waves."""
    if not waves:
        return None
    return "vcd" if sim == "verilator" and not fst_available() else "fst"


def pick_seed():
    """``SEED`` from the environment, else a fresh random 32-bit seed."""
    seed = os.environ.get("SEED", "").strip()
    return int(seed, 0) if seed else random.SystemRandom().randrange(1, 2**31)


def config_id(cfg: Config, stages):
    return f"{cfg.name}_s{stages}"


def build_dir_for(cfg: Config, stages, sim, waves):
    return SIM_ROOT / f"{config_id(cfg, stages)}_top_{sim}{'_waves' if waves else ''}"


def log_tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def _locked(path):
    """Serialize builds of one directory across pytest-xdist workers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _runner(sim):
    """cocotb's runner for ``sim``; for Verilator, one whose build makes only the top's ports
    public (:data:`PUBLIC_VLT`, written beside the sources as ``public.vlt``)."""
    from cocotb_tools.runner import Verilator, get_runner

    if sim != "verilator":
        return get_runner(sim)

    class TopPortsVerilator(Verilator):
        def _build_command(self):
            cmds = super()._build_command()
            vlt = Path(self.build_dir) / "rtl" / "public.vlt"
            vlt.write_text(PUBLIC_VLT)
            cmds[0] = [arg for arg in cmds[0] if arg != "--public-flat-rw"] + [str(vlt)]
            return cmds

    return TopPortsVerilator()


def _build_args(sim, waves):
    if sim != "verilator":
        return []
    args = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-UNOPTFLAT",
            "--x-assign", "unique", "--x-initial", "unique"]
    return args + (["--trace-fst"] if waves_format(sim, waves) == "fst" else [])


def _make_overrides(sim):
    """Variables for Verilator's ``make``, passed through MAKEFLAGS (the runner has no option)."""
    if sim != "verilator":
        return ""
    over = [f"OPT_FAST={CXX_OPT}", f"OPT_SLOW={CXX_OPT}"]
    # The PyPI wheel's verilated.mk is configured with an empty precompiled-header option,
    # which breaks every build large enough to be split into several C++ files.
    mk = Path(os.environ.get("VERILATOR_ROOT", "")) / "include" / "verilated.mk"
    if mk.is_file() and any(line.replace(" ", "") == "CFG_CXXFLAGS_PCH_I="
                            for line in mk.read_text().splitlines()):
        over.append("CFG_CXXFLAGS_PCH_I=-include")
    return " ".join(over)


@contextlib.contextmanager
def _makeflags(extra, sim):
    """MAKEFLAGS plus ``extra``; for Verilator also the runtime object cache, which changes no
    output and so is not part of the build key."""
    saved = {k: os.environ.get(k) for k in ("MAKEFLAGS", "FACET_TB_OBJCACHE")}
    if sim == "verilator" and " " not in str(OBJCACHE):
        extra = f"{extra} OBJCACHE={OBJCACHE}".strip()
        os.environ["FACET_TB_OBJCACHE"] = str(SIM_ROOT / ".objcache")
    if extra:
        old = saved["MAKEFLAGS"]
        os.environ["MAKEFLAGS"] = f"{old} {extra}" if old else extra
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _build_key(cfg, stages, sim, waves):
    """Hash of everything a build is a function of: the generator's sources (``facet.rtl``,
    ``facet.generate``, ``facet.config``) and the wrapper's, the Amaranth version, the config,
    the stages and the simulator's settings. An equal key reuses the build as it is."""
    import facet

    pkg = Path(facet.__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*(pkg / "rtl").rglob("*.py"), pkg / "generate.py", pkg / "config.py"]):
        digest.update(str(path.relative_to(pkg)).encode() + path.read_bytes())
    digest.update(Path(__file__).with_name("wrapper.py").read_bytes())
    digest.update(json.dumps([importlib.metadata.version("amaranth"), cfg.name, stages, sim, waves,
                              _build_args(sim, waves), simulator_version(sim),
                              _make_overrides(sim), PUBLIC_VLT]).encode())
    return digest.hexdigest()


_BUILT = {}  # build dir -> info, per process


def ensure_build(cfg: Config, stages=1, sim=None, waves=None):
    """Generate the RTL of ``cfg`` and build the wrapper top, unless an identical build exists.

    Returns a dict with the build directory, the DUT infos and the time spent generating and
    building (0 when reused). Safe under pytest-xdist: builds of one directory are serialized
    with a file lock; ``build.stamp`` holds the :func:`_build_key` of the build in place.
    """
    sim = sim or simulator()
    waves = waves_enabled() if waves is None else waves
    bdir = build_dir_for(cfg, stages, sim, waves)
    if bdir in _BUILT:
        return dict(_BUILT[bdir], gen_s=0.0, build_s=0.0, reused=True)
    binary = bdir / (TOP if sim == "verilator" else "sim.vvp")
    stamp, rtl = bdir / "build.stamp", bdir / "rtl"
    gen_s = build_s = 0.0
    with _locked(bdir / ".lock"):
        key = _build_key(cfg, stages, sim, waves)
        reused = (stamp.is_file() and stamp.read_text() == key and binary.is_file()
                  and (rtl / "config.json").is_file())
        if not reused:
            stamp.unlink(missing_ok=True)
            shutil.rmtree(rtl, ignore_errors=True)
            t0 = time.monotonic()
            meta = generate(cfg, stages, rtl)
            enc, dec = dut_info(meta, "encoder"), dut_info(meta, "decoder")
            (rtl / f"{TOP}.v").write_text(wrapper_verilog(cfg, enc, dec))
            gen_s = time.monotonic() - t0
            # make does not track compiler flags: start the objects afresh.
            for old in [*bdir.glob("Vtop*"), *bdir.glob("*.o"), *bdir.glob("*.d"), binary]:
                if old.is_file():
                    old.unlink()
            with _makeflags(_make_overrides(sim), sim):
                _runner(sim).build(
                    sources=[rtl / "facet_encoder.v", rtl / "facet_decoder.v", rtl / f"{TOP}.v"],
                    hdl_toplevel=TOP, build_dir=bdir, build_args=_build_args(sim, waves),
                    timescale=("1ns", "1ps"), waves=waves, always=True,
                    log_file=bdir / "build.log")
            build_s = time.monotonic() - t0 - gen_s
            stamp.write_text(key)
        else:
            meta = json.loads((rtl / "config.json").read_text())
            enc, dec = dut_info(meta, "encoder"), dut_info(meta, "decoder")
    info = {"build_dir": bdir, "encoder": enc, "decoder": dec, "sim": sim, "waves": waves}
    _BUILT[bdir] = info
    return dict(info, gen_s=gen_s, build_s=build_s, reused=reused)


def run_tests(build, cfg: Config, stages, kinds, stim_arrays, seed, run_name):
    """Run the cocotb tests ``kinds`` on ``build``; return ``(results, wall_s, error)``.

    ``results`` maps test kind -> the JSON the cocotb test wrote; ``error`` is None or the
    simulator/cocotb failure text.
    """
    from . import stimulus

    bdir = build["build_dir"]
    tdir = bdir / run_name
    shutil.rmtree(tdir, ignore_errors=True)
    tdir.mkdir(parents=True)
    stim = stimulus.save(tdir / "stimulus.npz", stim_arrays)
    (tdir / "tb_config.json").write_text(json.dumps({
        "config": cfg.to_dict() | {"name": cfg.name}, "stages": stages, "sim": build["sim"],
        "encoder": build["encoder"], "decoder": build["decoder"], "kinds": list(kinds),
    }, indent=2))
    if str(ROOT) not in sys.path:  # the simulator's PYTHONPATH is this process's sys.path
        sys.path.insert(0, str(ROOT))
    if build["sim"] == "verilator":  # registers without an init value start random, seeded
        plusargs = ["+verilator+rand+reset+2", f"+verilator+seed+{seed}"]
    else:  # one dump per run directory, not one per build
        plusargs = [f"+dumpfile_path={tdir / 'dump.fst'}"] if build["waves"] else []
    t0 = time.monotonic()
    error = None
    try:
        _runner(build["sim"]).test(
            test_module=TEST_MODULE, hdl_toplevel=TOP, hdl_toplevel_lang="verilog",
            test_filter=r"\.(" + "|".join(f"test_{k}" for k in kinds) + r")$",
            seed=seed, build_dir=bdir, test_dir=tdir,
            extra_env={"FACET_TB_CONFIG": str(tdir / "tb_config.json"),
                       "FACET_TB_STIMULUS": str(stim), "FACET_TB_RESULTS": str(tdir)},
            plusargs=plusargs, waves=build["waves"], results_xml=str(tdir / "results.xml"),
            timescale=("1ns", "1ps"), log_file=tdir / "sim.log")
    except SystemExit as exc:  # the runner exits on failing tests under pytest
        error = f"simulator/cocotb exit {exc.code}"
    except Exception as exc:  # noqa: BLE001 - report any runner failure as the test's error
        error = f"{type(exc).__name__}: {exc}"
    wall = time.monotonic() - t0
    results = {}
    for kind in kinds:
        path = tdir / f"result_{kind}.json"
        if path.is_file():
            results[kind] = json.loads(path.read_text())
        elif error is None:
            error = f"test_{kind} wrote no result (see {tdir / 'sim.log'})"
    return results, wall, error
