"""A resident of the demo's voting event votes with one letter code on two ballots, on a phone and
without JavaScript: the district's ballot, then the city-wide one, one review page, one cast and a
tracker per ballot. Every page is checked with axe-core, for touch targets and for reflow at
360 px, and photographed; then the public event page and its round page say who may vote."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from proeftuin.demo import DemoSummary
from proeftuin.demo import events as demo_events
from proeftuin.services.codes import display
from proeftuin.services.rounds import slugify
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import LiveServer

Shoot = Callable[..., Path]
DISTRICT = "Westerkwartier"
LIBRARY = "Buurtbibliotheek"  # on the district's ballot
TREES = "Bomen voor de hele gemeente"  # on the city-wide ballot


def check(page: Page, shoot: Shoot, step: str) -> None:
    shoot(page, step)
    assert_accessible(page, step)
    assert_touch_targets(page)
    size = page.viewport_size
    assert size is not None
    assert_no_horizontal_scroll(page, 360)
    page.set_viewport_size(size)


def plan(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("checkbox", name=re.compile(re.escape(title)))


def test_c_one_code_two_ballots_without_javascript(
    live_server: LiveServer, demo: DemoSummary, page_without_js: Page, shoot: Shoot
) -> None:
    page = page_without_js
    code = demo.event_codes[DISTRICT][0]
    page.goto(f"{live_server.url}/stem")
    expect(page.locator("main")).to_contain_text("die lijst bepaalt wie mag stemmen")
    page.get_by_label("Uw stemcode").fill(display(code))
    page.get_by_role("button", name="Verder").click()

    [district, city] = [demo_events.DISTRICTS[0].title, demo_events.CITY.title]
    expect(page.get_by_role("heading", level=1)).to_have_text(district)
    expect(page.locator("main")).to_contain_text("Stembiljet 1 van 2")
    check(page, shoot, "district ballot")
    plan(page, LIBRARY).check()
    page.get_by_role("button", name="Verder").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(city)
    expect(page.locator("main")).to_contain_text("Stembiljet 2 van 2")
    check(page, shoot, "city-wide ballot")
    plan(page, TREES).check()
    page.get_by_role("button", name="Verder").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer uw keuze")
    expect(page.locator("main")).to_contain_text(LIBRARY)
    expect(page.locator("main")).to_contain_text(TREES)
    check(page, shoot, "review of both")
    page.get_by_role("button", name="Stem uitbrengen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw stem")
    expect(page.locator(".voting-receipt")).to_have_count(2)
    check(page, shoot, "two trackers")

    page.goto(f"{live_server.url}/stemmingen/{slugify(demo_events.EVENT_TITLE)}")
    expect(page.get_by_role("heading", name="Wie mag stemmen?")).to_be_visible()
    check(page, shoot, "event page")
