"""The staff dashboard and the admin's pages: areas, staff members and the audit log.

Who may do what is checked by ``services.areas`` and ``services.staff`` (``require_admin``, and
the dashboard shows only an actor's own areas); these are their pages and actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.models import AreaKind as AreaKind
from proeftuin.services import areas, moderation, spreadsheets, staff
from proeftuin.services.areas import AreaInput as AreaInput
from proeftuin.services.areas import AreaOverview as AreaOverview
from proeftuin.services.areas import as_input as as_input
from proeftuin.services.moderation import RoundWork as RoundWork
from proeftuin.services.permissions import Actor
from proeftuin.services.spreadsheets import StaffFile as StaffFile
from proeftuin.services.staff import AreaRef as AreaRef
from proeftuin.services.staff import AuditPage as AuditPage
from proeftuin.services.staff import Invited as Invited
from proeftuin.services.staff import Member as Member
from proeftuin.services.staff import MemberDetail as MemberDetail

from . import declare

# assign_area and unassign_area: (session, actor, staff_id, area_id).
AreaChange = Callable[[Session, Actor, int, int], None]


@dataclass(frozen=True)
class PasswordReset:
    member: Member
    password: str  # shown once to the admin, never stored


# -- Areas -----------------------------------------------------------------------------------------


@declare.read
def overview(session: Session, actor: Actor) -> list[AreaOverview]:
    """The areas the actor works for (an admin: all of them), with their rounds."""
    return areas.overview(session, actor)


@dataclass(frozen=True)
class Dashboard:
    areas: list[AreaOverview]
    work: dict[int, RoundWork]  # per round id: what waits for staff


@declare.read
def dashboard(session: Session, actor: Actor) -> Dashboard:
    """The actor's areas with their rounds, and per round what waits to be done."""
    found = areas.overview(session, actor)
    round_ids = [r.id for a in found for r in a.rounds]
    return Dashboard(found, moderation.round_work(session, round_ids))


@declare.read
def area(session: Session, actor: Actor, area_id: int) -> AreaOverview:
    return areas.get_area(session, actor, area_id)


@declare.write
def create_area(session: Session, actor: Actor, data: AreaInput) -> AreaOverview:
    return areas.create_area(session, actor, data)


@declare.write
def update_area(session: Session, actor: Actor, area_id: int, data: AreaInput) -> AreaOverview:
    return areas.update_area(session, actor, area_id, data)


@declare.write
def delete_area(session: Session, actor: Actor, area_id: int) -> str:
    return areas.delete_area(session, actor, area_id)


# -- Staff members ---------------------------------------------------------------------------------


@declare.read
def members(session: Session, actor: Actor) -> list[Member]:
    return staff.list_staff(session, actor)


@declare.read
def all_areas(session: Session, actor: Actor) -> list[AreaRef]:
    """Every area, for choosing a new member's areas."""
    return staff.all_areas(session, actor)


@declare.write
def invite(
    session: Session,
    actor: Actor,
    email: str,
    name: str,
    role: str,
    area_ids: tuple[int, ...],
) -> Invited:
    return staff.invite(session, actor, email, name, role, area_ids)


@declare.read
def member(session: Session, actor: Actor, staff_id: int) -> MemberDetail:
    return staff.get_member(session, actor, staff_id)


@declare.write
def assign_area(session: Session, actor: Actor, staff_id: int, area_id: int) -> None:
    staff.assign_area(session, actor, staff_id, area_id)


@declare.write
def unassign_area(session: Session, actor: Actor, staff_id: int, area_id: int) -> None:
    staff.unassign_area(session, actor, staff_id, area_id)


@declare.write
def set_active(
    session: Session, actor: Actor, staff_id: int, active: bool, now: dt.datetime
) -> None:
    staff.set_active(session, actor, staff_id, active, now)


@declare.write
def reset_password(
    session: Session, actor: Actor, staff_id: int, now: dt.datetime
) -> PasswordReset:
    """A new one-time password, and the member it is for (for the page that shows it once)."""
    password = staff.reset_password(session, actor, staff_id, now)
    return PasswordReset(staff.get_member(session, actor, staff_id).member, password)


# -- Audit log -------------------------------------------------------------------------------------


@declare.read
def audit_page(session: Session, actor: Actor, page: int) -> AuditPage:
    return staff.audit_page(session, actor, page)


@declare.write
def audit_export(session: Session, actor: Actor, format_: str) -> StaffFile:
    """The whole log as CSV or XLSX; a write, because the export itself is logged."""
    return spreadsheets.staff_file(staff.audit_export(session, actor), format_)
