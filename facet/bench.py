"""Throughput of the golden model: encode and decode values/s on one core, every policy
(`make bench`), and of the torch codec for the policies it has.

The figures go to the terminal as a table and to ``build/bench.json``.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from .config import POLICIES, Config
from . import model

__all__ = ["activations", "bench", "main"]


def activations(count, seed=0):
    """Activation-like test data: GELU of a heavy-tailed pre-activation, float32."""
    rng = np.random.default_rng(seed)
    pre = rng.standard_normal(count).astype(np.float32) * np.exp(0.5 * rng.standard_normal(count)).astype(np.float32)
    return pre * 0.5 * (1 + np.tanh(0.7978845608 * (pre + 0.044715 * pre**3)))


def bench(cfg, values=10_000_000, repeat=5, seed=0):
    """Best-of-``repeat`` encode and decode rates of the NumPy model on ``values`` values."""
    n = values - values % cfg.n
    raw = model.to_bits(activations(n, seed), cfg).reshape(-1)
    enc, dec = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        blocks = model.encode(raw, cfg)
        t1 = time.perf_counter()
        out = model.decode(blocks, cfg)
        t2 = time.perf_counter()
        enc.append(t1 - t0)
        dec.append(t2 - t1)
    assert out.shape == raw.shape
    return {"config": cfg.to_dict(), "name": cfg.name, "values": n, "encode_values_per_s": n / min(enc),
            "decode_values_per_s": n / min(dec), "encode_s": min(enc), "decode_s": min(dec)}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m facet.bench", description=__doc__)
    ap.add_argument("--values", type=int, default=10_000_000)
    ap.add_argument("--format", default="bf16")
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--bits", type=float, default=8)
    ap.add_argument("--policies", default=",".join(POLICIES), help="comma-separated (default: all)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true", help="skip the torch codec")
    ap.add_argument("--json", default="build/bench.json")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cfgs = [Config(args.format, args.block, args.bits, policy=p) for p in args.policies.split(",")]
    print(f"{args.values:,} activation-like values (torch codec: {min(args.values, 4_000_000):,}), "
          f"best of {args.repeat}, one core")
    results = [bench(c, args.values, args.repeat) for c in cfgs]
    rows = [[r["name"], "numpy", f"{r['encode_values_per_s'] / 1e6:.1f}", f"{r['decode_values_per_s'] / 1e6:.1f}"]
            for r in results]
    torch_results = []
    if not args.no_torch:
        try:
            from .torch import POLICIES as TORCH_POLICIES
            from .torch.bench import bench as torch_bench
        except ImportError:
            TORCH_POLICIES = {}
        for c in cfgs:
            if c.policy in TORCH_POLICIES:
                r = torch_bench(c, min(args.values, 4_000_000), args.repeat)
                torch_results.append({"name": c.name, **r})
                rows.append([c.name, "torch", f"{r['encode_values_per_s'] / 1e6:.1f}",
                             f"{r['decode_values_per_s'] / 1e6:.1f}"])
    table = tabulate(rows, headers=["config", "codec", "encode M values/s", "decode M values/s"],
                     tablefmt="github")
    print(table)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).with_suffix(".md").write_text(
        f"{args.values:,} activation-like values ({args.format}; the torch codec: "
        f"{min(args.values, 4_000_000):,}), best of {args.repeat}, one core (`make bench`):\n\n{table}\n")
    Path(args.json).write_text(json.dumps({"numpy": results, "torch": torch_results}, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
