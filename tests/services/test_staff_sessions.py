from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed, TooManyAttempts
from proeftuin.models import Area, Membership, Role, StaffUser
from proeftuin.services import accounts, audit, staff_sessions
from proeftuin.services.staff_sessions import ABSOLUTE, IDLE

SECRET = "k" * 40
NOW = dt.datetime(2027, 3, 3, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


def _user(db: Database, role: Role = Role.MODERATOR, email: str = "mod@gemeente.nl") -> int:
    def build(session):  # type: ignore[no-untyped-def]
        user = accounts.create_staff(session, email, "Mo de Rator", PASSWORD, role)
        area = Area(slug=f"a-{email}", name="Noord", kind="wijk")
        session.add(area)
        session.flush()
        session.add(Membership(staff_id=user.id, area_id=area.id))
        return user.id

    return transact(db, build)


def _sign_in(db: Database, password: str = PASSWORD, ip: str = "ip", **kw: object):  # type: ignore[no-untyped-def]
    args = {"email": "Mod@Gemeente.nl", "totp_code": "", "now": NOW, "require_admin_totp": False}
    args.update(kw)
    return transact(
        db,
        staff_sessions.sign_in,
        args["email"],
        password,
        args["totp_code"],
        ip,
        SECRET,
        args["now"],
        args["require_admin_totp"],
    )


def test_sign_in_gives_a_session_with_the_members_areas(db: Database) -> None:
    staff_id = _user(db)
    signed = _sign_in(db)
    actor = transact(db, staff_sessions.check, signed.token, NOW + dt.timedelta(minutes=5))
    assert actor.staff_id == staff_id
    assert actor.role == "moderator"
    assert len(actor.area_ids) == 1


def test_wrong_password_is_refused_with_the_same_message_as_an_unknown_address(
    db: Database,
) -> None:
    _user(db)
    with pytest.raises(Invalid) as wrong:
        _sign_in(db, "wrong password!")
    with pytest.raises(Invalid) as unknown:
        _sign_in(db, PASSWORD, email="nobody@gemeente.nl")
    assert str(wrong.value) == str(unknown.value)


def test_failures_lock_the_account_even_from_other_ips(db: Database) -> None:
    _user(db)
    for i in range(5):
        with pytest.raises(Invalid):
            _sign_in(db, "wrong password!", ip=f"ip-{i}")
    with pytest.raises(TooManyAttempts):
        _sign_in(db, PASSWORD, ip="fresh-ip")
    assert _sign_in(db, PASSWORD, ip="fresh-ip", now=NOW + dt.timedelta(minutes=17)).token


def test_failures_lock_an_ip_across_accounts(db: Database) -> None:
    _user(db)
    for i in range(20):
        with pytest.raises(Invalid):
            _sign_in(db, "wrong password!", email=f"guess{i}@gemeente.nl")
    with pytest.raises(TooManyAttempts):
        _sign_in(db, PASSWORD)


def test_sessions_end_when_idle_too_long_and_after_twelve_hours(db: Database) -> None:
    _user(db)
    token = _sign_in(db).token
    with pytest.raises(NotAllowed):
        transact(db, staff_sessions.check, token, NOW + IDLE + dt.timedelta(seconds=1))
    token = _sign_in(db).token
    at = NOW
    while at < NOW + ABSOLUTE - dt.timedelta(minutes=20):
        at += dt.timedelta(minutes=20)
        transact(db, staff_sessions.check, token, at)
    with pytest.raises(NotAllowed):
        transact(db, staff_sessions.check, token, NOW + ABSOLUTE + dt.timedelta(seconds=1))


def test_logout_and_password_change_revoke_sessions(db: Database) -> None:
    staff_id = _user(db)
    first, second = _sign_in(db).token, _sign_in(db).token
    transact(db, staff_sessions.sign_out, first, NOW)
    with pytest.raises(NotAllowed):
        transact(db, staff_sessions.check, first, NOW)
    transact(db, staff_sessions.check, second, NOW)
    transact(db, staff_sessions.change_password, staff_id, PASSWORD, "a new long password", NOW)
    with pytest.raises(NotAllowed):
        transact(db, staff_sessions.check, second, NOW)
    assert _sign_in(db, "a new long password").token


def test_a_deactivated_account_cannot_sign_in_or_keep_its_session(db: Database) -> None:
    staff_id = _user(db)
    token = _sign_in(db).token

    def deactivate(session):  # type: ignore[no-untyped-def]
        session.get(StaffUser, staff_id).active = False

    transact(db, deactivate)
    with pytest.raises(NotAllowed):
        transact(db, staff_sessions.check, token, NOW)
    with pytest.raises(Invalid):
        _sign_in(db)


def test_totp_is_required_once_enabled(db: Database) -> None:
    staff_id = _user(db)
    secret = staff_sessions.new_totp_secret()
    with pytest.raises(Invalid):
        transact(db, staff_sessions.enable_totp, staff_id, secret, "000000")
    transact(db, staff_sessions.enable_totp, staff_id, secret, pyotp.TOTP(secret).now())
    current = pyotp.TOTP(secret).now()
    wrong = f"{(int(current) + 500_000) % 1_000_000:06d}"
    with pytest.raises(Invalid, match="code uit uw app"):
        _sign_in(db, totp_code=wrong)
    assert _sign_in(db, totp_code=current).token


def test_admins_in_production_must_set_up_a_second_factor(db: Database) -> None:
    _user(db, Role.ADMIN)
    assert _sign_in(db, require_admin_totp=True).needs_totp_setup
    assert not _sign_in(db, require_admin_totp=False).needs_totp_setup


def test_an_outdated_hash_is_upgraded_on_sign_in(db: Database) -> None:
    from argon2 import PasswordHasher

    staff_id = _user(db)
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)

    def weaken(session):  # type: ignore[no-untyped-def]
        session.get(StaffUser, staff_id).password_hash = weak

    transact(db, weaken)
    _sign_in(db)
    stored = read(db, lambda s: s.scalar(select(StaffUser.password_hash)))
    assert stored != weak
    assert not accounts.password_hasher.check_needs_rehash(stored)


