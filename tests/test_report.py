"""The README's measured tables are the committed reports (facet/report.py)."""

from pathlib import Path

from facet.report import render, sections

ROOT = Path(__file__).resolve().parents[1]


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
