"""Rate-distortion curves of every policy and baseline (`facet eval --rd`, `make rd`)."""

import re
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from ..config import Config, POLICIES
from .accuracy import _baseline_row, _facet_row, baseline_names
from .tensors import _groups, dump_json

__all__ = ["RD_BITS", "SUMMARY_RATES", "rd_configs", "rd_sweep", "rd_summary", "format_rd_summary",
           "plot_rd", "write_rd", "run_rd"]


# -- rate-distortion ----------------------------------------------------------------------

#: Rates of the sweep: 4 to 12 bits per value in half-bit steps.
RD_BITS = tuple(t / 2 for t in range(8, 25))

#: Summary rates -> the baselines a facet policy at that rate must beat (the better of them):
#: the strongest baselines at equal or higher bits per value.
SUMMARY_RATES = {8: ("mxint8", "mxfp8-e4m3"), 6: ("mxfp6-e2m3",), 4.5: ("nvfp4",), 4: ("mxfp4",)}


def _whole(t):
    """``t`` as an int when it is whole, as ``Config`` reports it."""
    return int(t) if float(t).is_integer() else float(t)


def rd_configs(fmt="bf16", block=32, policies=POLICIES, bits=RD_BITS, k=None):
    """The configs of a sweep, and the ones :class:`Config` rejects.

    Returns
    -------
    accepted : list of Config
    rejected : list of dict
        ``{"policy", "bits", "reason"}`` for each (policy, T) that does not fit.
    """
    accepted, rejected = [], []
    for pol in policies:
        for t in bits:
            try:
                accepted.append(Config(fmt, block, _whole(t), k, pol))
            except ValueError as e:
                rejected.append({"policy": pol, "bits": float(t), "reason": str(e)})
    return accepted, rejected


def rd_sweep(tensors, cfgs, baselines=None, progress=True):
    """Rows of every facet config and every baseline on each tensor class.

    Parameters
    ----------
    tensors : dict of str to ndarray
    cfgs : list of Config
        Usually from :func:`rd_configs`.
    baselines : list of str or None
        Names from :data:`facet.baselines.BASELINES`; ``None`` means all of them.
    progress : bool
        Show a tqdm progress bar (on stderr) over classes x methods.

    Returns
    -------
    list of dict
        :func:`evaluate` rows; a facet row's ``method`` is its policy name.
    """
    from tqdm import tqdm

    names = baseline_names(baselines)
    groups = _groups(tensors, by_class=True)
    n_err = cfgs[0].n if cfgs else 32
    rows = []
    with tqdm(total=len(groups) * (len(cfgs) + len(names)), disable=not progress,
              desc="rd sweep", unit="run") as bar:
        for group, parts in groups.items():
            for cfg in cfgs:
                bar.set_postfix_str(f"{group} {cfg.policy} T={cfg.bits:g}")
                rows.append(_facet_row(group, parts, cfg, method=cfg.policy))
                bar.update()
            for b in names:
                bar.set_postfix_str(f"{group} {b}")
                rows.append(_baseline_row(group, parts, b, n_err))
                bar.update()
    return rows


def rd_summary(rows, rates=SUMMARY_RATES):
    """Each facet policy against the strongest baseline of each summary rate, per class.

    Returns
    -------
    list of dict
        One per (rate, class): ``{"bits", "tensor", "reference": {"method", "bits_per_value",
        "rel_l2"}, "policies": {policy: {"rel_l2", "ratio"} or None}}``, ``None`` where the
        sweep has no config of that policy at that rate. ``ratio`` is the policy's rel-L2
        over the reference's: below 1 beats it.
    """
    policies = list(dict.fromkeys(r["policy"] for r in rows if r["policy"]))
    classes = list(dict.fromkeys(r["tensor"] for r in rows))
    facet = {(r["tensor"], r["policy"], r["bits_per_value"]): r for r in rows if r["policy"]}
    base = {(r["tensor"], r["method"]): r for r in rows if not r["policy"]}
    out = []
    for t, refs in rates.items():
        for c in classes:
            cands = [base[(c, m)] for m in refs if (c, m) in base]
            if not cands:
                continue
            ref = min(cands, key=lambda r: r["rel_l2"])
            entry = {"bits": float(t), "tensor": c,
                     "reference": {k: ref[k] for k in ("method", "bits_per_value", "rel_l2")},
                     "policies": {}}
            for pol in policies:
                r = facet.get((c, pol, float(t)))
                entry["policies"][pol] = None if r is None else {
                    "rel_l2": r["rel_l2"],
                    "ratio": r["rel_l2"] / ref["rel_l2"] if ref["rel_l2"] > 0 else float("inf")}
            out.append(entry)
    return out


