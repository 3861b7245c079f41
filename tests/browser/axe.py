"""Accessibility checks for browser journeys: axe-core (WCAG 2.1 A and AA), touch target size and
reflow at 360 px.

How axe gets into the page, given our CSP (``script-src 'self'``): ``page.add_script_tag`` inserts
an inline script, which the CSP refuses. ``bypass_csp=True`` would let it in, but would also switch
the CSP off for the whole journey, so an inline script or style of ours that real browsers refuse
would pass unnoticed. Instead the axe source is run with ``page.evaluate``: DevTools evaluation is
not subject to the page's CSP, and the page keeps its real policy (a refusal is a console error,
which fails the test; see conftest.BrowserLog).

With JavaScript disabled, axe cannot run in the page (its timers never fire). The page's DOM is then
copied into a fresh context with JavaScript on, at the same address and with the same styles (they
matter for colour contrast), with the app's own scripts blocked, so axe sees the no-JS page as a
resident sees it.

axe-core is an npm devDependency; ``make assets`` (or ``npm ci``) puts it in node_modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_TARGET_PX = 44
MAX_NODES_SHOWN = 5

_RUN_AXE = """async ([tags, exclude]) => {
  const context = exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document;
  const result = await axe.run(context, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""

# A no-JS page keeps <noscript> content as elements; once copied into a scripting page it would be
# inert text, so it is put back as elements before axe looks.
_UNWRAP_NOSCRIPT = """() => {
  for (const n of document.querySelectorAll("noscript")) {
    const t = document.createElement("template");
    t.innerHTML = n.textContent;
    n.replaceWith(t.content);
  }
}"""


def assert_accessible(page: Page, context_name: str, *, exclude: tuple[str, ...] = ()) -> None:
    """Fail, listing each violation with its elements, when axe finds any WCAG 2.1 A/AA problem.

    ``context_name`` says which step of the journey this is; ``exclude`` takes CSS selectors of
    regions to leave out (use sparingly, and say why at the call).
    """
    if _javascript_enabled(page):
        violations = _run_axe(page, exclude)
    else:
        violations = _run_axe_on_copy(page, exclude)
    if violations:
        raise AssertionError(
            f"axe: {len(violations)} accessibility violation(s) on {context_name} ({page.url}):\n"
            + "\n".join(_describe(v) for v in violations)
        )


def assert_touch_targets(
    page: Page,
    selector: str = (
        "header a, header button, nav a, nav button, form button, form select, form textarea, "
        "form input:not([type=hidden])"
    ),
    *,
    min_px: int = MIN_TARGET_PX,
) -> None:
    """Every visible control matching ``selector`` is at least ``min_px`` by ``min_px`` (WCAG
    2.5.5). A checkbox or radio button counts with its label, which is clickable too. Links inside
    running text are exempt, which is why the default selector names controls, not every link."""
    small = page.evaluate(
        """([selector, min]) => {
          const out = [];
          for (const el of document.querySelectorAll(selector)) {
            if (el.closest(".utrecht-skip-link") || el.matches(".utrecht-skip-link")) continue;
            const style = getComputedStyle(el);
            let box = el.getBoundingClientRect();
            if (style.visibility === "hidden" || style.display === "none") continue;
            if (box.width === 0 && box.height === 0) continue;
            let {width, height} = box;
            for (const label of el.labels || []) {
              if (!["checkbox", "radio"].includes(el.type)) break;
              const b = label.getBoundingClientRect();
              width = Math.max(width, b.width);
              height = Math.max(height, b.height);
            }
            if (width < min || height < min) {
              const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
              const name = (el.innerText || label || el.name || el.id || el.value || "").trim();
              out.push(`${el.tagName.toLowerCase()} "${name.slice(0, 40)}": ` +
                       `${Math.round(width)}x${Math.round(height)} px`);
            }
          }
          return out;
        }""",
        [selector, min_px],
    )
    assert not small, f"Touch targets smaller than {min_px}x{min_px} px:\n  " + "\n  ".join(small)


def assert_no_horizontal_scroll(page: Page, width: int = 360) -> None:
    """At ``width`` CSS pixels the page reflows instead of scrolling sideways (WCAG 1.4.10).
    The viewport is put back as it was afterwards."""
    before = page.viewport_size or {"width": 390, "height": 844}
    page.set_viewport_size({"width": width, "height": before["height"]})
    try:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            """(width) => [...document.querySelectorAll("body *")]
                .filter(el => el.getBoundingClientRect().right > width + 0.5)
                .slice(0, 8)
                .map(el => el.tagName.toLowerCase() + (el.getAttribute("class") ? "." +
                     el.getAttribute("class").trim().split(/\\s+/).join(".") : ""))""",
            width,
        )
    finally:
        page.set_viewport_size(before)
    assert scroll_width <= width, (
        f"At {width} px the page is {scroll_width} px wide; too wide: {', '.join(wide)}"
    )


def _javascript_enabled(page: Page) -> bool:
    # Playwright cannot tell afterwards how a context was made; our page fixtures note it.
    from tests.browser.conftest import BrowserLog

    try:
        return BrowserLog.of(page).javascript
    except KeyError:  # a page made without our fixtures
        return True


def _inject(page: Page) -> None:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `make assets` (npm ci) first")
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))


def _run_axe(page: Page, exclude: tuple[str, ...]) -> list[dict[str, Any]]:
    _inject(page)
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, [WCAG_TAGS, list(exclude)])
    return violations


def _run_axe_on_copy(page: Page, exclude: tuple[str, ...]) -> list[dict[str, Any]]:
    browser = page.context.browser
    assert browser is not None
    html = page.content()
    address = page.url.split("#")[0]
    context = browser.new_context(viewport=page.viewport_size, java_script_enabled=True)
    try:
        copy = context.new_page()

        def serve(route: Route) -> None:
            request = route.request
            if request.is_navigation_request() and request.url == address:
                route.fulfill(body=html, content_type="text/html; charset=utf-8")
            elif request.resource_type == "script":
                route.abort()
            else:
                route.continue_()

        copy.route("**/*", serve)
        copy.goto(address)
        copy.evaluate(_UNWRAP_NOSCRIPT)
        return _run_axe(copy, exclude)
    finally:
        context.close()


def _describe(violation: dict[str, Any]) -> str:
    nodes = violation["nodes"]
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
    ]
    for node in nodes[:MAX_NODES_SHOWN]:
        summary = " ".join((node["summary"] or "").split())
        lines.append(f"    {node['target']}: {summary}")
    if len(nodes) > MAX_NODES_SHOWN:
        lines.append(f"    ... and {len(nodes) - MAX_NODES_SHOWN} more")
    return "\n".join(lines)
