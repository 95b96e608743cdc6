"""Summary of the cocotb regression sweep: ``python -m tb.summary`` (run by ``make regress``).

Reads the per-config results that ``tb/test_rtl.py::test_sweep`` writes to
``build/regress/results/``, prints a markdown table (config, blocks checked, simulator, wall
time, pass/fail) plus the configs the fit rule rejects and valid configs without a result, and
writes ``build/regress/summary.json``. By default only the latest pytest session's results are
shown; ``--all`` shows the newest result of every config from any session. Exit status 1 if a
config failed or a valid config has no result.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from .configs import sweep

ROOT = Path(__file__).resolve().parent.parent
REGRESS = ROOT / "build" / "regress"


def load(results_dir):
    out = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"warning: cannot read {path}: {exc}", file=sys.stderr)
    return out


def summarize(records, all_sessions=False):
    valid, rejected = sweep()
    sessions = sorted({r.get("session") or "" for r in records})
    latest = sessions[-1] if sessions else None
    if not all_sessions:
        records = [r for r in records if (r.get("session") or "") == latest]
    newest = {}
    for r in records:
        key = (r["config"], r.get("sim"))
        if key not in newest or r.get("time", 0) > newest[key].get("time", 0):
            newest[key] = r
    rows = sorted(newest.values(), key=lambda r: (r["config"], r.get("sim", "")))
    have = {r["config"] for r in rows}
    missing = [c.name for c in valid if c.name not in have]
    session_wall = None
    if latest and rows and not all_sessions:
        try:
            session_wall = max(r["time"] for r in rows) - float(latest)
        except (KeyError, ValueError):
            session_wall = None
    return {
        "generated": time.time(),
        "session": latest if not all_sessions else "all",
        "rows": [{k: r.get(k) for k in ("config", "config_id", "sim", "blocks_checked",
                                        "blocks_per_test", "wall_s", "build_s", "sim_s",
                                        "passed", "seed", "error", "latency")}
                 for r in rows],
        "rejected": [{"config": name, "reason": msg} for name, msg in rejected],
        "missing": missing,
        "totals": {
            "configs_run": len(rows), "passed": sum(bool(r.get("passed")) for r in rows),
            "failed": sum(not r.get("passed") for r in rows), "rejected": len(rejected),
            "missing": len(missing),
            "blocks_checked": sum(r.get("blocks_checked", 0) for r in rows),
            "wall_s_sum": round(sum(r.get("wall_s", 0) for r in rows), 1),
            "session_wall_s": round(session_wall, 1) if session_wall is not None else None,
        },
    }


def markdown(summary):
    lines = ["## facet cocotb regression", "",
             "| config | blocks checked | simulator | wall s | build s | seed | result |",
             "|---|---:|---|---:|---:|---:|---|"]
    for r in summary["rows"]:
        lines.append(f"| {r['config_id'] or r['config']} | {r['blocks_checked']} | {r['sim']} | "
                     f"{r['wall_s']:.1f} | {r['build_s']:.1f} | {r['seed']} | "
                     f"{'PASS' if r['passed'] else 'FAIL'} |")
    t = summary["totals"]
    lines += ["", f"{t['configs_run']} configs run: {t['passed']} passed, {t['failed']} failed; "
                  f"{t['blocks_checked']} blocks checked; sum of per-config wall times "
                  f"{t['wall_s_sum']} s"
              + (f"; session wall time {t['session_wall_s']} s" if t["session_wall_s"] else "")
              + "."]
    if summary["missing"]:
        lines += ["", "Valid configs without a result: " + ", ".join(summary["missing"])]
    if summary["rejected"]:
        lines += ["", f"### Rejected by the fit rule ({len(summary['rejected'])})", "",
                  "| config | reason |", "|---|---|"]
        lines += [f"| {r['config']} | {r['reason']} |" for r in summary["rejected"]]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=REGRESS / "results", type=Path)
    ap.add_argument("--out", default=REGRESS / "summary.json", type=Path)
    ap.add_argument("--all", action="store_true", help="newest result per config, any session")
    args = ap.parse_args(argv)
    summary = summarize(load(args.results), all_sessions=args.all)
    print(markdown(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    print(f"\nwritten {args.out}")
    t = summary["totals"]
    return 1 if t["failed"] or t["missing"] or not t["configs_run"] else 0


if __name__ == "__main__":
    sys.exit(main())
