"""Driving the app as a visitor: signing in as staff or as a resident, CSRF tokens, htmx
requests, and argon2 at its cheapest. Shared by the web test modules; data comes from
tests/factories.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.db import Database, read, transact
from proeftuin.models import Membership, OutboxMail, Resident, Role
from proeftuin.services import accounts, residents
from proeftuin.web.policy import LOGIN_PATH
from tests.factories import add_area

PASSWORD = "correct horse battery"
HTMX = {"HX-Request": "true"}
INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: these tests are about the web, not about hashing."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "password_hasher", cheap)


def assert_no_inline_code(html: str) -> None:
    assert not INLINE_CODE.search(html), INLINE_CODE.search(html)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


# -- staff -----------------------------------------------------------------------------------------


def add_staff(
    db: Database,
    email: str,
    role: Role = Role.MODERATOR,
    area_ids: Iterable[int] = (),
    password: str = PASSWORD,
    name: str = "",
) -> int:
    """A staff member who can sign in with ``password``; returns the id."""

    def insert(session: Session) -> int:
        user = accounts.create_staff(session, email, name or email.split("@")[0], password, role)
        for area_id in area_ids:
            session.add(Membership(staff_id=user.id, area_id=area_id))
        return user.id

    return transact(db, insert)


def csrf(client: TestClient) -> str:
    """A CSRF token of the client's session, from the staff sign-in page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(LOGIN_PATH).text)
    assert match, "no CSRF token on the sign-in page"
    return match.group(1)


def post(
    client: TestClient,
    path: str,
    data: dict[str, object] | None = None,
    htmx: bool = False,
    token: str | None = None,
):  # type: ignore[no-untyped-def]
    form = {"csrf_token": token or csrf(client), **(data or {})}
    return client.post(path, data=form, headers=HTMX if htmx else {}, follow_redirects=False)


def sign_in(
    client: TestClient, email: str, password: str = PASSWORD, totp: str = "", next: str = ""
):  # type: ignore[no-untyped-def]
    """Staff sign-in; the response, whatever it is."""
    data = {"email": email, "password": password, "totp": totp, "next": next}
    return post(client, LOGIN_PATH, data)


def signed_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    response = sign_in(client, email, password)
    assert response.status_code == 303, response.text
    return client


def staff_client(app: Starlette, email: str) -> TestClient:
    client = TestClient(app)
    client.__enter__()
    return signed_in(client, email)


@dataclass(frozen=True)
class World:
    """Area A (Noord) with its moderator, area B (Zuid) with its own, and an admin."""

    area_a: int
    area_b: int


def make_world(db: Database) -> World:
    world = World(add_area(db, "noord", "Noord"), add_area(db, "zuid", "Zuid"))
    add_staff(db, "mod-a@gemeente.nl", area_ids=[world.area_a], name="Anna Noord")
    add_staff(db, "mod-b@gemeente.nl", area_ids=[world.area_b], name="Bram Zuid")
    add_staff(db, "admin@gemeente.nl", Role.ADMIN, name="Ada Admin")
    return world


# -- residents -------------------------------------------------------------------------------------


def last_link(db: Database) -> str:
    """The link in the newest mail of the outbox."""
    mails = read(db, lambda s: list(s.scalars(select(OutboxMail).order_by(OutboxMail.id))))
    match = re.search(r"https?://\S+", mails[-1].body)
    assert match
    return match.group(0)


def request_link(
    client: TestClient, email: str, next_path: str = "/mijn-plannen"
) -> httpx.Response:
    token = csrf_of(client.get("/inloggen").text)
    return client.post("/inloggen", data={"email": email, "next": next_path, "csrf_token": token})


def follow_link(client: TestClient, link: str) -> httpx.Response:
    """What a resident does with the link: open it, press the button."""
    parts = urlsplit(link)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    token = parse_qs(parts.query)["token"][0]
    return client.post(
        "/inloggen/link",
        data={"token": token, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def sign_in_resident(
    client: TestClient, db: Database, email: str = "anna@example.nl", name: str = "Anna"
) -> int:
    """Sign ``client`` in as a resident (created on the way); returns the resident's id."""
    assert request_link(client, email).status_code == 200
    assert follow_link(client, last_link(db)).status_code == 303
    resident_id = read(db, lambda s: s.scalar(select(Resident.id).where(Resident.email == email)))
    assert resident_id is not None
    if name:
        transact(db, residents.update_profile, resident_id, name, "")
    return resident_id