def format_rd_summary(summary):
    """Markdown: one table per summary rate, cells ``rel-L2 (ratio to the reference)``."""
    parts = []
    for t in dict.fromkeys(e["bits"] for e in summary):
        entries = [e for e in summary if e["bits"] == t]
        policies = list(entries[0]["policies"])
        refs = list(dict.fromkeys(e["reference"]["method"] for e in entries))
        parts.append(f"### {t:g} bits per value\n\nfacet policies at T = {t:g} against the "
                     f"strongest baseline ({' or '.join(refs)}); relative L2 error and, in "
                     "brackets, its ratio to the baseline's (below 1 is better).")
        head = ["class", "baseline", "baseline rel. L2"] + [f"{p} (T = {t:g})" for p in policies]
        body = []
        for e in entries:
            ref = e["reference"]
            cells = [e["tensor"], f"{ref['method']} ({ref['bits_per_value']:g})", f"{ref['rel_l2']:.4f}"]
            for p in policies:
                v = e["policies"][p]
                cells.append("does not fit" if v is None else f"{v['rel_l2']:.4f} ({v['ratio']:.2f}x)")
            body.append(cells)
        parts.append(tabulate(body, head, tablefmt="github", disable_numparse=True))
    return "\n\n".join(parts) + "\n"


def plot_rd(rows, path, tensor):
    """PNG of rel-L2 against bits per value for one class: a line per policy, a marker per baseline."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mine = [r for r in rows if r["tensor"] == tensor and np.isfinite(r["rel_l2"]) and r["rel_l2"] > 0]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for pol in dict.fromkeys(r["policy"] for r in mine if r["policy"]):
        pts = sorted((r["bits_per_value"], r["rel_l2"]) for r in mine if r["policy"] == pol)
        ax.plot(*zip(*pts), marker=".", label=f"facet {pol}")
    markers = "osD^v<>pP*Xh"
    for i, r in enumerate(r for r in mine if not r["policy"]):
        ax.plot(r["bits_per_value"], r["rel_l2"], linestyle="none", marker=markers[i % len(markers)],
                markerfacecolor="none", color="k" if i < len(markers) else "grey", label=r["method"])
    ax.set_yscale("log")
    ax.set_xlabel("bits per value")
    ax.set_ylabel("relative L2 error")
    ax.set_title(f"{tensor}: rate-distortion")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_rd(result, out):
    """Write ``summary.json``, ``summary.md`` and ``rd_<class>.png`` to directory ``out``.

    Parameters
    ----------
    result : dict
        ``{"settings", "rows", "rejected", "summary", "sweep_seconds"}``.
    out : str or Path
        Created if missing.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.json", out / "summary.md"]
    dump_json(result, written[0])
    s = result["settings"]
    # No title: the file is also pasted under a README heading (facet/report.py).
    head = (f"Rate-distortion on {s['path']} ({s['values']:,} values, {s['format']}, "
            f"N = {s['block']}): {len(result['rows'])} runs in {result['sweep_seconds']:.0f} s.\n\n")
    rejected = {}
    for r in result["rejected"]:
        rejected.setdefault(r["policy"], []).append(f"{r['bits']:g}")
    if rejected:
        head += "Configs that do not fit: " + "; ".join(
            f"{p} at T = {', '.join(ts)}" for p, ts in rejected.items()) + ".\n\n"
    written[1].write_text(head + format_rd_summary(result["summary"]))
    for c in dict.fromkeys(r["tensor"] for r in result["rows"]):
        p = out / f"rd_{re.sub(r'[^A-Za-z0-9_.-]', '_', c)}.png"
        plot_rd(result["rows"], p, c)
        written.append(p)
    return written


def run_rd(tensors, fmt="bf16", block=32, policies=POLICIES, baselines=None, k=None,
           progress=True, path=""):
    """Sweep, summarize and time: the ``result`` dict of :func:`write_rd`."""
    cfgs, rejected = rd_configs(fmt, block, policies, k=k)
    start = time.perf_counter()
    rows = rd_sweep(tensors, cfgs, baselines, progress)
    seconds = time.perf_counter() - start
    settings = {"path": str(path), "format": fmt, "block": block, "policies": list(policies),
                "bits": list(RD_BITS), "values": int(sum(t.size for t in tensors.values()))}
    return {"settings": settings, "rows": rows, "rejected": rejected,
            "summary": rd_summary(rows), "sweep_seconds": seconds}
