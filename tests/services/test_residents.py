from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, TooManyAttempts
from proeftuin.models import OutboxMail, Resident
from proeftuin.services import residents

SECRET = "s" * 40
NOW = dt.datetime(2027, 3, 3, 12, 0, tzinfo=dt.UTC)


def _request(db: Database, email: str, ip: str = "ip-1", now: dt.datetime = NOW) -> None:
    transact(db, residents.request_sign_in_link, SECRET, "http://x", email, ip, now, "/rondes/abc")


def _last_token(db: Database) -> str:
    body = read(db, lambda s: s.scalars(select(OutboxMail).order_by(OutboxMail.id)).all())[-1].body
    match = re.search(r"token=(\S+)", body)
    assert match
    return match.group(1)


def test_a_link_signs_in_once_and_creates_the_resident(db: Database) -> None:
    _request(db, " Bewoner@Example.NL ")
    token = _last_token(db)
    resident, next_path = transact(db, residents.redeem_sign_in_link, SECRET, token, NOW)
    assert resident.email == "bewoner@example.nl"
    assert resident.verified_at is not None
    assert next_path == "/rondes/abc"
    with pytest.raises(Invalid, match="al gebruikt"):
        transact(db, residents.redeem_sign_in_link, SECRET, token, NOW)
    assert len(read(db, lambda s: s.scalars(select(Resident)).all())) == 1


def test_an_expired_or_forged_link_is_refused(db: Database) -> None:
    _request(db, "bewoner@example.nl")
    token = _last_token(db)
    with pytest.raises(Invalid, match="klopt niet"):
        transact(db, residents.redeem_sign_in_link, "another-secret" * 3, token, NOW)
    with pytest.raises(Invalid, match="klopt niet"):
        transact(db, residents.redeem_sign_in_link, SECRET, token[:-2] + "xx", NOW)


def test_link_expires_after_ten_minutes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _request(db, "bewoner@example.nl")
    token = _last_token(db)
    import time

    real = time.time()
    monkeypatch.setattr(time, "time", lambda: real + 11 * 60)
    with pytest.raises(Invalid, match="verlopen"):
        transact(db, residents.redeem_sign_in_link, SECRET, token, NOW)


def test_sends_are_limited_per_address_and_per_ip(db: Database) -> None:
    for _ in range(3):
        _request(db, "a@example.nl")
    with pytest.raises(TooManyAttempts):
        _request(db, "a@example.nl", ip="ip-2")
    for i in range(17):
        _request(db, f"b{i}@example.nl")
    with pytest.raises(TooManyAttempts):
        _request(db, "c@example.nl")
    later = NOW + dt.timedelta(minutes=20)
    _request(db, "a@example.nl", now=later)


@pytest.mark.parametrize("email", ["", "geen-adres", "a@b", "a b@example.nl"])
def test_malformed_addresses_get_a_message_and_no_mail(db: Database, email: str) -> None:
    with pytest.raises(Invalid):
        _request(db, email)
    assert read(db, lambda s: s.scalars(select(OutboxMail)).all()) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/rondes/x", "/rondes/x"), ("//evil.example", "/"), ("https://evil.example", "/")],
)
def test_only_local_paths_are_followed_after_sign_in(path: str, expected: str) -> None:
    assert residents._safe_path(path) == expected


@pytest.mark.parametrize(("typed", "stored"), [("9401ab", "9401 AB"), (" 9401 AB ", "9401 AB")])
def test_postcodes_are_normalised(typed: str, stored: str) -> None:
    assert residents.normalise_postcode(typed) == stored


@pytest.mark.parametrize("typed", ["0401AB", "94011", "ABCD12", "9401 A"])
def test_bad_postcodes_are_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        residents.normalise_postcode(typed)
