"""The gemeente's own site in a browser: the footer's pages of the demo gemeente, accessible and
readable on a phone; an admin giving the site its colours and logo, which the CSP lets through
and which keep the pages axe-clean."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from proeftuin.db import transact
from proeftuin.demo import DemoSummary
from proeftuin.models import Role
from proeftuin.services import accounts
from tests.browser.axe import assert_accessible, assert_no_horizontal_scroll, assert_touch_targets
from tests.browser.conftest import LiveServer, sqlite_only

Shoot = Callable[..., Path]
PASSWORD = "correct horse battery"
FOOTER = {
    "Contact": "Contact",
    "Hoe werkt het?": "Hoe werkt het?",
    "Privacy": "Privacyverklaring",
    "Toegankelijkheid": "Toegankelijkheidsverklaring",
}


@sqlite_only
def test_the_footer_leads_to_the_demo_gemeentes_contact_and_statements(
    live_server: LiveServer, demo: DemoSummary, page: Page, shoot: Shoot
) -> None:
    for link, heading in FOOTER.items():
        page.goto(live_server.url)
        footer = page.locator("footer")
        footer.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        shoot(page, heading)
        assert_accessible(page, heading)
        assert_touch_targets(page)
        page.set_viewport_size({"width": 360, "height": 800})
        assert_no_horizontal_scroll(page, 360)
        page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/contact")
    expect(page.get_by_role("link", name="14 0592")).to_have_attribute("href", "tel:140592")
    page.goto(f"{live_server.url}/hoe-werkt-het")
    expect(
        page.get_by_role("heading", level=3, name="Buurtbudget Centrum-Oost 2027")
    ).to_be_visible()
    page.goto(f"{live_server.url}/stem")
    expect(page.locator(".voting-help")).to_contain_text("14 0592")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 160), (0, 70, 130)).save(out, format="PNG")
    return out.getvalue()


@sqlite_only
def test_an_admin_gives_the_site_its_colours_and_logo(
    live_server: LiveServer, page: Page, shoot: Shoot, tmp_path: Path
) -> None:
    transact(
        live_server.database,
        lambda s: accounts.create_staff(s, "ada@gemeente.nl", "Ada", PASSWORD, Role.ADMIN),
    )
    page.goto(f"{live_server.url}/beheer/website")
    page.get_by_label("E-mailadres").fill("ada@gemeente.nl")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Website van de gemeente")
    assert_accessible(page, "site settings")

    # Too little contrast: refused, with the ratio.
    page.get_by_label("Kleur van links").fill("#aaaaaa")
    page.get_by_role("button", name="Kleuren opslaan").click()
    expect(page.locator(".utrecht-form-field--invalid")).to_contain_text("2,32 : 1")
    page.get_by_label("Kleur van links").fill("#0b4f6c")
    page.get_by_label("Kleur van knoppen").fill("#1a5e9b")
    page.get_by_role("button", name="Kleuren opslaan").click()
    expect(page.locator(".beheer-notice")).to_contain_text("De kleuren zijn opgeslagen.")

    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    page.locator("input#logo").set_input_files(str(logo))
    page.get_by_role("button", name="Logo opslaan").click()
    expect(page.locator(".beheer-notice")).to_contain_text("Het logo is opgeslagen.")

    page.goto(live_server.url)
    button_colour = page.evaluate(
        "getComputedStyle(document.documentElement)"
        ".getPropertyValue('--utrecht-button-primary-action-background-color').trim()"
    )
    assert button_colour == "#1a5e9b"
    logo_box = page.locator("img.proeftuin-logo").bounding_box()
    assert logo_box is not None and logo_box["height"] == 40
    shoot(page, "home with the gemeente's look")
    assert_accessible(page, "home with the gemeente's look")
