"""`facet` command line: eval, gen, synth, synth-sweep, train, explore."""

import argparse
import json
import sys
from pathlib import Path

from .config import Config, FORMATS, BLOCK_SIZES, POLICIES, HARDWARE_POLICIES

RD_OUT = "build/eval/rd"
CODECS = ("facet", "mxint8", "mxfp8-e4m3")
#: The error data `facet synth` puts beside the areas when it compares codecs.
SYNTH_DATA = "data/minilm_acts.npz"


class _Parser(argparse.ArgumentParser):
    """An argument error is one line on stderr, exit status 2; the usage is in ``--help``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def _add_config_args(p, block=32, bits_type=int):
    p.add_argument("--format", default="bf16", choices=sorted(FORMATS), help="value format (default bf16)")
    p.add_argument("--block", type=int, default=block, choices=BLOCK_SIZES, help="values per block N")
    p.add_argument("--bits", type=bits_type, default=8, help="target bits per value T (default 8)")
    p.add_argument("-K", dest="k", type=int, default=None,
                   help="exponent-delta planes (default: min(3, largest that fits))")
    p.add_argument("--policy", default="plane", help=f"truncation policy: {', '.join(POLICIES)}"
                   " (gen: one, default plane; eval and synth: a comma-separated list, default all)")


def _add_codec_arg(p, hlp):
    p.add_argument("--codec", default="facet", help=hlp)
    # None marks "not given": an MX codec rejects them (see _codecs).
    p.set_defaults(bits=None, policy=None)


def _bits_arg(text):
    """T from the command line: an int when whole, else a float such as 4.5."""
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    return int(t) if t.is_integer() else t


def _check_dir(path, option):
    """Fail in one line if ``path`` cannot become a directory (it is made with its parents):
    it, or the nearest of its parents that exists, is not a directory."""
    p = Path(path)
    first = next((q for q in (p, *p.parents) if q.exists()), None)
    if first is not None and not first.is_dir():
        where = "exists" if first == p else f"{first} exists"
        raise ValueError(f"{option} {path}: {where} and is not a directory")


def _check_liberty(args):
    if args.liberty and not Path(args.liberty).is_file():
        raise ValueError(f"--liberty {args.liberty}: no such file")
    if args.jobs < 1:  # every command with a liberty runs yosys, -j of them at once
        raise ValueError(f"-j {args.jobs}: need at least one job")


def _cmd_eval(args):
    from . import eval as ev
    # Everything that can be wrong with the arguments is checked before the long part.
    if args.json:
        ev.check_output_path(args.json, "--json")
    if args.md:
        ev.check_output_path(args.md, "--md")
    if args.out is not None:
        ev.check_output_path(args.out, "--out", directory=True)
    policies = [p for p in (args.policy or ",".join(POLICIES)).split(",") if p]
    for pol in policies:
        if pol not in POLICIES:
            raise ValueError(f"--policy: unknown policy {pol!r}; choose from {', '.join(POLICIES)}")
    baselines = None if args.baselines is None else [b for b in args.baselines.split(",") if b]
    ev.baseline_names(baselines)
    if args.rd:
        if args.k_list:
            raise ValueError("--k-list does not apply to --rd (use -K)")
        if args.md:
            raise ValueError("--md does not apply to --rd (it writes summary.md in --out)")
    else:
        ks = args.k_list or [args.k]
        cfgs = []
        for pol in policies:
            for k in ks:
                try:
                    cfgs.append(Config(args.format, args.block, args.bits, k, pol))
                except ValueError as e:
                    if args.policy is not None:  # a policy asked for by name must fit
                        raise
                    print(f"skipped {pol}: {e}", file=sys.stderr)
        if not cfgs:
            raise ValueError(f"no policy has a config at {args.format} N={args.block} T={args.bits:g}")
    skipped = []
    tensors = ev.load_tensors(args.path, skipped)
    values = sum(t.size for t in tensors.values())
    for name, reason in skipped:
        print(f"{args.path}: skipped {name}: {reason}", file=sys.stderr)
    if args.rd:
        _eval_rd(args, ev, tensors, policies, baselines)
        return
    rows = ev.evaluate(tensors, cfgs, baselines, by_class=not args.per_tensor)
    print(f"{args.path}: {len(tensors)} tensors, {values:,} values; {', '.join(c.name for c in cfgs)}")
    print(ev.format_table(rows))
    summary = f"relative L2 error (reference: the float32 input)\n\n{ev.format_summary(rows)}\n"
    print("\n" + summary, end="")
    if args.md:
        Path(args.md).write_text(f"`facet eval {args.path}`, {', '.join(c.name for c in cfgs)}: "
                                 f"{len(tensors)} tensors, {values:,} values; {summary}")
        print(f"wrote {args.md}")
    if args.json:
        ev.dump_json(rows, args.json)
        print(f"wrote {args.json}")


def _eval_rd(args, ev, tensors, policies, baselines):
    out = Path(args.out or RD_OUT)
    result = ev.run_rd(tensors, args.format, args.block, policies, baselines, args.k,
                       progress=not args.no_progress, path=args.path)
    files = ev.write_rd(result, out)
    if args.json:
        ev.dump_json(result, args.json)
        files.append(Path(args.json))
    s = result["settings"]
    print(f"{args.path}: {s['values']:,} values; {args.format} N={args.block}; policies "
          f"{', '.join(policies)} at T = {min(ev.RD_BITS):g}..{max(ev.RD_BITS):g}; "
          f"{len(result['rows'])} runs in {result['sweep_seconds']:.1f} s")
    for r in result["rejected"]:
        print(f"rejected {r['policy']} T={r['bits']:g}: {r['reason']}")
    print(ev.format_rd_summary(result["summary"]))
    print("wrote " + ", ".join(str(f) for f in files))


def _codecs(args, many=False):
    """The codecs of ``--codec`` (one, or for synth a comma-separated list), checked against
    the facet-only options: an MX block is 8 + 8*N bits, so T, K and the policy are implied."""
    codecs = [c for c in args.codec.split(",") if c] if many else [args.codec]
    for c in codecs:
        if c not in CODECS:
            raise ValueError(f"--codec: unknown codec {c!r}; choose from {', '.join(CODECS)}")
    if "facet" not in codecs:
        given = [o for o, v in (("--bits", args.bits), ("-K", args.k), ("--policy", args.policy))
                 if v is not None]
        if given:
            raise ValueError(f"{'/'.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --codec {args.codec}: an MX "
                             f"block is 8 + 8*N bits (8.25 bits per value at N = 32)")
    return codecs


def _configs(args, codecs, policies):
    from .rtl.mx import MxConfig
    bits = 8 if args.bits is None else args.bits
    cfgs = [Config(args.format, args.block, bits, args.k, pol)
            for pol in (policies if "facet" in codecs else ())]
    return cfgs + [MxConfig(c, args.format, args.block) for c in codecs if c != "facet"]


def _cmd_gen(args):
    from .generate import generate, module_names
    cfg, = _configs(args, _codecs(args), [args.policy or "plane"])
    out = Path(args.output or f"gen/{cfg.name}_s{args.stages}")
    _check_dir(out, "-o")
    info = generate(cfg, args.stages, out)
    names = module_names(cfg)
    print(f"wrote {out}/: {names['encoder']}, {names['decoder']}: .v (Verilog), .il (RTLIL), .vlt "
          f"(Verilator waivers of the generator's warnings); config.json")
    print(json.dumps({k: info[k] for k in info if k in ("latency", "ports")}, indent=1))


def _cmd_synth(args):
    from .synth import SynthError
    from .synth_flow import synth_config, synth_policies
    cfgs = _configs(args, _codecs(args, many=True), (args.policy or "plane,significance").split(","))
    _check_liberty(args)
    if args.output:
        _check_dir(args.output, "-o")
    tensors = None
    if len(cfgs) > 1 and any(c.policy.startswith("mx") for c in cfgs):
        from .eval import load_tensors
        if args.data is not None or Path(SYNTH_DATA).exists():
            tensors = load_tensors(args.data or SYNTH_DATA)
        else:
            print(f"no {SYNTH_DATA} (make data): the comparison has no error column", file=sys.stderr)
    if args.timing:
        from .timing import missing_tools
        if missing_tools():  # before the long part
            raise ValueError(missing_tools())
        if not args.period > 0:
            raise ValueError(f"--period must be positive, not {args.period}")
    timing = {"timing": args.timing, "period_ns": args.period}
    try:
        if len(cfgs) == 1:
            synth_config(cfgs[0], args.stages, liberty=args.liberty, nand2=args.nand2,
                         outdir=args.output, jobs=args.jobs, **timing)
        else:
            synth_policies(cfgs, args.stages, liberty=args.liberty, nand2=args.nand2,
                           outdir=args.output, tensors=tensors, jobs=args.jobs, **timing)
    except SynthError as e:  # no yosys, a missing file, a cell not in the liberty
        raise ValueError(e) from None


def _cmd_synth_sweep(args):
    from .synth import SynthError
    from .synth_flow import synth_sweep
    _check_liberty(args)
    try:
        synth_sweep(args.bits, args.policy, args.stages, liberty=args.liberty, nand2=args.nand2,
                    formats=args.formats.split(","), blocks=[int(b) for b in args.blocks.split(",")],
                    jobs=args.jobs)
    except SynthError as e:
        raise ValueError(e) from None


def _cmd_train(args):
    from . import train
    methods = None if args.methods is None else [m for m in args.methods.split(",") if m]
    if methods is not None:
        for m in methods:
            train.parse_method(m, args.format, args.block)     # reject bad names before any run
    _check_dir(args.out, "--out")
    model = train.GPTConfig(width=args.width, layers=args.layers)
    res = train.run(methods, args.steps, args.seed, args.out, args.format, args.block, args.jobs,
                    progress=not args.no_progress, model=model)
    s = res["settings"]
    print(f"byte-level GPT, {s['params']:,} parameters, {s['steps']} steps of {s['batch']} x "
          f"{s['model']['context']} tokens; stdlib sources {res['corpus']['python']}; "
          f"facet {args.format} N={args.block}")
    print(train.format_table(res))
    for sk in res["skipped"]:
        print(f"skipped {sk['method']}: {sk['reason']}")
    print(f"wrote {args.out}/results.json, {args.out}/loss.png")


def _cmd_explore(args):
    from . import eval as ev
    from . import explore, explore_out
    codecs = _list(args.codecs, "--codecs", str, explore.CODECS)
    max_stages = max(explore.max_stages(c) for c in codecs)
    sweep = {
        "codecs": codecs,
        "formats": _list(args.formats, "--formats", str, sorted(FORMATS)),
        "blocks": _list(args.blocks, "--blocks", int, BLOCK_SIZES),
        "bits": _list(args.bits, "--bits", _bits_arg),
        "policies": _list(args.policies, "--policies", str, HARDWARE_POLICIES),
        "ks": _list(args.ks, "--ks", lambda v: None if v == "default" else int(v)),
        "stages": _list(args.stages, "--stages", int, range(max_stages + 1)),
    }
    ev.check_output_path(args.out, "--out", directory=True)
    _check_liberty(args)
    try:  # a missing or unreadable dump fails here, in one line
        ev.load_tensors(args.dump)
    except ValueError as e:
        raise ValueError(f"--dump {e}") from None
    configs, rejected = explore.sweep_configs(**{k: v for k, v in sweep.items() if k != "stages"})
    if "facet" in codecs and not any(explore.codec_of(c) == "facet" for c in configs):
        raise ValueError("no facet configuration of the sweep fits: " + rejected[0]["reason"])
    options = explore.synth_options(args.liberty, args.nand2, args.timing)
    res = explore.run(configs, sweep["stages"], args.dump, args.out, options, args.jobs,
                      progress=not args.no_progress)
    settings = {**sweep, "dump": args.dump, "liberty": Path(args.liberty).name if args.liberty
                else "freepdk45_area.lib", "timing": options["timing"],
                "timing_off": options["timing_off"], "jobs": args.jobs}
    result = {"settings": settings, "rejected": rejected, **res}
    files, notes = explore_out.write_all(result, args.out)
    failed = [p for p in res["points"] if p["failed"]]
    print(explore_out.run_line(res, len(configs), len(sweep["stages"]), len(rejected)))
    for note in notes:
        print(note)
    for p in failed:
        print(f"failed: {p['config']} s{p['stages']}: {p['failed']}", file=sys.stderr)
    print("wrote " + ", ".join(str(f) for f in files))
    return 1 if failed else 0


def _list(text, option, conv, allowed=None):
    """A comma-separated option value, each item converted and checked; one-line ValueError."""
    items = []
    for v in (x.strip() for x in text.split(",")):
        try:
            item = conv(v)
        except (ValueError, argparse.ArgumentTypeError):
            raise ValueError(f"{option}: not a valid value: {v!r}") from None
        if allowed is not None and item not in allowed:
            raise ValueError(f"{option}: {v!r} is not one of {', '.join(map(str, allowed))}")
        items.append(item)
    return list(dict.fromkeys(items))


def explore_defaults():
    """The default sweep of `facet explore` as command-line strings."""
    from .explore import DEFAULTS
    return {k: ",".join(map(str, v)) for k, v in DEFAULTS.items() if k != "ks"}


def main(argv=None):
    from .synth_flow import PERIOD_NS
    ap = _Parser(prog="facet", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("eval", help="accuracy of facet and baselines on a .npy/.npz of activations")
    p.add_argument("path")
    _add_config_args(p, bits_type=_bits_arg)
    p.set_defaults(policy=None)
    p.add_argument("--policies", dest="policy", help="the same as --policy (default: all policies)")
    p.add_argument("--k-list", type=lambda s: [int(v) for v in s.split(",")], default=None,
                   help="evaluate several K, e.g. 2,3,4")
    p.add_argument("--baselines", default=None, help="comma-separated baseline names (default: all)")
    p.add_argument("--per-tensor", action="store_true", help="one row per tensor, not per class")
    p.add_argument("--json", default=None, help="also write the rows as JSON to this path")
    p.add_argument("--md", default=None, help="also write the relative L2 table as Markdown to this path")
    p.add_argument("--rd", action="store_true",
                   help="rate-distortion sweep over T = 4..12 in half bits, every policy and baseline")
    p.add_argument("--out", default=None, help=f"--rd output directory (default {RD_OUT}/)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("gen", help="generate Verilog and RTLIL for one config")
    _add_config_args(p)
    _add_codec_arg(p, "the codec: facet, or the MX baseline mxint8 or mxfp8-e4m3 (default facet)")
    p.add_argument("--stages", type=int, default=1, help="pipeline register stages (default 1)")
    p.add_argument("-o", "--output", default=None, help="output directory (default gen/<config>/)")
    p.set_defaults(func=_cmd_gen)

    for name, func, hlp in (("synth", _cmd_synth, "gate counts of one config"),
                            ("synth-sweep", _cmd_synth_sweep, "gate counts over formats x block sizes")):
        p = sub.add_parser(name, help=hlp)
        if name == "synth":
            _add_config_args(p)
            _add_codec_arg(p, "codecs, comma-separated: facet (the --policy list), mxint8, "
                           "mxfp8-e4m3 (default facet); several give one comparison table")
            p.add_argument("--data", default=None, help="activations for the error column of a "
                           f"comparison with an MX codec (default {SYNTH_DATA} when present)")
            p.add_argument("-o", "--output", default=None, help="work directory (default build/synth/<config>)")
            p.add_argument("--timing", action="store_true", help="also map for speed onto OSU 0.18 um"
                           " and report Fmax with qflow's vesta (install: make timing-tools)")
            p.add_argument("--period", type=float, default=PERIOD_NS, help="clock period target"
                           f" of the --timing mapping, ns (default {PERIOD_NS})")
        else:
            p.add_argument("--bits", type=int, default=8)
            p.add_argument("--policy", default="plane", choices=HARDWARE_POLICIES)
            p.add_argument("--formats", default="bf16,fp16,fp32")
            p.add_argument("--blocks", default="8,16,32,64")
        p.add_argument("--stages", type=int, default=1)
        p.add_argument("-j", "--jobs", type=int, default=2, help="yosys processes at once: the "
                       "encoder and the decoder side by side (default 2; 1 runs them in turn)")
        p.add_argument("--liberty", default=None, help="liberty file (default: scripts/freepdk45_area.lib)")
        p.add_argument("--nand2", default="NAND2_X1", help="the liberty's NAND2 cell, one gate equivalent"
                       " (default NAND2_X1)")
        p.set_defaults(func=func)

    p = sub.add_parser("train", help="train a small GPT with its saved activations compressed")
    p.add_argument("--steps", type=int, default=None, help="training steps per run (default 150)")
    p.add_argument("--methods", default=None,
                   help="comma-separated: fp32, bf16, POLICY:T (e.g. plane:8), baseline names "
                        "(default: all that exist)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="build/train", help="output directory (default build/train)")
    p.add_argument("--format", default="bf16", choices=sorted(FORMATS), help="facet value format")
    p.add_argument("--block", type=int, default=32, choices=BLOCK_SIZES, help="facet block size N")
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel, one thread each (default 2)")
    p.add_argument("--width", type=int, default=128, help="model width (default 128)")
    p.add_argument("--layers", type=int, default=4, help="Transformer blocks (default 4)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    d = explore_defaults()
    p = sub.add_parser("explore", help="sweep configs: area, depth, Fmax, compression and error")
    p.add_argument("--codecs", default=d["codecs"], help="facet and MX baselines (8 + 8/N bits per"
                   f" value; --bits, --policies and --ks do not apply) (default {d['codecs']})")
    p.add_argument("--formats", default=d["formats"], help=f"value formats (default {d['formats']})")
    p.add_argument("--blocks", default=d["blocks"], help=f"block sizes N (default {d['blocks']})")
    p.add_argument("--bits", default=d["bits"], help=f"bits per value T (default {d['bits']})")
    p.add_argument("--policies", default=d["policies"], help=f"policies with RTL (default {d['policies']})")
    p.add_argument("--ks", default="default", help="delta planes K, or 'default' (default: default)")
    p.add_argument("--stages", default=d["stages"], help=f"register stages (default {d['stages']})")
    p.add_argument("-j", "--jobs", type=int, default=1, help="points computed in parallel (default 1)")
    p.add_argument("--dump", default="data/minilm_acts.npz", help="activations for the error"
                   " (default data/minilm_acts.npz)")
    p.add_argument("--out", default="build/explore", help="output and cache directory (default build/explore)")
    p.add_argument("--liberty", default=None, help="liberty file (default: scripts/freepdk45_area.lib)")
    p.add_argument("--nand2", default="NAND2_X1", help="the liberty's NAND2 cell (default NAND2_X1)")
    p.add_argument("--timing", action=argparse.BooleanOptionalAction, default=None,
                   help="also measure Fmax on OSU 0.18 um (vesta), which lengthens each synthesis"
                   " (default: on when `make timing-tools` installed the tools)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_explore)

    args = ap.parse_args(argv)
    try:
        status = args.func(args)
    except (ValueError, OSError) as e:  # OSError: a path the checks above could not foresee
        print(f"facet {args.cmd}: error: {e}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
