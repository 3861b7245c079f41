"""The photo pages' functions: the re-encoding runs in a read transaction, storing in a write;
an author's and staff's page list the plan's photos; on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.errors import NotFound, PhaseClosed
from proeftuin.models import Phase, PlanStatus
from proeftuin.services.pages import photos
from proeftuin.services.pages.declare import Transaction, perform_now, transaction_of
from proeftuin.services.permissions import Actor
from tests.factories import make_plan, make_resident, make_round, make_staff, photo_file

UPLOAD = photos.Upload(photo_file(), "foto.jpg", "Het speelveld naast de school.")


def test_the_slow_part_holds_no_write_lock() -> None:
    assert transaction_of(photos.prepare_as_author) == Transaction.READ
    assert transaction_of(photos.prepare_as_staff) == Transaction.READ
    assert transaction_of(photos.add_as_author) == Transaction.WRITE
    assert transaction_of(photos.served) == Transaction.READ


def setup(db: Database, phase: Phase) -> tuple[str, int, Actor]:
    def build(session: Session) -> tuple[str, int, Actor]:
        round_ = make_round(session, phase=phase, costs=(), slug="ronde")
        author = make_resident(session)
        status = PlanStatus.OP_STEMBILJET if phase == Phase.STEMMEN else PlanStatus.INGEDIEND
        make_plan(session, round_, "veld", author=author, status=status, official_cost=1_000)
        return "veld", author.id, make_staff(session, area_ids=[round_.area_id])

    return transact(db, build)


def test_the_author_adds_a_photo_and_sees_it_on_the_page(db: Database) -> None:
    public_id, author, _ = setup(db, Phase.INDIENEN)
    prepared = perform_now(db, photos.prepare_as_author, public_id, author, UPLOAD)
    perform_now(db, photos.add_as_author, public_id, author, prepared)
    page = perform_now(db, photos.authors_page, public_id, author)
    assert [p.alt for p in page.photos] == [UPLOAD.alt] and page.room


def test_after_review_only_staff_change_the_photos(db: Database) -> None:
    public_id, author, staff = setup(db, Phase.STEMMEN)
    with pytest.raises(PhaseClosed):
        perform_now(db, photos.prepare_as_author, public_id, author, UPLOAD)
    prepared = perform_now(db, photos.prepare_as_staff, staff, "ronde", public_id, UPLOAD)
    perform_now(db, photos.add_as_staff, staff, "ronde", public_id, prepared)
    page = perform_now(db, photos.staff_page, staff, "ronde", public_id)
    assert len(page.photos) == 1
    perform_now(db, photos.remove_as_staff, staff, "ronde", public_id, page.photos[0].public_id)
    assert perform_now(db, photos.staff_page, staff, "ronde", public_id).photos == ()
    with pytest.raises(NotFound):
        perform_now(db, photos.staff_page, staff, "een-andere-ronde", public_id)
