"""`facet synth` and `facet synth-sweep`: generate a config's RTL, synthesize it, report area.

Reports go to ``build/synth/<config>_s<stages>/report.json`` (encoder and decoder, per
sub-block), ``build/synth/<stem>_policies.{md,json}`` for a policy comparison and
``build/synth/sweep_t<T>_<policy>_s<stages>.{md,json}`` for the sweep; with timing, also
``build/synth/<config>_timing.md``, Fmax by stage count.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .config import Config
from .synth import DEFAULT_ADDERS, DEFAULT_LIBERTY, synthesize
from .synth_report import format_table, hierarchy, policies_table, save, top_blocks
from .timing import write_stages_table

__all__ = ["synth_config", "synth_policies", "synth_sweep"]

OUT = Path("build/synth")
#: The two designs of a config, each synthesized by its own yosys process.
PARTS = ("encoder", "decoder")
#: abc's clock period target of the timing mapping (``facet synth --timing``), in ns.
PERIOD_NS = 4.0


def synth_config(cfg: Config, stages=1, liberty=None, nand2=None, outdir=None, adders=None,
                 depth=True, quiet=False, timing=False, period_ns=PERIOD_NS, hierarchy=True,
                 jobs=2, cache=None):
    """Synthesize the encoder and decoder of ``cfg``; return ``{"encoder": ..., "decoder": ...}``.

    ``adders`` is the techmap of full adders onto the liberty's adder cells; with the default
    liberty it defaults to :data:`facet.synth.DEFAULT_ADDERS`, with another one to none.
    With ``timing``, each part is also mapped for speed (abc target ``period_ns``) onto the
    OSU 0.18 um liberty and timed (:mod:`facet.timing`); the summary then has its Fmax.
    ``hierarchy=False`` leaves out the figures per sub-block (:func:`facet.synth.synthesize`).
    ``jobs=2`` runs the encoder's and the decoder's yosys side by side (one process each).
    ``cache`` is the directory of stored reports of :func:`facet.synth.synthesize`.
    """
    from .generate import generate, module_names

    out = Path(outdir or OUT / f"{cfg.name}_s{stages}")
    info = generate(cfg, stages, out / "rtl")
    names = module_names(cfg)
    if adders is None and Path(liberty or DEFAULT_LIBERTY).resolve() == DEFAULT_LIBERTY:
        adders = DEFAULT_ADDERS
    report = {"config": cfg.to_dict(), "stages": stages, "latency": info["latency"]}
    def run(part):
        return synthesize(out / "rtl" / f"{names[part]}.il", names[part], out / part,
                          liberty, nand2 or "NAND2_X1", depth, adders=adders, hierarchy=hierarchy,
                          cache=cache,
                          timing=timing and {"period_ns": period_ns,
                                             "bytes_per_clock": cfg.n * cfg.fmt.width / 8})

    if not quiet:
        print(f"synthesizing {cfg.name} encoder and decoder ...", flush=True)
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(PARTS)))) as pool:
        report.update(zip(PARTS, pool.map(run, PARTS)))
    if not quiet:
        for part in PARTS:
            print(format_table(report[part]) + "\n")
    report["summary"] = {f"{p}_{k}": v for p in PARTS for k, v in (
        ("nand2_eq", report[p]["total"]["nand2_eq"]),
        ("fmax_mhz", (report[p]["timing"] or {}).get("fmax_mhz")))}
    (out / "report.json").write_text(json.dumps(report, indent=1))
    if timing:  # one table over the stage counts timed so far (`make report` shows it)
        write_stages_table(cfg.name, out)
    if not quiet:
        sm = report["summary"]
        print(f"{cfg.name}, {stages} stage(s): " + ", ".join(
            f"{p} {sm[p + '_nand2_eq']:,.0f} NAND2-eq"
            + (f" {sm[p + '_fmax_mhz']:.0f} MHz" if sm[p + "_fmax_mhz"] else "")
            for p in PARTS) + f" -> {out / 'report.json'}")
    return report


def synth_sweep(bits=8, policy="plane", stages=1, liberty=None, nand2=None,
                formats=("bf16", "fp16", "fp32"), blocks=(8, 16, 32, 64), jobs=2):
    """Synthesize every valid (format, N) at T = ``bits``; print and save a markdown table."""
    rows, lines = [], []
    configs = [(f, n) for f in formats for n in blocks]
    for i, (fmt, n) in enumerate(configs, 1):
        try:
            cfg = Config(fmt, n, bits, None, policy)
        except ValueError as e:
            print(f"[{i}/{len(configs)}] {fmt} N={n}: rejected ({e})")
            rows.append({"format": fmt, "block": n, "rejected": str(e)})
            lines.append(f"| {fmt} | {n} | – | rejected: does not fit at T = {bits} | | | | |")
            continue
        t0 = time.perf_counter()
        print(f"[{i}/{len(configs)}] {cfg.name} ...", flush=True)
        rep = synth_config(cfg, stages, liberty, nand2, quiet=True, jobs=jobs)
        enc, dec = rep["encoder"], rep["decoder"]
        r = {"format": fmt, "block": n, "k": cfg.k, "config": cfg.name, **rep["summary"],
             "encoder_flops": enc["total"]["flops"], "decoder_flops": dec["total"]["flops"],
             "encoder_depth": (enc["depth"] or {}).get("levels"),
             "decoder_depth": (dec["depth"] or {}).get("levels"),
             "encoder_top": top_blocks(enc), "decoder_top": top_blocks(dec),
             "seconds": round(time.perf_counter() - t0, 1)}
        rows.append(r)
        lines.append(f"| {fmt} | {n} | {cfg.k} | {r['encoder_nand2_eq']:,.0f} "
                     f"| {r['decoder_nand2_eq']:,.0f} | {r['encoder_flops']} / {r['decoder_flops']} "
                     f"| {r['encoder_depth']} / {r['decoder_depth']} | {r['encoder_top']} |")
    save(OUT / f"sweep_t{bits}_{policy}_s{stages}",
          ["format", "N", "K", "encoder NAND2-eq", "decoder NAND2-eq", "enc / dec flops",
           "enc / dec depth", "largest encoder blocks"], lines, rows)
    return rows


def synth_policies(cfgs, stages=1, liberty=None, nand2=None, outdir=None, tensors=None, jobs=2,
                   **timing):
    """Synthesize the same format and N under several policies and MX baselines; compare them.

    The areas compared are the flattened ones; the table also shows them with the hierarchy
    kept, where yosys' full-adder extraction differs (it maps the flattened netlist's adders
    onto adder cells before abc, which then cannot simplify them).

    ``cfgs`` are facet :class:`Config` objects that differ only in ``policy`` and
    :class:`facet.rtl.mx.MxConfig` baselines of the same format and N. The area ratios are to
    the ``mxint8`` row if there is one, else to the first. With ``tensors`` (``{name: array}``),
    each row also gets the relative L2 error of what its RTL computes
    (:func:`facet.compare.codec_errors`), per tensor class and overall. Writes
    ``<stem>_policies.json`` and ``.md`` next to the per-codec reports; returns the rows.
    ``timing`` (``timing=True``, ``period_ns``) and ``jobs`` go to :func:`synth_config`; with
    timing the table has an Fmax column.
    """
    from .compare import codec_errors
    rows, out = [], Path(outdir or OUT)
    for cfg in cfgs:
        t0 = time.perf_counter()
        rep = synth_config(cfg, stages, liberty, nand2, outdir=out / cfg.policy if outdir else None,
                           jobs=jobs, **timing)
        enc, dec = rep["encoder"], rep["decoder"]
        rows.append({"policy": cfg.policy, "config": cfg.name, "bits_per_value": cfg.bits,
                     **rep["summary"], **{f"{p}_nand2_eq_hierarchy": hierarchy(rep[p])
                                          for p in ("encoder", "decoder")},
                     "encoder_depth": (enc["depth"] or {}).get("levels"),
                     "decoder_depth": (dec["depth"] or {}).get("levels"),
                     "encoder_flops": enc["total"]["flops"], "decoder_flops": dec["total"]["flops"],
                     "encoder_top": top_blocks(enc, 4), "decoder_top": top_blocks(dec, 4),
                     "synth_seconds": round(time.perf_counter() - t0, 1)})
        if tensors is not None:
            rows[-1]["rel_l2"] = codec_errors(tensors, cfg)
    head, lines = policies_table(rows, timing.get("timing"))
    first = cfgs[0]
    stem = first.name.rsplit("_", 1)[0] if isinstance(first, Config) else f"{first.format}_n{first.n}"
    save(out / f"{stem}_s{stages}_policies", head, lines, rows)
    return rows
