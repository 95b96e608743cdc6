"""Training in the loop: a small byte-level GPT trained with its saved activations compressed.

Every run starts from the same seed, sees the same batches, and differs only in how the
tensors autograd saves for backward are stored (:func:`facet.torch.compress_saved_tensors`):
float32, bf16, facet at several rates and policies, or a baseline fake quantizer. The corpus
is the Python standard library's own top-level source files, which every machine with Python
has; every tenth file (in sorted order) is held out.

``facet train`` / ``make train`` writes ``build/train/results.json`` and ``build/train/loss.png``.
"""

from dataclasses import dataclass, asdict, replace
import glob
import hashlib
import json
import math
import os
from pathlib import Path
import platform
import sysconfig
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from facet import baselines
from facet.config import Config, POLICIES
from facet.torch import compress_saved_tensors

__all__ = ["GPTConfig", "GPT", "corpus", "default_methods", "parse_method", "train_run", "run",
           "format_table", "plot"]

#: Rates tried for each facet policy; configs that Config rejects are skipped and listed.
RATES = (8, 6, 4.5, 4)
#: Baselines run when facet.baselines has them.
BASELINE_NAMES = ("mxint8", "mxfp8-e4m3", "nvfp4")


# -- model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class GPTConfig:
    vocab: int = 256
    context: int = 64
    width: int = 128
    layers: int = 4
    heads: int = 4


class Block(nn.Module):
    """Pre-LayerNorm Transformer block. Attention is written out (scores, softmax, weighted
    sum) so that the attention probabilities are saved activations, as in most training code."""

    def __init__(self, c: GPTConfig):
        super().__init__()
        self.heads = c.heads
        self.ln1, self.ln2 = nn.LayerNorm(c.width), nn.LayerNorm(c.width)
        self.qkv = nn.Linear(c.width, 3 * c.width)
        self.proj = nn.Linear(c.width, c.width)
        self.fc1, self.fc2 = nn.Linear(c.width, 4 * c.width), nn.Linear(4 * c.width, c.width)
        self.register_buffer("causal", torch.ones(c.context, c.context).tril().bool(), persistent=False)

    def forward(self, x):
        b, t, w = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(w // self.heads)
        att = scores.masked_fill(~self.causal[:t, :t], float("-inf")).softmax(dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, w))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class GPT(nn.Module):
    """A GPT-style byte-level language model with learned positions and tied embeddings."""

    def __init__(self, c: GPTConfig):
        super().__init__()
        self.tok = nn.Embedding(c.vocab, c.width)
        self.pos = nn.Parameter(torch.zeros(c.context, c.width))
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln = nn.LayerNorm(c.width)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02 / (math.sqrt(2 * c.layers) if name.endswith(("proj.weight", "fc2.weight")) else 1))

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos[: idx.shape[1]]
        for blk in self.blocks:
            x = blk(x)
        logits = self.ln(x) @ self.tok.weight.t()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# -- data ---------------------------------------------------------------------------------

def corpus():
    """``(train, heldout, info)``: uint8 tensors of the standard library's top-level sources.

    Files are read in sorted order; every tenth one goes to the held-out split.
    """
    root = sysconfig.get_paths()["stdlib"]
    files = sorted(glob.glob(os.path.join(root, "*.py")))
    if len(files) < 20:
        raise ValueError(f"found only {len(files)} .py files in {root}; need the standard library sources")
    parts = {0: [], 1: []}
    for i, f in enumerate(files):
        parts[int(i % 10 == 9)].append(Path(f).read_bytes())
    train, held = (b"".join(parts[k]) for k in (0, 1))
    info = {"root": root, "python": platform.python_version(), "files": len(files),
            "train_bytes": len(train), "heldout_bytes": len(held),
            "sha256": hashlib.sha256(train + held).hexdigest()[:16]}
    as_tensor = lambda b: torch.from_numpy(np.frombuffer(b, dtype=np.uint8).copy())
    return as_tensor(train), as_tensor(held), info


