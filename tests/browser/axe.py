"""axe-core in the browser tests: every page a browser test opens is checked as it loads, and a
test fails on any serious or critical violation (the vendored engine, tests/browser/vendor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the browser tests skip where Playwright is missing
    from playwright.sync_api import BrowserContext, Page

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text("utf-8")
#: Rules run besides axe's defaults: WCAG 2.2's target size (24 × 24 px) is tagged wcag22aa.
RUN_ONLY_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

#: The failing violations, each with a few of the elements it was found on (JavaScript).
_SUMMARY = """violations => violations
    .filter(v => ["serious", "critical"].includes(v.impact))
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))"""
_OPTIONS = json.dumps({"runOnly": {"type": "tag", "values": RUN_ONLY_TAGS},
                       "resultTypes": ["violations"]})  # fmt: skip
#: Installed in every page before its own scripts: axe runs once the page has loaded and hands
#: its failing violations to the test through the exposed binding.
_ON_LOAD = (
    AXE_SOURCE
    + """
window.addEventListener("load", () => {
  axe.run(document, OPTIONS)
    .then(results => window.remsAxeReport(location.pathname, (SUMMARY)(results.violations)))
    .catch(() => {});
});
""".replace("OPTIONS", _OPTIONS).replace("SUMMARY", _SUMMARY)
)


class AxeLog:
    """What axe found on each page of one browser context."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.failures: list[tuple[str, list[dict]]] = []

    def record(self, path: str, violations: list[dict]) -> None:
        self.checked.append(path)
        if violations:
            self.failures.append((path, violations))


def watch(context: BrowserContext) -> AxeLog:
    """Check every page the context loads from now on."""
    log = AxeLog()
    context.expose_binding("remsAxeReport", lambda _source, path, found: log.record(path, found))
    context.add_init_script(_ON_LOAD)
    return log


def violations(page: Page, rules: list[str] | None = None) -> list[dict]:
    """The page's serious and critical violations now (of these rules only, if given). Injects
    the engine if the page does not have it yet."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    run_only = (
        {"type": "rule", "values": rules} if rules else {"type": "tag", "values": RUN_ONLY_TAGS}
    )
    script = ("async options => (SUMMARY)((await axe.run(document, options)).violations)").replace(
        "SUMMARY", _SUMMARY
    )
    return page.evaluate(script, {"runOnly": run_only, "resultTypes": ["violations"]})


def describe(failures: list[tuple[str, list[dict]]]) -> str:
    """One line per violation, for an assertion message."""
    return "\n".join(
        f"{path}: {v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
        for path, found in failures
        for v in found
    )
