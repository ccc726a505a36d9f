"""Run axe-core (pinned in tests/e2e/node) inside a page and fail on serious findings."""

from __future__ import annotations

import typing as t
from pathlib import Path

from tests.support.live import unavailable

AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
INSTALL = "(cd tests/e2e/node && npm ci --no-audit --no-fund)"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = frozenset({"serious", "critical"})

RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def violations(page: t.Any) -> list[dict[str, t.Any]]:
    """Return every WCAG 2 A/AA violation axe-core finds on the page as it is now."""
    if not AXE.exists():
        unavailable(f"axe-core is not installed: {INSTALL}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return list(page.evaluate(RUN, WCAG_TAGS))


def assert_accessible(page: t.Any) -> None:
    """Fail listing each serious or critical violation (rule, help text, elements)."""
    found = [v for v in violations(page) if v["impact"] in BLOCKING]
    report = "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']} at {', '.join(v['targets'][:5])}" for v in found
    )
    assert not found, f"axe-core on {page.url}:\n{report}"
