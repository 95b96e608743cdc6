"""Accuracy of facet and of the baselines on activation tensors (`facet eval`).

Every tensor is flattened in C order and cut into blocks of N values (the last block padded
with zeros, which the metrics leave out). The reference is the float32 input, so facet's own
rounding to its format counts as error, as does every baseline's.

:func:`evaluate` compares a few configs at one rate; :func:`rd_sweep` traces rate-distortion
curves, relative L2 error against bits per value, for every policy and baseline, and
:func:`write_rd` writes them as JSON, one PNG per tensor class and a markdown summary.
"""

import json
import re
import time
import zipfile
from pathlib import Path

import numpy as np
from tabulate import tabulate

from .config import Config, POLICIES
from . import model

__all__ = ["load_tensors", "check_output_path", "tensor_class", "metrics", "evaluate",
           "format_table", "format_summary", "dump_json", "baseline_names", "RD_BITS",
           "SUMMARY_RATES", "rd_configs", "rd_sweep", "rd_summary", "format_rd_summary", "plot_rd",
           "write_rd", "run_rd"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_NPY_MAGIC = b"\x93NUMPY"


# -- input and output ---------------------------------------------------------------------

def _one_line(e):
    """An exception's text on one line: a user-facing error is one line."""
    return " ".join(str(e).split())


def load_tensors(path, skipped=None):
    """``{name: float32 array}`` from a .npy or .npz file.

    Parameters
    ----------
    path : str or Path
        A .npy file (one tensor, named ``"tensor"``) or a .npz archive.
    skipped : list or None
        If given, receives ``(name, reason)`` for each array of an .npz that is left out:
        arrays that are not floating point, are empty, or hold pickled objects.

    Returns
    -------
    dict of str to numpy.ndarray

    Raises
    ------
    ValueError
        With a one-line message naming the file when it is missing, a directory, empty,
        not a NumPy file, corrupt, or holds no usable floating-point array.
    """
    p = Path(path)
    kind = p.suffix
    if kind not in (".npy", ".npz"):
        raise ValueError(f"{path}: expected a .npy or .npz file")
    if not p.exists():
        raise ValueError(f"{path}: no such file")
    if p.is_dir():
        raise ValueError(f"{path}: is a directory, not a {kind} file")
    try:
        with open(p, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
    if not head:
        raise ValueError(f"{path}: empty file")
    want = _ZIP_MAGIC if kind == ".npz" else (_NPY_MAGIC,)
    if not any(head.startswith(m) for m in want):
        what = "a zip archive of .npy arrays" if kind == ".npz" else "a NumPy array file"
        raise ValueError(f"{path}: not a {kind} file (it does not start like {what})")
    tensors, left_out = {}, []
    try:
        if kind == ".npy":
            arrays = {"tensor": np.load(p, allow_pickle=False)}
        else:
            with np.load(p, allow_pickle=False) as z:
                arrays = {}
                for k in z.files:
                    try:
                        arrays[k] = z[k]
                    except ValueError as e:
                        if "pickle" not in str(e):
                            raise
                        # An object array: its pickle is never loaded.
                        left_out.append((k, "holds Python objects"))
    except ValueError as e:
        if "pickle" in str(e):  # an object array in a .npy
            raise ValueError(f"{path}: holds Python objects, not numbers") from None
        raise ValueError(f"{path}: corrupt {kind} file ({_one_line(e)})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{path}: corrupt {kind} file ({type(e).__name__}: {_one_line(e)})") from None
    for name, t in arrays.items():
        if t.dtype.kind != "f":
            left_out.append((name, f"{t.dtype}, not floating point"))
        elif t.size == 0:
            left_out.append((name, "empty"))
        else:
            tensors[name] = np.asarray(t, np.float32)
    if skipped is not None:
        skipped.extend(left_out)
    if not tensors:
        found = "; ".join(f"{n}: {r}" for n, r in left_out) or "no arrays"
        raise ValueError(f"{path}: no usable floating-point array ({found})")
    return tensors


def check_output_path(path, option, directory=False):
    """Fail early, with a one-line ValueError naming ``option``, if ``path`` cannot be written.

    A file path needs an existing parent directory and must not be a directory; a directory
    path (``directory=True``) is created later, so its parent must exist and it must not be
    a file.
    """
    p = Path(path)
    parent = p.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: directory {parent} does not exist")
    if directory and p.exists() and not p.is_dir():
        raise ValueError(f"{option} {path}: exists and is not a directory")
    if not directory and p.is_dir():
        raise ValueError(f"{option} {path}: is a directory")


def tensor_class(name):
    """Class of a tensor name: ``L3.gelu_in`` -> ``gelu_in``."""
    return re.sub(r"^(L\d+|emb)\.", "", name)


def _groups(tensors, by_class):
    """``{row name: [flattened tensors]}``, pooling each class when ``by_class``.

    Every method runs on each tensor on its own, as it would in use: blocks never straddle
    two tensors, and per-tensor scales (NVFP4, scaled FP8) see one tensor. The error is then
    pooled over the group.
    """
    members = {}
    for name in tensors:
        members.setdefault(tensor_class(name) if by_class else name, []).append(tensors[name].reshape(-1))
    return members


# -- metrics ------------------------------------------------------------------------------

def metrics(x, y, n):
    """Error of ``y`` against ``x`` (1-D, same length) over blocks of ``n``.

    Non-finite reference values are left out of the sums; a method that turns a finite value
    into a non-finite one gets infinite error.
    """
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    ok = np.isfinite(x)
    err = np.where(ok, np.abs(y - x), 0.0)
    err[ok & ~np.isfinite(y)] = np.inf
    sig = float(np.sum(x[ok] ** 2))
    noise = float(np.sum(err ** 2))
    pad = (-len(x)) % n
    xb = np.pad(np.where(ok, np.abs(x), 0.0), (0, pad)).reshape(-1, n).max(axis=1)
    eb = np.pad(err, (0, pad)).reshape(-1, n).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_block = np.where(xb > 0, eb / xb, np.where(eb > 0, np.inf, 0.0))
        rel_l2 = np.sqrt(noise / sig) if sig > 0 else (0.0 if noise == 0 else np.inf)
        snr = 10 * np.log10(sig / noise) if noise > 0 else np.inf
    return {"rel_l2": float(rel_l2), "max_err_rel_block": float(rel_block.max()), "snr_db": float(snr)}


def _facet(parts, cfg):
    """Decoded values of each part, concatenated, and the facet-only figures of the row."""
    ys, lossless = [], []
    for x in parts:
        xp = np.pad(x, (0, (-len(x)) % cfg.n))
        blocks = model.encode(xp, cfg)
        ys.append(model.to_float(model.decode(blocks, cfg), cfg.format)[:len(x)])
        lossless.append(model.lossless_bits(xp, cfg))
    lossless = np.concatenate(lossless)
    return np.concatenate(ys), {
        "bits_per_value": float(cfg.bits),
        "lossless_bits_per_value": float(lossless.sum() / (lossless.size * cfg.n)),
        "truncated_blocks": float(np.mean(lossless > cfg.budget)),
    }


def _facet_row(group, parts, cfg, method=None):
    x = np.concatenate(parts)
    y, extra = _facet(parts, cfg)
    name = method or f"facet-{cfg.policy}" + ("" if cfg.k is None else f" K={cfg.k}")
    return {"tensor": group, "method": name, "policy": cfg.policy, "config": cfg.to_dict(),
            "values": int(x.size), **extra, **metrics(x, y, cfg.n)}


def _baseline_row(group, parts, name, n):
    from .baselines import BASELINES, bits_per_value
    x = np.concatenate(parts)
    y = np.concatenate([BASELINES[name](p) for p in parts])
    return {"tensor": group, "method": name, "policy": None, "values": int(x.size),
            "bits_per_value": bits_per_value(name), "lossless_bits_per_value": None,
            "truncated_blocks": None, **metrics(x, y, n)}


def baseline_names(baselines):
    """The baselines to run: ``baselines``, or all when ``None``; ValueError on an unknown name."""
    from .baselines import BASELINES
    names = list(BASELINES) if baselines is None else list(baselines)
    for b in names:
        if b not in BASELINES:
            raise ValueError(f"unknown baseline {b!r}; choose from {', '.join(BASELINES)}")
    return names


def evaluate(tensors, cfgs, baselines=None, by_class=True):
    """Evaluate facet configs and baselines on ``tensors``.

    Parameters
    ----------
    tensors : dict of str to ndarray
    cfgs : list of Config
        facet configurations, each reported as its own method.
    baselines : list of str or None
        Names from :data:`facet.baselines.BASELINES`; ``None`` means all of them.
    by_class : bool
        Also pool the tensors of each class (``tensor_class``) into one row.

    Returns
    -------
    list of dict
        One row per (tensor or class, method).
    """
    names = baseline_names(baselines)
    n_err = cfgs[0].n if cfgs else 32
    rows = []
    for group, parts in _groups(tensors, by_class).items():
        rows += [_facet_row(group, parts, cfg) for cfg in cfgs]
        rows += [_baseline_row(group, parts, b, n_err) for b in names]
    return rows


def _num(v, spec):
    return "–" if v is None else format(v, spec)


def format_table(rows):
    """Markdown table of :func:`evaluate` rows, one line per row."""
    head = ["tensor", "method", "bits/value", "lossless bits/value", "truncated blocks",
            "rel. L2", "max err / block max", "SNR dB"]
    body = [[r["tensor"], r["method"], _num(r["bits_per_value"], "g"),
             _num(r["lossless_bits_per_value"], ".2f"), _num(r["truncated_blocks"], ".1%"),
             _num(r["rel_l2"], ".4f"), _num(r["max_err_rel_block"], ".4f"), _num(r["snr_db"], ".1f")]
            for r in rows]
    return tabulate(body, head, tablefmt="github", disable_numparse=True)


def format_summary(rows, metric="rel_l2"):
    """Markdown matrix: one row per tensor or class, one column per method, cells ``metric``."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    tensors = list(dict.fromkeys(r["tensor"] for r in rows))
    cell = {(r["tensor"], r["method"]): r[metric] for r in rows}
    bits = {r["method"]: r["bits_per_value"] for r in rows}
    head = ["tensor"] + [f"{m} ({bits[m]:g} b/v)" for m in methods]
    body = [[t] + [_num(cell.get((t, m)), ".4f") for m in methods] for t in tensors]
    return tabulate(body, head, tablefmt="github", disable_numparse=True)


def dump_json(obj, path):
    """Write ``obj`` as indented JSON (infinite SNR of a lossless method as ``Infinity``)."""
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, allow_nan=True)


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
