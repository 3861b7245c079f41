"""The published results of the demo round on a phone: accessible (axe-core), readable at 360 px,
with the chart, the explanations, the tracker check and the downloads; photographed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from proeftuin.db import transact, utcnow
from proeftuin.demo import results as demo_results
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import LiveServer, sqlite_only

Shoot = Callable[..., Path]


def seed(live_server: LiveServer) -> str:
    return transact(
        live_server.database,
        demo_results.seed_published_round,
        live_server.settings.code_pepper,
        utcnow(),
    )


def check(page: Page, shoot: Shoot, name: str) -> None:
    assert_accessible(page, name)
    assert_touch_targets(page)
    assert_no_horizontal_scroll(page, 360)
    shoot(page, name)
    page.set_viewport_size({"width": 360, "height": 800})
    shoot(page, f"{name} at 360 px")
    page.set_viewport_size({"width": 390, "height": 844})


def test_the_results_page_on_a_phone(live_server: LiveServer, page: Page, shoot: Shoot) -> None:
    slug = seed(live_server)
    page.goto(f"{live_server.url}/rondes/{slug}/uitslag")

    expect(page.get_by_role("heading", level=1)).to_have_text("Uitslag: Gebiedsbudget Zuid 2026")
    funded = page.locator(".results-plan--funded")
    expect(funded.first).to_contain_text("Gaat door")
    expect(page.locator(".results-plan--not-funded", has_text="Kunstgrasveld")).to_contain_text(
        "Waarom?"
    )
    chart = page.get_by_role("img", name="Aantal stemmen per plan")
    expect(chart).to_be_visible()
    assert 0 < (chart.bounding_box() or {"width": 0})["width"] <= 390
    expect(page.locator("main")).to_contain_text("proeftuin allocate")
    check(page, shoot, "results")

    # The checksum on the page is that of the file it links to.
    checksum = page.locator(".results-checksum code").first.inner_text()
    response = page.request.get(f"{live_server.url}/rondes/{slug}/uitslag/stemmen.pb")
    assert hashlib.sha256(response.body()).hexdigest() == checksum

    page.get_by_role("link", name="Lees hoe er is geteld, met de getallen van deze ronde").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hoe is er geteld?")
    expect(page.locator("main")).to_contain_text("per kiezer")
    check(page, shoot, "how it was counted")


@sqlite_only
def test_a_voter_checks_the_tracker(live_server: LiveServer, page: Page, shoot: Shoot) -> None:
    slug = seed(live_server)
    page.goto(f"{live_server.url}/rondes/{slug}/uitslag/stembonnen")
    first = page.locator(".results-trackers li").first.inner_text()
    page.get_by_label("Uw stembon").fill(first.lower())
    page.get_by_role("button", name="Zoek").click()
    expect(page.get_by_role("status")).to_contain_text("uw stem is meegeteld")
    check(page, shoot, "tracker found")


@sqlite_only
def test_the_results_page_in_english(live_server: LiveServer, page: Page, shoot: Shoot) -> None:
    slug = seed(live_server)
    page.goto(f"{live_server.url}/rondes/{slug}/uitslag?lang=en")
    expect(page.get_by_role("heading", level=2, name="These plans go ahead")).to_be_visible()
    expect(page.get_by_role("img", name="Number of votes per plan")).to_be_visible()
    assert_accessible(page, "results (en)")
    shoot(page, "results in english")
