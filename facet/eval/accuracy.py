"""Accuracy of facet and of the baselines at one rate: the metrics and the tables of rows."""

import numpy as np
from tabulate import tabulate

from .. import model
from .tensors import _groups

__all__ = ["metrics", "evaluate", "baseline_names", "format_table", "format_summary"]


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
    from ..baselines import BASELINES, bits_per_value
    x = np.concatenate(parts)
    y = np.concatenate([BASELINES[name](p) for p in parts])
    return {"tensor": group, "method": name, "policy": None, "values": int(x.size),
            "bits_per_value": bits_per_value(name), "lossless_bits_per_value": None,
            "truncated_blocks": None, **metrics(x, y, n)}


def baseline_names(baselines):
    """The baselines to run: ``baselines``, or all when ``None``; ValueError on an unknown name."""
    from ..baselines import BASELINES
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
