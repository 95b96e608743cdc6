"""Throughput of the torch codec on one CPU core: encode, decode and round trip, values/s.

``python -m facet.torch.bench`` prints it and writes ``build/bench_torch.json``;
:func:`bench` returns the same figures for one config, and :func:`report` the printed lines.
"""

import argparse
import json
import os
from pathlib import Path
import time

import torch

from facet.config import Config
from .codec import decode, encode

__all__ = ["bench", "report", "main"]


def bench(cfg, values=4_000_000, repeat=5, seed=0):
    """Best-of-``repeat`` encode and decode times of ``values`` activation-like values.

    Runs on one thread, on the CPU. Returns a dict with ``encode_values_per_s``,
    ``decode_values_per_s`` and ``round_trip_values_per_s``.
    """
    from facet.bench import activations
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        n = values - values % cfg.n
        x = torch.from_numpy(activations(n, seed))
        enc, dec = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            blocks = encode(x, cfg)
            t1 = time.perf_counter()
            y = decode(blocks, cfg, x.shape)
            t2 = time.perf_counter()
            enc.append(t1 - t0)
            dec.append(t2 - t1)
        assert y.shape == x.shape
    finally:
        torch.set_num_threads(threads)
    return {"config": cfg.to_dict(), "values": n, "torch": torch.__version__,
            "encode_values_per_s": n / min(enc), "decode_values_per_s": n / min(dec),
            "round_trip_values_per_s": n / (min(enc) + min(dec))}


def report(cfgs=None, values=4_000_000, repeat=5):
    """``(lines, results)`` for the given configs (default: bf16, N = 32, T = 8, both policies)."""
    cfgs = cfgs or [Config("bf16", 32, 8, policy=p) for p in ("plane", "significance")]
    results = [bench(c, values, repeat) for c in cfgs]
    lines = [f"torch {torch.__version__} codec, one core, {values:,} values, best of {repeat}"]
    for r, c in zip(results, cfgs):
        lines.append(f"{c.name:28s} encode {r['encode_values_per_s'] / 1e6:6.1f}  decode "
                     f"{r['decode_values_per_s'] / 1e6:6.1f}  round trip "
                     f"{r['round_trip_values_per_s'] / 1e6:6.1f} M values/s")
    return lines, results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--values", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default="build/bench_torch.json")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    lines, results = report(values=args.values, repeat=args.repeat)
    print("\n".join(lines))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
