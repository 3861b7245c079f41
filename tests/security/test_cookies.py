"""The session cookie. Its flags; that it holds nothing secret (decoded, after
every kind of visit); that a staff cookie is worthless after signing out; that signing in starts a
new session with a new CSRF token; and that it cannot be forged."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import read
from proeftuin.models import Round, StaffSession
from proeftuin.services import codes as code_service
from proeftuin.web.app import SESSION_COOKIE, SESSION_MAX_AGE
from tests.security.conftest import (
    ADMIN_EMAIL,
    MODERATOR_EMAIL,
    PASSWORD,
    RESIDENT_EMAIL,
    STAFF_LOGIN,
    Client,
    World,
    ballot_plans,
    form_on,
    live_sessions,
    production_client,
    resident_link_token,
    session_of,
    sign_in_resident,
    sign_in_staff,
    vote,
)

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
EMAIL = re.compile(r"[^\s\"'@]+@[^\s\"'@]+\.[a-z]{2,}", re.IGNORECASE)
# What the cookie may hold, and the shape of each value.
ALLOWED = {
    "csrf": re.compile(r"[A-Za-z0-9_-]{43}"),
    "lang": re.compile(r"nl|en"),
    "volgorde": re.compile(r"[0-9a-f]{16}"),
    "resident": re.compile(r"\d+"),
    "staff": re.compile(r"[A-Za-z0-9_-]{43}"),  # the random session token; its hash is stored
    "staff_totp_setup": re.compile(r"True"),
    "staff_totp_pending": re.compile(r"True"),
}


def set_cookies(clients: list[Client]) -> list[str]:
    """Every session cookie value that any response gave to any of these clients."""
    found = []
    for client in clients:
        for response in client.responses:
            for header in response.headers.get_list("set-cookie"):
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if name == SESSION_COOKIE and value and value != "null":
                    found.append(value)
    return found


def secrets_seen(page: httpx.Response) -> set[str]:
    """What a staff page shows once and must never be kept: codes, passwords, TOTP secrets."""
    text = page.text
    found = set(re.findall(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", text))
    found |= {"".join(m.split()) for m in re.findall(r"<code>([A-Z2-7 ]{16,})</code>", text)}
    found |= set(re.findall(r'class="[^"]*one-time-password[^"]*"[^>]*>([^<]+)<', text))
    return found


def test_cookie_flags(world: World) -> None:
    for role in ("anonymous", "resident", "admin"):
        client = world.client(role)
        cookies = [c for r in client.responses for c in r.headers.get_list("set-cookie")]
        assert cookies, role
        for cookie in cookies:
            name, attributes = cookie.split("=", 1)[0], cookie.lower().split(";")[1:]
            flags = {a.strip() for a in attributes}
            assert name == SESSION_COOKIE
            assert {"httponly", "samesite=lax", "path=/", f"max-age={SESSION_MAX_AGE}"} <= flags
            assert "secure" not in flags  # plain http in tests
            assert not any(f.startswith("domain=") for f in flags)  # this host only


@sqlite_only
def test_cookies_are_secure_in_production(production_world: World) -> None:
    for role in ("anonymous", "resident", "moderator"):
        client = production_client(production_world, role)
        cookies = [c for r in client.responses for c in r.headers.get_list("set-cookie")]
        assert cookies and all("; secure" in c.lower() for c in cookies), role


def test_the_cookie_holds_no_secrets(world: World) -> None:
    """Decoded after every kind of visit: no code, address, password, TOTP secret or token
    other than the random staff session id (whose hash, not itself, is in the database)."""
    shown: set[str] = set()
    voter = world.client("anonymous")
    voter.get("/?lang=en")
    voter.get(f"/rondes/{world.voting_slug}")
    plans = ballot_plans(world.db, world.voting_slug)
    receipt = vote(voter, world.codes[0], {plans[0]: 1})

    resident = world.client("resident")
    resident.get("/profiel")
    resident.submit("/profiel", {"display_name": "Fatima D.", "postcode": "9411 AB"})

    moderator = world.client("moderator")
    totp_page = moderator.get("/beheer/tweestapsverificatie")
    shown |= secrets_seen(totp_page)
    letters = moderator.submit(f"/beheer/rondes/{world.voting_slug}/codes", {"count": "3"})
    assert letters.status_code == 200, letters.text
    shown |= secrets_seen(letters)
    assert len(shown) >= 4, "the TOTP secret and the new codes were shown"
    paper = moderator.get(f"/beheer/rondes/{world.voting_slug}/papier")
    fields = form_on(paper, f"/beheer/rondes/{world.voting_slug}/papier")
    fields |= {"code": world.codes[1], f"keuze.{plans[1]}": "1"}
    assert moderator.submit(f"/beheer/rondes/{world.voting_slug}/papier", fields).status_code == 303

    admin = world.client("admin")
    invited = admin.submit(
        "/beheer/medewerkers",
        {"email": "nieuw@gemeente.example", "name": "Nieuwe Collega", "role": "moderator"},
    )
    assert invited.status_code == 200, invited.text
    shown |= secrets_seen(invited)

    clients = [voter, resident, moderator, admin]
    values = set_cookies(clients)
    assert len(values) >= 10
    forbidden = {
        *world.codes[:2],
        *(code_service.display(c) for c in world.codes[:2]),
        *shown,
        receipt,
        PASSWORD,
        resident_link_token(world.settings, RESIDENT_EMAIL),
    }
    tokens = set()
    for value in values:
        data = session_of(value)
        for key, item in data.items():
            assert key in ALLOWED, f"the cookie holds {key!r}: {data}"
            assert ALLOWED[key].fullmatch(str(item)), f"{key} = {item!r}"
        text = json.dumps(data)
        assert not EMAIL.search(text), data
        for secret in forbidden:
            assert secret.lower() not in text.lower(), f"{secret!r} in the cookie"
        if "staff" in data:
            tokens.add(data["staff"])
    stored = set(read(world.db, lambda s: list(s.scalars(select(StaffSession.token_hash)))))
    for token in tokens:
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_a_staff_cookie_is_worthless_after_signing_out(world: World) -> None:
    client = world.client("moderator")
    old_cookie, old_token = client.cookie, client.csrf()
    assert client.get("/beheer", follow_redirects=False).status_code == 200
    signed_out = client.submit("/beheer/uitloggen")
    assert signed_out.status_code == 303
    assert live_sessions(world.db, world.moderator_id) == 0

    with Client(world.app) as replay:
        replay.use_cookie(old_cookie)
        page = replay.get("/beheer", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith(STAFF_LOGIN)
        action = replay.submit(
            "/beheer/rondes", {"title": "Via een oud koekje", "csrf_token": old_token}
        )
        assert action.status_code in (303, 403), action.text
        assert "Via een oud koekje" not in read(world.db, _round_titles)
        assert not replay.session_data().get("staff"), "the stale token is dropped"


def test_a_password_change_ends_every_other_staff_session(world: World) -> None:
    laptop, phone = world.client("moderator"), world.client("moderator")
    phone_cookie = phone.cookie
    form = {"current": PASSWORD, "new": "een nieuw lang wachtwoord", "repeat": ""}
    form["repeat"] = form["new"]
    assert laptop.submit("/beheer/wachtwoord", form).status_code == 303
    with Client(world.app) as replay:
        replay.use_cookie(phone_cookie)
        assert replay.get("/beheer", follow_redirects=False).status_code == 303
    assert live_sessions(world.db, world.moderator_id) == 0


def test_signing_in_starts_a_fresh_session(world: World) -> None:
    """Against session fixation: the cookie a visitor had before signing in (which an attacker
    may have planted) gives no access afterwards, and its CSRF token is no longer accepted."""
    for role in ("resident", "staff"):
        client = world.client("anonymous")
        client.get(f"/rondes/{world.voting_slug}")
        before_cookie, before_token = client.cookie, client.csrf()
        before = client.session_data()
        assert "volgorde" in before
        if role == "resident":
            sign_in_resident(client, world.settings, RESIDENT_EMAIL)
            home = "/mijn-plannen"
        else:
            sign_in_staff(client, MODERATOR_EMAIL)
            home = "/beheer"
        after = client.session_data()
        assert client.cookie != before_cookie
        assert after["csrf"] != before_token, f"{role}: the CSRF token was rotated"
        assert "volgorde" not in after, f"{role}: nothing of the old session is carried over"
        assert client.get(home, follow_redirects=False).status_code == 200
        stale = client.post(
            "/taal", data={"lang": "en", "csrf_token": before_token}, follow_redirects=False
        )
        assert stale.status_code == 403, f"{role}: the token from before signing in is refused"
        with Client(world.app) as planted:
            planted.use_cookie(before_cookie)
            response = planted.get(home, follow_redirects=False)
            assert response.status_code == 303, f"{role}: the planted cookie stays signed out"


def test_every_staff_sign_in_gets_its_own_token(world: World) -> None:
    tokens = {world.client("admin").session_data()["staff"] for _ in range(3)}
    assert len(tokens) == 3
    assert live_sessions(world.db, world.admin_id) == 3


def test_signing_out_rotates_the_csrf_token(world: World) -> None:
    for role, path in (("resident", "/uitloggen"), ("moderator", "/beheer/uitloggen")):
        client = world.client(role)
        token = client.csrf()
        assert client.submit(path).status_code == 303
        assert client.session_data().get("csrf") != token
        assert not {"resident", "staff"} & set(client.session_data())


def test_the_cookie_cannot_be_forged(world: World) -> None:
    """A cookie saying 'resident 1' or carrying a staff token, signed with another key or not
    at all, is an empty session."""
    resident = world.client("resident")
    real = resident.cookie
    assert real
    payload, _, _ = real.partition(".")
    for forged_data in ({"resident": world.resident_id}, {"staff": "x" * 43}):
        body = base64.b64encode(json.dumps(forged_data).encode())
        for cookie in (
            TimestampSigner("een ander geheim").sign(body).decode(),
            body.decode() + real[len(payload) :],  # another payload under the real signature
        ):
            with Client(world.app) as forger:
                forger.use_cookie(cookie)
                assert forger.get("/mijn-plannen", follow_redirects=False).status_code == 303
                assert forger.get("/beheer", follow_redirects=False).status_code == 303


def test_a_used_sign_in_link_cannot_be_replayed(world: World) -> None:
    """A used sign-in link does not work a second time, in another browser either."""
    token = resident_link_token(world.settings, RESIDENT_EMAIL)
    first = world.client("anonymous")
    first.get("/inloggen/link", params={"token": token})
    assert first.submit("/inloggen/link", {"token": token}).status_code == 303
    second = world.client("anonymous")
    second.get("/inloggen/link", params={"token": token})
    again = second.submit("/inloggen/link", {"token": token})
    assert again.status_code == 400
    assert "resident" not in second.session_data()
    assert ADMIN_EMAIL not in again.text


def _round_titles(session: Session) -> str:
    return " ".join(session.scalars(select(Round.title)))
