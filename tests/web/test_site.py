"""The gemeente's own site: contact, statements, "Hoe werkt het?", its look, and the admin forms."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read
from proeftuin.models import AuditEvent, Phase, Role, SitePageText, SiteProfile
from proeftuin.services import retention
from proeftuin.web.app import create_app
from tests.factories import add_area, add_round
from tests.web.clients import add_staff, cheap_hashing, post, signed_in

CONTACT = {
    "gemeente_name": "Gemeente Veenhoven",
    "phone": "14 0592",
    "email": "burgerbegroting@veenhoven.nl",
    "address": "Stadhuisplein 1\n9401 AA Veenhoven",
    "opening_hours": "Maandag tot en met vrijdag 9.00 tot 17.00 uur",
}


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


@pytest.fixture
def admin(client: TestClient, db: Database) -> TestClient:
    add_staff(db, "admin@gemeente.nl", Role.ADMIN, name="Ada Admin")
    return signed_in(client, "admin@gemeente.nl")


def _actions(db: Database) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.action.like("site.%"))
    return list(read(db, lambda s: s.scalars(query.order_by(AuditEvent.id))))


def _png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 160)).save(out, format="PNG")
    return out.getvalue()


# -- the footer and the public pages ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/stem", "/beheer/inloggen", "/bestaat-niet"])
def test_every_page_links_contact_and_the_statements_in_its_footer(
    client: TestClient, path: str
) -> None:
    html = client.get(path).text
    footer = html.split("<footer", 1)[1]
    for link in ("/contact", "/privacy", "/toegankelijkheid", "/hoe-werkt-het"):
        assert f'href="{link}"' in footer, (path, link)


def test_the_privacy_statement_by_default_says_what_is_kept_and_how_long(
    client: TestClient,
) -> None:
    html = client.get("/privacy").text
    assert "<h1" in html and "Privacyverklaring" in html
    assert f"{retention.RETENTION.days} dagen nadat de uitslag" in html
    assert "zonder uw IP-adres" in html
    assert "Autoriteit Persoonsgegevens" in html
    english = client.get("/privacy?lang=en").text
    assert "IP address" in english


def test_the_accessibility_statement_follows_the_model_and_names_its_tests(
    client: TestClient,
) -> None:
    html = client.get("/toegankelijkheid").text
    for part in ("Nalevingsstatus", "axe-core", "WCAG 2.1", "Nationale ombudsman", "200%"):
        assert part in html, part


def test_how_it_works_fills_in_the_rules_of_the_open_rounds(
    client: TestClient, db: Database
) -> None:
    area = add_area(db, "noord", "Noord")
    add_round(db, area, "noord-2027", "Buurtbudget Noord", budget=50_000, phase=Phase.STEMMEN)
    add_round(db, area, "concept-2027", "Nog niet open", budget=10_000, phase=Phase.CONCEPT)
    html = client.get("/hoe-werkt-het").text
    assert "Buurtbudget Noord" in html and "50.000" in html
    assert "Binnen het budget" in html  # the ballot kind
    assert "Gelijke delen" in html  # the rule
    assert "Nog niet open" not in html


# -- contact details -------------------------------------------------------------------------


def test_contact_details_saved_by_an_admin_show_on_contact_stem_and_error_pages(
    admin: TestClient, db: Database
) -> None:
    assert "14 0592" not in admin.get("/contact").text
    response = post(admin, "/beheer/website/contact", CONTACT)
    assert response.status_code == 303
    for path in ("/contact", "/stem", "/bestaat-niet"):
        html = admin.get(path).text
        assert 'href="tel:140592"' in html, path
        assert "mailto:burgerbegroting@veenhoven.nl" in html, path
        assert "Stadhuisplein 1<br>9401 AA Veenhoven" in html, path
    assert "Gemeente Veenhoven" in admin.get("/").text
    assert _actions(db) == ["site.contact_update"]
    query = select(AuditEvent.details).where(AuditEvent.action == "site.contact_update")
    details = read(db, lambda s: s.scalar(query))
    assert "veenhoven.nl" not in details and "telefoon" in details


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("phone", "bel ons", "telefoonnummer"),
        ("email", "geen-adres", "e-mailadres in zoals"),
        ("address", "x" * 501, "te lang"),
    ],
)
def test_bad_contact_details_are_refused_in_dutch_and_nothing_changes(
    admin: TestClient, db: Database, field: str, typed: str, message: str
) -> None:
    response = post(admin, "/beheer/website/contact", {**CONTACT, field: typed})
    assert response.status_code == 422
    assert message in response.text
    assert read(db, lambda s: s.get(SiteProfile, 1)) is None
    assert _actions(db) == []


# -- content pages ---------------------------------------------------------------------------


def test_an_admin_edits_a_page_and_can_go_back_to_the_default(
    admin: TestClient, db: Database
) -> None:
    form = admin.get("/beheer/website/privacy").text
    assert "Autoriteit Persoonsgegevens" in form  # the default, to start from
    response = post(
        admin, "/beheer/website/privacy", {"body": "# Onze privacy\n\nKort en **goed**."}
    )
    assert response.status_code == 303
    html = admin.get("/privacy").text
    assert "<h2>Onze privacy</h2>" in html and "<strong>goed</strong>" in html
    assert "Autoriteit Persoonsgegevens" not in html
    post(admin, "/beheer/website/privacy", {"body": "ignored", "default": "1"})
    assert "Autoriteit Persoonsgegevens" in admin.get("/privacy").text
    assert read(db, lambda s: s.scalar(select(SitePageText.id))) is None
    assert _actions(db) == ["site.page_update", "site.page_reset"]


def test_a_page_too_long_is_refused(admin: TestClient, db: Database) -> None:
    response = post(admin, "/beheer/website/toegankelijkheid", {"body": "x" * 20_001})
    assert response.status_code == 422
    assert "te lang" in response.text
    assert _actions(db) == []


def test_script_in_a_page_never_reaches_the_visitor(admin: TestClient) -> None:
    body = (
        "<script>alert(1)</script>\n\n[klik](javascript:alert(2))\n\n"
        '<img src=x onerror=alert(3)>\n\n<a href="https://x" onclick="alert(4)">x</a>'
    )
    post(admin, "/beheer/website/hoe-werkt-het", {"body": body})
    html = admin.get("/hoe-werkt-het").text
    text = html.split('<div class="proeftuin-markdown">', 1)[1].split("</div>", 1)[0]
    tags = re.findall(r"<([a-z0-9]+)([^>]*)>", text)
    assert tags, "the text is there, escaped"
    assert {name for name, _ in tags} <= {"p", "a", "h2", "strong", "em"}
    assert all(attrs == "" or attrs.startswith(' href="https://') for _, attrs in tags), tags


def test_only_admins_reach_the_site_forms(client: TestClient, db: Database) -> None:
    area = add_area(db, "noord", "Noord")
    add_staff(db, "mo@gemeente.nl", area_ids=[area])
    moderator = signed_in(client, "mo@gemeente.nl")
    assert moderator.get("/beheer/website").status_code == 403
    assert post(moderator, "/beheer/website/contact", CONTACT).status_code == 403
    assert read(db, lambda s: s.get(SiteProfile, 1)) is None


# -- the look --------------------------------------------------------------------------------


def test_without_own_colours_pages_link_only_the_one_stylesheet(client: TestClient) -> None:
    html = client.get("/").text
    assert "/huisstijl.css" not in html
    assert client.get("/huisstijl.css").text == ""


def test_colours_go_out_as_tokens_in_a_stylesheet_cached_by_its_version(
    admin: TestClient, db: Database
) -> None:
    colours = {"colour_button": "#1A5E9B", "colour_button_text": "#ffffff", "colour_link": ""}
    assert post(admin, "/beheer/website/kleuren", colours).status_code == 303
    html = admin.get("/").text
    href = re.search(r'<link rel="stylesheet" href="(/huisstijl\.css\?v=[0-9a-f]+)">', html)
    assert href, "the theme stylesheet is linked"
    css = admin.get(href.group(1))
    assert "--utrecht-button-primary-action-background-color:#1a5e9b" in css.text
    assert "immutable" in css.headers["cache-control"]
    assert _actions(db) == ["site.look_update"]


@pytest.mark.parametrize(
    ("colours", "message"),
    [
        ({"colour_button": "#ffff00", "colour_button_text": "#ffffff"}, "1,07 : 1"),
        ({"colour_link": "#aaaaaa"}, "2,32 : 1"),
        ({"colour_link": "blue"}, "zes tekens"),
        ({"colour_link": "#12345"}, "zes tekens"),
        ({"colour_footer": "#000000"}, "op #000000"),
    ],
)
def test_colours_with_too_little_contrast_or_not_rrggbb_are_refused(
    admin: TestClient, db: Database, colours: dict[str, str], message: str
) -> None:
    response = post(admin, "/beheer/website/kleuren", colours)
    assert response.status_code == 422
    assert message in response.text
    assert _actions(db) == []
    assert "/huisstijl.css" not in admin.get("/").text


def _upload(client: TestClient, content: bytes, name: str, kind: str):  # type: ignore[no-untyped-def]
    from tests.web.clients import csrf

    return client.post(
        "/beheer/website/logo",
        data={"csrf_token": csrf(client)},
        files={"logo": (name, content, kind)},
        follow_redirects=False,
    )


def test_a_logo_is_stored_as_a_fresh_small_png_and_shown_in_the_header(
    admin: TestClient, db: Database
) -> None:
    response = _upload(admin, _png(600, 400), "logo.png", "image/png")
    assert response.status_code == 303, response.text
    html = admin.get("/").text
    src = re.search(r'<img class="proeftuin-logo" src="(/huisstijl/logo\.png\?v=[0-9a-f]+)"', html)
    assert src
    served = admin.get(src.group(1))
    assert served.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (240, 160)
    assert _actions(db) == ["site.logo_update"]


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "image/svg+xml",
        ),
        (b"%PDF-1.4 not an image", "logo.png", "image/png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "kapot.png", "image/png"),
        (b"", "leeg.png", "image/png"),
    ],
)
def test_a_logo_that_is_not_an_image_is_refused_in_dutch(
    admin: TestClient, db: Database, content: bytes, name: str, kind: str
) -> None:
    response = _upload(admin, content, name, kind)
    assert response.status_code == 422
    assert "PNG" in response.text or "Kies een bestand" in response.text
    assert read(db, lambda s: s.scalar(select(SiteProfile.logo_sha256))) in (None, "")
    assert _actions(db) == []


def test_a_tokens_file_in_the_instance_folder_is_the_theme_under_the_admins_colours(
    settings: Settings, db: Database
) -> None:
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    (settings.instance_path / "huisstijl.css").write_text(
        ".utrecht-root{--utrecht-link-color:#003366}", encoding="utf-8"
    )
    with TestClient(create_app(settings, db)) as client:
        html = client.get("/").text
        href = re.search(r'href="(/huisstijl\.css\?v=[0-9a-f]+)"', html)
        assert href
        assert client.get(href.group(1)).text.startswith(
            ".utrecht-root{--utrecht-link-color:#003366}"
        )
