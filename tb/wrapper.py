"""The cocotb top ``facet_tb_top``: one generated encoder and one decoder, with a loop switch.

Port names and widths are those ``facet gen`` records in config.json, from the components'
signatures (:func:`facet.generate.signature_ports`).
"""

import re

__all__ = ["TOP", "dut_info", "wrapper_verilog"]

TOP = "facet_tb_top"


def dut_info(meta, which):
    """Module name, Verilog port per stream role (``i_payload`` ...), port widths and latency
    of the ``which`` codec (``encoder``/``decoder``), from generate's config.json ``meta``."""
    module = f"facet_{which}"
    ports = meta["modules"][module]["ports"]
    return {"module": module,
            "ports": {p["name"].replace("__", "_"): p["name"] for p in ports},
            "widths": {p["name"].replace("__", "_"): p["width"] for p in ports},
            "latency": meta["latency"][module]}


def _vid(name):
    """A Verilog identifier for ``name`` (escaped if it is not a simple one)."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) else f"\\{name} "


def _instance(info, name, conn):
    pins = ",\n".join(f"        .{_vid(info['ports'][role])}({sig})" for role, sig in conn.items()
                       if role in info["ports"])
    return f"    {_vid(info['module'])} {name} (\n{pins}\n    );"


def wrapper_verilog(cfg, enc, dec):
    """Verilog-2005 top holding one encoder and one decoder (:func:`dut_info` of each).

    With ``loop`` low both are driven from the top's ports. With ``loop`` high the encoder's
    output stream feeds the decoder's input (the top's ``dec_i_*`` and ``enc_o_ready`` are then
    ignored) and ``enc_o_fire`` shows the internal transfers.
    """
    nw, b = enc["widths"]["i_payload"], enc["widths"]["o_payload"]
    assert (nw, b) == (cfg.n * cfg.fmt.width, cfg.budget) == (dec["widths"]["o_payload"],
                                                              dec["widths"]["i_payload"])
    u_enc = _instance(enc, "u_enc", {
        "clk": "clk", "rst": "rst", "i_payload": "enc_i_payload", "i_valid": "enc_i_valid",
        "i_ready": "enc_i_ready", "o_payload": "enc_o_payload_w", "o_valid": "enc_o_valid_w",
        "o_ready": "enc_o_ready_w"})
    u_dec = _instance(dec, "u_dec", {
        "clk": "clk", "rst": "rst", "i_payload": "loop ? enc_o_payload_w : dec_i_payload",
        "i_valid": "loop ? enc_o_valid_w : dec_i_valid", "i_ready": "dec_i_ready_w",
        "o_payload": "dec_o_payload", "o_valid": "dec_o_valid", "o_ready": "dec_o_ready"})
    ports = [("input", 1, "clk"), ("input", 1, "rst"), ("input", 1, "loop")]
    for side, w_in, w_out in (("enc", nw, b), ("dec", b, nw)):
        ports += [("input", w_in, f"{side}_i_payload"), ("input", 1, f"{side}_i_valid"),
                  ("output", 1, f"{side}_i_ready"), ("output", w_out, f"{side}_o_payload"),
                  ("output", 1, f"{side}_o_valid"), ("input", 1, f"{side}_o_ready")]
    ports.append(("output", 1, "enc_o_fire"))
    decl = ",\n".join(f"    {d:<6} wire {f'[{w - 1}:0]' if w > 1 else '':<9} {name}"
                      for d, w, name in ports)
    return f"""// cocotb wrapper for {cfg.name}, written by tb/wrapper.py: do not edit.
`default_nettype none
module {TOP} (
{decl}
);
    wire [{b - 1}:0] enc_o_payload_w;
    wire enc_o_valid_w, enc_o_ready_w, dec_i_ready_w;
    assign enc_o_payload = enc_o_payload_w;
    assign enc_o_valid = enc_o_valid_w;
    assign enc_o_ready_w = loop ? dec_i_ready_w : enc_o_ready;
    assign enc_o_fire = enc_o_valid_w & enc_o_ready_w;
    assign dec_i_ready = dec_i_ready_w;

{u_enc}

{u_dec}
endmodule
`default_nettype wire
"""
