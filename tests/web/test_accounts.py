"""Staff sign-in, sign-out, second factor, password and the session warning, through the app."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import pyotp
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact, utcnow
from proeftuin.models import Role, StaffSession, StaffUser
from proeftuin.web.app import create_app
from proeftuin.web.policy import LOGIN_PATH, TOTP_SETUP_PATH
from tests.web.clients import (
    HTMX,
    PASSWORD,
    add_staff,
    assert_no_inline_code,
    cheap_hashing,
    csrf,
    post,
    sign_in,
    signed_in,
)


def age_sessions(db: Database, minutes: int) -> None:
    """As if the last activity of every session was ``minutes`` ago."""
    when = utcnow() - dt.timedelta(minutes=minutes)
    transact(db, lambda s: s.execute(update(StaffSession).values(last_seen_at=when)))


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


@pytest.fixture
def moderator(db: Database) -> int:
    return add_staff(db, "mo@gemeente.nl")


@pytest.fixture
def production_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    production = dataclasses.replace(settings, env="production", base_url="https://testserver")
    app: Starlette = create_app(production, db)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


# -- signing in ------------------------------------------------------------------------------------


def test_sign_in_page_is_accessible_and_not_cached(client: TestClient) -> None:
    response = client.get(LOGIN_PATH)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    for field in ("email", "password", "totp"):
        assert f'<label class="utrecht-form-label proeftuin-field__label" for="{field}">' in html
    assert 'autocomplete="current-password"' in html
    assert 'aria-describedby="totp-hint"' in html
    assert "beheer-nav" not in html  # no staff navigation before signing in
    assert_no_inline_code(html)


def test_sign_in_rotates_the_session_and_goes_to_next(client: TestClient, moderator: int) -> None:
    before = csrf(client)
    response = sign_in(client, "Mo@Gemeente.nl", next="/beheer/wachtwoord")
    assert response.status_code == 303
    assert response.headers["location"] == "/beheer/wachtwoord"
    assert csrf(client) != before
    assert client.get("/beheer").status_code == 200


@pytest.mark.parametrize(
    "unsafe", ["//evil.example/beheer", "https://evil.example", "javascript:alert(1)", "beheer"]
)
def test_sign_in_never_redirects_off_site(client: TestClient, moderator: int, unsafe: str) -> None:
    response = sign_in(client, "mo@gemeente.nl", next=unsafe)
    assert response.headers["location"] == "/beheer"


def test_anonymous_staff_page_sends_to_sign_in_and_back(client: TestClient, moderator: int) -> None:
    response = client.get("/beheer/wachtwoord", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{LOGIN_PATH}?next=%2Fbeheer%2Fwachtwoord"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/beheer/wachtwoord"' in page.text
    fragment = client.get("/beheer", headers=HTMX)
    assert fragment.headers["hx-redirect"].startswith(LOGIN_PATH)


def test_wrong_password_and_unknown_address_get_the_same_answer(
    client: TestClient, moderator: int
) -> None:
    wrong = sign_in(client, "mo@gemeente.nl", "not the password")
    unknown = sign_in(client, "nobody@gemeente.nl", PASSWORD)
    assert wrong.status_code == unknown.status_code == 422
    message = "Het e-mailadres of het wachtwoord klopt niet."
    assert message in wrong.text and message in unknown.text
    assert 'value="mo@gemeente.nl"' in wrong.text  # the address is kept
    assert "not the password" not in wrong.text  # the password never
    assert 'aria-invalid="true"' in wrong.text
    assert 'aria-describedby="password-error"' in wrong.text


def test_deactivated_account_cannot_sign_in(
    client: TestClient, db: Database, moderator: int
) -> None:
    transact(db, lambda s: s.execute(update(StaffUser).values(active=False)))
    response = sign_in(client, "mo@gemeente.nl")
    assert response.status_code == 422
    assert "klopt niet" in response.text


def test_repeated_failures_lock_the_account_with_retry_after(
    client: TestClient, moderator: int
) -> None:
    for _ in range(5):
        assert sign_in(client, "mo@gemeente.nl", "wrong").status_code == 422
    locked = sign_in(client, "mo@gemeente.nl")  # even the right password now
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Te veel pogingen. Probeer het over" in locked.text


def test_account_with_totp_needs_the_code(client: TestClient, db: Database, moderator: int) -> None:
    secret = pyotp.random_base32()
    transact(db, lambda s: s.execute(update(StaffUser).values(totp_secret=secret)))
    missing = sign_in(client, "mo@gemeente.nl")
    assert missing.status_code == 422
    assert 'aria-describedby="totp-hint totp-error"' in missing.text
    assert sign_in(client, "mo@gemeente.nl", totp=pyotp.TOTP(secret).now()).status_code == 303


# -- admins in production must set up TOTP first ---------------------------------------------------


def test_admin_in_production_must_set_up_totp_before_anything_else(
    production_client: TestClient, db: Database
) -> None:
    client = production_client
    add_staff(db, "admin@gemeente.nl", Role.ADMIN)
    response = sign_in(client, "admin@gemeente.nl")
    assert response.headers["location"] == TOTP_SETUP_PATH
    for path in ("/beheer", "/beheer/gebieden", "/beheer/wachtwoord", "/beheer/logboek"):
        blocked = client.get(path, follow_redirects=False)
        assert blocked.headers["location"] == TOTP_SETUP_PATH, path
    assert client.get("/beheer", headers=HTMX).headers["hx-redirect"] == TOTP_SETUP_PATH
    refused = post(client, "/beheer/gebieden", {"name": "Noord", "slug": "noord", "kind": "wijk"})
    assert refused.status_code == 403

    page = client.get(TOTP_SETUP_PATH)
    assert page.status_code == 200
    assert '<svg role="img" viewBox=' in page.text
    assert "eerst tweestapsverificatie instellen" in page.text
    assert_no_inline_code(page.text.replace('stroke="#000"', ""))
    secret = "".join(re.search(r"<code>([A-Z2-7 ]+)</code>", page.text).group(1).split())  # type: ignore[union-attr]
    assert client.get(TOTP_SETUP_PATH).text.count(secret[:4]) >= 1  # the same secret on reload

    wrong = post(client, TOTP_SETUP_PATH, {"totp": "000000"})
    assert wrong.status_code == 422
    assert client.get("/beheer", follow_redirects=False).status_code == 303
    done = post(client, TOTP_SETUP_PATH, {"totp": pyotp.TOTP(secret).now()})
    assert done.status_code == 303
    dashboard = client.get("/beheer")
    assert dashboard.status_code == 200
    assert "Tweestapsverificatie staat nu aan." in client.get(done.headers["location"]).text
    stored = read(db, lambda s: s.scalar(select(StaffUser.totp_secret)))
    assert stored == secret


def test_moderator_in_production_is_not_forced_to_set_up_totp(
    production_client: TestClient, db: Database, moderator: int
) -> None:
    response = sign_in(production_client, "mo@gemeente.nl")
    assert response.headers["location"] == "/beheer"
    assert production_client.get("/beheer").status_code == 200


def test_totp_is_optional_for_a_moderator_and_says_when_it_is_on(
    client: TestClient, moderator: int
) -> None:
    signed_in(client, "mo@gemeente.nl")
    page = client.get(TOTP_SETUP_PATH).text
    assert "eerst tweestapsverificatie instellen" not in page
    secret = "".join(re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).split())  # type: ignore[union-attr]
    assert post(client, TOTP_SETUP_PATH, {"totp": pyotp.TOTP(secret).now()}).status_code == 303
    assert "Tweestapsverificatie staat aan." in client.get(TOTP_SETUP_PATH).text


def test_totp_post_without_a_pending_secret_starts_again(
    client: TestClient, moderator: int
) -> None:
    signed_in(client, "mo@gemeente.nl")
    response = post(client, TOTP_SETUP_PATH, {"totp": "123456"})
    assert response.status_code == 303
    assert response.headers["location"] == TOTP_SETUP_PATH


# -- signing out and the password ------------------------------------------------------------------


def test_sign_out_revokes_the_session_on_the_server(client: TestClient, moderator: int) -> None:
    signed_in(client, "mo@gemeente.nl")
    stolen = dict(client.cookies)
    response = post(client, "/beheer/uitloggen")
    assert response.status_code == 303
    assert response.headers["location"] == f"{LOGIN_PATH}?melding=uitgelogd"
    assert "U bent uitgelogd." in client.get(response.headers["location"]).text
    client.cookies.clear()
    client.cookies.update(stolen)  # the cookie from before signing out no longer works
    assert client.get("/beheer", follow_redirects=False).status_code == 303


def test_sign_out_via_htmx(client: TestClient, moderator: int) -> None:
    signed_in(client, "mo@gemeente.nl")
    response = post(client, "/beheer/uitloggen", htmx=True)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == f"{LOGIN_PATH}?melding=uitgelogd"


def test_password_change_ends_every_session(
    client: TestClient, app: Starlette, moderator: int
) -> None:
    signed_in(client, "mo@gemeente.nl")
    with TestClient(app) as other_device:
        signed_in(other_device, "mo@gemeente.nl")
        page = client.get("/beheer/wachtwoord")
        assert page.status_code == 200
        assert 'autocomplete="new-password"' in page.text
        new = "a brand new passphrase"
        data = {"current": PASSWORD, "new": new, "repeat": new}
        response = post(client, "/beheer/wachtwoord", data)
        assert response.headers["location"] == f"{LOGIN_PATH}?melding=wachtwoord"
        assert other_device.get("/beheer", follow_redirects=False).status_code == 303
    assert client.get("/beheer", follow_redirects=False).status_code == 303
    assert sign_in(client, "mo@gemeente.nl").status_code == 422
    assert sign_in(client, "mo@gemeente.nl", new).status_code == 303


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"current": "wrong", "new": "x" * 12, "repeat": "x" * 12}, "current", "huidige"),
        ({"current": PASSWORD, "new": "short", "repeat": "short"}, "new", "minstens 12"),
        ({"current": PASSWORD, "new": "x" * 12, "repeat": "y" * 12}, "repeat", "niet gelijk"),
    ],
)
def test_password_change_refusals_show_at_the_field(
    client: TestClient, moderator: int, data: dict[str, str], field: str, message: str
) -> None:
    signed_in(client, "mo@gemeente.nl")
    response = post(client, "/beheer/wachtwoord", data)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert PASSWORD not in response.text
    assert client.get("/beheer").status_code == 200  # still signed in


# -- idle timeout and the warning ------------------------------------------------------------------


def test_layout_says_until_when_the_session_lasts(client: TestClient, moderator: int) -> None:
    signed_in(client, "mo@gemeente.nl")
    html = client.get("/beheer").text
    assert re.search(r"Zonder nieuwe actie is dat om \d\d:\d\d\.", html)
    assert 'hx-trigger="load delay:25m"' in html
    assert 'hx-get="/beheer/inloggen/sessie"' in html
    assert_no_inline_code(html)


def test_idle_session_ends_after_30_minutes(
    client: TestClient, db: Database, moderator: int
) -> None:
    signed_in(client, "mo@gemeente.nl")
    age_sessions(db, 29)
    assert client.get("/beheer").status_code == 200
    age_sessions(db, 31)
    assert client.get("/beheer", follow_redirects=False).status_code == 303


def test_warning_comes_shortly_before_the_end_and_does_not_extend_it(
    client: TestClient, db: Database, moderator: int
) -> None:
    signed_in(client, "mo@gemeente.nl")
    fresh = client.get("/beheer/inloggen/sessie", headers=HTMX)
    assert fresh.status_code == 200
    assert "Ingelogd blijven" not in fresh.text
    assert re.search(r'hx-trigger="load delay:\d+s"', fresh.text)  # asks again later

    age_sessions(db, 27)
    seen_before = read(db, lambda s: s.scalar(select(StaffSession.last_seen_at)))
    warning = client.get("/beheer/inloggen/sessie", headers=HTMX)
    assert "Over 2 minuten wordt u uitgelogd" in warning.text or "Over 3 minuten" in warning.text
    assert "Ingelogd blijven" in warning.text
    assert read(db, lambda s: s.scalar(select(StaffSession.last_seen_at))) == seen_before

    renewed = client.get("/beheer/sessie", headers=HTMX)
    assert "U blijft ingelogd." in renewed.text
    assert 'hx-swap-oob="true"' in renewed.text
    assert read(db, lambda s: s.scalar(select(StaffSession.last_seen_at))) > seen_before


def test_warning_after_the_end_links_to_sign_in(
    client: TestClient, db: Database, moderator: int
) -> None:
    anonymous = client.get("/beheer/inloggen/sessie", headers=HTMX)
    assert "U bent uitgelogd" in anonymous.text
    assert f'href="{LOGIN_PATH}?melding=verlopen"' in anonymous.text
    signed_in(client, "mo@gemeente.nl")
    age_sessions(db, 31)
    assert "U bent uitgelogd" in client.get("/beheer/inloggen/sessie", headers=HTMX).text
    page = client.get(f"{LOGIN_PATH}?melding=verlopen").text
    assert "bent daarom uitgelogd" in page


# -- English ---------------------------------------------------------------------------------------


def test_staff_pages_are_translated(client: TestClient, moderator: int) -> None:
    page = client.get(f"{LOGIN_PATH}?lang=en").text
    assert "Sign in for staff" in page
    assert "Code from your app" in page
    signed_in(client, "mo@gemeente.nl")
    dashboard = client.get("/beheer").text
    assert "Sign out" in dashboard
    assert "Change password" in client.get("/beheer/wachtwoord").text