def batches(data, count, batch, context, seed):
    """``count`` fixed ``(inputs, targets)`` batches of random windows, from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    start = torch.randint(0, data.numel() - context - 1, (count, batch), generator=g)
    idx = start[..., None] + torch.arange(context + 1)
    win = data[idx].long()
    return win[..., :-1], win[..., 1:]


# -- methods ------------------------------------------------------------------------------

def parse_method(name, fmt="bf16", block=32):
    """Storage spec of a method name: ``fp32``, ``bf16``, ``POLICY:T`` (facet on ``fmt``
    blocks of ``block`` values) or a baseline name. Raises ValueError on an invalid one."""
    if ":" in name:
        from facet.torch import POLICIES as TORCH_POLICIES
        policy, t = name.split(":", 1)
        try:
            bits = float(t)
        except ValueError:
            raise ValueError(f"bad rate in method {name!r}: {t!r} is not a number") from None
        cfg = Config(fmt, block, int(bits) if bits.is_integer() else bits, policy=policy)
        if policy not in TORCH_POLICIES:
            raise ValueError(f"policy {policy!r} has no torch implementation; "
                             f"available: {', '.join(TORCH_POLICIES)}")
        return cfg
    if name in ("fp32", "bf16") or name in baselines.BASELINES:
        return name
    raise ValueError(f"unknown method {name!r}; expected fp32, bf16, POLICY:T with POLICY in "
                     f"{', '.join(POLICIES)}, or a baseline of {', '.join(sorted(baselines.BASELINES))}")


def default_methods(fmt="bf16", block=32):
    """``(methods, skipped)``: every default method name, and ``(name, reason)`` of those
    that do not exist here (configs Config rejects, baselines not in BASELINES)."""
    from facet.torch import POLICIES as TORCH_POLICIES
    methods, skipped = ["fp32", "bf16"], []
    for policy in POLICIES:
        if policy not in TORCH_POLICIES:
            skipped.append((policy, "no torch implementation in facet.torch.policies"))
            continue
        for t in RATES:
            name = f"{policy}:{t:g}"
            try:
                parse_method(name, fmt, block)
                methods.append(name)
            except ValueError as e:
                skipped.append((name, str(e)))
    for b in BASELINE_NAMES:
        if b in baselines.BASELINES:
            methods.append(b)
        else:
            skipped.append((b, "not in facet.baselines.BASELINES"))
    return methods, skipped


def _bits_label(name, spec):
    if isinstance(spec, Config):
        return spec.bits
    if spec == "fp32":
        return 32
    return baselines.bits_per_value(spec)


# -- training -----------------------------------------------------------------------------

@dataclass
class Settings:
    steps: int = 150
    batch: int = 8
    lr: float = 3e-3
    warmup: int = 25
    eval_batches: int = 16
    seed: int = 0
    model: GPTConfig = GPTConfig()


def _lr(step, s: Settings):
    if step < s.warmup:
        return s.lr * (step + 1) / s.warmup
    done = (step - s.warmup) / max(s.steps - s.warmup, 1)
    return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done)))


@torch.no_grad()
def evaluate(model, data):
    """Mean loss over fixed batches (nothing is saved for backward, so nothing is compressed)."""
    model.eval()
    loss = sum(model(x, y).item() for x, y in zip(*data)) / len(data[0])
    model.train()
    return loss


def train_run(spec, train, held, s: Settings, progress=None):
    """Train one model from ``s.seed`` with saved tensors stored by ``spec``; returns a dict.

    ``progress(step, loss)``, if given, is called after every step.
    """
    torch.manual_seed(s.seed)
    model = GPT(s.model)
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=0.1, betas=(0.9, 0.95))
    xs, ys = batches(train, s.steps, s.batch, s.model.context, s.seed + 1)
    ctx = compress_saved_tensors(spec, exclude=list(model.parameters()))
    losses = []
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(s.steps):
        for g in opt.param_groups:
            g["lr"] = _lr(step, s)
        with ctx:
            loss = model(xs[step], ys[step])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step, losses[-1])
        if not math.isfinite(losses[-1]):
            break
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    ev = s.eval_batches, s.batch, s.model.context
    stats = ctx.stats()
    return {
        "steps": len(losses), "losses": losses,
        "final_train_loss": evaluate(model, batches(train, *ev, s.seed + 2)),
        "heldout_loss": evaluate(model, batches(held, *ev, s.seed + 3)),
        "stored_bytes": stats["stored_bytes"], "raw_bytes": stats["raw_bytes"],
        "saved_tensors": stats["tensors"], "skipped_tensors": stats["skipped"],
        "bytes_ratio": stats["ratio"], "seconds": seconds, "cpu_seconds": cpu,
    }


def _worker(name, spec, s, queue):
    """One run in a worker process, on one thread; reports every step to ``queue``."""
    # One thread per run and one run per core: on a shared machine, OpenMP threads that
    # wait for each other at every op cost far more than they gain on tensors this small.
    torch.set_num_threads(1)
    train, held, _ = corpus()
    return train_run(spec, train, held, s, lambda step, loss: queue.put((name, loss)))


def run(methods=None, steps=None, seed=0, out="build/train", fmt="bf16", block=32, jobs=2,
        progress=True, model=None):
    """Train under every method, ``jobs`` runs at a time; write ``results.json`` and ``loss.png``.

    Returns the result dict (see ``results.json``).
    """
    from tqdm import tqdm

    skipped = []
    if methods is None:
        methods, skipped = default_methods(fmt, block)
    specs = {m: parse_method(m, fmt, block) for m in methods}
    s = Settings(seed=seed)
    s = replace(s, steps=steps or s.steps, model=model or s.model)
    _, _, info = corpus()
    n_params = sum(p.numel() for p in GPT(s.model).parameters())
    # The slowest storage methods first, so that the last runs to start are short ones.
    order = sorted(specs, key=lambda m: -_cost(specs[m]))
    results = {}
    t0 = time.perf_counter()
    bar = tqdm(total=s.steps * len(specs), unit="step", disable=not progress, dynamic_ncols=True,
               mininterval=1.0)
    if jobs == 1:
        train, held, _ = corpus()
        for m in order:
            def report(step, loss, m=m):
                bar.update(1)
                bar.set_postfix_str(f"{m} loss {loss:.3f}")
            results[m] = train_run(specs[m], train, held, s, report)
    else:
        _run_pool(specs, order, s, jobs, bar, results)
    bar.close()
    runs = [{"method": m, "T": _bits_label(m, specs[m]),
             "config": specs[m].to_dict() if isinstance(specs[m], Config) else None, **results[m]}
            for m in specs]
    result = {"settings": {**asdict(s), "params": n_params, "format": fmt, "block": block,
                           "jobs": jobs, "threads_per_run": 1, "torch": torch.__version__},
              "corpus": info, "skipped": [{"method": m, "reason": r} for m, r in skipped],
              "wall_seconds": time.perf_counter() - t0,
              # One thread per run: the CPU time of all runs over `jobs` is the wall time on
              # `jobs` cores that nothing else uses.
              "cpu_seconds": sum(r["cpu_seconds"] for r in runs), "runs": runs}
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(json.dumps(result, indent=1))
    (outdir / "table.md").write_text(format_table(result) + "\n")
    plot(result, outdir / "loss.png")
    return result


def _run_pool(specs, order, s, jobs, bar, results):
    """Runs in ``jobs`` worker processes; their steps move the progress bar."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    import queue as queue_mod

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        q = manager.Queue()
        futures = {pool.submit(_worker, m, specs[m], s, q): m for m in order}
        pending = set(futures)
        while pending:
            try:
                name, loss = q.get(timeout=0.5)
                bar.update(1)
                bar.set_postfix_str(f"{name} loss {loss:.3f}")
            except queue_mod.Empty:
                pass
            for f in [f for f in pending if f.done()]:
                pending.discard(f)
                results[futures[f]] = f.result()
                bar.update(s.steps - results[futures[f]]["steps"])  # runs that stopped early


