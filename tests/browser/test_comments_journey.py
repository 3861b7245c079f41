"""A resident joins the discussion of a plan: with htmx the new argument appears in its column
without a page load; without JavaScript the form posts and the page comes back at the discussion.
Every page is checked with axe-core and for reflow at 360 px (the columns become lists)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from proeftuin.db import read, transact
from proeftuin.models import Plan, Resident
from proeftuin.services import residents
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll
from tests.browser.conftest import LiveServer
from tests.security.conftest import resident_link_token

Shoot = Callable[..., Path]
PLAN = "Speeltuin Julianapark opknappen"


def sign_in(page: Page, server: LiveServer, email: str, name: str) -> None:
    token = resident_link_token(server.settings, email)
    page.goto(f"{server.url}/inloggen/link?token={token}")
    page.get_by_role("button", name="Inloggen").click()
    resident = read(
        server.database, lambda s: s.scalar(select(Resident.id).where(Resident.email == email))
    )
    transact(server.database, residents.update_profile, resident, name, "")


def plan_path(server: LiveServer) -> str:
    found = read(
        server.database, lambda s: s.scalar(select(Plan.public_id).where(Plan.title == PLAN))
    )
    return f"/plannen/{found}"


def test_an_argument_appears_in_its_column_without_a_page_load(
    live_server: LiveServer, page: Page, shoot: Shoot
) -> None:
    live_server.seed_demo()
    sign_in(page, live_server, "els@example.nl", "Els")
    page.goto(live_server.url + plan_path(live_server))
    discussion = page.locator("#reacties")
    expect(discussion).to_contain_text("Argumenten voor")
    expect(discussion).to_contain_text("Verborgen door de wijkraad: Beledigend")
    expect(discussion).to_contain_text("indiener")
    assert_accessible(page, "plan with its discussion")
    assert_no_horizontal_scroll(page, 360)
    shoot(page, "discussion")
    page.wait_for_function("window.htmx !== undefined")
    navigations = page.evaluate("performance.getEntriesByType('navigation').length")
    form = page.locator("form.proeftuin-comment-form").last
    form.get_by_label("Een argument voor dit plan").check()
    form.get_by_label("Uw reactie").fill("Dan kunnen de kinderen **eindelijk** weer buiten spelen.")
    form.get_by_role("button", name="Plaatsen").click()
    column = page.locator(".proeftuin-arguments__side", has_text="Argumenten voor")
    expect(column).to_contain_text("Dan kunnen de kinderen eindelijk weer buiten spelen.")
    expect(page.locator("#reacties [role=status]")).to_contain_text("Uw reactie is geplaatst.")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == navigations
    assert_accessible(page, "after posting with htmx")
    shoot(page, "posted with htmx")


def test_without_javascript_the_form_posts_and_comes_back(
    live_server: LiveServer, page_without_js: Page
) -> None:
    live_server.seed_demo()
    page = page_without_js
    sign_in(page, live_server, "joost@example.nl", "Joost")
    page.goto(live_server.url + plan_path(live_server))
    form = page.locator("form.proeftuin-comment-form").last
    form.get_by_label("Een vraag aan de indiener").check()
    form.get_by_label("Uw reactie").fill("Wanneer gaat de speeltuin open?")
    form.get_by_role("button", name="Plaatsen").click()
    expect(page).to_have_url(re.compile(r"melding=geplaatst#reacties$"))
    expect(page.locator("#reacties")).to_contain_text("Wanneer gaat de speeltuin open?")
    assert_accessible(page, "after posting without JavaScript")
