"""The small things a new resident or moderator meets, as a person sees them on a phone: the way
in to voting, deadlines with their time, the receipt's next steps, the points counter, finding a
plan, a safe merge and the staff dashboard. Accessible, and working without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from proeftuin.db import transact
from proeftuin.demo import VOTING_ROUND_SLUG, DemoSummary
from proeftuin.models import Role
from proeftuin.services import accounts
from proeftuin.services import codes as codes_service
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll
from tests.browser.conftest import LiveServer, sqlite_only
from tests.factories import make_round

Shoot = Callable[..., Path]
MOMENT = re.compile(r"\w+dag \d{1,2} \w+ \d{4}, \d\d:\d\d uur")


def test_a_resident_finds_the_way_in_reads_the_time_and_learns_what_comes_next(
    live_server: LiveServer, demo: DemoSummary, page_without_js: Page, shoot: Shoot
) -> None:
    page = page_without_js
    page.goto(live_server.url)
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    expect(nav.get_by_role("link")).to_have_text(["Overzicht", "Stemmen", "Inloggen"])
    open_now = page.locator("section", has=page.get_by_role("heading", name="Nu open"))
    expect(open_now).to_contain_text("Buurtbudget Centrum-Oost 2027")
    expect(open_now).to_contain_text(re.compile(r"u kunt stemmen tot " + MOMENT.pattern))
    expect(open_now).to_contain_text("Dorpsbudget Ter Aa 2027")
    shoot(page, "home with Stemmen")
    assert_accessible(page, "home with what is open now")
    assert_no_horizontal_scroll(page, 360)

    page.goto(f"{live_server.url}/rondes/{VOTING_ROUND_SLUG}")
    expect(page.get_by_text(re.compile(r"U kunt stemmen tot " + MOMENT.pattern))).to_be_visible()

    nav.get_by_role("link", name="Stemmen").click()
    expect(page).to_have_url(f"{live_server.url}/stem")
    page.get_by_label("Uw stemcode").fill(demo.codes[0])
    page.get_by_role("button", name="Verder").click()
    page.locator("input[type=checkbox]").first.check()
    page.get_by_role("button", name="Verder").click()
    page.get_by_role("button", name="Stem uitbrengen").click()
    expect(page.get_by_role("heading", name="Wat gebeurt er nu?")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Het stemmen sluit " + MOMENT.pattern))).to_be_visible()
    receipt = page.locator("#stembon").inner_text()
    tracker = page.get_by_role("link", name=re.compile("Zoek uw stembon"))
    expect(tracker).to_have_attribute("href", re.compile(rf"stembonnen\?stembon={receipt}$"))
    shoot(page, "receipt with next steps")
    assert_accessible(page, "receipt")


def _points_round(server: LiveServer) -> str:
    def build(session: Session) -> str:
        round_ = make_round(session, ballot_kind="points", points_total=10)
        return codes_service.generate_codes(session, round_, server.settings.code_pepper, 1)[0]

    return transact(server.database, build)


@sqlite_only
def test_eleven_of_ten_points_says_one_point_too_many_with_and_without_javascript(
    live_server: LiveServer, new_page: Callable[..., Page], shoot: Shoot
) -> None:
    code = _points_round(live_server)
    for javascript in (True, False):
        page = new_page(javascript=javascript)
        page.goto(f"{live_server.url}/stem")
        page.get_by_label("Uw stemcode").fill(code)
        page.get_by_role("button", name="Verder").click()
        boxes = page.locator("input.voting-option__number")
        boxes.nth(0).fill("6")
        boxes.nth(1).fill("5")
        if javascript:
            boxes.nth(1).dispatch_event("change")
        else:
            page.get_by_role("button", name="Verder").click()
        state = page.locator("#stand")
        expect(state).to_contain_text("Te veel gegeven: 1 punt")
        expect(state).not_to_contain_text("Nog te verdelen")
        shoot(page, f"points over {'live' if javascript else 'without javascript'}")
        assert_accessible(page, "points ballot, one too many")


def test_a_resident_searches_and_sorts_the_plans_and_the_address_can_be_shared(
    live_server: LiveServer, demo: DemoSummary, page_without_js: Page, shoot: Shoot
) -> None:
    page = page_without_js
    page.goto(f"{live_server.url}/rondes/{VOTING_ROUND_SLUG}")
    search = page.get_by_role("search", name="Plannen zoeken")
    search.get_by_label("Zoek op woorden").fill("park")
    search.get_by_label("Sorteer").select_option(label="Laagste kosten eerst")
    search.get_by_role("button", name="Toon").click()
    expect(page).to_have_url(re.compile(r"\?zoek=park&(thema=&)?sorteer=kosten$"))
    cards = page.locator("#plannen .proeftuin-card")
    expect(cards.first).to_contain_text("Watertappunten in de wijk")  # € 5.000: the cheapest
    expect(cards.last).to_contain_text("Speeltuin Julianapark opknappen")  # € 18.000
    shared = page.url
    shoot(page, "plans searched")
    assert_accessible(page, "round page, plans searched")

    other = page.context.new_page()
    other.goto(shared)
    expect(other.get_by_label("Zoek op woorden")).to_have_value("park")
    expect(other.locator("#plannen .proeftuin-card")).to_have_count(cards.count())


STAFF_PASSWORD = "correct horse battery"


def _sign_in_staff(server: LiveServer, page: Page) -> None:
    transact(
        server.database,
        accounts.create_staff,
        "sanne@gemeente.nl",
        "Sanne de Vries",
        STAFF_PASSWORD,
        Role.ADMIN,
    )
    page.goto(f"{server.url}/beheer/inloggen")
    page.get_by_label("E-mailadres").fill("sanne@gemeente.nl")
    page.get_by_label("Wachtwoord").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


def test_a_moderator_sees_what_to_do_merges_safely_undoes_and_keeps_notes(
    live_server: LiveServer, demo: DemoSummary, page_without_js: Page, shoot: Shoot
) -> None:
    page = page_without_js
    _sign_in_staff(live_server, page)
    # The dashboard: the work per round, before the staff menu.
    proposals = page.locator(".beheer-work", has_text="Dorpsbudget Ter Aa 2027")
    expect(proposals).to_contain_text(re.compile(r"\d+ plannen wachten op een besluit"))
    expect(proposals).to_contain_text(re.compile(r"Volgende fase: Plannen worden bekeken, "))
    heading_y = page.get_by_role("heading", level=1).bounding_box()
    menu_y = page.get_by_role("navigation", name="Beheer").bounding_box()
    assert heading_y and menu_y and heading_y["y"] < menu_y["y"]
    shoot(page, "dashboard")
    assert_accessible(page, "dashboard")
    assert_no_horizontal_scroll(page, 360)

    # A merge: both plans in full before anything happens.
    proposals.get_by_role("link", name=re.compile("wachten op een besluit")).click()
    page.locator("a[href*='/plannen/']").filter(has_text=re.compile(".")).nth(1).click()
    title = page.get_by_role("heading", level=1).inner_text()
    merge_form = page.locator("form", has=page.get_by_label("Met welk plan?"))
    merge_form.get_by_label("Met welk plan?").select_option(index=1)
    other = merge_form.get_by_label("Met welk plan?").locator("option:checked").inner_text()
    merge_form.get_by_label("Uitleg (openbaar)").fill("Deze plannen gaan over hetzelfde.")
    merge_form.get_by_role("button", name="Verder naar bevestigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Samenvoegen bevestigen")
    expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=other)).to_be_visible()
    expect(page.locator(".moderation-merge .proeftuin-markdown")).to_have_count(2)
    shoot(page, "merge confirmation")
    assert_accessible(page, "merge confirmation")
    page.get_by_role("button", name="Ja, samenvoegen").click()
    expect(page.locator(".beheer-notice")).to_contain_text("Het plan is samengevoegd.")
    expect(page.get_by_text(re.compile("De indiener krijgt een e-mail op"))).to_be_visible()
    shoot(page, "merged, undo offered")
    assert_accessible(page, "merged plan")
    page.get_by_role("button", name="Ongedaan maken").click()
    expect(page.locator(".beheer-notice")).to_contain_text("Het samenvoegen is ongedaan gemaakt.")
    expect(page.get_by_text("Samengevoegd met")).to_have_count(0)

    # An internal note and the cost check.
    page.get_by_label("Interne notitie").fill("Offerte opvragen bij de aannemer.")
    page.get_by_role("button", name="Notitie bewaren").click()
    expect(page.get_by_text("Offerte opvragen bij de aannemer.")).to_be_visible()
    page.get_by_label("Wie kijkt de kosten na?").select_option(label="Sanne de Vries")
    page.get_by_role("button", name="Toewijzen").click()
    expect(page.get_by_label("Wie kijkt de kosten na?")).to_have_value(re.compile(r"\d+"))
    assert_accessible(page, "plan with a note")
