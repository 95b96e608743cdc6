"""The README's measured tables are the committed reports (facet/report.py)."""

import re
from pathlib import Path

from facet.report import PATTERNS, render, sections

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "docs" / "reports"
#: A figure with a thousands separator, as the synthesis tables print areas: 8,557.
FIGURE = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?![\d,])")
#: An error to four places, as the eval tables print relative L2 errors: 0.0398.
ERROR = re.compile(r"(?<![\d.])0\.\d{4}(?!\d)")


def synthesis_reports():
    """The committed reports that PATTERNS find (synthesis), by file name."""
    return sorted({p for pat in PATTERNS for p in REPORTS.glob(Path(pat).name)})


def unmarked(text):
    """``text`` without the bodies of its report sections."""
    for body in sections(text).values():
        text = text.replace(body, "")
    return text


def test_readme_tables_are_the_committed_reports():
    text = (ROOT / "README.md").read_text()
    marked = sections(text)
    assert marked, "README.md has no report sections"
    for name, body in marked.items():
        report = ROOT / "docs" / "reports" / f"{name}.md"
        assert report.is_file(), f"README section {name} has no docs/reports/{name}.md"
        assert body.rstrip("\n") == report.read_text().rstrip("\n"), \
            f"README section {name} differs from docs/reports/{name}.md: run make report"


def test_render_replaces_only_marked_sections():
    text = "a\n<!-- report:x -->\nold\n<!-- /report:x -->\nb\n"
    assert render(text, {"x": "new\n"}) == "a\n<!-- report:x -->\nnew\n<!-- /report:x -->\nb\n"
    assert render(text, {}) == text
    assert sections(text) == {"x": "old\n"}


def test_synthesis_reports_are_shown():
    """Every committed synthesis report is a README section, and docs/format.md links to it."""
    reports = synthesis_reports()
    assert {p.stem for p in reports} >= {"bf16_n32_t8_k3_s1_policies", "sweep_t8_plane_s1"}
    readme, spec = (ROOT / "README.md").read_text(), (ROOT / "docs" / "format.md").read_text()
    for p in reports:
        assert p.stem in sections(readme), f"README.md shows no section report:{p.stem}"
    for link in re.findall(r"\]\((reports/[^)]+)\)", spec):
        assert (ROOT / "docs" / link).is_file(), f"docs/format.md links to a missing {link}"
    assert "reports/bf16_n32_t8_k3_s1_policies.md" in spec


def test_synthesis_figures_are_not_typed_by_hand():
    """No area of a synthesis report appears outside a report section of the README or in
    docs/format.md: figures there are copies that would go stale."""
    figures = set()
    for p in synthesis_reports():
        figures |= set(FIGURE.findall(p.read_text()))
    assert figures
    for name, text in (("README.md", unmarked((ROOT / "README.md").read_text())),
                       ("docs/format.md", (ROOT / "docs" / "format.md").read_text())):
        typed = sorted(figures & set(FIGURE.findall(text)))
        assert not typed, f"{name} types synthesis figures by hand: {', '.join(typed)}; " \
                          "show the report section instead (make report)"


def test_error_figures_are_not_typed_by_hand():
    """No error figure of a report appears outside a report section of the README or in
    docs/format.md, which links to the report instead."""
    figures = set()
    for p in REPORTS.glob("*.md"):
        figures |= set(ERROR.findall(p.read_text()))
    assert figures
    for name, text in (("README.md", unmarked((ROOT / "README.md").read_text())),
                       ("docs/format.md", (ROOT / "docs" / "format.md").read_text())):
        typed = sorted(figures & set(ERROR.findall(text)))
        assert not typed, f"{name} types report figures by hand: {', '.join(typed)}"
