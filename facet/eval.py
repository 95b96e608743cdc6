"""Accuracy of facet and of the baselines on activation tensors (`facet eval`).

Every tensor is flattened in C order and cut into blocks of N values (the last block padded
with zeros, which the metrics leave out). The reference is the float32 input, so facet's own
rounding to its format counts as error, as does every baseline's.
"""

import json
import re

import numpy as np

from .config import Config
from . import model

__all__ = ["load_tensors", "tensor_class", "metrics", "evaluate", "format_table"]


def load_tensors(path):
    """``{name: float32 array}`` from a .npy or .npz file."""
    if str(path).endswith(".npz"):
        with np.load(path) as z:
            tensors = {k: z[k] for k in z.files}
    elif str(path).endswith(".npy"):
        tensors = {"tensor": np.load(path)}
    else:
        raise ValueError(f"{path}: expected a .npy or .npz file")
    for name, t in tensors.items():
        if t.dtype.kind != "f":
            raise ValueError(f"{path}: tensor {name!r} is {t.dtype}, not floating point")
    return {k: np.asarray(v, np.float32) for k, v in tensors.items()}


def tensor_class(name):
    """Class of a tensor name: ``L3.gelu_in`` -> ``gelu_in``."""
    return re.sub(r"^(L\d+|emb)\.", "", name)


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


def _facet(x, cfg):
    pad = (-len(x)) % cfg.n
    xp = np.pad(x, (0, pad))
    blocks = model.encode(xp, cfg)
    y = model.to_float(model.decode(blocks, cfg), cfg.format)[:len(x)]
    lossless = model.lossless_bits(xp, cfg)
    return y, {
        "bits_per_value": cfg.bits,
        "lossless_bits_per_value": float(lossless.sum() / len(xp)),
        "truncated_blocks": float(np.mean(lossless > cfg.budget)),
    }


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
    from .baselines import BASELINES, bits_per_value

    names = list(BASELINES) if baselines is None else list(baselines)
    for b in names:
        if b not in BASELINES:
            raise ValueError(f"unknown baseline {b!r}; choose from {sorted(BASELINES)}")
    groups = {name: [name] for name in tensors}
    if by_class:
        groups = {}
        for name in tensors:
            groups.setdefault(tensor_class(name), []).append(name)
    n_err = cfgs[0].n if cfgs else 32
    rows = []
    for group, members in groups.items():
        x = np.concatenate([tensors[m].reshape(-1) for m in members])
        for cfg in cfgs:
            y, extra = _facet(x, cfg)
            rows.append({"tensor": group, "method": f"facet-{cfg.policy} K={cfg.k}", "config": cfg.to_dict(),
                         "values": int(x.size), **extra, **metrics(x, y, cfg.n)})
        for b in names:
            y = BASELINES[b](x)
            rows.append({"tensor": group, "method": b, "values": int(x.size),
                         "bits_per_value": bits_per_value(b), "lossless_bits_per_value": None,
                         "truncated_blocks": None, **metrics(x, y, n_err)})
    return rows


def format_table(rows):
    """Markdown table of :func:`evaluate` rows."""
    head = ("| tensor | method | bits/value | lossless bits/value | truncated blocks | rel. L2 "
            "| max err / block max | SNR dB |\n|---|---|---|---|---|---|---|---|")
    def fmt(v, spec):
        return "–" if v is None else format(v, spec)
    lines = [head]
    for r in rows:
        lines.append(f"| {r['tensor']} | {r['method']} | {fmt(r['bits_per_value'], 'g')} "
                     f"| {fmt(r['lossless_bits_per_value'], '.2f')} | {fmt(r['truncated_blocks'], '.1%')} "
                     f"| {r['rel_l2']:.4f} | {r['max_err_rel_block']:.4f} | {r['snr_db']:.1f} |")
    return "\n".join(lines)


def format_summary(rows, metric="rel_l2"):
    """Markdown matrix: one row per tensor or class, one column per method, cells ``metric``."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    tensors = list(dict.fromkeys(r["tensor"] for r in rows))
    cell = {(r["tensor"], r["method"]): r[metric] for r in rows}
    bits = {r["method"]: r["bits_per_value"] for r in rows}
    lines = ["| tensor | " + " | ".join(f"{m} ({bits[m]:g} b/v)" for m in methods) + " |",
             "|---|" + "---|" * len(methods)]
    for t in tensors:
        lines.append(f"| {t} | " + " | ".join(f"{cell[(t, m)]:.4f}" for m in methods) + " |")
    return "\n".join(lines)


def dump_json(rows, path):
    with open(path, "w") as f:
        json.dump(rows, f, indent=1, allow_nan=True)
