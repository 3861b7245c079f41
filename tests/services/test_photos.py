"""Photos on plans: who adds and removes them, how many, their alt text, who sees them; on both
databases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed, NotFound, PhaseClosed
from proeftuin.models import Phase, Plan, PlanPhoto, PlanStatus
from proeftuin.services import photos
from proeftuin.services.permissions import Actor
from tests.factories import actions, make_plan, make_resident, make_round, make_staff, photo_file

ALT = "Het grasveld achter de bibliotheek, met een kapotte bank."


@dataclass(frozen=True)
class Setup:
    public_id: str
    author: int
    stranger: int
    staff: Actor
    other_staff: Actor


def setup(db: Database, phase: Phase = Phase.INDIENEN) -> Setup:
    def build(session: Session) -> Setup:
        round_ = make_round(session, phase=phase, costs=())
        other_round = make_round(session, phase=phase, costs=())
        author, stranger = make_resident(session), make_resident(session)
        make_plan(session, round_, "bankje", author=author)
        return Setup(
            "bankje",
            author.id,
            stranger.id,
            make_staff(session, area_ids=[round_.area_id]),
            make_staff(session, area_ids=[other_round.area_id]),
        )

    return transact(db, build)


def upload(alt: str = ALT, data: bytes | None = None, filename: str = "IMG_0042.jpg"):  # type: ignore[no-untyped-def]
    return photos.prepare(photos.Upload(photo_file() if data is None else data, filename, alt))


def add_as_author(db: Database, s: Setup, alt: str = ALT) -> photos.Photo:
    prepared = upload(alt)

    def add(session: Session) -> photos.Photo:
        return photos.add(session, photos.authors_plan(session, s.public_id, s.author), prepared)

    return transact(db, add)


def stored(db: Database) -> int:
    return int(read(db, lambda session: session.scalar(select(func.count(PlanPhoto.id)))))


def test_the_author_adds_up_to_five_photos(db: Database) -> None:
    s = setup(db)
    for _ in range(photos.MAX_PHOTOS):
        add_as_author(db, s)
    with pytest.raises(Invalid) as caught:
        add_as_author(db, s)
    assert caught.value.message == photos.FULL
    assert stored(db) == photos.MAX_PHOTOS
    plan_id = read(db, lambda session: session.scalar(select(Plan.id)))
    listed = read(db, lambda session: photos.of_plan(session, plan_id))
    assert [p.alt for p in listed] == [ALT] * photos.MAX_PHOTOS


def test_the_alt_text_is_required_and_not_too_long() -> None:
    with pytest.raises(Invalid) as caught:
        upload("   ")
    assert (caught.value.field, caught.value.message) == ("alt", photos.ALT_MISSING)
    with pytest.raises(Invalid) as caught:
        upload("x" * (photos.ALT_MAX + 1))
    assert (caught.value.field, caught.value.message) == ("alt", photos.ALT_TOO_LONG)
    assert upload("  Een   bank\n onder de boom ").alt == "Een bank onder de boom"


def test_only_the_author_changes_the_photos_and_only_while_the_plan_may_change(
    db: Database,
) -> None:
    s = setup(db)
    with pytest.raises(NotAllowed):
        read(db, lambda session: photos.authors_plan(session, s.public_id, s.stranger))

    def to_voting(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == s.public_id))
        assert plan is not None
        plan.status = PlanStatus.OP_STEMBILJET.value
        plan.official_cost = 1_000
        plan.round.phase = Phase.STEMMEN.value

    transact(db, to_voting)
    with pytest.raises(PhaseClosed):
        add_as_author(db, s)
    assert stored(db) == 0


def test_staff_add_and_remove_photos_at_any_time_in_the_audit_log(db: Database) -> None:
    s = setup(db, Phase.STEMMEN)
    prepared = upload()

    def staff_add(session: Session) -> photos.Photo:
        plan = session.scalar(select(Plan).where(Plan.public_id == s.public_id))
        assert plan is not None
        return photos.add(session, plan, prepared, s.staff)

    photo = transact(db, staff_add)

    def staff_remove(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == s.public_id))
        assert plan is not None
        photos.remove(session, plan, photo.public_id, s.staff)

    transact(db, staff_remove)
    assert stored(db) == 0
    assert actions(db) == ["photo.add", "photo.remove"]


def test_a_photo_of_a_plan_not_yet_public_is_seen_only_by_its_author_and_staff(
    db: Database,
) -> None:
    s = setup(db)
    photo = add_as_author(db, s)

    def serve(resident: int | None, actor: Actor | None = None) -> tuple[bytes, bool]:
        return read(
            db,
            lambda session: photos.served(
                session, photo.public_id, "klein", resident_id=resident, actor=actor
            ),
        )

    data, public = serve(None)
    assert data.startswith(b"\xff\xd8") and public

    def hide(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == s.public_id))
        assert plan is not None
        plan.hidden = True

    transact(db, hide)
    for nobody in (None, s.stranger):
        with pytest.raises(NotFound):
            serve(nobody)
    assert serve(s.author) == (data, False)
    assert serve(None, s.staff) == (data, False)
    with pytest.raises(NotAllowed):
        serve(None, s.other_staff)
    with pytest.raises(NotFound):
        read(
            db,
            lambda session: photos.served(
                session, photo.public_id, "origineel", resident_id=s.author, actor=None
            ),
        )
