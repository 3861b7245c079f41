"""Journeys (b) and (c): on a phone, a resident votes with the code from the letter on the demo's
knapsack ballot, watches the budget, reviews, casts, gets a receipt, then comes back and changes
the vote. Once with JavaScript (the budget updates live) and once without (the server answers the
same way after each step). Every page is checked with axe-core, for touch targets and for reflow
at 360 px, and photographed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import read
from proeftuin.demo import VOTING_ROUND_SLUG, DemoSummary
from proeftuin.models import Ballot, BallotChoice, Plan, Round
from proeftuin.services.codes import display
from proeftuin.web import voting as voting_web
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import BrowserLog, LiveServer, sqlite_only

Shoot = Callable[..., Path]
NBSP = "\xa0"
# The CSP report for an *empty* inline style (the hash is SHA-256 of ""). Playwright's screenshots
# leave style="" on every input (they hide the caret, then put "nothing" back); htmx's settle step
# copies that attribute onto the pass field it swaps in, and the CSP refuses it. An empty style does
# nothing, so only that report is accepted; any real inline style still fails the test.
EMPTY_INLINE_STYLE = (
    r"Applying inline style violates .*'sha256-47DEQpj8HBSa\+/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU='"
)
ROUND = "Buurtbudget Centrum-Oost 2027"
# Demo plans and their costs; the budget is € 60.000.
SPEELTUIN = "Speeltuin Julianapark opknappen"  # 18.000
SCHOOLPLEINEN = "Groene schoolpleinen"  # 15.000
SPORT = "Sporttoestellen in het park"  # 14.000
VERLICHTING = "Verlichting fietspad Stationsweg"  # 12.000
STALLING = "Overdekte fietsenstalling"  # 11.000
BANKJES = "Bankjes langs de Vaart"  # 4.500


def check(page: Page, shoot: Shoot, step: str) -> None:
    """The checks every page of the journey passes, then its photograph."""
    shoot(page, step)
    assert_accessible(page, step)
    assert_touch_targets(page)
    size = page.viewport_size
    assert size is not None
    assert_no_horizontal_scroll(page, 360)
    page.set_viewport_size(size)


def euro(amount: str) -> str:
    return f"€{NBSP}{amount}"


def ballots(server: LiveServer) -> list[list[str]]:
    """Every ballot of the demo's voting round, as the sorted titles of its plans (the demo's
    published round has ballots of its own)."""

    def load(session: Session) -> list[list[str]]:
        return [
            sorted(
                session.scalars(
                    select(Plan.title)
                    .join(BallotChoice, BallotChoice.plan_id == Plan.id)
                    .where(BallotChoice.ballot_id == ballot_id)
                )
            )
            for ballot_id in session.scalars(
                select(Ballot.id).join(Round).where(Round.slug == VOTING_ROUND_SLUG)
            )
        ]

    return read(server.database, load)


def plan(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("checkbox", name=re.compile(re.escape(title)))


def enter_code(page: Page, server: LiveServer, code: str) -> None:
    page.goto(f"{server.url}/stem")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stemmen")
    page.get_by_label("Uw stemcode").fill(code)
    page.get_by_role("button", name="Verder").click()


def test_b_vote_with_a_letter_code_with_a_live_budget(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    code = demo.codes[0]
    BrowserLog.of(page).allow(EMPTY_INLINE_STYLE)

    # The QR link on the letter pre-fills the code; a typo first gets a clear message.
    page.goto(f"{live_server.url}/stem?code={code.lower()}")
    expect(page.get_by_label("Uw stemcode")).to_have_value(display(code))
    check(page, shoot, "code from the qr link")
    page.get_by_label("Uw stemcode").fill(code[:11] + ("0" if code[11] != "0" else "1"))
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_label("Uw stemcode")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#code-error")).to_contain_text("Deze code klopt niet")
    check(page, shoot, "wrong code")

    # Typed in lower case without dashes: the ballot opens.
    page.get_by_label("Uw stemcode").fill(code.lower())
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ROUND)
    assert code not in page.content().upper().replace("-", "")
    page.wait_for_function("window.htmx !== undefined")
    budget = page.locator("#stand")
    expect(budget).to_have_attribute("aria-live", "polite")
    expect(budget).to_contain_text(f"Nog over: {euro('60.000')}")
    check(page, shoot, "ballot")

    # Each choice updates what is left, without loading a page.
    navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    for title, left in (
        (SPEELTUIN, "42.000"),
        (SCHOOLPLEINEN, "27.000"),
        (SPORT, "13.000"),
        (VERLICHTING, "1.000"),
    ):
        plan(page, title).check()
        expect(budget).to_contain_text(f"Nog over: {euro(left)}")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
    shoot(page, "four plans chosen", full_page=False)

    # One more does not fit: the page says why and "Verder" waits.
    plan(page, STALLING).check()
    expect(budget).to_contain_text(f"{euro('10.000')} te veel")
    expect(budget).to_contain_text("Dat is meer dan het budget")
    expect(page.get_by_role("button", name="Verder")).to_be_disabled()
    check(page, shoot, "over budget")
    plan(page, VERLICHTING).uncheck()
    expect(budget).to_contain_text(f"Nog over: {euro('2.000')}")
    expect(page.get_by_role("button", name="Verder")).to_be_enabled()

    # Review, then cast.
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer uw keuze")
    table = page.get_by_role("table")
    for title in (SPEELTUIN, SCHOOLPLEINEN, SPORT, STALLING):
        expect(table).to_contain_text(title)
    expect(table).not_to_contain_text(VERLICHTING)
    expect(table).to_contain_text(euro("58.000"))
    assert ballots(live_server) == []
    check(page, shoot, "review")
    page.get_by_role("button", name="Stem uitbrengen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw stem")
    first_receipt = page.locator("#stembon").inner_text()
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", first_receipt)
    expect(page.locator("main")).not_to_contain_text(SPEELTUIN)  # the ballot is not shown
    check(page, shoot, "receipt")
    assert ballots(live_server) == [sorted([SPEELTUIN, SCHOOLPLEINEN, SPORT, STALLING])]

    # Coming back with the same code: the ballot as cast, and it can be changed.
    enter_code(page, live_server, code)
    expect(page.locator("main")).to_contain_text("U heeft al gestemd.")
    for title in (SPEELTUIN, SCHOOLPLEINEN, SPORT, STALLING):
        expect(plan(page, title)).to_be_checked()
    expect(page.locator("#stand")).to_contain_text(f"Nog over: {euro('2.000')}")
    check(page, shoot, "ballot when coming back")
    page.wait_for_function("window.htmx !== undefined")
    plan(page, STALLING).uncheck()
    expect(page.locator("#stand")).to_contain_text(f"Nog over: {euro('13.000')}")
    plan(page, BANKJES).check()
    expect(page.locator("#stand")).to_contain_text(f"Nog over: {euro('8.500')}")
    page.get_by_role("button", name="Verder").click()
    expect(page.locator("main")).to_contain_text("Deze keuze komt in de plaats van uw vorige keuze")
    check(page, shoot, "review of the new choice")
    page.get_by_role("button", name="Stem uitbrengen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw stem")
    assert page.locator("#stembon").inner_text() != first_receipt
    shoot(page, "receipt of the new choice")
    assert ballots(live_server) == [sorted([SPEELTUIN, SCHOOLPLEINEN, SPORT, BANKJES])]


def test_c_vote_with_a_letter_code_without_javascript(
    live_server: LiveServer, demo: DemoSummary, page_without_js: Page, shoot: Shoot
) -> None:
    page = page_without_js
    code = demo.codes[1]

    enter_code(page, live_server, display(code))
    expect(page.get_by_role("heading", level=1)).to_have_text(ROUND)
    expect(page.locator("#stand")).to_contain_text(f"Nog over: {euro('60.000')}")
    check(page, shoot, "ballot")

    # Without JavaScript the budget is worked out when "Verder" is pressed: too much comes back
    # with the reason, and with every choice still ticked.
    for title in (SPEELTUIN, SCHOOLPLEINEN, SPORT, VERLICHTING, STALLING):
        plan(page, title).check()
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", name="Niet alles is goed ingevuld")).to_be_visible()
    expect(page.locator("#stand")).to_contain_text(f"{euro('10.000')} te veel")
    expect(page.locator("#stand")).to_contain_text("Dat is meer dan het budget")
    for title in (SPEELTUIN, SCHOOLPLEINEN, SPORT, VERLICHTING, STALLING):
        expect(plan(page, title)).to_be_checked()
    assert page.title().startswith("Fout:")
    check(page, shoot, "over budget")

    plan(page, VERLICHTING).uncheck()
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer uw keuze")
    expect(page.get_by_role("table")).to_contain_text(euro("58.000"))
    check(page, shoot, "review")

    # "Keuze aanpassen" goes back with the choices; then on to casting.
    page.get_by_role("button", name="Keuze aanpassen").click()
    expect(plan(page, STALLING)).to_be_checked()
    expect(plan(page, VERLICHTING)).not_to_be_checked()
    page.get_by_role("button", name="Verder").click()
    page.get_by_role("button", name="Stem uitbrengen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw stem")
    first_receipt = page.locator("#stembon").inner_text()
    check(page, shoot, "receipt")
    assert ballots(live_server) == [sorted([SPEELTUIN, SCHOOLPLEINEN, SPORT, STALLING])]

    # Back with the same code: change the vote; the last one counts.
    enter_code(page, live_server, code.lower())
    expect(page.locator("main")).to_contain_text("U heeft al gestemd.")
    expect(plan(page, STALLING)).to_be_checked()
    check(page, shoot, "ballot when coming back")
    plan(page, STALLING).uncheck()
    plan(page, BANKJES).check()
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("table")).to_contain_text(BANKJES)
    page.get_by_role("button", name="Stem uitbrengen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor uw stem")
    assert page.locator("#stembon").inner_text() != first_receipt
    shoot(page, "receipt of the new choice")
    assert ballots(live_server) == [sorted([SPEELTUIN, SCHOOLPLEINEN, SPORT, BANKJES])]


@sqlite_only
def test_b_a_warning_before_the_voting_page_expires_gives_more_time(
    live_server: LiveServer,
    demo: DemoSummary,
    page: Page,
    shoot: Shoot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The live server runs in this process: a pass of 60 s, warned about after 2 s.
    monkeypatch.setattr(voting_web, "PASS_MAX_AGE_SECONDS", 60)
    monkeypatch.setattr(voting_web, "WARN_BEFORE_SECONDS", 58)
    BrowserLog.of(page).allow(EMPTY_INLINE_STYLE)
    enter_code(page, live_server, demo.codes[2])
    expect(page.get_by_role("heading", level=1)).to_have_text(ROUND)
    old_pass = page.locator("#pas").get_attribute("value")

    warning = page.get_by_role("alert").filter(has_text="Deze pagina verloopt")
    expect(warning).to_be_visible(timeout=5_000)
    expect(page.locator("#stand")).to_be_visible()  # the warning has its own place
    check(page, shoot, "expiry warning")
    monkeypatch.setattr(voting_web, "WARN_BEFORE_SECONDS", 0)  # the next warning: much later
    page.get_by_role("button", name="Ik heb meer tijd nodig").click()
    expect(warning).to_have_count(0)
    expect(page.locator("#verloopt")).to_have_attribute("hx-trigger", "load delay:60s")
    expect(page.locator("#pas")).not_to_have_attribute("value", old_pass or "")
    expect(page.locator("#stand")).to_contain_text(f"Nog over: {euro('60.000')}")
