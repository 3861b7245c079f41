"""Photos on plans: who may add or remove them, how many, their alt text, and who may see them.

The bytes a resident sends are never kept: ``images.reencode`` makes the copies that are
stored (in the database, see docs/decisions.md "Photos on plans") and served. A plan's author
adds and removes photos while they may edit the plan; staff of the plan's area at any time, in
the audit log. The public sees the photos of a plan it may see (``lookup.is_public``); those of
any other plan only its author and staff.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, NotFound, _
from proeftuin.models import Plan, PlanPhoto
from proeftuin.services import audit, images, lookup, permissions, plans
from proeftuin.services.permissions import Actor

MAX_PHOTOS = 5
ALT_MAX = 250
SIZES = ("mini", "klein", "groot")  # the names of the sizes in URLs: thumb, small, large

ALT_MISSING = _(
    "Beschrijf in een paar woorden wat er op de foto staat, voor wie de foto niet kan zien."
)
ALT_TOO_LONG = _("De beschrijving van de foto is te lang: hooguit {limit} tekens.")
FULL = _("Een plan kan hooguit {limit} foto's hebben. Haal eerst een foto weg.")


@dataclass(frozen=True)
class Photo:
    """What a page needs to show a photo (not its bytes)."""

    public_id: str
    alt: str
    width: int
    height: int

    @property
    def small_size(self) -> tuple[int, int]:
        """The small copy's width and height (for the page's layout before it loads)."""
        return self._fitting(images.SMALL_EDGE)

    @property
    def thumb_size(self) -> tuple[int, int]:
        return self._fitting(images.THUMB_EDGE)

    def _fitting(self, edge: int) -> tuple[int, int]:
        scale = min(1.0, edge / max(self.width, self.height))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))


@dataclass(frozen=True)
class Prepared:
    """An upload that passed every check, ready to store."""

    alt: str
    encoded: images.Encoded


@dataclass(frozen=True)
class Upload:
    """A file as the form sent it."""

    content: bytes
    filename: str
    alt: str


def of_plan(session: Session, plan_id: int) -> tuple[Photo, ...]:
    return of_plans(session, [plan_id]).get(plan_id, ())


def of_plans(session: Session, plan_ids: Iterable[int]) -> dict[int, tuple[Photo, ...]]:
    """The photos of each plan, in the order they were added (the first is the plan's cover)."""
    ids = list(plan_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            PlanPhoto.plan_id,
            PlanPhoto.public_id,
            PlanPhoto.alt,
            PlanPhoto.width,
            PlanPhoto.height,
        )
        .where(PlanPhoto.plan_id.in_(ids))
        .order_by(PlanPhoto.id)
    )
    found: dict[int, list[Photo]] = {}
    for row in rows:
        found.setdefault(row.plan_id, []).append(
            Photo(row.public_id, row.alt, row.width, row.height)
        )
    return {plan_id: tuple(photos) for plan_id, photos in found.items()}


def covers(session: Session, plan_ids: Iterable[int]) -> dict[int, Photo]:
    """Each plan's first photo, for its card."""
    return {plan_id: photos[0] for plan_id, photos in of_plans(session, plan_ids).items()}


def prepare(upload: Upload) -> Prepared:
    """The checked alt text and the re-encoded copies. Pure work on the file, done before the
    write transaction, so the seconds a large photo takes hold no database lock."""
    alt = " ".join(upload.alt.split())
    if not alt:
        raise Invalid("alt", ALT_MISSING)
    if len(alt) > ALT_MAX:
        raise Invalid("alt", ALT_TOO_LONG, limit=ALT_MAX)
    return Prepared(alt, images.reencode(upload.content, upload.filename))


def authors_plan(session: Session, public_id: str, resident_id: int) -> Plan:
    """The author's own plan, when its photos may still change (as its text may)."""
    return plans.editable_own_plan(session, public_id, resident_id)


def check_room(session: Session, plan: Plan) -> None:
    """Invalid when the plan has its most photos already."""
    count = session.scalar(select(func.count()).where(PlanPhoto.plan_id == plan.id)) or 0
    if count >= MAX_PHOTOS:
        raise Invalid("photo", FULL, limit=MAX_PHOTOS)


def add(session: Session, plan: Plan, prepared: Prepared, actor: Actor | None = None) -> Photo:
    """Store a prepared photo on the plan; staff's (``actor``) in the audit log."""
    check_room(session, plan)
    encoded = prepared.encoded
    row = PlanPhoto(
        public_id=secrets.token_urlsafe(12),
        plan_id=plan.id,
        alt=prepared.alt,
        width=encoded.width,
        height=encoded.height,
        thumb=encoded.thumb,
        small=encoded.small,
        large=encoded.large,
    )
    session.add(row)
    session.flush()
    if actor is not None:
        audit.record(
            session,
            actor.staff_id,
            "photo.add",
            "plan",
            plan.id,
            plan.round.area_id,
            photo=row.public_id,
        )
    return Photo(row.public_id, row.alt, row.width, row.height)


def remove(session: Session, plan: Plan, photo_id: str, actor: Actor | None = None) -> None:
    """Remove one of the plan's photos; staff's (``actor``) in the audit log."""
    photo = session.scalar(
        select(PlanPhoto).where(PlanPhoto.public_id == photo_id, PlanPhoto.plan_id == plan.id)
    )
    if photo is None:
        raise NotFound()
    session.delete(photo)
    if actor is not None:
        audit.record(
            session,
            actor.staff_id,
            "photo.remove",
            "plan",
            plan.id,
            plan.round.area_id,
            photo=photo_id,
        )


def served(
    session: Session, photo_id: str, size: str, *, resident_id: int | None, actor: Actor | None
) -> tuple[bytes, bool]:
    """The bytes of one size of a photo, and whether anyone may see it (a shared cache may keep
    it). Staff (``actor``) see the photos of their areas' plans; a resident those of public
    plans and of their own. NotFound for a photo one may not see, as for one that is not there."""
    if size not in SIZES:
        raise NotFound()
    column = {"mini": PlanPhoto.thumb, "klein": PlanPhoto.small, "groot": PlanPhoto.large}[size]
    row = session.execute(
        select(PlanPhoto.plan_id, column.label("jpeg")).where(PlanPhoto.public_id == photo_id)
    ).one_or_none()
    plan = session.get(Plan, row.plan_id) if row is not None else None
    if row is None or plan is None:
        raise NotFound()
    if actor is not None:
        permissions.require_area(actor, plan.round.area_id)
        return bytes(row.jpeg), False
    public = lookup.is_public(plan)
    if not public and (resident_id is None or plan.author_id != resident_id):
        raise NotFound()
    return bytes(row.jpeg), public
