"""Throughput of the golden model: encode and decode values/s on one core (`make bench`)."""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from .config import Config
from . import model


def activations(count, seed=0):
    """Activation-like bf16 test data: GELU of a heavy-tailed pre-activation."""
    rng = np.random.default_rng(seed)
    pre = rng.standard_normal(count).astype(np.float32) * np.exp(0.5 * rng.standard_normal(count)).astype(np.float32)
    return pre * 0.5 * (1 + np.tanh(0.7978845608 * (pre + 0.044715 * pre**3)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--values", type=int, default=10_000_000)
    ap.add_argument("--format", default="bf16")
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default="build/bench.json")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cfg = Config(args.format, args.block, args.bits)
    n = args.values - args.values % cfg.n
    raw = model.to_bits(activations(n), cfg).reshape(-1)
    print(f"{cfg.name}: {n:,} values, best of {args.repeat}, one core")
    enc_t, dec_t = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        blocks = model.encode(raw, cfg)
        t1 = time.perf_counter()
        out = model.decode(blocks, cfg)
        t2 = time.perf_counter()
        enc_t.append(t1 - t0)
        dec_t.append(t2 - t1)
    assert out.shape == raw.shape
    result = {"config": cfg.to_dict(), "values": n,
              "encode_values_per_s": n / min(enc_t), "decode_values_per_s": n / min(dec_t),
              "encode_s": min(enc_t), "decode_s": min(dec_t)}
    print(f"encode {result['encode_values_per_s'] / 1e6:7.1f} M values/s  ({min(enc_t) * 1e3:.0f} ms)")
    print(f"decode {result['decode_values_per_s'] / 1e6:7.1f} M values/s  ({min(dec_t) * 1e3:.0f} ms)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
