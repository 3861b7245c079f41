"""What anyone can read: an area, a round with its plans, and one plan."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.errors import NotFound
from proeftuin.models import Phase, Plan, PlanStatus, Round, plan_cost
from proeftuin.services.pages import browse
from proeftuin.services.pages.declare import Transaction, perform_now, transaction_of
from tests.factories import make_plan, make_resident, make_round


def _round(db: Database, phase: Phase = Phase.INDIENEN) -> tuple[str, int, int]:
    """A round with an estimated plan ("schatting"), a costed one ("begroot"), a hidden one and
    a withdrawn one; returns its slug, the author's id and another resident's id."""

    def build(session: Session) -> tuple[str, int, int]:
        round_ = make_round(session, phase=phase, costs=())
        anna, bram = make_resident(session, name="Anna"), make_resident(session, name="Bram")
        make_plan(session, round_, "schatting", estimated_cost=2_000, author=anna)
        make_plan(session, round_, "begroot", estimated_cost=2_000, official_cost=2_600)
        make_plan(session, round_, "verborgen", hidden=True)
        make_plan(session, round_, "ingetrokken", status=PlanStatus.INGETROKKEN)
        return round_.slug, anna.id, bram.id

    return transact(db, build)


def test_the_pages_only_read() -> None:
    for page in (browse.area_view, browse.round_view, browse.plan_view):
        assert transaction_of(page) == Transaction.READ


def test_a_plan_costs_its_official_cost_once_set_else_its_estimate() -> None:
    assert plan_cost(None, 2_000) == 2_000
    assert plan_cost(2_600, 2_000) == 2_600
    assert plan_cost(0, 2_000) == 0  # free after all is a cost too
    assert Plan(estimated_cost=2_000, official_cost=None).cost == 2_000
    assert Plan(estimated_cost=2_000, official_cost=2_600).cost == 2_600


def test_an_area_lists_its_rounds_except_concepts(db: Database) -> None:
    def build(session: Session) -> str:
        shown = make_round(session, costs=(), phase=Phase.STEMMEN)
        concept = make_round(session, costs=(), phase=Phase.CONCEPT)
        concept.area_id = shown.area_id
        return shown.area.slug

    area_slug = transact(db, build)
    area = perform_now(db, browse.area_view, area_slug)
    assert [r.phase for r in area.rounds] == [Phase.STEMMEN]
    with pytest.raises(NotFound):
        perform_now(db, browse.area_view, "geen-wijk")


def test_a_round_shows_the_public_plans_at_their_cost(db: Database) -> None:
    slug, anna, _ = _round(db)
    view = perform_now(db, browse.round_view, slug, resident_id=anna)
    cards = {card.public_id: card for card in view.plans}
    assert set(cards) == {"schatting", "begroot"}
    assert (cards["schatting"].cost, cards["schatting"].cost_is_official) == (2_000, False)
    assert (cards["begroot"].cost, cards["begroot"].cost_is_official) == (2_600, True)
    assert [step.state for step in view.timeline][:2] == ["current", "upcoming"]


def test_a_concept_round_and_its_plans_are_not_there(db: Database) -> None:
    slug, anna, _ = _round(db, Phase.CONCEPT)
    with pytest.raises(NotFound):
        perform_now(db, browse.round_view, slug)
    with pytest.raises(NotFound):
        perform_now(db, browse.plan_view, "schatting", anna)


@pytest.mark.parametrize("public_id", ["verborgen", "ingetrokken", "bestaat-niet"])
def test_hidden_withdrawn_and_unknown_plans_have_no_page(db: Database, public_id: str) -> None:
    _round(db)
    with pytest.raises(NotFound):
        perform_now(db, browse.plan_view, public_id)


def test_only_the_author_sees_edit_and_withdraw_and_only_while_allowed(db: Database) -> None:
    slug, anna, bram = _round(db)
    mine = perform_now(db, browse.plan_view, "schatting", anna)
    assert (mine.is_author, mine.can_edit, mine.can_withdraw, mine.cost) == (
        True,
        True,
        True,
        2_000,
    )
    theirs = perform_now(db, browse.plan_view, "schatting", bram)
    assert (theirs.is_author, theirs.can_edit, theirs.can_withdraw) == (False, False, False)
    assert perform_now(db, browse.plan_view, "begroot").cost == 2_600

    def to_review(session: Session) -> None:
        session.execute(update(Round).where(Round.slug == slug).values(phase=Phase.BEOORDELEN))

    transact(db, to_review)
    reviewed = perform_now(db, browse.plan_view, "schatting", anna)
    assert (reviewed.can_edit, reviewed.can_withdraw) == (False, True)
