"""A plan's photos: the page where its author, or staff, add and remove them, and the photos
themselves. Every rule is ``services.photos``'s.

Adding takes two steps: ``prepare_*`` checks who may add and whether there is room, and
re-encodes the file, in a read transaction (the seconds that takes hold no write lock); then
``add_*`` stores the result, checking again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.models import Plan
from proeftuin.services import lookup, photos
from proeftuin.services.pages import declare
from proeftuin.services.pages._common import RoundBrief, round_brief
from proeftuin.services.permissions import Actor
from proeftuin.services.photos import ALT_MAX as ALT_MAX
from proeftuin.services.photos import MAX_PHOTOS as MAX_PHOTOS
from proeftuin.services.photos import Photo as Photo
from proeftuin.services.photos import Prepared as Prepared
from proeftuin.services.photos import Upload as Upload


@dataclass(frozen=True)
class PhotosPage:
    round: RoundBrief
    public_id: str
    title: str
    photos: tuple[Photo, ...]

    @property
    def room(self) -> bool:
        return len(self.photos) < MAX_PHOTOS


def _page(session: Session, plan: Plan) -> PhotosPage:
    return PhotosPage(
        round=round_brief(plan.round),
        public_id=plan.public_id,
        title=plan.title,
        photos=photos.of_plan(session, plan.id),
    )


def _staff_plan(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return lookup.plan_in_round(session, lookup.staff_round(session, actor, slug), public_id)


# -- The author --------------------------------------------------------------------------------


@declare.read
def authors_page(session: Session, public_id: str, resident_id: int) -> PhotosPage:
    return _page(session, photos.authors_plan(session, public_id, resident_id))


@declare.read
def prepare_as_author(
    session: Session, public_id: str, resident_id: int, upload: Upload
) -> Prepared:
    photos.check_room(session, photos.authors_plan(session, public_id, resident_id))
    return photos.prepare(upload)


@declare.write
def add_as_author(session: Session, public_id: str, resident_id: int, prepared: Prepared) -> None:
    photos.add(session, photos.authors_plan(session, public_id, resident_id), prepared)


@declare.write
def remove_as_author(session: Session, public_id: str, resident_id: int, photo_id: str) -> None:
    photos.remove(session, photos.authors_plan(session, public_id, resident_id), photo_id)


# -- Staff -------------------------------------------------------------------------------------


@declare.read
def staff_page(session: Session, actor: Actor, slug: str, public_id: str) -> PhotosPage:
    return _page(session, _staff_plan(session, actor, slug, public_id))


@declare.read
def prepare_as_staff(
    session: Session, actor: Actor, slug: str, public_id: str, upload: Upload
) -> Prepared:
    photos.check_room(session, _staff_plan(session, actor, slug, public_id))
    return photos.prepare(upload)


@declare.write
def add_as_staff(
    session: Session, actor: Actor, slug: str, public_id: str, prepared: Prepared
) -> None:
    photos.add(session, _staff_plan(session, actor, slug, public_id), prepared, actor)


@declare.write
def remove_as_staff(
    session: Session, actor: Actor, slug: str, public_id: str, photo_id: str
) -> None:
    photos.remove(session, _staff_plan(session, actor, slug, public_id), photo_id, actor)


# -- The photos themselves ---------------------------------------------------------------------


@declare.read
def served(
    session: Session, photo_id: str, size: str, resident_id: int | None, actor: Actor | None
) -> tuple[bytes, bool]:
    """The JPEG bytes, and whether the photo is public (may be cached by anyone)."""
    return photos.served(session, photo_id, size, resident_id=resident_id, actor=actor)