def _cost(spec):
    """Rough relative cost of a storage method per step, for scheduling."""
    if isinstance(spec, Config):
        return 3 if spec.policy != "plane" else 2
    return 1 if spec in ("fp32", "bf16") else 1.5


# -- reporting ----------------------------------------------------------------------------

def format_table(result):
    """Markdown table of the runs: held-out loss against fp32 storage and the bytes ratios,
    then the run's wall and CPU time."""
    runs = result["runs"]
    ref = next((r for r in runs if r["method"] == "fp32"), None)
    bf = next((r for r in runs if r["method"] == "bf16"), None)
    rows = ["| method | bits/value | final train loss | held-out loss | vs fp32 | stored vs fp32 | stored vs bf16 | s |",
            "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        rel = f"{100 * (r['heldout_loss'] / ref['heldout_loss'] - 1):+.2f}%" if ref else "–"
        vs_bf = f"{bf['stored_bytes'] / r['stored_bytes']:.2f}x" if bf and r["stored_bytes"] else "–"
        rows.append(f"| {r['method']} | {r['T']:g} | {r['final_train_loss']:.4f} | {r['heldout_loss']:.4f} | "
                    f"{rel} | {r['bytes_ratio']:.2f}x | {vs_bf} | {r['seconds']:.0f} |")
    if "wall_seconds" in result:
        rows += ["", f"Wall time {result['wall_seconds'] / 60:.1f} min and {result['cpu_seconds']:,.0f} "
                     f"CPU s (`--jobs {result['settings']['jobs']}`)."]
    return "\n".join(rows)


def plot(result, path, last=None):
    """Loss curves, one line per run, and a zoomed panel of the last steps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = result["runs"]
    steps = max(r["steps"] for r in runs)
    last = last or max(steps // 4, 1)
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(13, 5))
    k = 10  # moving average: single-batch losses are noisy
    tail = []
    for i, r in enumerate(runs):
        y = np.asarray(r["losses"])
        smooth = np.convolve(y, np.ones(k) / k, mode="valid") if len(y) >= k else y
        x = np.arange(len(smooth)) + (len(y) - len(smooth))
        style = dict(label=r["method"], lw=1.2, ls="-" if i < 10 else "--")
        ax.plot(np.arange(len(y)), y, **style)
        zoom.plot(x, smooth, **style)
        tail += [v for v, at in zip(smooth, x) if at >= steps - last and math.isfinite(v)]
    ax.set(xlabel="step", ylabel="training loss (per batch)", title="byte-level GPT on the stdlib sources")
    zoom.set(xlabel="step", ylabel=f"training loss ({k}-step mean)", title=f"last {last} steps",
             xlim=(steps - last, steps))
    if tail:
        zoom.set_ylim(min(tail) - 0.05, max(tail) + 0.05)
    zoom.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
