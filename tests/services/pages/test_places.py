"""The place pages' functions: the author's page, staff's with its warnings, the boundary page;
on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.errors import NotAllowed, PhaseClosed
from proeftuin.models import Phase
from proeftuin.services import places as places_service
from proeftuin.services.pages import places
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.permissions import Actor
from tests.factories import make_plan, make_resident, make_round, make_staff

BRUSSELS = places.Point(50_846_700, 4_352_500)


def setup(db: Database, phase: Phase) -> tuple[int, Actor, Actor, int]:
    def build(session: Session) -> tuple[int, Actor, Actor, int]:
        round_ = make_round(session, phase=phase, costs=(), slug="ronde")
        author = make_resident(session)
        make_plan(session, round_, "plein", author=author)
        staff = make_staff(session, area_ids=[round_.area_id])
        return author.id, staff, make_staff(session, "admin"), round_.area_id

    return transact(db, build)


def test_the_author_sets_the_point_and_sees_no_warnings(db: Database) -> None:
    author, _, _, _ = setup(db, Phase.INDIENEN)
    perform_now(db, places.set_as_author, "plein", author, BRUSSELS)
    page = perform_now(db, places.authors_page, "plein", author)
    assert page.point == BRUSSELS and page.warnings == ()


def test_staff_see_what_to_check_about_the_point(db: Database) -> None:
    author, staff, _, _ = setup(db, Phase.BEOORDELEN)
    with pytest.raises(PhaseClosed):
        perform_now(db, places.authors_page, "plein", author)
    page = perform_now(db, places.set_as_staff, staff, "ronde", "plein", BRUSSELS)
    assert page.warnings == (places_service.OUTSIDE_NL,)


def test_only_an_admin_opens_the_boundary_page(db: Database) -> None:
    _, staff, admin, area_id = setup(db, Phase.INDIENEN)
    with pytest.raises(NotAllowed):
        perform_now(db, places.boundary_page, staff, area_id)
    perform_now(db, places.set_boundary, admin, area_id, b"")
    assert perform_now(db, places.boundary_page, admin, area_id).boundary == ""
