"""Summary of the cocotb regression sweep: ``python -m tb.summary`` (run by ``make regress``).

Reads the per-config results that ``tb/test_rtl.py::test_sweep`` writes to
``build/regress/results/``, prints a markdown table (truncation policy, config, blocks checked,
simulator, wall time, pass/fail; grouped by policy, then format, N, T) with totals overall and
per policy, plus the configs the fit rule rejects and valid configs without a result, and
writes ``build/regress/summary.json``, the table as ``summary.md`` and the totals alone as
``totals.md`` (``make report`` copies both to docs/reports/; the README shows the totals). By
default only the latest pytest session's results are shown; ``--all`` shows the newest result
of every config from any session. Exit status 1 if a config failed or a valid config has no
result.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from .configs import POLICIES, sweep

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


_NAME = re.compile(r"^(?P<format>[a-z0-9]+)_n(?P<block>\d+)_t(?P<bits>\d+)(?:_k\d+)?"
                   r"_(?P<policy>[a-z]+)$")


def _key(name, record=None):
    """``(policy, format, N, T)`` of a result record or a config / rejected id, for sorting
    and grouping. Records written before the policy field existed give it by their name."""
    record = record or {}
    m = _NAME.match(name or "")
    parsed = m.groupdict() if m else {}
    policy = record.get("policy") or parsed.get("policy") or "?"
    fmt = record.get("format") or parsed.get("format") or (name or "")
    block = int(record.get("block") or parsed.get("block") or 0)
    bits = int(record.get("bits") or parsed.get("bits") or 0)
    order = POLICIES.index(policy) if policy in POLICIES else len(POLICIES)
    return order, policy, fmt, block, bits


def _totals(rows):
    return {
        "configs_run": len(rows), "passed": sum(bool(r.get("passed")) for r in rows),
        "failed": sum(not r.get("passed") for r in rows),
        "blocks_checked": sum(r.get("blocks_checked", 0) for r in rows),
        "wall_s_sum": round(sum(r.get("wall_s", 0) for r in rows), 1),
    }


def commit_of(path):
    """``git describe --always --dirty`` of the checkout holding ``path``: the sources the
    results came from. None outside a git checkout."""
    try:
        out = subprocess.run(["git", "-C", str(path), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def summarize(records, all_sessions=False, commit=None):
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
    rows = sorted(newest.values(), key=lambda r: (_key(r["config"], r), r.get("sim", "")))
    for r in rows:
        r["policy"] = _key(r["config"], r)[1]
    have = {r["config"] for r in rows}
    missing = [c.name for c in valid if c.name not in have]
    by_policy = {}
    for policy in POLICIES:
        sel = [r for r in rows if r["policy"] == policy]
        by_policy[policy] = _totals(sel) | {
            "valid": sum(c.policy == policy for c in valid),
            "rejected": sum(_key(name)[1] == policy for name, _ in rejected),
            "missing": sum(c.policy == policy and c.name not in have for c in valid)}
    session_wall = None
    if latest and rows and not all_sessions:
        try:
            session_wall = max(r["time"] for r in rows) - float(latest)
        except (KeyError, ValueError):
            session_wall = None
    return {
        "generated": time.time(),
        "commit": commit,
        "session": latest if not all_sessions else "all",
        "sessions": len({r.get("session") or "" for r in rows}),
        "rows": [{k: r.get(k) for k in ("policy", "config", "config_id", "sim",
                                        "blocks_checked", "blocks_per_test", "wall_s",
                                        "build_s", "sim_s", "passed", "seed", "error",
                                        "latency")}
                 for r in rows],
        "rejected": [{"policy": _key(name)[1], "config": name, "reason": msg}
                     for name, msg in sorted(rejected, key=lambda x: _key(x[0]))],
        "missing": missing,
        "totals": _totals(rows) | {
            "rejected": len(rejected), "missing": len(missing),
            "session_wall_s": round(session_wall, 1) if session_wall is not None else None,
        },
        "totals_by_policy": by_policy,
    }


def _provenance(summary):
    when = time.strftime("%Y-%m-%d", time.gmtime(summary["generated"]))
    text = (f"Sources at {summary['commit']}, summarized {when}."
            if summary.get("commit") else f"Summarized {when}.")
    runs = summary.get("sessions", 1)
    if summary.get("session") == "all" and runs > 1:
        # `--all` after an interrupted sweep: say that the rows are not one run's.
        text += f" The newest result of each config, from {runs} pytest runs."
    return text


def _totals_lines(summary):
    t = summary["totals"]
    lines = [f"{t['configs_run']} configs run: {t['passed']} passed, {t['failed']} failed; "
             f"{t['blocks_checked']} blocks checked; sum of per-config wall times "
             f"{t['wall_s_sum']} s"
             + (f"; session wall time {t['session_wall_s']} s" if t["session_wall_s"] else "")
             + "."]
    by_policy = summary.get("totals_by_policy") or {}
    if by_policy:
        lines += ["", "| policy | valid configs | run | passed | failed | missing | rejected | "
                      "blocks checked | wall s (sum) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {p} | {b['valid']} | {b['configs_run']} | {b['passed']} | {b['failed']} | "
                  f"{b['missing']} | {b['rejected']} | {b['blocks_checked']} | "
                  f"{b['wall_s_sum']} |" for p, b in by_policy.items()]
    return lines


def totals_markdown(summary):
    """The totals overall and per policy, and where the results came from."""
    return "\n".join([_provenance(summary), ""] + _totals_lines(summary)) + "\n"


def markdown(summary):
    lines = ["## facet cocotb regression", "", _provenance(summary), "",
             "| policy | config | blocks checked | simulator | wall s | build s | seed | result |",
             "|---|---|---:|---|---:|---:|---:|---|"]
    for r in summary["rows"]:
        lines.append(f"| {r.get('policy', '?')} | {r['config_id'] or r['config']} | "
                     f"{r['blocks_checked']} | {r['sim']} | {r['wall_s']:.1f} | "
                     f"{r['build_s']:.1f} | {r['seed']} | {'PASS' if r['passed'] else 'FAIL'} |")
    lines += [""] + _totals_lines(summary)
    if summary["missing"]:
        lines += ["", "Valid configs without a result: " + ", ".join(summary["missing"])]
    if summary["rejected"]:
        lines += ["", f"### Rejected by the fit rule ({len(summary['rejected'])})", "",
                  "| policy | config | reason |", "|---|---|---|"]
        lines += [f"| {r.get('policy', '?')} | {r['config']} | {r['reason']} |"
                  for r in summary["rejected"]]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=REGRESS / "results", type=Path)
    ap.add_argument("--out", default=REGRESS / "summary.json", type=Path)
    ap.add_argument("--all", action="store_true", help="newest result per config, any session")
    args = ap.parse_args(argv)
    summary = summarize(load(args.results), all_sessions=args.all,
                        commit=commit_of(args.results if args.results.is_dir() else ROOT))
    text = markdown(summary)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    args.out.with_suffix(".md").write_text(text + "\n")
    args.out.with_name("totals.md").write_text(totals_markdown(summary))
    print(f"\nwritten {args.out}, {args.out.with_suffix('.md').name}, totals.md")
    t = summary["totals"]
    return 1 if t["failed"] or t["missing"] or not t["configs_run"] else 0


if __name__ == "__main__":
    sys.exit(main())
