"""The regression summary (``python -m tb.summary``): totals, missing configs, its files."""

import json

from . import summary
from .configs import POLICIES, sweep


def _record(cfg, session, passed=True, blocks=6051):
    return {"config": cfg.name, "config_id": f"{cfg.name}_s1", "sim": "verilator",
            "session": session, "time": float(session) + 10, "passed": passed,
            "blocks_checked": blocks, "wall_s": 12.5, "build_s": 8.0, "seed": 7}


def test_summary_counts_the_latest_session(tmp_path):
    valid, rejected = sweep()
    first, second = valid[0], valid[1]
    records = [_record(first, "100.0", passed=False), _record(first, "200.0"),
               _record(second, "200.0", passed=False, blocks=10)]
    res = tmp_path / "results"
    res.mkdir()
    for i, rec in enumerate(records):
        (res / f"{i}.json").write_text(json.dumps(rec))
    out = tmp_path / "summary.json"
    assert summary.main(["--results", str(res), "--out", str(out)]) == 1  # a failure, missing
    s = json.loads(out.read_text())
    t = s["totals"]
    assert (t["configs_run"], t["passed"], t["failed"]) == (2, 1, 1)
    assert t["blocks_checked"] == 6061
    assert t["missing"] == len(valid) - 2 and t["rejected"] == len(rejected)
    assert set(s["totals_by_policy"]) == set(POLICIES)
    totals = (tmp_path / "totals.md").read_text()
    assert "2 configs run: 1 passed, 1 failed; 6061 blocks checked" in totals
    table = (tmp_path / "summary.md").read_text()
    assert f"| {first.name}_s1 | 6051 | verilator |" in table and "| FAIL |" in table


def test_all_sessions_takes_the_newest_result_per_config():
    valid, _ = sweep()
    records = [_record(valid[0], "200.0"), _record(valid[0], "100.0", passed=False)]
    s = summary.summarize(records, all_sessions=True)
    assert s["totals"]["configs_run"] == 1 and s["totals"]["passed"] == 1
    assert "pytest runs" not in summary.totals_markdown(s)
    records.append(_record(valid[1], "300.0"))
    s = summary.summarize(records, all_sessions=True)
    assert s["sessions"] == 2
    assert "The newest result of each config, from 2 pytest runs." in summary.totals_markdown(s)
