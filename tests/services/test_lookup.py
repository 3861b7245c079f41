from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed, NotFound, PhaseClosed
from proeftuin.models import Phase, PlanStatus
from proeftuin.services import lookup
from tests.factories import make_plan, make_round, make_staff


def _two_areas(db: Database) -> tuple[str, str, int, int]:
    def build(session: Session) -> tuple[str, str, int, int]:
        mine = make_round(session, phase=Phase.BEOORDELEN, costs=())
        other = make_round(session, phase=Phase.STEMMEN, costs=(1_000,))
        make_plan(session, mine, "mijn-plan")
        return mine.slug, other.slug, mine.area_id, other.area_id

    return transact(db, build)


def test_staff_round_is_found_only_for_staff_of_its_area(db: Database) -> None:
    mine, other, my_area, _ = _two_areas(db)

    def check(session: Session) -> None:
        moderator = make_staff(session, area_ids=[my_area])
        admin = make_staff(session, role="admin")
        assert lookup.staff_round(session, moderator, mine).slug == mine
        assert lookup.staff_round(session, admin, other).slug == other
        with pytest.raises(NotAllowed):
            lookup.staff_round(session, moderator, other)
        with pytest.raises(NotFound):
            lookup.staff_round(session, admin, "bestaat-niet")

    transact(db, check)


def test_a_plan_is_found_only_in_its_own_round(db: Database) -> None:
    mine, other, _, other_area = _two_areas(db)

    def check(session: Session) -> None:
        admin = make_staff(session, role="admin")
        round_ = lookup.staff_round(session, admin, mine)
        assert lookup.plan_in_round(session, round_, "mijn-plan").public_id == "mijn-plan"
        with pytest.raises(NotFound):
            lookup.plan_in_round(session, lookup.staff_round(session, admin, other), "mijn-plan")
        stranger = make_staff(session, area_ids=[other_area])
        with pytest.raises(NotAllowed):
            lookup.staff_plan(session, stranger, "mijn-plan")

    transact(db, check)


def test_the_public_never_finds_a_concept_round_or_a_hidden_plan(db: Database) -> None:
    def build(session: Session) -> str:
        concept = make_round(session, phase=Phase.CONCEPT, costs=())
        open_round = make_round(session, phase=Phase.INDIENEN, costs=())
        make_plan(session, open_round, "zichtbaar")
        make_plan(session, open_round, "verborgen", hidden=True)
        make_plan(session, open_round, "ingetrokken", status=PlanStatus.INGETROKKEN)
        return concept.slug

    concept = transact(db, build)

    def check(session: Session) -> None:
        with pytest.raises(NotFound):
            lookup.public_round(session, concept)
        assert lookup.public_plan(session, "zichtbaar").public_id == "zichtbaar"
        for hidden in ("verborgen", "ingetrokken"):
            with pytest.raises(NotFound):
                lookup.public_plan(session, hidden)
        assert lookup.any_plan(session, "verborgen").hidden

    read(db, check)


def test_a_voting_round_must_be_in_its_voting_phase(db: Database) -> None:
    mine, other, _, _ = _two_areas(db)

    def check(session: Session) -> None:
        assert lookup.voting_round(session, other).slug == other
        with pytest.raises(PhaseClosed):
            lookup.voting_round(session, mine)
        with pytest.raises(NotFound):
            lookup.voting_round(session, "bestaat-niet")

    read(db, check)


def test_the_acting_admin_of_a_command_must_be_one_active_admin(db: Database) -> None:
    def check(session: Session) -> None:
        with pytest.raises(Invalid, match="geen beheerder"):
            lookup.acting_admin(session, None)
        first = make_staff(session, role="admin")
        assert lookup.acting_admin(session, None) == first
        make_staff(session, role="admin")
        with pytest.raises(Invalid, match="meer beheerders"):
            lookup.acting_admin(session, None)
        with pytest.raises(Invalid, match="geen actieve beheerder"):
            lookup.acting_admin(session, "niemand@gemeente.example")

    transact(db, check)
