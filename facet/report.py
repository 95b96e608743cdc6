"""Copy measured tables into README.md (`make report`).

Each table the README shows is a Markdown file that a command writes under ``build/``. This
module copies the newest of them to ``docs/reports/<name>.md`` (committed, so that a clean
clone has the figures it shows) and puts each one into README.md between the markers
``<!-- report:<name> -->`` and ``<!-- /report:<name> -->``. ``tests/test_report.py`` checks that
the README and ``docs/reports/`` agree, so no figure is typed twice by hand; docs/format.md
links to ``docs/reports/`` instead of repeating figures.

The synthesis reports are named after their config (``make synth`` at another format writes
another ``*_policies.md``), so they are found by :data:`PATTERNS` and keep their file stem as
report name, e.g. ``bf16_n32_t8_k3_s1_policies`` and ``sweep_t8_plane_s1``.
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

__all__ = ["SOURCES", "PATTERNS", "FIGURES", "sources", "sections", "render", "main"]

#: Report name -> the file under build/ that the command in the comment writes.
SOURCES = {
    "rd": "build/eval/rd/summary.md",          # make rd
    "bench": "build/bench.md",                 # make bench
    "train": "build/train/table.md",           # make train
    "explore": "build/explore/summary.md",     # make explore
    "k_choice": "build/eval/k_choice.md",      # make k-choice (docs/format.md section 9)
    "regress": "build/regress/summary.md",     # make regress (every config, with seeds)
    "regress_totals": "build/regress/totals.md",  # make regress (the totals the README shows)
}
#: Reports found by a glob under build/, each named after its file stem.
PATTERNS = [
    "build/synth/*_policies.md",               # make synth (policies side by side)
    "build/synth/sweep_*.md",                  # make synth-sweep
    "build/synth/*_timing.md",                 # make timing STAGES=n (Fmax by stage count)
]
#: Figures the README shows, copied the same way (glob under build/ -> docs/reports/).
FIGURES = ["build/eval/rd/rd_*.png",           # make rd
           "build/explore/explore_*.png"]     # make explore

_MARK = re.compile(r"(<!-- report:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /report:(?P=name) -->)", re.S)


def sources(root):
    """``{report name: file under build/}`` of every report that ``root`` holds."""
    root = Path(root)
    found = {name: root / src for name, src in SOURCES.items() if (root / src).is_file()}
    for pattern in PATTERNS:
        found.update({p.stem: p for p in sorted(root.glob(pattern))})
    return found


def sections(text):
    """``{name: body}`` of every marked section of a README text."""
    return {m["name"]: m["body"] for m in _MARK.finditer(text)}


def render(text, reports):
    """``text`` with every marked section replaced by ``reports[name]`` where given."""
    def sub(m):
        body = reports.get(m["name"], m["body"])
        return m.group(1) + body.rstrip("\n") + "\n" + m.group(4)
    return _MARK.sub(sub, text)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m facet.report", description=__doc__)
    ap.add_argument("--root", default=".", help="repository root (default: .)")
    args = ap.parse_args(argv)
    root = Path(args.root)
    reports_dir = root / "docs" / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    for name, src in sources(root).items():
        shutil.copyfile(src, reports_dir / f"{name}.md")
        print(f"{src.relative_to(root)} -> docs/reports/{name}.md")
    for pattern in FIGURES:
        for fig in sorted(root.glob(pattern)):
            shutil.copyfile(fig, reports_dir / fig.name)
            print(f"{fig.relative_to(root)} -> docs/reports/{fig.name}")
    reports = {p.stem: p.read_text() for p in reports_dir.glob("*.md")}
    readme = root / "README.md"
    text = readme.read_text()
    missing = sorted(set(sections(text)) - set(reports))
    if missing:
        print(f"facet report: error: no report for README section(s) {', '.join(missing)}; "
              f"run the commands in facet/report.py SOURCES and PATTERNS first", file=sys.stderr)
        return 2
    readme.write_text(render(text, reports))
    print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
