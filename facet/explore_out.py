"""Outputs of `facet explore`: Pareto fronts, results.json and .csv, plots, summary.md.

An MX baseline point has a fixed rate of 8 + 8/N bits per value; it joins the front, plot and
table of the swept T nearest that rate (its ``front_bits``), so that a facet config can be
seen to beat it, or not, at its area.
"""

import csv
import json
import math
import re
from pathlib import Path

__all__ = ["run_line", "pareto_front", "fronts", "write_json", "write_csv", "plot_pareto", "plot_fmax",
           "format_run", "format_summary", "write_all"]

#: Scalar columns of results.csv, in order; the per-class errors follow as ``rel_l2_<class>``.
CSV_COLUMNS = ["codec", "config", "format", "block", "bits", "front_bits", "k", "policy", "stages",
               "compression_ratio", "encoder_nand2_eq", "decoder_nand2_eq", "area_nand2_eq",
               "encoder_flops", "decoder_flops", "encoder_depth", "decoder_depth",
               "encoder_latency", "decoder_latency", "encoder_fmax_mhz", "decoder_fmax_mhz",
               "fmax_mhz", "rel_l2", "synth_seconds", "error_seconds", "synth_cpu_seconds",
               "error_cpu_seconds", "failed"]


def _finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def pareto_front(points, x="area_nand2_eq", y="rel_l2"):
    """Indices of the points no other point beats, lower ``x`` and lower ``y`` being better.

    A point is dominated when another one is no worse in both and better in one. Points
    with a missing or non-finite ``x`` or ``y`` are never on the front. Equal points are
    both kept. Returned in order of increasing ``x``.
    """
    cand = sorted((i for i, p in enumerate(points) if _finite(p.get(x)) and _finite(p.get(y))),
                  key=lambda i: (points[i][x], points[i][y]))
    front, best, best_x = [], math.inf, None
    for i in cand:
        px, py = points[i][x], points[i][y]
        if py < best or (py == best and px == best_x):
            front.append(i)
            if py < best:
                best, best_x = py, px
    return front


def _t(p):
    """The T of the front a point is on (an MX point's rate is not a swept T)."""
    return p.get("front_bits", p["bits"])


def fronts(points):
    """``{T: [point, ...]}``: the Pareto front of error against total area at each rate, MX
    points included at the T nearest their rate."""
    out = {}
    for t in sorted({_t(p) for p in points}):
        mine = [p for p in points if _t(p) == t and not p.get("failed")]
        out[t] = [mine[i] for i in pareto_front(mine)]
    return out


def write_json(result, path):
    Path(path).write_text(json.dumps(result, indent=1) + "\n")


def write_csv(points, path):
    """One row per point: :data:`CSV_COLUMNS`, then ``rel_l2_<class>`` per tensor class."""
    classes = list(dict.fromkeys(c for p in points for c in (p.get("rel_l2_by_class") or {})))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS + [f"rel_l2_{c}" for c in classes])
        for p in points:
            by = p.get("rel_l2_by_class") or {}
            w.writerow(["" if p.get(c) is None else p[c] for c in CSV_COLUMNS]
                       + ["" if by.get(c) is None else by[c] for c in classes])


def _mx(p):
    return p.get("codec", "facet") != "facet"


