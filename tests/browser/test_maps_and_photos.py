"""On a phone, the demo's voting round: its plans on a map with numbered pins (tiles from a stub
on loopback, never the real tile server), each pin leading to its card, and a small photo on
every card; without JavaScript the same list with the places in words and no map. Checked with
axe-core and photographed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from proeftuin.demo import VOTING_ROUND_SLUG, data
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll
from tests.browser.conftest import LiveServer, TileStub

Shoot = Callable[..., Path]


def test_the_round_map_shows_numbered_pins_that_lead_to_the_cards(
    live_server: LiveServer, tile_stub: TileStub, page: Page, shoot: Shoot
) -> None:
    live_server.seed_demo()
    asked_before = len(tile_stub.asked)
    page.goto(f"{live_server.url}/rondes/{VOTING_ROUND_SLUG}")

    the_map = page.locator("#kaart")
    expect(the_map).to_be_visible()
    # Below the fold on a phone: Leaflet is not fetched until the map comes near.
    assert page.evaluate("typeof L") == "undefined"
    the_map.scroll_into_view_if_needed()
    pins = page.locator("#kaart .proeftuin-pin")
    expect(pins).to_have_count(len(data.VOTING_PLANS), timeout=15_000)  # Leaflet comes now
    numbers = sorted(int(text) for text in pins.all_inner_texts())
    assert numbers == list(range(1, len(data.VOTING_PLANS) + 1))
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("Kadaster")
    page.wait_for_function("document.querySelectorAll('#kaart img.leaflet-tile-loaded').length > 0")
    assert len(tile_stub.asked) > asked_before
    assert all(path.startswith("/kaart/") for path in tile_stub.asked)

    # The cards' small photos: every card has one, and the first ones have loaded.
    photos = page.locator(".proeftuin-card .proeftuin-card-photo")
    expect(photos).to_have_count(len(data.VOTING_PLANS))
    first = photos.first
    first.scroll_into_view_if_needed()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=first.element_handle())
    assert first.evaluate("el => el.currentSrc").endswith("/klein.jpg")

    shoot(page, "ronde-met-kaart")
    assert_accessible(page, "de ronde met de kaart")
    assert_no_horizontal_scroll(page, 360)

    # Pin 3 leads to the card that says "nummer 3 op de kaart". Pins are buttons a keyboard
    # reaches (and pins of plans close together may overlap, which a pointer cannot sort out).
    page.set_viewport_size({"width": 390, "height": 844})
    pin = page.locator(
        "#kaart .leaflet-marker-icon", has=page.locator(".proeftuin-pin", has_text="3")
    ).first
    pin.scroll_into_view_if_needed()
    pin.focus()
    pin.press("Enter")
    page.wait_for_function("() => location.hash.startsWith('#plek-')")
    target = page.evaluate("location.hash")
    assert target.startswith("#plek-")
    expect(page.locator(target)).to_contain_text("nummer 3 op de kaart")


def test_without_javascript_the_list_says_where_each_plan_is(
    live_server: LiveServer, page_without_js: Page, shoot: Shoot
) -> None:
    live_server.seed_demo()
    page = page_without_js
    page.goto(f"{live_server.url}/rondes/{VOTING_ROUND_SLUG}")
    expect(page.locator("#kaart")).to_be_hidden()
    places = page.locator(".proeftuin-card-place")
    expect(places).to_have_count(len(data.VOTING_PLANS))
    expect(places.first).to_contain_text("Plek:")
    expect(page.locator(".proeftuin-card-place", has_text="nummer 1 op de kaart")).to_have_count(1)
    shoot(page, "ronde-zonder-javascript")
    assert_accessible(page, "de ronde zonder JavaScript")


def test_the_plan_page_shows_its_photos_and_a_small_map(
    live_server: LiveServer, page: Page, shoot: Shoot
) -> None:
    live_server.seed_demo()
    page.goto(f"{live_server.url}/rondes/{VOTING_ROUND_SLUG}")
    page.locator(".proeftuin-card__link").first.click()
    photo = page.locator(".proeftuin-photos__image").first
    expect(photo).to_be_visible()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=photo.element_handle())
    # A phone of 390 CSS pixels at 1x takes the small copy from the srcset.
    assert photo.evaluate("el => el.currentSrc").endswith("/klein.jpg")
    expect(page.locator("#kaart .proeftuin-pin")).to_have_count(1)
    shoot(page, "plan-met-foto-en-kaart")
    assert_accessible(page, "het plan met foto en kaart")
