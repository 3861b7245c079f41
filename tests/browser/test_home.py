"""The home page on a phone: the demo gemeente's rounds, in Dutch and English, with and without
JavaScript, accessible, and with every asset of our own and the vendor's loading under our CSP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from proeftuin.demo import DemoSummary
from proeftuin.web.assets import load_manifest
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import LiveServer, sqlite_only

Shoot = Callable[..., Path]
NBSP = "\xa0"

AREAS = ["Centrum-Oost", "De Horst", "Ter Aa", "Buitengebied Zuid"]


def test_home_in_dutch_on_a_phone(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    page.goto(live_server.url)

    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Burgerbegroting")
    for area in AREAS:
        expect(page.get_by_role("heading", level=2, name=area)).to_be_visible()
    voting = page.locator(".proeftuin-round", has_text="Buurtbudget Centrum-Oost 2027")
    expect(voting).to_contain_text("Stemmen")
    expect(voting).to_contain_text(f"€{NBSP}60.000")
    expect(voting).to_contain_text("Stemmen sluit op")
    proposals = page.locator(".proeftuin-round", has_text="Dorpsbudget Ter Aa 2027")
    expect(proposals).to_contain_text("Plannen indienen")
    expect(proposals).to_contain_text(f"€{NBSP}25.000")
    expect(page.get_by_text("Wijkbudget De Horst 2027")).to_have_count(0)  # still a draft
    _assert_styled_and_scripted(page)
    shoot(page, "home")

    assert_touch_targets(page)
    assert_accessible(page, "home (nl)")
    assert_no_horizontal_scroll(page, 360)
    page.set_viewport_size({"width": 360, "height": 800})
    shoot(page, "home at 360 px")


@sqlite_only
def test_home_in_english(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    page.goto(f"{live_server.url}/?lang=en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Participatory budget")
    voting = page.locator(".proeftuin-round", has_text="Buurtbudget Centrum-Oost 2027")
    expect(voting).to_contain_text("Voting")
    expect(voting).to_contain_text("€60,000")
    expect(page.locator("main")).not_to_contain_text("Plannen indienen")
    shoot(page, "home in english")
    assert_accessible(page, "home (en)")
    assert_touch_targets(page)

    # The language stays with the visitor, and the switch (a POST with a CSRF token) goes back.
    page.goto(live_server.url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Nederlands").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Burgerbegroting")


@sqlite_only
def test_home_filter_swaps_the_list_with_htmx(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    page.goto(live_server.url)
    page.wait_for_function("window.htmx !== undefined")
    before = page.evaluate("performance.getEntriesByType('navigation').length")

    page.get_by_label("Kies uw wijk of dorp").select_option(label="Ter Aa")
    page.get_by_role("button", name="Toon").click()

    expect(page).to_have_url(re.compile(r"\?gebied=ter-aa$"))
    expect(page.locator("#gebieden h2")).to_have_text(["Ter Aa"])
    # Still the same document: htmx swapped the fragment instead of loading a page.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == before
    assert page.evaluate("document.querySelectorAll('main h1').length") == 1
    shoot(page, "filtered on ter aa")
    assert_accessible(page, "home filtered (htmx)")


def test_home_without_javascript_shows_the_same(
    live_server: LiveServer,
    demo: DemoSummary,
    page: Page,
    page_without_js: Page,
    shoot: Shoot,
) -> None:
    page.goto(live_server.url)
    page_without_js.goto(live_server.url)

    assert page_without_js.inner_text("main") == page.inner_text("main")
    listed = page_without_js.locator("#gebieden")  # "Nu open" above names it too
    expect(listed.get_by_text("Buurtbudget Centrum-Oost 2027")).to_be_visible()
    _assert_styled(page_without_js)
    shoot(page_without_js, "home without javascript")
    assert_accessible(page_without_js, "home without JavaScript")
    assert_touch_targets(page_without_js)

    # The filter is a plain GET form.
    page_without_js.get_by_label("Kies uw wijk of dorp").select_option(label="Ter Aa")
    page_without_js.get_by_role("button", name="Toon").click()
    expect(page_without_js).to_have_url(re.compile(r"\?gebied=ter-aa$"))
    expect(page_without_js.locator("#gebieden h2")).to_have_text(["Ter Aa"])
    shoot(page_without_js, "filtered without javascript")
    assert_no_horizontal_scroll(page_without_js, 360)


def _assert_styled(page: Page) -> None:
    # One stylesheet, built from the NL Design System's and ours, is served and applies.
    sheets = page.evaluate("[...document.styleSheets].map(s => s.href && new URL(s.href).pathname)")
    assert sheets == ["/static/" + load_manifest()["resident.css"]]
    # A token the library's root style uses (the build keeps only tokens that something uses).
    assert page.evaluate(
        "getComputedStyle(document.body).getPropertyValue('--utrecht-body-font-size')"
    ), "the design tokens did not apply"


def _assert_styled_and_scripted(page: Page) -> None:
    _assert_styled(page)
    page.wait_for_function("window.htmx !== undefined")
    assert page.evaluate("htmx.config.allowEval") is False  # read from our <meta htmx-config>
