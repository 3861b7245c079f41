"""Staff members: the admin's list, invitations, areas, (de)activation; and a staff member's own
password and second factor. Every change is written to the audit log.

An invitation creates the account with a random one-time password that the admin sees once and
passes on (by phone, in person); the new moderator changes it on the password page. That needs
no mail link that could be intercepted or expire unseen, and no anonymous page under /beheer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, InvalidForm, NotFound, TooManyAttempts, _
from proeftuin.models import Area, Membership, Role, StaffSession, StaffUser
from proeftuin.services import accounts, audit, permissions, ratelimit, staff_sessions
from proeftuin.services.permissions import Actor
from proeftuin.services.spreadsheets import Sheet

# Characters a person can read out and type without confusion (no 0/o, 1/l/i).
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_PASSWORD_GROUPS = 4
ONE_TIME_PASSWORD_GROUP_LENGTH = 5


@dataclass(frozen=True)
class AreaRef:
    id: int
    name: str


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str
    role: str
    active: bool
    has_totp: bool
    last_login_at: dt.datetime | None
    areas: tuple[AreaRef, ...]


@dataclass(frozen=True)
class MemberDetail:
    member: Member
    other_areas: tuple[AreaRef, ...]  # areas the member could still be assigned to


@dataclass(frozen=True)
class Invited:
    member: Member
    password: str  # shown once to the admin, never stored


# -- The admin's view ------------------------------------------------------------------------------


def list_staff(session: Session, actor: Actor) -> list[Member]:
    permissions.require_admin(actor)
    users = session.scalars(select(StaffUser).order_by(StaffUser.name, StaffUser.id)).all()
    areas = _areas_by_member(session)
    return [_member(user, areas.get(user.id, ())) for user in users]


def get_member(session: Session, actor: Actor, staff_id: int) -> MemberDetail:
    permissions.require_admin(actor)
    user = _user(session, staff_id)
    member = _member(user, _areas_by_member(session, staff_id).get(staff_id, ()))
    assigned = {a.id for a in member.areas}
    all_areas = session.execute(select(Area.id, Area.name).order_by(Area.name, Area.id))
    return MemberDetail(
        member=member,
        other_areas=tuple(AreaRef(i, n) for i, n in all_areas if i not in assigned),
    )


def all_areas(session: Session, actor: Actor) -> list[AreaRef]:
    permissions.require_admin(actor)
    rows = session.execute(select(Area.id, Area.name).order_by(Area.name, Area.id))
    return [AreaRef(i, n) for i, n in rows]


# -- The admin's actions ---------------------------------------------------------------------------


def invite(
    session: Session,
    actor: Actor,
    email: str,
    name: str,
    role: str = Role.MODERATOR.value,
    area_ids: tuple[int, ...] = (),
) -> Invited:
    """A new, active account with a one-time password for the admin to pass on."""
    permissions.require_admin(actor)
    errors: list[Invalid] = []
    valid_role = role in {r.value for r in Role}
    if not valid_role:
        errors.append(Invalid("role", _("Kies of dit een moderator of een beheerder is.")))
    known = set(session.scalars(select(Area.id).where(Area.id.in_(area_ids))))
    if set(area_ids) - known:
        errors.append(Invalid("area_ids", _("Kies alleen gebieden uit de lijst.")))
    password = one_time_password()
    try:
        # With a wrong role too, so that the e-mail and name are checked in the same go; the
        # transaction is rolled back when anything is wrong.
        user = accounts.create_staff(
            session, email, name, password, Role(role) if valid_role else Role.MODERATOR
        )
    except Invalid as error:
        errors.insert(0, error)
    if errors:
        raise InvalidForm(errors)
    for area_id in sorted(known):
        session.add(Membership(staff_id=user.id, area_id=area_id))
    session.flush()
    audit.record(
        session, actor.staff_id, "staff.invite", "staff", user.id, name=user.name, role=user.role
    )
    for area_id in sorted(known):
        audit.record(session, actor.staff_id, "staff.assign_area", "staff", user.id, area_id)
    member = _member(user, _areas_by_member(session, user.id).get(user.id, ()))
    return Invited(member=member, password=password)


def assign_area(session: Session, actor: Actor, staff_id: int, area_id: int) -> None:
    permissions.require_admin(actor)
    user = _user(session, staff_id)
    if session.get(Area, area_id) is None:
        raise Invalid("area_id", _("Kies een gebied uit de lijst."))
    exists = session.scalar(
        select(Membership.id).where(Membership.staff_id == user.id, Membership.area_id == area_id)
    )
    if exists is not None:
        return
    session.add(Membership(staff_id=user.id, area_id=area_id))
    session.flush()
    audit.record(session, actor.staff_id, "staff.assign_area", "staff", user.id, area_id)


def unassign_area(session: Session, actor: Actor, staff_id: int, area_id: int) -> None:
    permissions.require_admin(actor)
    user = _user(session, staff_id)
    removed = session.execute(
        delete(Membership).where(Membership.staff_id == user.id, Membership.area_id == area_id)
    )
    if getattr(removed, "rowcount", 0):
        audit.record(session, actor.staff_id, "staff.unassign_area", "staff", user.id, area_id)


def set_active(
    session: Session, actor: Actor, staff_id: int, active: bool, now: dt.datetime
) -> None:
    """Deactivating ends every session of the account at once."""
    permissions.require_admin(actor)
    user = _user(session, staff_id)
    if user.active == active:
        return
    if not active:
        if user.id == actor.staff_id:
            raise Invalid("active", _("U kunt uw eigen account niet uitzetten."))
        if user.role == Role.ADMIN and _active_admins(session) <= 1:
            raise Invalid("active", _("Dit is de laatste beheerder. Maak eerst een andere aan."))
        staff_sessions.revoke_all_sessions(session, user.id, now)
    user.active = active
    session.flush()
    action = "staff.reactivate" if active else "staff.deactivate"
    audit.record(session, actor.staff_id, action, "staff", user.id, name=user.name)


def reset_password(session: Session, actor: Actor, staff_id: int, now: dt.datetime) -> str:
    """A new one-time password for someone who forgot theirs; their sessions end."""
    permissions.require_admin(actor)
    user = _user(session, staff_id)
    if user.id == actor.staff_id:
        raise Invalid("", _("Wijzig uw eigen wachtwoord op de pagina Wachtwoord."))
    password = one_time_password()
    user.password_hash = accounts.password_hasher.hash(password)
    staff_sessions.revoke_all_sessions(session, user.id, now)
    audit.record(session, actor.staff_id, "staff.reset_password", "staff", user.id, name=user.name)
    return password


# -- A staff member's own account ------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    name: str
    email: str
    role: str
    has_totp: bool


def own_account(session: Session, actor: Actor) -> Account:
    user = _user(session, actor.staff_id)
    return Account(user.name, user.email, user.role, bool(user.totp_secret))


def change_own_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    repeat: str,
    secret_key: str,
    now: dt.datetime,
) -> None:
    """Every session of the account ends, this one included. A wrong current password counts as
    a failed sign-in, so a stolen session cannot be used to guess it."""
    user = _user(session, actor.staff_id)
    limit, key = ratelimit.LOGIN_FAILURES_PER_ACCOUNT, ratelimit.hash_key(secret_key, user.email)
    wait = ratelimit.retry_after(session, limit, key, now)
    if wait is not None:
        raise TooManyAttempts(wait)
    if new != repeat:
        raise InvalidForm([Invalid("repeat", _("De twee nieuwe wachtwoorden zijn niet gelijk."))])
    # Counted as a failure before the hash, as in staff_sessions.sign_in: guesses sent at once
    # queue at the counter instead of all hashing before any was counted.
    wait = ratelimit.take(session, limit, key, now)
    if wait is not None:
        raise TooManyAttempts(wait)
    try:
        staff_sessions.change_password(session, user.id, current, new, now)
    except Invalid as error:
        if error.field == "current":
            raise InvalidForm([error]).keeping_changes() from None
        raise InvalidForm([Invalid("new", error.message, **error.params)]) from None
    ratelimit.give_back(session, limit, key, now)
    audit.record(session, actor.staff_id, "staff.change_password", "staff", user.id)


def enable_second_factor(session: Session, actor: Actor, secret: str, code: str) -> None:
    staff_sessions.enable_totp(session, actor.staff_id, secret, code)
    audit.record(session, actor.staff_id, "staff.enable_totp", "staff", actor.staff_id)


def session_ends_at(session: Session, token: str, now: dt.datetime) -> dt.datetime | None:
    """When the session ends if nothing else happens, or None when it is over. Reading this does
    not count as activity (staff_sessions.check would), so a warning cannot keep it alive."""
    # The same hash as staff_sessions stores; a test signs in and reads it back.
    token_hash = staff_sessions._hash(token)
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == token_hash))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(StaffUser, row.staff_id)
    if user is None or not user.active or row.session_version != user.session_version:
        return None
    ends = min(row.last_seen_at + staff_sessions.IDLE, row.created_at + staff_sessions.ABSOLUTE)
    return ends if ends > now else None


# -- Helpers ---------------------------------------------------------------------------------------


def one_time_password() -> str:
    """Like ``k7mq2-xr9ta-...``: about 98 bits, easy to read out and type."""
    groups = (
        "".join(secrets.choice(READABLE_CHARACTERS) for _ in range(ONE_TIME_PASSWORD_GROUP_LENGTH))
        for _ in range(ONE_TIME_PASSWORD_GROUPS)
    )
    return "-".join(groups)


def _user(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound()
    return user


def _active_admins(session: Session) -> int:
    query = select(func.count(StaffUser.id)).where(
        StaffUser.role == Role.ADMIN.value, StaffUser.active.is_(True)
    )
    return int(session.scalar(query) or 0)


def _areas_by_member(
    session: Session, staff_id: int | None = None
) -> dict[int, tuple[AreaRef, ...]]:
    query = (
        select(Membership.staff_id, Area.id, Area.name)
        .join(Area, Area.id == Membership.area_id)
        .order_by(Area.name, Area.id)
    )
    if staff_id is not None:
        query = query.where(Membership.staff_id == staff_id)
    result: dict[int, list[AreaRef]] = {}
    for member_id, area_id, area_name in session.execute(query):
        result.setdefault(member_id, []).append(AreaRef(area_id, area_name))
    return {k: tuple(v) for k, v in result.items()}


def _member(user: StaffUser, areas: tuple[AreaRef, ...]) -> Member:
    return Member(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role,
        active=user.active,
        has_totp=bool(user.totp_secret),
        last_login_at=user.last_login_at,
        areas=areas,
    )


# -- The audit log (admins) ------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[audit.Entry, ...]
    area_names: dict[int, str]
    page: int
    pages: int
    total: int


def audit_page(session: Session, actor: Actor, page: int = 1) -> AuditPage:
    """Newest first, ``AUDIT_PAGE_SIZE`` a page; a page past the end shows the last one."""
    permissions.require_admin(actor)
    total = audit.count(session)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = audit.events(session, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE)
    names = {i: n for i, n in session.execute(select(Area.id, Area.name))}
    return AuditPage(tuple(entries), names, page, pages, total)


def audit_export(session: Session, actor: Actor) -> Sheet:
    """The whole log as a table; the export itself is logged too (it leaves the system)."""
    permissions.require_admin(actor)
    audit.record(session, actor.staff_id, "audit.export", "audit", None)
    return audit.export_sheet(session)