def _sign_in_events(db: Database) -> list[tuple[str, int | None, dict[str, object]]]:
    return [
        (e.action, e.target_id, e.details)
        for e in reversed(read(db, audit.events))
        if e.action.startswith("staff.")
    ]


def test_sign_ins_success_failure_lockout_and_totp_failure_are_in_the_audit_log(
    db: Database,
) -> None:
    staff_id = _user(db)
    _sign_in(db)
    with pytest.raises(Invalid):
        _sign_in(db, PASSWORD, email="nobody@gemeente.nl")
    for _ in range(5):
        with pytest.raises(Invalid):
            _sign_in(db, "wrong password!")
    with pytest.raises(TooManyAttempts):  # refused while locked: no event for each of these
        _sign_in(db)
    secret = pyotp.random_base32()
    transact(db, lambda s: setattr(s.get(StaffUser, staff_id), "totp_secret", secret))
    later = NOW + dt.timedelta(hours=1)
    with pytest.raises(Invalid):
        _sign_in(db, totp_code="000000", now=later)
    events = _sign_in_events(db)
    assert events == [
        ("staff.sign_in", staff_id, {}),
        ("staff.sign_in_failed", None, {"known_account": False}),
        *[("staff.sign_in_failed", staff_id, {"known_account": True})] * 5,
        ("staff.locked_out", staff_id, {"limit": "account", "minutes": 15}),
        ("staff.sign_in_totp_failed", staff_id, {}),
    ]
    entries = read(db, audit.events)
    assert all(e.actor_id is None for e in entries if e.action != "staff.sign_in")
    assert [e.actor_id for e in entries if e.action == "staff.sign_in"] == [staff_id]
    text = " ".join(str(e.details) for e in entries)
    assert "gemeente.nl" not in text  # no address, typed or known
