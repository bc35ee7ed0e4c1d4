"""axe-core (npm, copied to static/vendor/axe-core by scripts/copy-assets.sh) in a page.

The app's CSP allows scripts from 'self' only (plus a per-request nonce), so the script
is added by URL from the app's own static folder: no inline script, no ``bypass_csp``.
No page of the app loads it; only the tests and a person inspecting a page do.
"""

from __future__ import annotations

from urllib.parse import urlsplit

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_PATH = "/static/vendor/axe-core/axe.min.js"


def axe_violations(page, exclude: list[str] | None = None) -> list[dict]:
    """Run axe on the page as it is now (WCAG 2.1 A and AA rules); return its violations.

    ``exclude``: CSS selectors left out of the check (third-party widgets only).
    """
    parts = urlsplit(page.url)
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(url=f"{parts.scheme}://{parts.netloc}{AXE_PATH}")
    context = {"exclude": [[s] for s in exclude or []]}
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = page.evaluate(
        "([context, options]) => window.axe.run(context.exclude.length ? context : document,"
        " options)",
        [context, options],
    )
    return result["violations"]


def describe(violations: list[dict]) -> str:
    """One line per violation and node: rule, impact, target and axe's own summary."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"{v['id']} ({v['impact']}) {node['target']}: {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page, exclude: list[str] | None = None) -> None:
    """Fail with a readable list when axe finds any WCAG 2.1 A/AA violation."""
    violations = axe_violations(page, exclude)
    assert not violations, "axe-core found WCAG 2.1 A/AA violations:\n" + describe(violations)
