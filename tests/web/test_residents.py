"""Residents sign in with an e-mail link, keep a profile and see their own plans."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import OutboxMail, PlanStatus, Resident
from proeftuin.services import residents
from proeftuin.web.app import create_app
from tests.factories import add_plan, add_village_round
from tests.smtp import Inbox
from tests.web.clients import csrf_of, follow_link, last_link, request_link, sign_in_resident


@pytest.fixture
def dev_app(settings: Settings, db: Database) -> Starlette:
    return create_app(dataclasses.replace(settings, env="development"), db)


@pytest.fixture
def dev_client(dev_app: Starlette) -> Iterator[TestClient]:
    with TestClient(dev_app) as client:
        yield client


# -- Asking for a link -----------------------------------------------------------------------


def test_sign_in_page_has_a_labelled_email_field(client: TestClient, db: Database) -> None:
    html = client.get("/inloggen?next=/rondes/x").text
    assert (
        '<label class="utrecht-form-label proeftuin-field__label" for="email">E-mailadres' in html
    )
    assert 'type="email" id="email" name="email"' in html
    assert 'autocomplete="email"' in html
    assert '<input type="hidden" name="next" value="/rondes/x">' in html


def test_the_answer_is_the_same_for_known_and_unknown_addresses(
    client: TestClient, db: Database
) -> None:
    transact(db, lambda s: s.add(Resident(email="bekend@example.nl", display_name="Bekend")))
    known = request_link(client, "bekend@example.nl")
    unknown = request_link(client, "nieuw@example.nl")
    assert known.status_code == unknown.status_code == 200
    assert "We hebben een link gestuurd naar bekend@example.nl." in known.text
    assert "We hebben een link gestuurd naar nieuw@example.nl." in unknown.text
    main = [re.sub(r"\S+@example\.nl|value=\"[^\"]+\"", "", r.text) for r in (known, unknown)]
    assert main[0] == main[1]
    assert "bekend" not in unknown.text.lower()
    mails = read(db, lambda s: list(s.scalars(select(OutboxMail).order_by(OutboxMail.id))))
    assert [m.recipient for m in mails] == ["bekend@example.nl", "nieuw@example.nl"]
    assert known.headers["cache-control"] == "no-store"


def test_a_bad_address_is_refused_at_the_field(client: TestClient, db: Database) -> None:
    response = request_link(client, "geen-adres")
    assert response.status_code == 422
    html = response.text
    assert "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl." in html
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in html
    assert 'id="email-error"' in html
    assert 'value="geen-adres"' in html  # what was typed stays
    assert read(db, lambda s: s.scalar(select(OutboxMail.id))) is None


def test_too_many_links_for_one_address_is_429_in_dutch(client: TestClient, db: Database) -> None:
    for _ in range(3):
        assert request_link(client, "anna@example.nl").status_code == 200
    response = request_link(client, "anna@example.nl")
    assert response.status_code == 429
    assert "Te veel pogingen" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert request_link(client, "bob@example.nl").status_code == 200  # another address may


def test_too_many_links_from_one_ip_is_429(client: TestClient, db: Database) -> None:
    for i in range(20):
        assert request_link(client, f"bewoner{i}@example.nl").status_code == 200
    assert request_link(client, "nog-een@example.nl").status_code == 429


# -- Using the link --------------------------------------------------------------------------


def test_the_link_signs_in_once_and_goes_where_the_resident_was_going(
    client: TestClient, db: Database
) -> None:
    request_link(client, "anna@example.nl", "/rondes/ter-aa-2027")
    link = last_link(db)
    assert link.startswith("http://testserver/inloggen/link?token=")
    # Opening the page (as a mail scanner would) does not use the link up.
    client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    response = follow_link(client, link)
    assert response.status_code == 303
    assert response.headers["location"] == "/rondes/ter-aa-2027"
    html = client.get("/mijn-plannen").text
    assert "anna@example.nl" in html
    assert "Uitloggen" in html and ">Inloggen<" not in html
    again = follow_link(client, link)
    assert again.status_code == 400
    assert "Deze link is al gebruikt. Vraag een nieuwe link aan." in again.text


def test_signing_in_starts_a_fresh_session_that_keeps_the_language(
    client: TestClient, db: Database
) -> None:
    client.get("/?lang=en")
    request_link(client, "anna@example.nl")
    before = csrf_of(client.get("/").text)
    follow_link(client, last_link(db))
    html = client.get("/").text
    assert csrf_of(html) != before
    assert '<html lang="en"' in html
    assert "My plans" in html


def test_a_forged_or_missing_token_is_refused(client: TestClient, db: Database) -> None:
    page = client.get("/inloggen/link")
    assert "Deze link klopt niet." in page.text
    response = client.post(
        "/inloggen/link", data={"token": "vals", "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 400
    assert "Deze link klopt niet. Vraag een nieuwe link aan." in response.text
    assert "Uitloggen" not in response.text


def test_next_never_leaves_the_site(client: TestClient, db: Database) -> None:
    request_link(client, "anna@example.nl", "https://evil.example/")
    response = follow_link(client, last_link(db))
    assert response.headers["location"] == "/mijn-plannen"


def test_a_signed_in_resident_skips_the_sign_in_page(client: TestClient, db: Database) -> None:
    sign_in_resident(client, db)
    response = client.get("/inloggen?next=/rondes/x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/rondes/x"


def test_sign_out_is_a_post(client: TestClient, db: Database) -> None:
    sign_in_resident(client, db)
    assert client.get("/uitloggen").status_code == 405
    token = csrf_of(client.get("/").text)
    response = client.post("/uitloggen", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert ">Inloggen<" in client.get("/").text
    assert client.get("/mijn-plannen", follow_redirects=False).status_code == 303


def test_sign_in_with_a_real_mail_server(
    settings: Settings, db: Database, smtp_inbox: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    mailing = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    with TestClient(create_app(mailing, db)) as client:
        response = request_link(client, "Anna@Example.NL ", "/mijn-plannen")
        assert response.status_code == 200
        [message] = inbox.messages
        assert message["To"] == "anna@example.nl"
        assert message["Subject"] == f"{settings.site_name}: uw link om in te loggen"
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        link = re.search(r"http://testserver/inloggen/link\?token=\S+", body)
        assert link
        landed = follow_link(client, link.group(0))
        assert landed.headers["location"] == "/mijn-plannen"
        assert "anna@example.nl" in client.get("/mijn-plannen").text
    sent = read(db, lambda s: s.scalars(select(OutboxMail)).one())
    assert sent.sent_at is not None


# -- Development outbox ----------------------------------------------------------------------


def test_outbox_shows_the_mail_in_development(dev_client: TestClient, db: Database) -> None:
    response = request_link(dev_client, "anna@example.nl")
    assert 'href="/ontwikkel/outbox"' in response.text
    html = dev_client.get("/ontwikkel/outbox").text
    assert "uw link om in te loggen" in html
    assert "anna@example.nl" in html
    link = re.search(r'href="(/inloggen/link\?token=[^"]+)"', html)
    assert link
    token = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["token"][0]
    page = dev_client.get("/inloggen/link", params={"token": token})
    done = dev_client.post(
        "/inloggen/link",
        data={"token": token, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303


@pytest.mark.parametrize(
    "change",
    [{"env": "test"}, {"env": "production"}, {"env": "development", "smtp_host": "mail.example"}],
)
def test_outbox_is_404_outside_development(
    settings: Settings, db: Database, change: dict[str, str]
) -> None:
    with TestClient(create_app(dataclasses.replace(settings, **change), db)) as client:
        assert client.get("/ontwikkel/outbox").status_code == 404


# -- Profile and my plans --------------------------------------------------------------------


def test_profile_needs_sign_in(client: TestClient, db: Database) -> None:
    response = client.get("/profiel?next=/rondes/x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?next=%2Fprofiel%3Fnext%3D%2Frondes%2Fx"


def test_profile_saves_name_and_postcode(client: TestClient, db: Database) -> None:
    resident_id = sign_in_resident(client, db, name="")
    page = client.get("/profiel?next=/rondes/ter-aa-2027/plannen/nieuw")
    assert "Vul eerst uw naam in." in page.text
    response = client.post(
        "/profiel",
        data={
            "display_name": " Anna ",
            "postcode": "9411ab",
            "next": "/rondes/ter-aa-2027/plannen/nieuw",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/rondes/ter-aa-2027/plannen/nieuw"
    resident = read(db, residents.get_resident, resident_id)
    assert (resident.display_name, resident.postcode) == ("Anna", "9411 AB")


@pytest.mark.parametrize(
    ("name", "postcode", "field", "message"),
    [
        ("", "", "display_name", "Vul een naam in van hoogstens 100 tekens."),
        ("Anna", "94", "postcode", "Vul een postcode in zoals 9401 AB."),
    ],
)
def test_profile_errors_are_shown_at_the_field(
    client: TestClient, db: Database, name: str, postcode: str, field: str, message: str
) -> None:
    sign_in_resident(client, db, name="")
    token = csrf_of(client.get("/profiel").text)
    response = client.post(
        "/profiel",
        data={"display_name": name, "postcode": postcode, "csrf_token": token},
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert f'value="{postcode}"' in response.text


def test_my_plans_lists_own_plans_with_their_status(client: TestClient, db: Database) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db)
    other = add_plan(db, title="Van iemand anders")
    mine = add_plan(db, title="Mijn bankjes", author_id=resident_id)
    add_plan(db, title="Mijn oude idee", author_id=resident_id, status=PlanStatus.INGETROKKEN)
    html = client.get("/mijn-plannen").text
    assert "Mijn bankjes" in html and "Mijn oude idee" in html
    assert "Van iemand anders" not in html and other not in html
    assert f'href="/plannen/{mine}"' in html
    assert "Ingetrokken" in html
    assert f'href="/plannen/{mine}/aanpassen"' in html
    assert f'href="/plannen/{mine}/intrekken"' in html


def test_my_plans_needs_sign_in(client: TestClient, db: Database) -> None:
    response = client.get("/mijn-plannen", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?next=%2Fmijn-plannen"
