from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, NotFound, TooManyAttempts
from proeftuin.models import Area, AuditEvent, Membership, Role, StaffUser
from proeftuin.services import accounts, audit, spreadsheets, staff, staff_sessions
from proeftuin.services.permissions import Actor

SECRET = "k" * 40
NOW = dt.datetime(2027, 3, 3, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


def _create(db: Database, email: str, role: Role = Role.MODERATOR) -> Actor:
    user_id = transact(
        db, lambda s: accounts.create_staff(s, email, email.split("@")[0], PASSWORD, role).id
    )
    return Actor(staff_id=user_id, role=role.value, area_ids=frozenset())


def _area(db: Database, slug: str, name: str) -> int:
    def insert(session):  # type: ignore[no-untyped-def]
        area = Area(slug=slug, name=name, kind="wijk")
        session.add(area)
        session.flush()
        return area.id

    return transact(db, insert)


def _sign_in(db: Database, email: str, password: str = PASSWORD) -> str:
    signed = transact(db, staff_sessions.sign_in, email, password, "", "ip", SECRET, NOW, False)
    return signed.token


def _alive(db: Database, token: str) -> bool:
    try:
        transact(db, staff_sessions.check, token, NOW + dt.timedelta(minutes=1))
    except NotAllowed:
        return False
    return True


def _actions(db: Database) -> list[str]:
    """What staff did, without their sign-ins (tests/services/test_staff_sessions.py)."""
    query = select(AuditEvent.action).where(
        ~AuditEvent.action.like("staff.sign\\_in%", escape="\\")
    )
    return list(read(db, lambda s: s.scalars(query.order_by(AuditEvent.id))))


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: these tests are about who may do what, not about hashing."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "password_hasher", cheap)


@pytest.fixture
def admin(db: Database) -> Actor:
    return _create(db, "admin@gemeente.nl", Role.ADMIN)


# -- invitations -----------------------------------------------------------------------------------


def test_invite_creates_an_active_moderator_with_a_one_time_password(
    db: Database, admin: Actor
) -> None:
    noord, zuid = _area(db, "noord", "Noord"), _area(db, "zuid", "Zuid")
    invited = transact(
        db, staff.invite, admin, " Mo@Gemeente.nl ", "Mo", "moderator", (zuid, noord)
    )
    assert invited.member.email == "mo@gemeente.nl"
    assert [a.name for a in invited.member.areas] == ["Noord", "Zuid"]
    assert len(invited.password) >= accounts.MIN_PASSWORD_LENGTH
    assert _sign_in(db, "mo@gemeente.nl", invited.password)
    stored = read(db, lambda s: s.scalar(select(StaffUser.password_hash)))
    assert invited.password not in stored  # hashed, not kept
    assert _actions(db) == ["staff.invite", "staff.assign_area", "staff.assign_area"]
    details = read(db, lambda s: s.scalars(select(AuditEvent.details)).all())
    assert not any("mo@gemeente.nl" in d or invited.password in d for d in details)


def test_one_time_passwords_differ_and_are_readable() -> None:
    passwords = {staff.one_time_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert set(password) <= set(staff.READABLE_CHARACTERS) | {"-"}


def test_invite_reports_every_problem(db: Database, admin: Actor) -> None:
    with pytest.raises(InvalidForm) as caught:
        transact(db, staff.invite, admin, "geen-adres", "Mo", "koning", (12345,))
    assert set(caught.value.errors) == {"email", "role", "area_ids"}
    _create(db, "mo@gemeente.nl")
    with pytest.raises(InvalidForm) as caught:
        transact(db, staff.invite, admin, "mo@gemeente.nl", "Mo", "moderator")
    assert "al een account" in caught.value.errors["email"].message
    with pytest.raises(InvalidForm) as caught:
        transact(db, staff.invite, admin, "new@gemeente.nl", "  ", "moderator")
    assert set(caught.value.errors) == {"name"}


def test_only_admins_manage_staff(db: Database, admin: Actor) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    area = _area(db, "noord", "Noord")
    calls = [
        (staff.list_staff,),
        (staff.all_areas,),
        (staff.get_member, admin.staff_id),
        (staff.invite, "x@gemeente.nl", "X"),
        (staff.assign_area, moderator.staff_id, area),
        (staff.unassign_area, moderator.staff_id, area),
        (staff.set_active, admin.staff_id, False, NOW),
        (staff.reset_password, admin.staff_id, NOW),
        (staff.audit_page,),
        (staff.audit_export,),
    ]
    for fn, *args in calls:
        with pytest.raises(NotAllowed):
            transact(db, fn, moderator, *args)  # type: ignore[operator]
    assert _actions(db) == []


# -- areas of a member -----------------------------------------------------------------------------


def test_assign_and_unassign_areas(db: Database, admin: Actor) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    noord, zuid = _area(db, "noord", "Noord"), _area(db, "zuid", "Zuid")
    transact(db, staff.assign_area, admin, moderator.staff_id, noord)
    transact(db, staff.assign_area, admin, moderator.staff_id, noord)  # twice: once
    detail = read(db, staff.get_member, admin, moderator.staff_id)
    assert [a.name for a in detail.member.areas] == ["Noord"]
    assert [a.name for a in detail.other_areas] == ["Zuid"]
    transact(db, staff.unassign_area, admin, moderator.staff_id, noord)
    transact(db, staff.unassign_area, admin, moderator.staff_id, zuid)  # not assigned: no-op
    assert read(db, lambda s: s.scalars(select(Membership)).all()) == []
    assert _actions(db) == ["staff.assign_area", "staff.unassign_area"]
    events = read(db, audit.events)
    assert {e.area_id for e in events} == {noord}


def test_assigning_an_unknown_area_or_member_fails(db: Database, admin: Actor) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    with pytest.raises(Invalid) as caught:
        transact(db, staff.assign_area, admin, moderator.staff_id, 404)
    assert caught.value.field == "area_id"
    with pytest.raises(NotFound):
        transact(db, staff.assign_area, admin, 404, _area(db, "noord", "Noord"))
    with pytest.raises(NotFound):
        read(db, staff.get_member, admin, 404)


def test_list_staff_shows_roles_areas_and_state(db: Database, admin: Actor) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    transact(db, staff.assign_area, admin, moderator.staff_id, _area(db, "noord", "Noord"))
    members = read(db, staff.list_staff, admin)
    assert [(m.name, m.role, [a.name for a in m.areas]) for m in members] == [
        ("admin", "admin", []),
        ("mo", "moderator", ["Noord"]),
    ]


# -- deactivation and password reset ---------------------------------------------------------------


def test_deactivation_ends_sessions_and_blocks_sign_in(db: Database, admin: Actor) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    token = _sign_in(db, "mo@gemeente.nl")
    transact(db, staff.set_active, admin, moderator.staff_id, False, NOW)
    assert not _alive(db, token)
    with pytest.raises(Invalid):
        _sign_in(db, "mo@gemeente.nl")
    transact(db, staff.set_active, admin, moderator.staff_id, False, NOW)  # already: no-op
    transact(db, staff.set_active, admin, moderator.staff_id, True, NOW)
    assert _alive(db, _sign_in(db, "mo@gemeente.nl"))
    assert not _alive(db, token)  # an old session does not come back
    assert _actions(db) == ["staff.deactivate", "staff.reactivate"]


def test_admin_cannot_lock_themselves_or_the_last_admin_out(db: Database, admin: Actor) -> None:
    with pytest.raises(Invalid, match="eigen account"):
        transact(db, staff.set_active, admin, admin.staff_id, False, NOW)
    other = _create(db, "other@gemeente.nl", Role.ADMIN)
    transact(db, staff.set_active, admin, other.staff_id, False, NOW)
    # A second admin can switch the first one off only while another admin stays active.
    with pytest.raises(Invalid, match="laatste beheerder"):
        transact(db, staff.set_active, other, admin.staff_id, False, NOW)


def test_reset_password_gives_a_new_one_and_ends_sessions(db: Database, admin: Actor) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    token = _sign_in(db, "mo@gemeente.nl")
    password = transact(db, staff.reset_password, admin, moderator.staff_id, NOW)
    assert not _alive(db, token)
    with pytest.raises(Invalid):
        _sign_in(db, "mo@gemeente.nl")
    assert _sign_in(db, "mo@gemeente.nl", password)
    with pytest.raises(Invalid, match="Wachtwoord"):
        transact(db, staff.reset_password, admin, admin.staff_id, NOW)
    assert _actions(db) == ["staff.reset_password"]


# -- own account -----------------------------------------------------------------------------------


def test_change_own_password_ends_every_session(db: Database) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    first, second = _sign_in(db, "mo@gemeente.nl"), _sign_in(db, "mo@gemeente.nl")
    new = "a brand new passphrase"
    transact(db, staff.change_own_password, moderator, PASSWORD, new, new, SECRET, NOW)
    assert not _alive(db, first) and not _alive(db, second)
    assert _sign_in(db, "mo@gemeente.nl", new)
    assert _actions(db) == ["staff.change_password"]


@pytest.mark.parametrize(
    ("current", "new", "repeat", "field"),
    [
        (PASSWORD, "short", "short", "new"),
        (PASSWORD, "long enough password", "long enough passwort", "repeat"),
        ("wrong password!", "long enough password", "long enough password", "current"),
    ],
)
def test_change_own_password_refusals(
    db: Database, current: str, new: str, repeat: str, field: str
) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    token = _sign_in(db, "mo@gemeente.nl")
    with pytest.raises(InvalidForm) as caught:
        transact(db, staff.change_own_password, moderator, current, new, repeat, SECRET, NOW)
    assert set(caught.value.errors) == {field}
    assert _alive(db, token)
    assert _actions(db) == []


def test_guessing_the_current_password_is_limited(db: Database) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    new = "long enough password"
    for _ in range(5):
        with pytest.raises(InvalidForm):
            transact(db, staff.change_own_password, moderator, "guess", new, new, SECRET, NOW)
    with pytest.raises(TooManyAttempts):
        transact(db, staff.change_own_password, moderator, PASSWORD, new, new, SECRET, NOW)
    with pytest.raises(TooManyAttempts):  # the same counter as signing in
        _sign_in(db, "mo@gemeente.nl")


def test_enable_second_factor_is_audited_and_needed_at_sign_in(db: Database) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    secret = staff_sessions.new_totp_secret()
    with pytest.raises(Invalid):
        transact(db, staff.enable_second_factor, moderator, secret, "000000")
    assert not read(db, staff.own_account, moderator).has_totp
    transact(db, staff.enable_second_factor, moderator, secret, pyotp.TOTP(secret).now())
    assert read(db, staff.own_account, moderator).has_totp
    assert _actions(db) == ["staff.enable_totp"]
    with pytest.raises(Invalid):
        _sign_in(db, "mo@gemeente.nl")


# -- session end -----------------------------------------------------------------------------------


def test_session_ends_at_does_not_extend_the_session(db: Database) -> None:
    moderator = _create(db, "mo@gemeente.nl")
    token = _sign_in(db, "mo@gemeente.nl")
    later = NOW + dt.timedelta(minutes=20)
    assert read(db, staff.session_ends_at, token, later) == NOW + staff_sessions.IDLE
    transact(db, staff.session_ends_at, token, later)  # even in a write transaction
    assert read(db, staff.session_ends_at, token, later) == NOW + staff_sessions.IDLE
    assert read(db, staff.session_ends_at, token, NOW + staff_sessions.IDLE) is None
    assert read(db, staff.session_ends_at, "not-a-token", NOW) is None
    transact(db, staff_sessions.revoke_all_sessions, moderator.staff_id, NOW)
    assert read(db, staff.session_ends_at, token, later) is None


def test_session_ends_at_respects_the_absolute_limit(db: Database) -> None:
    _create(db, "mo@gemeente.nl")
    token = _sign_in(db, "mo@gemeente.nl")
    nearly = NOW + staff_sessions.ABSOLUTE - dt.timedelta(minutes=10)
    at = NOW
    while at < nearly:  # the user keeps working all day
        at += dt.timedelta(minutes=20)
        transact(db, staff_sessions.check, token, at)
    # The absolute limit now comes before the idle one.
    assert read(db, staff.session_ends_at, token, nearly) == NOW + staff_sessions.ABSOLUTE


# -- audit log -------------------------------------------------------------------------------------


def test_audit_page_is_paged_newest_first(db: Database, admin: Actor) -> None:
    area = _area(db, "noord", "Noord")
    for n in range(staff.AUDIT_PAGE_SIZE + 3):
        transact(db, audit.record, admin.staff_id, "round.create", "round", n, area)
    first = read(db, staff.audit_page, admin, 1)
    assert (first.page, first.pages, first.total) == (1, 2, staff.AUDIT_PAGE_SIZE + 3)
    assert first.entries[0].target_id == staff.AUDIT_PAGE_SIZE + 2
    assert first.area_names[area] == "Noord"
    last = read(db, staff.audit_page, admin, 99)
    assert last.page == 2 and [e.target_id for e in last.entries] == [2, 1, 0]
    assert read(db, staff.audit_page, admin, -3).page == 1


def test_audit_export_is_csv_and_logged(db: Database, admin: Actor) -> None:
    transact(db, audit.record, admin.staff_id, "area.create", "area", 1, name="=cmd()")
    sheet = transact(db, staff.audit_export, admin)
    rows = list(csv.reader(io.StringIO(spreadsheets.csv_text(sheet))))
    assert rows[0] == list(audit.CSV_HEADER)
    assert rows[1][4] == "area.create"
    assert json.loads(rows[1][8]) == {"name": "=cmd()"}  # JSON text starts with {, not =
    assert _actions(db) == ["area.create", "audit.export"]
