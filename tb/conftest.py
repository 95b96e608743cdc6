"""pytest hooks for the cocotb regression in tb/.

* The slow sweep in tb/ runs only when the marker expression asks for it (``-m slow``,
  ``make regress``); otherwise those tests are deselected, so ``pytest tb/`` is the fast subset.
* At the end of the run, a table of blocks checked per config and test (with seeds) is printed.
"""

import os
import time
from pathlib import Path

_TB = Path(__file__).resolve().parent


def pytest_configure(config):
    # One id per pytest session (inherited by xdist workers), so tb.summary can tell the
    # results of the last regression run from older ones.
    if not hasattr(config, "workerinput"):
        os.environ["FACET_TB_SESSION"] = f"{time.time():.3f}"


def pytest_collection_modifyitems(config, items):
    if "slow" in (config.option.markexpr or ""):
        return
    keep, drop = [], []
    for item in items:
        in_tb = _TB in Path(str(item.path)).resolve().parents
        (drop if in_tb and item.get_closest_marker("slow") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


_RECORDS = []


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for key, value in getattr(report, "user_properties", ()):
        if key == "facet_tb":
            _RECORDS.append(value)


def pytest_terminal_summary(terminalreporter):
    if not _RECORDS:
        return
    tr = terminalreporter
    tr.section("facet cocotb regression")
    tr.write_line(f"{'config':<32} {'tests':<40} {'sim':<9} {'seed':>10} {'blocks':>7} "
                  f"{'wall s':>7} {'build s':>7}  result")
    total = 0
    for r in sorted(_RECORDS, key=lambda r: (r["config_id"], r["tests"])):
        total += r["blocks_checked"]
        tr.write_line(f"{r['config_id']:<32} {'+'.join(r['tests']):<40.40} {r['sim']:<9} "
                      f"{r['seed']:>10} {r['blocks_checked']:>7} {r['wall_s']:>7.1f} "
                      f"{r['build_s']:>7.1f}  {'PASS' if r['passed'] else 'FAIL'}")
    per_cfg = {}
    for r in _RECORDS:
        per_cfg[r["config_id"]] = per_cfg.get(r["config_id"], 0) + r["blocks_checked"]
    tr.write_line("blocks checked per config: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(per_cfg.items()))
                  + f"; total {total}")
