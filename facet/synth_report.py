"""Tables of the synthesis reports: the text table of one :func:`facet.synth.synthesize`
report, and the Markdown tables that ``facet synth`` and ``facet synth-sweep`` save beside
their JSON rows (:mod:`facet.synth_flow`)."""

import json
import re
from pathlib import Path

__all__ = ["format_table", "top_blocks", "save", "hierarchy", "policies_table"]


def format_table(report):
    """A human-readable table of a :func:`synthesize` report."""
    top_area = report["blocks"][0]["area"] or 1.0
    lines = [f"synthesis of {report['top']} with {Path(report['liberty']).name} (1 gate = "
             f"{report['nand2_cell']}, {report['nand2_area']:g} um^2)"
             + (", adder cells" if report["adders"] else ""), "",
             f"{'block (hierarchy kept)':<34} {'NAND2-eq':>10} {'self':>10} {'area um2':>11}"
             f" {'cells':>7} {'flops':>6} {'share':>6}"]
    for b in report["blocks"]:
        lines.append(f"{'  ' * b['level'] + b['name']:<34} {b['nand2_eq']:>10.1f}"
                     f" {b['self_nand2_eq']:>10.1f} {b['area']:>11.2f} {b['cells']:>7d}"
                     f" {b['flops']:>6d} {100.0 * b['area'] / top_area:>5.1f}%")
    t = report["total"]
    lines += ["-" * 90, f"{'total (flattened)':<34} {t['nand2_eq']:>10.1f} {'':>10}"
              f" {t['area']:>11.2f} {t['cells']:>7d} {t['flops']:>6d}",
              f"  of which flops: {t['seq_area'] / report['nand2_area']:.1f} NAND2-eq"
              f" ({100.0 * t['seq_area'] / (t['area'] or 1.0):.1f}%)"]
    if len(t.get("mappings", {})) > 1:
        lines.append("  mapped with adder cells and by abc alone, the smaller kept: "
                     + ", ".join(f"{k} {v:,.0f}" for k, v in t["mappings"].items()))
    if report.get("timing"):
        t = report["timing"]
        lines.append(f"timing ({Path(t['liberty']).name}, {t['nand2_eq']:,.0f} NAND2-eq, target"
                     f" {t['period_target_ns']} ns): critical path {t['critical_ns']:.3f} ns,"
                     f" Fmax {t['fmax_mhz']:.1f} MHz, {t['gbps']:.2f} GB/s,"
                     f" {t['gbps_per_kgate']:.4f} GB/s per kGE; {t['start']} -> {t['end']}")
    if report["depth"]:
        d = report["depth"]
        lines.append(f"max logic depth per stage (generic gate levels): {d['levels']}"
                     f"  ({d['from']} -> {d['to']})")
    return "\n".join(lines + [f"warning: {w}" for w in report["warnings"]])


def top_blocks(rep, n=3):
    """The ``n`` largest sub-blocks as ``name NAND2-eq`` pairs, largest first."""
    kids = sorted((b for b in rep["blocks"] if b["level"] == 1), key=lambda b: -b["nand2_eq"])
    # Amaranth suffixes a module name that collides with a signal with $<n> (base$37).
    return ", ".join(f"{re.sub(r'[$][0-9]+$', '', b['name'].split('.')[-1])} {b['nand2_eq']:,.0f}"
                     for b in kids[:n])


def save(stem, header, lines, rows):
    """Write the markdown table and the JSON rows beside it, and print the table."""
    table = "\n".join([f"| {' | '.join(header)} |", "|" + "---|" * len(header)] + lines)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    stem.with_suffix(".md").write_text(table + "\n")
    print(f"{table}\nwrote {stem}.md and .json")


def _mhz(v):
    return f"{v:.0f}" if v else "–"


def hierarchy(rep):
    """NAND2-eq of the design synthesized with its hierarchy kept (abc per sub-block)."""
    return next((b["nand2_eq"] for b in rep["blocks"] if b["level"] == 0), None)


def policies_table(rows, timing=False):
    """``(header, lines)`` of the comparison table of :func:`facet.synth_flow.synth_policies`;
    adds to each row its area ratios to the ``mxint8`` row (else the first). With errors in the
    rows (``rel_l2``), a second table gives them per tensor class; ``timing`` adds Fmax."""
    from .compare import OVERALL
    ref = next((r for r in rows if r["policy"] == "mxint8"), rows[0])
    lines = []
    for r in rows:
        ratios = [r[f"{p}_nand2_eq"] / ref[f"{p}_nand2_eq"] for p in ("encoder", "decoder")]
        r |= {f"{p}_vs_{ref['policy']}": round(x, 3) for p, x in zip(("encoder", "decoder"), ratios)}
        err = f"{r['rel_l2'][OVERALL]:.4f}" if "rel_l2" in r else "–"
        lines.append(f"| {r['policy']} | {r['bits_per_value']:g} | {r['encoder_nand2_eq']:,.0f} "
                     f"| {r['decoder_nand2_eq']:,.0f} | {ratios[0]:.2f} | {ratios[1]:.2f} "
                     f"| {r['encoder_nand2_eq_hierarchy']:,.0f} / {r['decoder_nand2_eq_hierarchy']:,.0f} "
                     f"| {r['encoder_depth']} / {r['decoder_depth']} "
                     f"| {r['encoder_flops']} / {r['decoder_flops']} | {err} |"
                     + (f" {_mhz(r['encoder_fmax_mhz'])} / {_mhz(r['decoder_fmax_mhz'])} |"
                        if timing else "") + f" {r['encoder_top']} |")
    head = ["policy / codec", "bits/value", "encoder NAND2-eq", "decoder NAND2-eq",
            f"encoder / {ref['policy']}", f"decoder / {ref['policy']}",
            "enc / dec NAND2-eq, hierarchy kept", "enc / dec depth", "enc / dec flops",
            "rel. L2 (all)"] + (["Fmax MHz enc / dec"] if timing else []) + [
            "largest encoder blocks"]
    if "rel_l2" in rows[0]:
        classes = [c for c in rows[0]["rel_l2"] if c != OVERALL] + [OVERALL]
        head2 = ["rel. L2 by tensor class"] + classes
        lines += ["", f"| {' | '.join(head2)} |", "|" + "---|" * len(head2)]
        lines += [f"| {r['policy']} | " + " | ".join(f"{r['rel_l2'][c]:.4f}" for c in classes) + " |"
                  for r in rows]
    return head, lines
