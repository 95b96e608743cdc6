"""Verilog and RTLIL generation for one config: ``generate(cfg, stages, outdir)``.

Writes, into ``outdir``:

* ``facet_encoder.v``, ``facet_decoder.v``: Verilog-2005 of :class:`facet.rtl.FacetEncoder`
  and :class:`facet.rtl.FacetDecoder` (module names ``facet_encoder``, ``facet_decoder``);
* ``facet_encoder.il``, ``facet_decoder.il``: the same designs as RTLIL, for yosys;
* ``facet_encoder.vlt``, ``facet_decoder.vlt``: Verilator waivers of the code generator's
  warnings (see :func:`lint_waivers`), for ``verilator --lint-only -Wall x.vlt x.v``;
* ``config.json``: the parameters, the pipeline (stages, latency), the ports of each module
  as they appear in the Verilog, and the packing order.

For an MX baseline (a :class:`facet.rtl.mx.MxConfig`) the modules are
:class:`facet.rtl.mx.MxEncoder` and :class:`facet.rtl.mx.MxDecoder`, named after the codec:
``mxint8_encoder``, ``mxfp8_e4m3_decoder`` ...

The output is a function of the arguments only: generating twice gives the same bytes.
"""

import bisect
import contextlib
import json
import re
from pathlib import Path

from amaranth.back import rtlil, verilog
from amaranth.hdl import Shape, ValueCastable, _ast, _ir
from amaranth.lib import wiring

from .config import Config
from .rtl import FacetDecoder, FacetEncoder
from .rtl.mx import MxConfig, MxDecoder, MxEncoder
from .rtl.planes import plane_names

__all__ = ["generate", "packing_order", "signature_ports", "lint_waivers", "module_names"]

_DECL = re.compile(r"^\s*(wire|reg|input|output|inout)\b(?:\s+signed)?(?:\s*\[[^\]]*\])?\s*"
                   r"(\\\S+|[A-Za-z_][\w$]*)")


@contextlib.contextmanager
def _explicit_operand_widths():
    """Keep the operands of arithmetic and comparison cells at their full width.

    Amaranth's RTLIL backend trims the constant zero or sign extension off such operands
    (``ModuleEmitter.shorten_operand``), so the Verilog it writes leans on Verilog's implicit
    extension (``pc - delta`` with a 5-bit ``pc`` and a 3-bit ``delta``), which Verilator
    reports as WIDTHEXPAND. Untrimmed, the extension is written out (``{ 2'h0, delta }``);
    the logic is the same. Only the Verilog is written this way; the RTLIL for yosys is not.
    """
    emitter = getattr(rtlil, "ModuleEmitter", None)
    if emitter is None or not hasattr(emitter, "shorten_operand"):
        yield  # another amaranth: tests/test_lint.py will tell
        return
    original = emitter.shorten_operand
    emitter.shorten_operand = lambda self, value, *, signed: value
    try:
        yield
    finally:
        emitter.shorten_operand = original


def _emit_rtlil(netlist):
    """RTLIL text of an Amaranth ``netlist``: the emission half of ``rtlil.convert_fragment``."""
    empty = rtlil.EmptyModuleChecker(netlist)
    builder = rtlil.Design(emit_src=False)
    name_map = _ast.SignalDict()
    for idx, module in enumerate(netlist.modules):
        if empty.is_empty(idx):
            continue
        mod = builder.module(".".join(module.name), src_loc=module.src_loc)
        if idx == 0:
            mod.attribute("top", 1)
        rtlil.ModuleEmitter(mod, netlist, module, name_map, empty_checker=empty).emit()
    return str(builder)


def _convert(design, name):
    """``(verilog, rtlil)`` of ``design``, as ``verilog.convert`` and ``rtlil.convert`` with
    ``emit_src=False`` write them, from one elaboration and one netlist. Building the netlist
    is most of the time of either conversion; for the larger `vlc` configs it takes tens of
    seconds, so it is done once and emitted twice (the Verilog with explicit operand widths)."""
    ports = {}
    for path, member, value in design.signature.flatten(design):
        if isinstance(value, ValueCastable):
            value = value.as_value()
        flow = _ir.PortDirection.Input if member.flow == wiring.In else _ir.PortDirection.Output
        ports["__".join(map(str, path))] = (value, flow)
    netlist = _ir.build_netlist(_ir.Fragment.get(design, None), ports=ports, name=name)
    il = _emit_rtlil(netlist)
    with _explicit_operand_widths():
        wide = _emit_rtlil(netlist)
    return verilog._convert_rtlil_text(wide), il