def label(p):
    """A short name of a point for plots and tables: ``bf16 N16 K3 plane s2``,
    ``bf16 N16 window s1`` (a policy without delta planes), ``bf16 N16 MXINT8 s1``."""
    what = (p["codec"].upper() if _mx(p)
            else p["policy"] if p["k"] is None else f"K{p['k']} {p['policy']}")
    return f"{p['format']} N{p['block']} {what} s{p['stages']}"


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_pareto(points, t, path):
    """Error against encoder + decoder area at rate ``t``: every point, the front joined and
    labeled. Colour is the format, marker shape the policy or MX codec, filled for the
    fewest stages; the MX baselines (at the T nearest their rate) are large black-edged
    markers, each labeled with its codec and N."""
    plt = _plt()
    from matplotlib.lines import Line2D
    mine = [p for p in points if _t(p) == t and not p.get("failed")
            and _finite(p.get("area_nand2_eq")) and _finite(p.get("rel_l2"))]
    front = fronts(mine).get(t, [])
    fig, ax = plt.subplots(figsize=(9, 5))
    shapes = {"plane": "o", "significance": "s", "mxint8": "D", "mxfp8-e4m3": "X"}
    colours = {f: f"C{i}" for i, f in enumerate(dict.fromkeys(p["format"] for p in mine))}
    fewest = min((p["stages"] for p in mine), default=1)
    kinds, named = {}, set()
    for p in mine:
        first, what = p["stages"] == fewest, p["codec"] if _mx(p) else p["policy"]
        col = colours[p["format"]]
        mx = {"markersize": 8, "markeredgecolor": "k"} if _mx(p) else {}
        kinds.setdefault(what, mx)
        ax.plot(p["area_nand2_eq"], p["rel_l2"], linestyle="none", marker=shapes.get(what, "^"),
                color=col, markerfacecolor=col if first else "none", **mx)
        # One label per MX codec and N (the formats lie close together); the front's below.
        if _mx(p) and first and p not in front and (p["codec"], p["block"]) not in named:
            named.add((p["codec"], p["block"]))
            ax.annotate(f"{p['codec'].upper()} N{p['block']}", (p["area_nand2_eq"], p["rel_l2"]),
                        fontsize=6, color="0.3", xytext=(5, -10), textcoords="offset points")
    if front:
        ax.plot([p["area_nand2_eq"] for p in front], [p["rel_l2"] for p in front], "k--", lw=1,
                drawstyle="steps-post")
        for i, p in enumerate(front):  # above and below in turn: neighbours are often close
            ax.annotate(label(p), (p["area_nand2_eq"], p["rel_l2"]), fontsize=7,
                        xytext=(4, 5 if i % 2 == 0 else -11), textcoords="offset points")
    legend = [Line2D([], [], linestyle="none", marker="o", color=c, label=f) for f, c in colours.items()]
    legend += [Line2D([], [], linestyle="none", marker=shapes.get(w, "^"), color="0.5",
                      label=f"{w.upper()} (8 + 8/N bits)" if mx else w, **mx)
               for w, mx in kinds.items()]
    if any(p["stages"] != fewest for p in mine):
        legend += [Line2D([], [], linestyle="none", marker="o", color="0.5",
                          label=f"{fewest} stage{'' if fewest == 1 else 's'}"),
                   Line2D([], [], linestyle="none", marker="o", color="0.5", markerfacecolor="none",
                          label="more stages")]
    if front:
        legend.append(Line2D([], [], color="k", linestyle="--", lw=1, label="Pareto front"))
    ax.legend(handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("encoder + decoder area (NAND2-eq)")
    ax.set_ylabel("relative L2 error")
    ax.set_title(f"T = {t:g} bits/value: error against area")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_fmax(points, path):
    """Fmax of the encoder and decoder against register stages, a line per config: colour
    the policy or MX codec (dashed), marker N; returns False (and writes nothing) when no
    point has an Fmax. A legend per config would not be readable at the sweep's size."""
    mine = [p for p in points if _finite(p.get("encoder_fmax_mhz")) or _finite(p.get("decoder_fmax_mhz"))]
    if not mine:
        return False
    plt = _plt()
    from matplotlib.lines import Line2D
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, StrMethodFormatter
    kinds = list(dict.fromkeys(p["codec"] if _mx(p) else p["policy"] for p in mine))
    colours = {k: f"C{i}" for i, k in enumerate(kinds)}
    mx = {p["codec"] for p in mine if _mx(p)}
    blocks = sorted({p["block"] for p in mine})
    markers = dict(zip(blocks, "os^Dv<>p"))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for ax, part in zip(axes, ("encoder", "decoder")):
        for p0 in {p["config"]: p for p in mine}.values():
            pts = sorted((p["stages"], p[f"{part}_fmax_mhz"]) for p in mine
                         if p["config"] == p0["config"] and _finite(p.get(f"{part}_fmax_mhz")))
            if pts:
                ax.plot(*zip(*pts), marker=markers[p0["block"]], markersize=4, lw=0.8, alpha=0.7,
                        color=colours[p0["codec"] if _mx(p0) else p0["policy"]],
                        linestyle="--" if _mx(p0) else "-")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(part)
        ax.set_xlabel("register stages")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 3, 5)))  # 30, 50, 100, 200, 300 MHz
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("Fmax (MHz), OSU 0.18 um")
    legend = [Line2D([], [], color=c, linestyle="--" if k in mx else "-",
                     label=k.upper() if k in mx else k) for k, c in colours.items()]
    legend += [Line2D([], [], color="0.4", linestyle="none", marker=m, label=f"N = {n}")
               for n, m in markers.items()]
    axes[1].legend(handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _num(v, spec):
    return "–" if v is None else format(v, spec)


def _dur(seconds):
    """``4.2 s``, ``12 min 03 s``, ``2 h 05 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, sec = divmod(round(seconds), 60)
    return f"{m} min {sec:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def _reused(res):
    n = res.get("reused_parts")
    return (f" ({n} of their designs read back from yosys' result cache, RTLIL unchanged)"
            if n else "")


def format_run(result):
    """What the sweep cost: this run's wall and CPU time and what it took from the cache,
    then the per-result times recorded when each was computed, added up."""
    comp, cached = result["computed"], result.get("cached", {})
    n_cached = sum(cached.values())
    lines = [f"This run: {_dur(result['seconds'])} wall, {_dur(result.get('cpu_seconds') or 0)} "
             f"CPU (all processes, yosys included) at -j {result['settings'].get('jobs', 1)}; computed "
             f"{comp['error']} errors and {comp['synth']} syntheses{_reused(result)}, "
             f"{n_cached} results from the cache."]
    errors = {p["config"]: p.get("error_seconds") for p in result["points"]}
    syn = sum(p.get("synth_seconds") or 0 for p in result["points"])
    err = sum(v or 0 for v in errors.values())
    warm = result.get("warm_syntheses")
    lines.append(f"The times recorded when each result was computed (wall time of one result, "
                 f"under the load of the run that computed it) add up to {_dur(syn)} of "
                 f"synthesis and {_dur(err)} of error, "
                 + (f"less than a cold sweep of these points takes at -j 1: {warm} of those "
                    f"syntheses read designs back from yosys' result cache." if warm else
                    "about what a cold sweep of these points takes at -j 1."))
    cold = result.get("cold_run")
    if cold and any(result["cached"].values()):
        lines.append(f"The last run of this sweep from an empty cache ({cold['date']}) took "
                     f"{_dur(cold['seconds'])} wall and {_dur(cold['cpu_seconds'])} CPU at "
                     f"-j {cold['jobs']}.")
    return " ".join(lines)


def classes_better(p, q):
    """``(k, n)``: on k of the n tensor classes that both points have an error for, ``p``'s
    error is below ``q``'s."""
    a, b = p.get("rel_l2_by_class") or {}, q.get("rel_l2_by_class") or {}
    both = [c for c in a if c in b and _finite(a[c]) and _finite(b[c])]
    return sum(a[c] < b[c] for c in both), len(both)


def _mx_table(groups):
    """Each MX point against the facet point of least error at no more area on its T, and on
    how many tensor classes that point's error is the lower (an average can hide a loss)."""
    lines = ["", "### MX baselines against facet", "",
             "Each MX point, and the facet point of least error whose area is no larger, at the "
             "same T, with the tensor classes on which the facet point's error is the lower:",
             "", "| MX point | total NAND2-eq | bits/value | rel. L2 | facet at no more "
             "area | total NAND2-eq | bits/value | rel. L2 | classes facet is better on |",
             "|" + "---|" * 9]
    for t, mine in groups.items():
        facet = [p for p in mine if not _mx(p)]
        for m in (p for p in mine if _mx(p)):
            best = min((p for p in facet if p["area_nand2_eq"] <= m["area_nand2_eq"]),
                       key=lambda p: (p["rel_l2"], p["area_nand2_eq"]), default=None)
            k, n = classes_better(best, m) if best else (0, 0)
            other = ("– | – | – | – | –" if best is None else
                     f"{label(best)} | {best['area_nand2_eq']:,.0f} | {best['bits']:g} "
                     f"| {best['rel_l2']:.4f} | {k} of {n}")
            lines.append(f"| {label(m)} | {m['area_nand2_eq']:,.0f} | {m['bits']:g} "
                         f"| {m['rel_l2']:.4f} | {other} |")
    return lines


def format_summary(result):
    """Markdown without a title (it is also pasted under a README heading)."""
    s, pts = result["settings"], result["points"]
    ok = [p for p in pts if not p.get("failed") and _finite(p.get("area_nand2_eq"))
          and _finite(p.get("rel_l2"))]
    skipped = result.get("skipped", [])
    n_cfg, n_mx = len({p["config"] for p in pts}), len({p["config"] for p in pts if _mx(p)})
    lines = [f"Design-space sweep on {s['dump']}: {', '.join(s.get('codecs', ['facet']))}; "
             f"{', '.join(s['formats'])}; N = {', '.join(map(str, s['blocks']))}; "
             f"T = {', '.join(f'{t:g}' for t in s['bits'])}; "
             f"{', '.join(s['policies'])}; K {', '.join('default' if k is None else str(k) for k in s['ks'])}; "
             f"{', '.join(map(str, s['stages']))} register stage(s). {len(pts)} points "
             f"({n_cfg} configs{f', {n_mx} of them MX,' if n_mx else ''} x {len(s['stages'])} "
             f"stage count{'' if len(s['stages']) == 1 else 's'}{f', less {len(skipped)} beyond what an MX codec takes' if skipped else ''}), "
             f"{len(result['rejected'])} configs that do not fit.",
             "", f"Area is encoder + decoder NAND2-eq ({s['liberty']}), error the relative L2 "
             "over all tensors against the float32 input, compression the input format's bits "
             "over the bits per value."
             + (" MXINT8 and MXFP8-E4M3 store 8 + 8/N bits per value (T, K and the policy do not "
                "apply): each MX point is on the front, plot and table of the T nearest its rate."
                if n_mx else "") + " The configs on the Pareto front of error against area:"]
    if not any(_finite(p.get("fmax_mhz")) for p in ok):
        why = s.get("timing_off") or "this synthesis flow has no timing"
        lines += ["", f"Fmax: not measured ({why}); the Fmax plot is skipped."]
    for t, front in fronts(ok).items():
        lines += ["", f"### T = {t:g} bits per value", "",
                  "| config | stages | encoder NAND2-eq | decoder NAND2-eq | total | depth enc / dec "
                  "| Fmax MHz enc / dec | bits/value | compression | rel. L2 |", "|" + "---|" * 10]
        for p in front:
            lines.append(f"| {p['config']} | {p['stages']} | {p['encoder_nand2_eq']:,.0f} "
                         f"| {p['decoder_nand2_eq']:,.0f} | {p['area_nand2_eq']:,.0f} "
                         f"| {_num(p['encoder_depth'], 'd')} / {_num(p['decoder_depth'], 'd')} "
                         f"| {_num(p['encoder_fmax_mhz'], '.0f')} / {_num(p['decoder_fmax_mhz'], '.0f')} "
                         f"| {p['bits']:g} | {p['compression_ratio']:.2f}x | {p['rel_l2']:.4f} |")
    if n_mx and n_mx < n_cfg:
        lines += _mx_table({t: [p for p in ok if _t(p) == t] for t in sorted({_t(p) for p in ok})})
    rej = sorted({(r["format"], r["policy"], r["bits"]) for r in result["rejected"]})
    if rej:
        lines += ["", "Do not fit: " + "; ".join(
            f"{f} {pol} T = {t:g} at N = " + ", ".join(
                str(r["block"]) for r in result["rejected"]
                if (r["format"], r["policy"], r["bits"]) == (f, pol, t)) for f, pol, t in rej) + "."]
    failed = [p for p in pts if p.get("failed")]
    if failed:
        lines += ["", "Failed: " + "; ".join(f"{p['config']} s{p['stages']}: {p['failed']}"
                                             for p in failed) + "."]
    lines += ["", format_run(result)]
    return "\n".join(lines) + "\n"


def write_all(result, out):
    """results.json, results.csv, explore_pareto_t<T>.png, explore_fmax.png, summary.md in
    ``out``; returns the files written and a note for each plot left out."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files, notes = [out / "results.json", out / "results.csv", out / "summary.md"], []
    write_json(result, files[0])
    write_csv(result["points"], files[1])
    files[2].write_text(format_summary(result))
    for stale in out.glob("explore_*.png"):  # figures of an earlier, wider sweep
        stale.unlink()
    for t in sorted({_t(p) for p in result["points"]}):
        path = out / f"explore_pareto_t{re.sub(r'[^0-9]', '_', f'{t:g}')}.png"
        plot_pareto(result["points"], t, path)
        files.append(path)
    if plot_fmax(result["points"], out / "explore_fmax.png"):
        files.append(out / "explore_fmax.png")
    else:
        why = result["settings"].get("timing_off") or "no timing measured"
        notes.append(f"Fmax plot skipped: no point has an Fmax ({why})")
    return files, notes


def run_line(res, n_configs, n_stages, n_rejected):
    """One line of what a run did: points, what it computed, its wall and CPU time."""
    left_out = f", {len(res['skipped'])} left out" if res["skipped"] else ""
    return (f"{len(res['points'])} points ({n_configs} configs x {n_stages} stage count"
            f"{'s' * (n_stages > 1)}{left_out}, {n_rejected} configs do not fit); computed "
            f"{res['computed']['error']} errors and {res['computed']['synth']} syntheses"
            f"{_reused(res)}, the rest "
            f"from the cache; {res['seconds']:.1f} s wall, {res['cpu_seconds']:.1f} s CPU")
