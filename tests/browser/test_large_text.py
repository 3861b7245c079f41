"""Large text on a narrow phone (WCAG 1.4.4 and 1.4.10): 320 px wide, text at 200 %.

Text at 200 % is the browser's font size setting doubled (16 px to 32 px, through DevTools' Page.
setFontSizes), as a resident with poor sight sets it: our sizes are in rem, so all text doubles,
and media queries in em see the screen as half as wide and high. Every resident page then reflows
without scrolling sideways; on the ballot the sticky budget bar takes at most a quarter of the
screen, and a euro sign never ends a line without its amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from proeftuin.demo import PUBLISHED_ROUND_SLUG, VOTING_ROUND_SLUG, DemoSummary
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll
from tests.browser.conftest import LiveServer, sqlite_only

Shoot = Callable[..., Path]
NARROW = {"width": 320, "height": 568}  # the narrowest phones still in use
DOUBLE_TEXT = {"standard": 32, "fixed": 26}  # Chromium's defaults are 16 and 13

# Every "€" in the page's text and the first digit after it ("€" NBSP "60.000"): their boxes must
# share a line. Not in text that people wrote (.proeftuin-markdown): the amounts the site formats.
EURO_LINES = """() => {
  const apart = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(".proeftuin-markdown")) continue;
    const text = node.textContent;
    for (let i = text.indexOf("€"); i !== -1; i = text.indexOf("€", i + 1)) {
      const next = text.slice(i + 1).search(/\\d/);
      if (next === -1) { apart.push(`no amount after €: ${text.trim()}`); continue; }
      const line = (from, to) => {
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, to);
        const rects = [...range.getClientRects()].filter(r => r.width > 0);
        return rects.length ? rects[0].top : null;
      };
      const euro = line(i, i + 1);
      const digit = line(i + 1 + next, i + 2 + next);
      if (euro === null || digit === null) continue;  // not rendered
      if (Math.abs(euro - digit) > 2) apart.push(text.trim());
    }
  }
  return apart;
}"""


def large_text(page: Page) -> None:
    page.set_viewport_size(NARROW)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": DOUBLE_TEXT})


def assert_text_doubled(page: Page) -> None:
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main')).fontSize)")
    assert size >= 32, f"the text is {size} px, not doubled"


def assert_reflows(page: Page, name: str) -> None:
    assert_text_doubled(page)
    try:
        assert_no_horizontal_scroll(page, NARROW["width"])
    except AssertionError as error:
        raise AssertionError(f"{name}: {error}") from None
    apart = page.evaluate(EURO_LINES)
    assert not apart, f"{name}: a euro sign on another line than its amount: {apart}"


def assert_budget_bar_fits(page: Page) -> None:
    bar = page.locator(".voting-bar")
    expect(bar).to_be_visible()
    assert bar.evaluate("el => getComputedStyle(el).position") == "sticky"
    height = (bar.bounding_box() or {"height": 0})["height"]
    assert 0 < height <= NARROW["height"] / 4, f"the budget bar is {height:.0f} px high"
    # Stuck to the bottom of the screen while the plans scroll under it.
    page.get_by_role("checkbox").nth(2).scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None and abs(box["y"] + box["height"] - NARROW["height"]) <= 1


@sqlite_only
def test_every_resident_page_reflows_at_320_px_with_text_at_200_percent(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    large_text(page)
    base = live_server.url
    pages = {
        "home": "/",
        "area": "/wijken/centrum-oost",
        "round in voting": f"/rondes/{VOTING_ROUND_SLUG}",
        "round taking plans": "/rondes/dorpsbudget-ter-aa-2027",
        "results": f"/rondes/{PUBLISHED_ROUND_SLUG}/uitslag",
        "results explained": f"/rondes/{PUBLISHED_ROUND_SLUG}/uitslag/uitleg",
        "tracker check": f"/rondes/{PUBLISHED_ROUND_SLUG}/uitslag/stembonnen",
        "sign in": "/inloggen",
        "not found": "/bestaat-niet",
        "vote": "/stem",
    }
    for name, path in pages.items():
        page.goto(base + path)
        assert_reflows(page, name)
        shoot(page, name)
    page.goto(f"{base}/rondes/{VOTING_ROUND_SLUG}")
    page.locator("a[href^='/plannen/']").first.click()
    expect(page).to_have_url(re.compile(r"/plannen/"))
    assert_reflows(page, "plan")
    shoot(page, "plan")


def tick(page: Page, action: Callable[[], None]) -> None:
    """A change, and the budget's answer to it: as a person ticks, not faster than the server
    answers (htmx would abort the answer still under way, and say so in the console)."""
    with page.expect_response(re.compile(r"/stem/stand$")):
        action()


@sqlite_only
def test_the_ballot_at_320_px_with_text_at_200_percent(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    large_text(page)
    page.goto(f"{live_server.url}/stem")
    page.get_by_label("Uw stemcode").fill(demo.codes[0])
    page.get_by_role("button", name="Verder").click()
    expect(page.locator("#stand")).to_contain_text("Nog over:")
    page.wait_for_function("window.htmx !== undefined")
    assert_reflows(page, "ballot")
    assert_budget_bar_fits(page)
    shoot(page, "ballot", full_page=False)

    # More than the budget: the bar says why, and still fits.
    for checkbox in page.get_by_role("checkbox").all():
        tick(page, checkbox.check)
    expect(page.locator("#stand")).to_contain_text("te veel")
    assert_reflows(page, "ballot over budget")
    assert_budget_bar_fits(page)
    assert_accessible(page, "ballot over budget at 200 % text")  # the bar may scroll: reachable?
    shoot(page, "ballot over budget", full_page=False)

    for checkbox in page.get_by_role("checkbox").all()[2:]:
        tick(page, checkbox.uncheck)
    expect(page.locator("#stand")).to_contain_text("Nog over:")
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer uw keuze")
    assert_reflows(page, "review")
    shoot(page, "review")
    page.get_by_role("button", name="Stem uitbrengen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw stem")
    assert_reflows(page, "receipt")
    shoot(page, "receipt")
