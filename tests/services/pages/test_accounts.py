"""The staff account pages: sign-in, the session check every staff route makes, the second
factor, the password and when a session ends, each run in the transaction it declares."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from proeftuin.db import Database, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, TooManyAttempts
from proeftuin.models import Membership, Role
from proeftuin.services import accounts as account_service
from proeftuin.services.pages import accounts
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.permissions import Actor
from tests.factories import make_round

SECRET = "k" * 40
NOW = dt.datetime(2027, 3, 3, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
EMAIL = "mod@gemeente.nl"


def _moderator(db: Database) -> tuple[int, int]:
    """A moderator with a real password, and the area they work for."""

    def build(session):  # type: ignore[no-untyped-def]
        user = account_service.create_staff(session, EMAIL, "Mo", PASSWORD, Role.MODERATOR)
        area_id = make_round(session).area_id
        session.add(Membership(staff_id=user.id, area_id=area_id))
        session.flush()
        return user.id, area_id

    return transact(db, build)


def _sign_in(db: Database, password: str = PASSWORD, at: dt.datetime = NOW) -> accounts.SignedIn:
    return perform_now(db, accounts.sign_in, EMAIL, password, "", "ip", SECRET, at, False)


def test_a_session_from_sign_in_names_the_member_and_their_areas(db: Database) -> None:
    staff_id, area_id = _moderator(db)
    signed = _sign_in(db)
    assert not signed.needs_totp_setup
    actor = perform_now(db, accounts.check_session, signed.token, NOW + dt.timedelta(minutes=1))
    assert actor == Actor(staff_id=staff_id, role="moderator", area_ids=frozenset({area_id}))


def test_wrong_passwords_are_counted_so_the_account_locks(db: Database) -> None:
    """sign_in is a write: on a read the count of failures would be rolled back unseen."""
    _moderator(db)
    for _ in range(5):
        with pytest.raises(Invalid):
            _sign_in(db, password="wrong")
    with pytest.raises(TooManyAttempts):
        _sign_in(db)


def test_sign_out_ends_the_session_and_its_end_time(db: Database) -> None:
    _moderator(db)
    signed = _sign_in(db)
    ends = perform_now(db, accounts.session_ends_at, signed.token, NOW)
    assert ends == NOW + dt.timedelta(minutes=30)  # idle for half an hour
    assert ends > NOW + accounts.SESSION_LEFT  # what a page shows errs on the early side
    perform_now(db, accounts.sign_out, signed.token, NOW)
    assert perform_now(db, accounts.session_ends_at, signed.token, NOW) is None
    with pytest.raises(NotAllowed):
        perform_now(db, accounts.check_session, signed.token, NOW)


def test_the_second_factor_is_enabled_only_with_a_right_code(db: Database) -> None:
    staff_id, area_id = _moderator(db)
    actor = Actor(staff_id=staff_id, role="moderator", area_ids=frozenset({area_id}))
    secret = pyotp.random_base32()
    assert not perform_now(db, accounts.own_account, actor).has_totp
    with pytest.raises(Invalid):
        perform_now(db, accounts.enable_second_factor, actor, secret, "000000x")
    assert not perform_now(db, accounts.own_account, actor).has_totp
    perform_now(db, accounts.enable_second_factor, actor, secret, pyotp.TOTP(secret).now())
    account = perform_now(db, accounts.own_account, actor)
    assert account.has_totp
    assert account.email == EMAIL
    assert accounts.totp_uri(secret, EMAIL, "Proeftuin").startswith("otpauth://totp/")


def test_a_new_password_ends_every_session(db: Database) -> None:
    staff_id, area_id = _moderator(db)
    actor = Actor(staff_id=staff_id, role="moderator", area_ids=frozenset({area_id}))
    signed = _sign_in(db)
    new = "a brand new passphrase"
    with pytest.raises(InvalidForm):
        perform_now(db, accounts.change_password, actor, PASSWORD, new, "differs", SECRET, NOW)
    perform_now(db, accounts.check_session, signed.token, NOW)  # still signed in
    perform_now(db, accounts.change_password, actor, PASSWORD, new, new, SECRET, NOW)
    with pytest.raises(NotAllowed):
        perform_now(db, accounts.check_session, signed.token, NOW)
    assert _sign_in(db, password=new).actor.staff_id == staff_id
