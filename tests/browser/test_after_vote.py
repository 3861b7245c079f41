"""After the vote in the demo, on a phone: the published round with its outcomes and its Atom
feed, what happened to the funded plans, a funded plan's timeline and the news-by-e-mail form;
accessible (axe-core) and readable at 360 px."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import transact
from proeftuin.demo import PUBLISHED_ROUND_SLUG, DemoSummary
from proeftuin.models import Membership, Round
from proeftuin.services import accounts
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import LiveServer, sqlite_only

Shoot = Callable[..., Path]
PASSWORD = "correct horse battery"


def check(page: Page, shoot: Shoot, name: str) -> None:
    assert_accessible(page, name)
    assert_touch_targets(page)
    page.set_viewport_size({"width": 360, "height": 800})
    assert_no_horizontal_scroll(page, 360)
    shoot(page, f"{name} at 360 px")
    page.set_viewport_size({"width": 390, "height": 844})


@sqlite_only
def test_a_resident_follows_what_happened_to_the_plans(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    page.goto(f"{live_server.url}/rondes/{PUBLISHED_ROUND_SLUG}")
    feed = page.locator('link[rel="alternate"][type="application/atom+xml"]')
    assert feed.get_attribute("href") == f"/rondes/{PUBLISHED_ROUND_SLUG}/uitvoering.atom"
    expect(page.locator("#plannen").get_by_text("Gaat door").first).to_be_visible()
    expect(page.locator("#plannen").get_by_text("Gaat niet door").first).to_be_visible()
    check(page, shoot, "published round")

    page.get_by_role("link", name="Wat is er met de plannen gebeurd?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wat is er met de plannen gebeurd?")
    expect(page.locator("main")).to_contain_text("Vertraagd")
    check(page, shoot, "what happened")

    page.locator(".proeftuin-card__link").first.click()
    expect(page.get_by_role("heading", name="Uitvoering")).to_be_visible()
    check(page, shoot, "funded plan")

    page.goto(f"{live_server.url}/rondes/{PUBLISHED_ROUND_SLUG}")
    page.get_by_role("link", name="Krijg berichten over deze ronde per e-mail").click()
    page.get_by_label("Uw e-mailadres").fill("anna@example.nl")
    check(page, shoot, "news by e-mail")
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")


@sqlite_only
def test_a_moderator_records_how_a_funded_plan_is_carried_out(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    def moderator(session: Session) -> None:
        round_ = session.scalars(select(Round).where(Round.slug == PUBLISHED_ROUND_SLUG)).one()
        user = accounts.create_staff(session, "joost@gemeente.nl", "Joost", PASSWORD)
        session.add(Membership(staff_id=user.id, area_id=round_.area_id))

    transact(live_server.database, moderator)
    page.goto(f"{live_server.url}/beheer/rondes/{PUBLISHED_ROUND_SLUG}/uitvoering")
    page.get_by_label("E-mailadres").fill("joost@gemeente.nl")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Uitvoering")
    check(page, shoot, "staff execution")

    page.locator(".moderation-plan__title a").first.click()
    page.get_by_label("Tot nu toe uitgegeven").fill("-5")
    page.get_by_role("button", name="Stand opslaan").click()
    expect(page.get_by_role("heading", name="Niet alles is goed ingevuld")).to_be_visible()
    check(page, shoot, "staff execution with a mistake")
    page.get_by_label("Tot nu toe uitgegeven").fill("100")
    page.get_by_role("button", name="Stand opslaan").click()
    expect(page.locator(".beheer-notice")).to_contain_text("De stand is opgeslagen.")
    page.get_by_label("Bericht (openbaar)").fill("De eerste spade gaat deze week de grond in.")
    page.get_by_role("button", name="Bericht plaatsen").click()
    expect(page.locator(".beheer-notice")).to_contain_text("Het bericht staat online.")
    expect(page.locator("main")).to_contain_text("De eerste spade gaat deze week de grond in.")
