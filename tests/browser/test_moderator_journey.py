"""Journey: on a tablet, a moderator signs in, creates a round, opens it for
plans, accepts and rejects plans (in place, with htmx), opens voting, generates letter codes,
prints the letters, enters a paper ballot and closes the round. Every page is checked with
axe-core and for reflow, and photographed at tablet and phone width."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import read, transact
from proeftuin.models import Area, Ballot, Membership, Round
from proeftuin.services import accounts
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll
from tests.browser.conftest import BrowserLog, LiveServer
from tests.factories import make_plan, make_resident

Shoot = Callable[..., Path]
PASSWORD = "correct horse battery"
TABLET = {"viewport": {"width": 1024, "height": 768}, "is_mobile": False}
PHONE_WIDTH = 390
NBSP = "\xa0"
# See test_voting_journey.py: screenshots leave style="" on inputs, and htmx's settle step copies
# that empty attribute onto the fields it swaps in; the CSP refuses it (it does nothing).
EMPTY_INLINE_STYLE = (
    r"Applying inline style violates .*'sha256-47DEQpj8HBSa\+/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU='"
)
TITLE = "Buurtbudget Noord 2027"
PLANS = {
    "speeltuin": ("Speeltuin aan de Vaart", 18_000),
    "bankjes": ("Bankjes in het park", 4_500),
    "graffiti": ("Graffitimuur bij het station", 9_000),
}


def check(page: Page, shoot: Shoot, step: str) -> None:
    """axe-core and reflow on every page of the journey, photographed on a tablet and a phone."""
    shoot(page, step)
    assert_accessible(page, step)
    size = page.viewport_size
    assert size is not None
    page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
    shoot(page, f"{step} (phone)")
    assert_no_horizontal_scroll(page, 360)
    page.set_viewport_size(size)


def seed(server: LiveServer) -> None:
    def build(session: Session) -> None:
        area = Area(slug="noord", name="Noord", kind="wijk")
        session.add(area)
        session.flush()
        for email, name in (("anna@gemeente.nl", "Anna"), ("tessa@gemeente.nl", "Tessa")):
            user = accounts.create_staff(session, email, name, PASSWORD)
            session.add(Membership(staff_id=user.id, area_id=area.id))

    transact(server.database, build)


def residents_propose_plans(server: LiveServer) -> None:
    def build(session: Session) -> None:
        round_ = session.scalar(select(Round))
        assert round_ is not None
        author = make_resident(session, name="Fatima")
        for public_id, (title, cost) in PLANS.items():
            plan = make_plan(session, round_, public_id, estimated_cost=cost, author=author)
            plan.title = title
            plan.summary = f"{title}: een plan van bewoners."

    transact(server.database, build)


def round_nav(page: Page, name: str):  # type: ignore[no-untyped-def]
    nav = page.get_by_role("navigation", name="Onderdelen van deze ronde")
    return nav.get_by_role("link", name=name, exact=True)


def next_phase(page: Page, shoot: Shoot, label: str) -> None:
    page.get_by_role("link", name=f"Naar de volgende fase: {label}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Naar de volgende fase")
    check(page, shoot, f"confirm {label}")
    page.get_by_role("button", name=f"Ja, ga naar {label}").click()
    expect(page.locator(".beheer-notice")).to_contain_text(
        "De ronde is naar de volgende fase gegaan."
    )


def test_a_moderator_runs_a_round_from_start_to_close(
    live_server: LiveServer, new_page: Callable[..., Page], shoot: Shoot
) -> None:
    seed(live_server)
    page = new_page(**TABLET)
    BrowserLog.of(page).allow(EMPTY_INLINE_STYLE)
    url = live_server.url

    # Sign in.
    page.goto(f"{url}/beheer/rondes")
    page.get_by_label("E-mailadres").fill("anna@gemeente.nl")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rondes")
    check(page, shoot, "rounds")

    # A new round: first with mistakes, then right.
    page.get_by_role("link", name="Nieuwe ronde").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nieuwe ronde")
    check(page, shoot, "new round")
    page.get_by_label("Titel", exact=True).fill("Nrd")
    page.get_by_label("Budget", exact=True).fill("vijftigduizend")
    page.get_by_role("button", name="Ronde aanmaken").click()
    expect(page.get_by_role("heading", name="Niet alles is goed ingevuld")).to_be_visible()
    expect(page.locator("#budget-error")).to_contain_text("Vul het budget in")
    expect(page.get_by_label("Titel", exact=True)).to_have_value("Nrd")
    check(page, shoot, "new round with mistakes")
    page.get_by_label("Gebied", exact=True).select_option(label="Noord")
    page.get_by_label("Titel", exact=True).fill(TITLE)
    page.get_by_label("Budget", exact=True).fill("25.000")
    page.get_by_label("Minstens zoveel plannen kiezen").fill("1")
    page.get_by_role("radio", name="Meeste stemmen eerst").check()
    page.get_by_role("button", name="Ronde aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("main")).to_contain_text("De ronde is aangemaakt.")
    check(page, shoot, "round created")

    # Open it for plans; residents send in three.
    next_phase(page, shoot, "Plannen indienen")
    residents_propose_plans(live_server)

    # The review queue: accept two (one at another cost), reject one. With htmx, in place.
    round_nav(page, "Plannen").click()
    expect(page.get_by_role("heading", name="Te beoordelen (3)")).to_be_visible()
    check(page, shoot, "review queue")
    page.get_by_role("link", name=PLANS["speeltuin"][0]).click()
    expect(page.get_by_label("Officiële kosten")).to_have_value("18000")
    check(page, shoot, "plan to review")
    page.wait_for_function("window.htmx !== undefined")
    navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    page.get_by_role("button", name="Op het stembiljet zetten").click()
    expect(page.locator("#besluit")).to_contain_text("Het plan staat op het stembiljet.")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
    check(page, shoot, "plan accepted")

    page.get_by_role("link", name="Terug naar de plannen").click()
    page.get_by_role("link", name=PLANS["bankjes"][0]).click()
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Officiële kosten").fill("5.000")
    page.get_by_role("button", name="Op het stembiljet zetten").click()
    expect(page.locator("#besluit [role=alert]")).to_contain_text("Leg uit waarom")
    check(page, shoot, "cost needs an explanation")
    page.get_by_label("Uitleg bij de kosten").fill("Met fundering en afvalbak.")
    page.get_by_role("button", name="Op het stembiljet zetten").click()
    expect(page.locator("#besluit")).to_contain_text("Het plan staat op het stembiljet.")

    page.get_by_role("link", name="Terug naar de plannen").click()
    page.get_by_role("link", name=PLANS["graffiti"][0]).click()
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Waarom wijst u dit plan af?").fill(
        "De muur is van de spoorwegen, niet van de gemeente."
    )
    page.get_by_role("button", name="Afwijzen").click()
    expect(page.locator("#besluit")).to_contain_text("Het plan is afgewezen.")
    check(page, shoot, "plan rejected")
    page.get_by_role("link", name="Terug naar de plannen").click()
    expect(page.get_by_role("heading", name="Op het stembiljet (2)")).to_be_visible()
    expect(page.get_by_role("heading", name="Afgewezen (1)")).to_be_visible()

    # Review over, voting opens: the rules are fixed from now on.
    round_nav(page, "Ronde").click()
    next_phase(page, shoot, "Plannen worden bekeken")
    next_phase(page, shoot, "Stemmen")
    expect(page.locator("main")).to_contain_text("Ligt vast.")
    check(page, shoot, "voting open")

    # Letter codes: shown once, as letters to print.
    round_nav(page, "Codes").click()
    check(page, shoot, "codes")
    page.get_by_label("Aantal codes").fill("3")
    page.get_by_role("button", name="Codes en brieven maken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("3 codes gemaakt")
    letters = page.locator("article.letter")
    expect(letters).to_have_count(3)
    codes = [c.strip() for c in page.locator(".letter__code").all_inner_texts()]
    assert all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", c) for c in codes)
    check(page, shoot, "letters")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download als CSV").click()
    rows = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert rows == ["code", *sorted(codes)]

    # The print view: only the letters, one per A4 page.
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.beheer-nav')).display") == (
        "none"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('.letters-screen')).display") == (
        "none"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('.letter')).breakAfter") == (
        "page"
    )
    shoot(page, "letters printed")
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 3
    page.emulate_media(media="screen")

    # A resident without internet sent the paper ballot from the first letter.
    page.get_by_role("link", name="Terug naar de codes").click()
    round_nav(page, "Papieren stembiljetten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Papieren stembiljet invoeren")
    page.wait_for_function("window.htmx !== undefined")
    page.get_by_label("Code op het stembiljet").fill(codes[0].lower())
    page.get_by_role("checkbox", name=re.compile(PLANS["speeltuin"][0])).check()
    expect(page.locator("#papier-totaal")).to_contain_text(f"€{NBSP}18.000")
    page.get_by_role("checkbox", name=re.compile(PLANS["bankjes"][0])).check()
    expect(page.locator("#papier-totaal")).to_contain_text(f"€{NBSP}23.000")
    check(page, shoot, "paper ballot")
    page.get_by_role("button", name="Stembiljet opslaan").click()
    expect(page.locator("main")).to_contain_text("Het papieren stembiljet is opgeslagen")
    check(page, shoot, "paper ballot stored")
    channels = read(live_server.database, lambda s: s.scalars(select(Ballot.channel)).all())
    assert channels == ["paper"]

    # Turnout: how many, never for which plan.
    round_nav(page, "Opkomst").click()
    expect(page.locator("main")).to_contain_text("Op papier")
    for title, _cost in PLANS.values():
        expect(page.locator("main")).not_to_contain_text(title)
    check(page, shoot, "turnout")

    # Close the round.
    round_nav(page, "Ronde").click()
    next_phase(page, shoot, "Stemmen is voorbij")
    check(page, shoot, "round closed")
    phase = read(live_server.database, lambda s: s.scalar(select(Round.phase)))
    assert phase == "gesloten"
