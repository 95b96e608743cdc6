"""`facet synth` and `facet synth-sweep`: generate a config's RTL, synthesize it, report area.

Reports go to ``build/synth/<config>/report.json`` (encoder and decoder, per sub-block) and,
for the sweep, ``build/synth/sweep_t<T>.json`` and ``.md``.
"""

import json
import re
import time
from pathlib import Path

from .config import Config
from .synth import format_table, synthesize


def synth_config(cfg: Config, stages=1, liberty=None, nand2=None, outdir=None, adders=True,
                 depth=True, quiet=False):
    """Synthesize the encoder and decoder of ``cfg``; return ``{"encoder": ..., "decoder": ...}``."""
    from .generate import generate

    out = Path(outdir or f"build/synth/{cfg.name}_s{stages}")
    info = generate(cfg, stages, out / "rtl")
    report = {"config": cfg.to_dict(), "stages": stages, "latency": info.get("latency")}
    for part in ("encoder", "decoder"):
        rep = synthesize(out / "rtl" / f"facet_{part}.il", f"facet_{part}", out / part,
                         liberty=liberty, nand2=nand2, depth=depth, adders=adders, verbose=not quiet)
        report[part] = rep
        if not quiet:
            print(format_table(rep))
            print()
    enc, dec = report["encoder"]["total"]["nand2_eq"], report["decoder"]["total"]["nand2_eq"]
    report["summary"] = {"encoder_nand2_eq": enc, "decoder_nand2_eq": dec}
    (out / "report.json").write_text(json.dumps(report, indent=1))
    if not quiet:
        print(f"{cfg.name}, {stages} stage(s): encoder {enc:,.0f} NAND2-eq, decoder {dec:,.0f} NAND2-eq"
              f" -> {out / 'report.json'}")
    return report


def _top_blocks(rep, n=3):
    kids = [b for b in rep["blocks"] if b["level"] == 1]
    kids.sort(key=lambda b: -b["nand2_eq"])
    # yosys suffixes a uniquified module name with $<n> (base$37); the instance is "base"
    return ", ".join(f"{re.sub(r'[$][0-9]+$', '', b['name'].split('.')[-1])} {b['nand2_eq']:,.0f}"
                     for b in kids[:n])


def synth_sweep(bits=8, policy="plane", stages=1, liberty=None, nand2=None,
                formats=("bf16", "fp16", "fp32"), blocks=(8, 16, 32, 64)):
    """Synthesize every valid (format, N) at T = ``bits``; print and save a markdown table."""
    rows = []
    configs = [(f, n) for f in formats for n in blocks]
    for i, (fmt, n) in enumerate(configs, 1):
        try:
            cfg = Config(fmt, n, bits, None, policy)
        except ValueError as e:
            print(f"[{i}/{len(configs)}] {fmt} N={n}: rejected ({e})")
            rows.append({"format": fmt, "block": n, "rejected": str(e)})
            continue
        t0 = time.perf_counter()
        print(f"[{i}/{len(configs)}] {cfg.name} ...", flush=True)
        rep = synth_config(cfg, stages, liberty, nand2, quiet=True)
        rows.append({"format": fmt, "block": n, "k": cfg.k, "config": cfg.name,
                     "encoder_nand2_eq": rep["summary"]["encoder_nand2_eq"],
                     "decoder_nand2_eq": rep["summary"]["decoder_nand2_eq"],
                     "encoder_flops": rep["encoder"]["total"]["flops"],
                     "decoder_flops": rep["decoder"]["total"]["flops"],
                     "encoder_depth": (rep["encoder"].get("depth") or {}).get("levels"),
                     "decoder_depth": (rep["decoder"].get("depth") or {}).get("levels"),
                     "encoder_top": _top_blocks(rep["encoder"]), "decoder_top": _top_blocks(rep["decoder"]),
                     "seconds": round(time.perf_counter() - t0, 1)})
    lines = [f"| format | N | K | encoder NAND2-eq | decoder NAND2-eq | enc / dec flops | enc / dec depth | largest encoder blocks |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "rejected" in r:
            lines.append(f"| {r['format']} | {r['block']} | – | rejected: does not fit at T = {bits} | | | | |")
        else:
            lines.append(f"| {r['format']} | {r['block']} | {r['k']} | {r['encoder_nand2_eq']:,.0f} "
                         f"| {r['decoder_nand2_eq']:,.0f} | {r['encoder_flops']} / {r['decoder_flops']} "
                         f"| {r['encoder_depth']} / {r['decoder_depth']} | {r['encoder_top']} |")
    table = "\n".join(lines)
    out = Path("build/synth")
    out.mkdir(parents=True, exist_ok=True)
    stem = f"sweep_t{bits}_{policy}_s{stages}"
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=1))
    (out / f"{stem}.md").write_text(table + "\n")
    print(table)
    print(f"wrote {out / stem}.md and .json")
    return rows


def synth_policies(cfgs, stages=1, liberty=None, nand2=None, outdir=None):
    """Synthesize the same config under several policies and compare them.

    ``cfgs`` are :class:`Config` objects that differ only in ``policy``; the first is the
    reference of the ratios. Writes ``<stem>_policies.json`` and ``.md`` next to the
    per-policy reports and returns the rows.
    """
    rows, ref = [], None
    out = Path(outdir or "build/synth")
    for cfg in cfgs:
        sub = out / cfg.policy if outdir else None
        rep = synth_config(cfg, stages, liberty, nand2, outdir=sub)
        row = {"policy": cfg.policy, "config": cfg.name,
               "encoder_nand2_eq": rep["summary"]["encoder_nand2_eq"],
               "decoder_nand2_eq": rep["summary"]["decoder_nand2_eq"],
               "encoder_top": _top_blocks(rep["encoder"], 4),
               "decoder_top": _top_blocks(rep["decoder"], 4)}
        ref = ref or row
        for part in ("encoder", "decoder"):
            row[f"{part}_vs_{ref['policy']}"] = round(
                row[f"{part}_nand2_eq"] / ref[f"{part}_nand2_eq"], 3)
        rows.append(row)
    r0 = rows[0]["policy"]
    lines = [f"| policy | encoder NAND2-eq | decoder NAND2-eq | encoder / {r0} | decoder / {r0}"
             " | largest encoder blocks | largest decoder blocks |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['policy']} | {r['encoder_nand2_eq']:,.0f} | {r['decoder_nand2_eq']:,.0f}"
                     f" | {r[f'encoder_vs_{r0}']:.2f} | {r[f'decoder_vs_{r0}']:.2f}"
                     f" | {r['encoder_top']} | {r['decoder_top']} |")
    table = "\n".join(lines)
    stem = out / (cfgs[0].name.rsplit("_", 1)[0] + f"_s{stages}_policies")
    out.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    stem.with_suffix(".md").write_text(table + "\n")
    print(table)
    print(f"wrote {stem}.md and .json")
    return rows
