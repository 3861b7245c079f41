"""Journey (a): on a phone, a resident signs in by e-mail (a real SMTP server on loopback),
proposes a plan and supports another one. Every page is checked with axe-core, for touch targets
and for reflow at 360 px, and photographed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import LiveServer
from tests.smtp import Inbox, smtp_server, wait_for_mail

Shoot = Callable[..., Path]
ROUND = "Dorpsbudget Ter Aa 2027"
MAIL_WAIT_SECONDS = 10


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback (in a thread: browser tests must not run asyncio.run)."""
    with smtp_server() as running:
        yield running


def check(page: Page, shoot: Shoot, step: str) -> None:
    """The checks every page of the journey passes, then its photograph."""
    shoot(page, step)
    assert_accessible(page, step)
    assert_touch_targets(page)
    size = page.viewport_size
    assert size is not None
    assert_no_horizontal_scroll(page, 360)
    page.set_viewport_size(size)


def test_resident_signs_in_by_email_proposes_a_plan_and_supports_another(
    live_server_factory: Callable[..., LiveServer],
    inbox: tuple[Inbox, int],
    page: Page,
    shoot: Shoot,
) -> None:
    received, port = inbox
    server = live_server_factory(smtp_host="127.0.0.1", smtp_port=port)
    server.seed_demo()

    # Home → the round that takes plans.
    page.goto(server.url)
    page.locator("#gebieden").get_by_role("link", name=ROUND).click()  # not "Nu open"
    expect(page.get_by_role("heading", level=1)).to_have_text(ROUND)
    expect(page.get_by_role("heading", name="Wat gebeurt er nu?")).to_be_visible()
    expect(page.locator("[aria-current=step]")).to_contain_text("Plannen indienen")
    expect(page.locator("#plannen")).to_contain_text("3 plannen")
    check(page, shoot, "round")

    # Proposing needs a sign-in: the resident is sent there and will come back.
    page.get_by_role("link", name="Dien een plan in").click()
    expect(page).to_have_url(re.compile(r"/inloggen\?next="))
    check(page, shoot, "sign in")
    page.get_by_label("E-mailadres").fill("anna@example.nl")
    page.get_by_role("button", name="Stuur mij een link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in uw e-mail")
    expect(page.locator("main")).to_contain_text(
        "We hebben een link gestuurd naar anna@example.nl."
    )
    check(page, shoot, "check your mail")

    # The mail comes in over SMTP; its link opens a page with one button.
    mail = wait_for_mail(received, "anna@example.nl", MAIL_WAIT_SECONDS)
    assert mail["To"] == "anna@example.nl"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(re.escape(server.url) + r"/inloggen/link\?token=\S+", body)
    assert link, body
    page.goto(link.group(0))
    check(page, shoot, "link from the mail")
    page.get_by_role("button", name="Inloggen").click()

    # A first-time resident gives a display name first, then lands on the form.
    expect(page).to_have_url(re.compile(r"/profiel\?next="))
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_contain_text("Uitloggen")
    check(page, shoot, "profile")
    page.get_by_label("Uw naam").fill("Anna")
    page.get_by_label("Postcode").fill("9411 ab")
    page.get_by_role("button", name="Opslaan").click()
    expect(page).to_have_url(re.compile(r"/rondes/dorpsbudget-ter-aa-2027/plannen/nieuw$"))
    check(page, shoot, "propose form")

    # A form with mistakes comes back with a message at each field and what was typed.
    page.get_by_label("Titel").fill("Bank")
    page.get_by_label("Waar komt het?").fill("Bij de kerk")
    page.get_by_role("button", name="Plan indienen").click()
    expect(page.get_by_role("heading", name="Niet alles is goed ingevuld")).to_be_visible()
    expect(page.get_by_label("Titel")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Waar komt het?")).to_have_value("Bij de kerk")
    check(page, shoot, "propose form with errors")

    page.get_by_label("Titel").fill("Bankjes bij de kerk")
    page.get_by_label("Korte samenvatting").fill("Drie bankjes, zodat ouderen kunnen uitrusten.")
    page.get_by_label("Beschrijving").fill(
        "## Waarom\n\nEr is nu **nergens** een plek om te zitten."
    )
    page.get_by_label("Wat kost het ongeveer?").fill("2.400")
    page.get_by_label("Thema").select_option(label="Ontmoeten")
    page.get_by_label("Wij voeren het plan zelf uit").check()
    page.get_by_role("button", name="Plan indienen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bankjes bij de kerk")
    expect(page.get_by_role("heading", name="Dit is uw plan")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Anna")
    expect(page.locator(".proeftuin-markdown strong")).to_have_text("nergens")
    check(page, shoot, "my new plan")

    # Support another plan: htmx swaps only the count and the button.
    page.get_by_role("link", name=f"Terug naar alle plannen van {ROUND}").click()
    page.wait_for_function("window.htmx !== undefined")
    navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    card = page.locator(".proeftuin-card", has_text="AED in de dorpskern")
    card.get_by_role("button", name=re.compile("^Steun dit plan")).click()
    expect(card).to_contain_text("1 steunbetuiging")
    expect(card).to_contain_text("U steunt dit plan.")
    expect(card.get_by_role("button", name=re.compile("^Steun intrekken"))).to_be_focused()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
    check(page, shoot, "supported another plan")

    # My plans lists the new plan with its status.
    page.get_by_role("link", name="Mijn plannen").click()
    mine = page.locator(".proeftuin-card", has_text="Bankjes bij de kerk")
    expect(mine).to_contain_text("Ingediend")
    check(page, shoot, "my plans")