def signature_ports(design):
    """Verilog ports of a generated ``design``, from its signature, in a fixed order.

    Amaranth names the port of member ``i.payload`` ``i__payload`` and adds ``clk`` and ``rst``
    when the design has registers. Returns a list of ``{"name", "direction", "width"}``.
    """
    ports = [{"name": n, "direction": "input", "width": 1} for n in ("clk", "rst")
             if design.stages]
    for path, member, _ in design.signature.flatten(design):
        ports.append({"name": "__".join(map(str, path)),
                      "direction": "input" if member.flow == wiring.In else "output",
                      "width": Shape.cast(member.shape).width})
    return ports


def lint_waivers(text, filename):
    """Verilator configuration that waives the code generator's warnings in Verilog ``text``.

    Amaranth (through yosys' ``write_verilog``) writes the whole hierarchy into one file, with
    submodules named after their path (``facet_encoder.pack``): DECLFILENAME. It declares flops
    with their initial value and assigns them in ``always`` blocks: PROCASSINIT, waived on the
    ``reg ... = ...;`` lines. It emits a named wire for every signal and every element of every
    ``data.View``, which yosys then reads through other names: UNUSEDSIGNAL, waived on the lines
    that declare a signal that is no port of its module. An unused port still warns.
    """
    name = f'-file "*{filename}"'
    out = ["`verilator_config", "// Written by facet gen: waivers of the code generator's "
           "warnings; a port is never waived.", f"lint_off -rule DECLFILENAME {name}"]
    port_lines, free, init, decls = set(), [], [], []
    for no, line in enumerate(text.splitlines(), 1):
        if line.startswith("module "):
            decls = []
        elif line.startswith("endmodule"):
            ports = {n for _, kind, n in decls if kind in ("input", "output", "inout")}
            for at, kind, n in decls:
                (port_lines.add(at) if n in ports else free.append(at))
        elif m := _DECL.match(line):
            decls.append((no, m.group(1), m.group(2).strip()))
            if m.group(1) == "reg" and "=" in line:
                init.append(no)
    out += [f"lint_off -rule PROCASSINIT {name} -lines {no}" for no in init]
    # Runs of generator-wire lines with no port declaration in between, one waiver each.
    runs, ports = [], sorted(port_lines)
    for no in sorted(free):
        if runs and bisect.bisect_left(ports, no) == bisect.bisect_right(ports, runs[-1][1]):
            runs[-1][1] = no
        else:
            runs.append([no, no])
    out += [f"lint_off -rule UNUSEDSIGNAL {name} -lines {a}-{b}" for a, b in runs]
    return "\n".join(out) + "\n"


def module_names(cfg):
    """``{"encoder": name, "decoder": name}``: the Verilog modules :func:`generate` writes."""
    prefix = cfg.codec.replace("-", "_") if isinstance(cfg, MxConfig) else "facet"
    return {part: f"{prefix}_{part}" for part in ("encoder", "decoder")}


def _values_layout(cfg):
    """The unpacked side of every codec: N raw values of the input format, value i first."""
    w = cfg.fmt.width
    return f"block of N = {cfg.n} values: value i in bits [{w}i, {w}(i+1)), raw {cfg.format} bit patterns"


def _mx_packing(cfg):
    return {
        "description": (f"B = {cfg.budget} bits, stream bit j on payload bit j (little-endian "
                        f"bytes): the E8M0 scale code in bits [0, 8) (2**(code - 127), 255 is "
                        f"NaN), then element i in bits [8 + 8i, 16 + 8i) "
                        + ("(two's complement, units of 2**-6)" if cfg.elem is None else
                           f"({cfg.elem.name}: sign, {cfg.elem.exp_bits}-bit exponent, "
                           f"{cfg.elem.man_bits}-bit mantissa)")
                        + "; facet.baselines.mx_pack"),
        "values": _values_layout(cfg),
    }


def packing_order(cfg):
    """How a packed block is laid out: a short description and the planes in stream order."""
    if isinstance(cfg, MxConfig):
        return _mx_packing(cfg)
    if cfg.policy == "vlc":
        return _vlc_packing(cfg)
    if cfg.policy == "window":
        return _window_packing(cfg)
    e, p, n = cfg.fmt.exp_bits, cfg.num_planes, cfg.n
    return {
        "description": (
            f"B = {cfg.budget} bits, stream bit j on payload bit j (little-endian bytes). "
            f"Header: base in bits [0, {e}), presence mask in bits [{e}, {e + p}) "
            f"(bit {e} + j set when plane j holds a one)"
            + (f", policy field in bits [{e + p}, {cfg.header_bits})" if cfg.policy_bits else "")
            + f". Then the present planes in stream order, {n} bits each (element i at bit i of "
            f"its slot), slot t at bits [{cfg.header_bits} + {n}t, {cfg.header_bits} + {n}(t+1)); "
            f"cut at B: {cfg.full_slots} full slots and {cfg.partial_elems} bits of the next. "
            f"Unused bits are zero."),
        "planes": plane_names(cfg),
        "header_bits": cfg.header_bits,
        "slots": cfg.slots,
        "full_slots": cfg.full_slots,
        "partial_elems": cfg.partial_elems,
        "values": _values_layout(cfg),
    }


