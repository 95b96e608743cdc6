"""Verilator lint (``--lint-only -Wall``) of the generated Verilog, as a user runs it.

``facet gen`` writes beside each module a waiver file that waives only the code generator's
warnings (DECLFILENAME, PROCASSINIT, UNUSEDSIGNAL on lines that declare no port; see
:func:`facet.generate.lint_waivers`). With it, ``verilator --lint-only -Wall x.vlt x.v`` must
print nothing: any warning, an unused port among them, fails the test.
"""

import json
import re
import subprocess

import pytest

from facet.cli import main as facet_main
from facet.config import Config
from facet.generate import generate
from tb.environment import prepare_simulator, unavailable


@pytest.fixture(scope="module")
def verilator():
    reason = prepare_simulator("verilator")
    if reason:
        unavailable(reason)


@pytest.mark.parametrize("cfg,stages", [
    (Config("bf16", 32, 8), 1),
    (Config("bf16", 32, 8), 3),
    (Config("fp32", 16, 8), 2),
    (Config("bf16", 32, 8, policy="significance"), 1),
    (Config("bf16", 16, 8, policy="significance"), 3),
    (Config("fp16", 8, 10, policy="significance"), 0),
    (Config("fp32", 16, 8, policy="significance"), 2),
    (Config("bf16", 8, 8, policy="vlc"), 3),
    pytest.param(Config("bf16", 32, 8, policy="window"), 1, marks=pytest.mark.slow),
    (Config("bf16", 16, 4, policy="window"), 3),
    (Config("fp16", 8, 10, policy="window"), 0),
    (Config("fp32", 8, 8, policy="window"), 2),
], ids=lambda v: v.name if isinstance(v, Config) else f"s{v}")
def test_verilator_lint(verilator, cfg, stages, tmp_path):
    args = ["gen", "--format", cfg.format, "--block", str(cfg.block), "--bits", str(cfg.bits),
            "--policy", cfg.policy, "--stages", str(stages), "-o", str(tmp_path)]
    assert facet_main(args) == 0
    for module in ("facet_encoder", "facet_decoder"):
        _lint(tmp_path, module)
    _check_waivers(tmp_path)


def _lint(path, module):
    r = subprocess.run(["verilator", "--lint-only", "-Wall", f"{module}.vlt", f"{module}.v"],
                       cwd=path, capture_output=True, text=True, timeout=300)
    warnings = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("%")]
    assert r.returncode == 0 and not warnings, f"{module}: " + "\n".join(warnings[:20])


@pytest.mark.parametrize("codec,fmt,block,stages", [
    ("mxint8", "bf16", 32, 1), ("mxfp8-e4m3", "bf16", 32, 1), ("mxint8", "fp16", 16, 0),
    ("mxfp8-e4m3", "fp32", 8, 2),
])
def test_verilator_lint_mx(verilator, codec, fmt, block, stages, tmp_path):
    args = ["gen", "--codec", codec, "--format", fmt, "--block", str(block),
            "--stages", str(stages), "-o", str(tmp_path)]
    assert facet_main(args) == 0
    for part in ("encoder", "decoder"):
        _lint(tmp_path, f"{codec.replace('-', '_')}_{part}")


def _check_waivers(path):
    """No UNUSEDSIGNAL waiver covers a line that declares a signal named like a port of its
    module."""
    decl = re.compile(r"\s*(input|output|inout|wire|reg)\b(?:\s*\[[^]]*\])?\s*(\\\S+|[\w$]+)")
    for module in ("facet_encoder", "facet_decoder"):
        text = (path / f"{module}.v").read_text()
        names, ports, start = {}, {}, 0  # line -> declared name; line -> its module's ports
        for body in re.split(r"(?m)^endmodule\n", text):
            here = {}
            for no, line in enumerate(body.splitlines(), start + 1):
                if m := decl.match(line):
                    here[no] = m.groups()
            mod_ports = {n for kind, n in here.values() if kind in ("input", "output", "inout")}
            names |= {no: n for no, (_, n) in here.items()}
            ports |= {no: mod_ports for no in here}
            start += len(body.splitlines()) + 1
        waived = re.findall(r"lint_off -rule UNUSEDSIGNAL .*-lines (\d+)-(\d+)",
                            (path / f"{module}.vlt").read_text())
        assert waived
        for first, last in waived:
            for no in range(int(first), int(last) + 1):
                assert no not in names or names[no] not in ports[no], (module, no)


def test_generate_is_reproducible(tmp_path):
    """Same arguments, same bytes; config.json describes ports, latency and packing order."""
    cfg = Config("bf16", 8, 8)
    first = generate(cfg, 2, tmp_path / "a")
    second = generate(cfg, 2, tmp_path / "b")
    assert first == second
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["config.json", "facet_decoder.il", "facet_decoder.v", "facet_decoder.vlt",
                     "facet_encoder.il", "facet_encoder.v", "facet_encoder.vlt"]
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


# The conversion does not depend on the policy; the `vlc` case (six elaborations of its
# netlists, about 40 s) is in the slow suite (`pytest -m slow`).
@pytest.mark.parametrize("cfg", [Config("bf16", 8, 8),
                                 pytest.param(Config("bf16", 8, 8, policy="vlc"), marks=pytest.mark.slow)],
                         ids=lambda c: c.name)
def test_generate_matches_amaranth_conversions(cfg, tmp_path):
    """``generate`` builds each netlist once and emits it twice; the files must be the bytes
    that Amaranth's own ``rtlil.convert`` and ``verilog.convert`` write."""
    from amaranth.back import rtlil, verilog

    from facet.generate import _explicit_operand_widths
    from facet.rtl import FacetDecoder, FacetEncoder

    generate(cfg, 1, tmp_path)
    for name, cls in (("facet_encoder", FacetEncoder), ("facet_decoder", FacetDecoder)):
        il = rtlil.convert(cls(cfg, 1), name=name, emit_src=False)
        with _explicit_operand_widths():
            v = verilog.convert(cls(cfg, 1), name=name, emit_src=False)
        assert (tmp_path / f"{name}.il").read_text() == il, name
        assert (tmp_path / f"{name}.v").read_text() == v, name
