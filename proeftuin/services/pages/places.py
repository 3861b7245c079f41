"""A plan's place on the map, set by its author or by staff, and an area's boundary, uploaded by
an admin. Every rule is ``services.places``'s."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.errors import NotFound
from proeftuin.models import Area, Plan
from proeftuin.services import lookup, permissions, places, plans
from proeftuin.services.pages import declare
from proeftuin.services.pages._common import RoundBrief, round_brief
from proeftuin.services.permissions import Actor
from proeftuin.services.places import Point as Point
from proeftuin.services.places import parse_point as parse_point


@dataclass(frozen=True)
class PlacePage:
    round: RoundBrief
    public_id: str
    title: str
    location: str  # in words, as its author typed it
    point: Point | None
    boundary: str
    warnings: tuple[str, ...]  # for staff only


@dataclass(frozen=True)
class BoundaryPage:
    area_id: int
    name: str
    boundary: str


def _page(plan: Plan, *, staff: bool) -> PlacePage:
    point = places.point_of(plan)
    boundary = plan.round.area.boundary
    return PlacePage(
        round=round_brief(plan.round),
        public_id=plan.public_id,
        title=plan.title,
        location=plan.location,
        point=point,
        boundary=boundary,
        warnings=tuple(places.warnings(point, boundary)) if staff else (),
    )


def _staff_plan(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return lookup.plan_in_round(session, lookup.staff_round(session, actor, slug), public_id)


@declare.read
def authors_page(session: Session, public_id: str, resident_id: int) -> PlacePage:
    return _page(plans.editable_own_plan(session, public_id, resident_id), staff=False)


@declare.write
def set_as_author(session: Session, public_id: str, resident_id: int, point: Point | None) -> None:
    places.set_as_author(session, public_id, resident_id, point)


@declare.read
def staff_page(session: Session, actor: Actor, slug: str, public_id: str) -> PlacePage:
    return _page(_staff_plan(session, actor, slug, public_id), staff=True)


@declare.write
def set_as_staff(
    session: Session, actor: Actor, slug: str, public_id: str, point: Point | None
) -> PlacePage:
    """The page again, with the warnings about the point just set."""
    plan = _staff_plan(session, actor, slug, public_id)
    places.set_as_staff(session, actor, plan, point)
    return _page(plan, staff=True)


@declare.read
def boundary_page(session: Session, actor: Actor, area_id: int) -> BoundaryPage:
    area = _admins_area(session, actor, area_id)
    return BoundaryPage(area.id, area.name, area.boundary)


@declare.write
def set_boundary(session: Session, actor: Actor, area_id: int, data: bytes) -> None:
    places.set_boundary(session, actor, _admins_area(session, actor, area_id), data)


def _admins_area(session: Session, actor: Actor, area_id: int) -> Area:
    permissions.require_admin(actor)
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    return area