def _vlc_packing(cfg):
    """The `vlc` layout (docs/format.md, section 10.4): its tails vary in length per block."""
    e, n, h = cfg.fmt.exp_bits, cfg.n, cfg.header_bits
    return {
        "description": (
            f"B = {cfg.budget} bits, stream bit j on payload bit j (little-endian bytes). "
            f"Header: base in bits [0, {e}), depth D in bits [{e}, {e + 4}), code mode in bits "
            f"[{e + 4}, {h}). Then the class region: bit {h} + i holds the first head bit of "
            f"value i, bit {h + n} + i its second head bit, and from bit {h + 2 * n} up the "
            f"tails, value by value in element order, each LSB first, as wide as the head and "
            f"the block's code say. The value "
            f"fields from bit {cfg.budget - 1} down, value 0 at the top: a signed value's sign "
            f"above its kept mantissa bits. Unused bits are zero."),
        "header_bits": h,
        "values": _values_layout(cfg),
    }


def _window_packing(cfg):
    """The `window` layout (docs/format.md, section 11.3)."""
    e, n, h = cfg.fmt.exp_bits, cfg.n, cfg.header_bits
    f = h + 3 * n
    return {
        "description": (
            f"B = {cfg.budget} bits, stream bit j on payload bit j (little-endian bytes). "
            f"Header: base in bits [0, {e}), window offset o in bits [{e}, {h}). Bit {h} + i "
            f"holds bit 0 of value i's two-bit code, bit {h + n} + i bit 1, bit {h + 2 * n} + i "
            f"its sign. From bit {f} up the full planes o + 3, o + 4, ... ({n} bits each, "
            f"element i at bit i) and the first L bits of plane P + 1; from bit "
            f"{cfg.budget - 1} down the planes above o + 2 of each code-0 value, value by "
            f"value, then plane o + 2 of each value of code 0 or 1. Unused bits are zero."),
        "header_bits": h,
        "values": _values_layout(cfg),
    }


def generate(cfg: Config, stages: int, outdir) -> dict:
    """Write the encoder and decoder of ``cfg`` with ``stages`` register stages to ``outdir``.

    Parameters
    ----------
    cfg : :class:`facet.config.Config` or :class:`facet.rtl.mx.MxConfig`
        Compressor configuration, or an MX baseline's.
    stages : int
        Pipeline register stages of each module, what both take (0 to 3, MX 0 to 2; see the
        ``CUTS`` of :class:`facet.rtl.FacetEncoder`, :class:`facet.rtl.FacetDecoder` and
        :class:`facet.rtl.mx.MxEncoder` for where they go).
    outdir : str or path
        Output directory, created if missing.

    Returns
    -------
    dict
        The contents of ``config.json``.
    """
    outdir = Path(outdir)
    enc, dec = (MxEncoder, MxDecoder) if isinstance(cfg, MxConfig) else (FacetEncoder, FacetDecoder)
    names = module_names(cfg)
    # The decoder first: a stage count only the encoder takes (the `window` encoder's fourth)
    # is refused before an encoder is built for nothing.
    decoder = dec(cfg, stages)
    designs = {names["encoder"]: enc(cfg, stages), names["decoder"]: decoder}
    outdir.mkdir(parents=True, exist_ok=True)
    modules = {}
    for name, design in designs.items():
        v, il = _convert(design, name)
        (outdir / f"{name}.v").write_text(v)
        (outdir / f"{name}.il").write_text(il)
        (outdir / f"{name}.vlt").write_text(lint_waivers(v, f"{name}.v"))
        modules[name] = {
            "verilog": f"{name}.v",
            "rtlil": f"{name}.il",
            "lint_waivers": f"{name}.vlt",
            "latency": design.latency,
            "register_stages": list(design.cuts),
            "ports": signature_ports(design),
        }
    info = {
        "config": cfg.to_dict(),
        "name": cfg.name,
        "stages": stages,
        "latency": {name: mod["latency"] for name, mod in modules.items()},
        "ports": {name: mod["ports"] for name, mod in modules.items()},
        "modules": modules,
        "stream": ("amaranth.lib.stream: a block moves on a clock edge where valid and ready "
                   "are both high; valid does not depend on ready; one block per clock; "
                   + ("synchronous active-high reset rst empties the pipeline" if stages else
                      "combinational (stages=0): no clock or reset, o.valid = i.valid and "
                      "i.ready = o.ready")),
        "packing": packing_order(cfg),
    }
    (outdir / "config.json").write_text(json.dumps(info, indent=2) + "\n")
    return info
