from __future__ import annotations

import pytest
from sqlalchemy import select

from proeftuin.db import Database, read, transact
from proeftuin.errors import InvalidForm, NotAllowed, PhaseClosed
from proeftuin.models import Phase, Plan, PlanStatus, Resident, Round
from proeftuin.services import plans
from proeftuin.services.plans import PlanInput
from tests.factories import make_round

GOOD = PlanInput(
    title="Bankjes in het park",
    summary="Zes bankjes langs het pad.",
    body="Meer **rust** voor ouderen.",
    estimated_cost="€ 4.500",
    location="Julianapark",
    theme="ontmoeten",
    self_executed=True,
)


def _setup(db: Database) -> tuple[str, int, int]:
    def build(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, phase=Phase.INDIENEN, costs=(), budget=20_000)
        a = Resident(email="a@example.nl", display_name="Anna")
        b = Resident(email="b@example.nl", display_name="Bram")
        session.add_all([a, b])
        session.flush()
        return round_.slug, a.id, b.id

    return transact(db, build)


def test_a_resident_proposes_edits_and_withdraws_a_plan(db: Database) -> None:
    slug, anna, _ = _setup(db)
    plan = transact(db, plans.propose, slug, anna, GOOD)
    assert plan.estimated_cost == 4_500
    assert plan.author_name == "Anna"
    assert plan.status == PlanStatus.INGEDIEND
    edited = transact(
        db,
        plans.edit,
        plan.public_id,
        anna,
        PlanInput(**{**GOOD.__dict__, "title": "Tien bankjes"}),
    )
    assert edited.title == "Tien bankjes"
    withdrawn = transact(db, plans.withdraw, plan.public_id, anna)
    assert withdrawn.status == PlanStatus.INGETROKKEN


def test_every_wrong_field_is_reported_and_nothing_is_stored(db: Database) -> None:
    slug, anna, _ = _setup(db)
    bad = PlanInput(
        title="Kort",
        summary="",
        body="x" * 10_001,
        estimated_cost="veel",
        location="",
        theme="onbekend",
        self_executed=False,
    )
    with pytest.raises(InvalidForm) as refused:
        transact(db, plans.propose, slug, anna, bad)
    assert set(refused.value.errors) == {"title", "summary", "body", "estimated_cost", "theme"}
    over = PlanInput(**{**GOOD.__dict__, "estimated_cost": "20001"})
    with pytest.raises(InvalidForm) as too_much:
        transact(db, plans.propose, slug, anna, over)
    assert "20.000" in str(too_much.value.errors["estimated_cost"])
    assert read(db, lambda s: s.scalars(select(Plan)).all()) == []


@pytest.mark.parametrize("typed", ["2500", "2.500", "€ 2.500", "2500,-", " 2500 "])
def test_costs_are_read_as_whole_euros(typed: str) -> None:
    assert plans._whole_euros(typed) == 2500


@pytest.mark.parametrize("typed", ["", "-5", "2500,50", "12e3", "1" * 13])
def test_other_costs_are_refused(typed: str) -> None:
    assert plans._whole_euros(typed) is None


def test_only_the_author_may_edit(db: Database) -> None:
    slug, anna, bram = _setup(db)
    plan = transact(db, plans.propose, slug, anna, GOOD)
    with pytest.raises(NotAllowed):
        transact(db, plans.edit, plan.public_id, bram, GOOD)
    with pytest.raises(NotAllowed):
        transact(db, plans.withdraw, plan.public_id, bram)


def test_support_once_per_resident_with_undo(db: Database) -> None:
    slug, anna, bram = _setup(db)
    plan = transact(db, plans.propose, slug, anna, GOOD)
    assert transact(db, plans.set_support, plan.public_id, bram, True) == 1
    assert transact(db, plans.set_support, plan.public_id, bram, True) == 1
    assert transact(db, plans.set_support, plan.public_id, anna, True) == 2
    assert transact(db, plans.set_support, plan.public_id, bram, False) == 1


def test_nothing_is_proposed_edited_or_supported_outside_indienen(db: Database) -> None:
    slug, anna, bram = _setup(db)
    plan = transact(db, plans.propose, slug, anna, GOOD)

    def review(session):  # type: ignore[no-untyped-def]
        session.scalar(select(Round).where(Round.slug == slug)).phase = Phase.BEOORDELEN.value

    transact(db, review)
    with pytest.raises(PhaseClosed):
        transact(db, plans.propose, slug, anna, GOOD)
    with pytest.raises(PhaseClosed):
        transact(db, plans.edit, plan.public_id, anna, GOOD)
    with pytest.raises(PhaseClosed):
        transact(db, plans.set_support, plan.public_id, bram, True)


def test_after_changes_are_asked_the_author_can_edit_and_it_returns_to_review(
    db: Database,
) -> None:
    slug, anna, _ = _setup(db)
    plan = transact(db, plans.propose, slug, anna, GOOD)

    def ask_changes(session):  # type: ignore[no-untyped-def]
        session.scalar(select(Round).where(Round.slug == slug)).phase = Phase.BEOORDELEN.value
        session.scalar(select(Plan)).status = PlanStatus.AANPASSEN.value

    transact(db, ask_changes)
    edited = transact(db, plans.edit, plan.public_id, anna, GOOD)
    assert edited.status == PlanStatus.INGEDIEND


EDITABLE = {
    (Phase.INDIENEN, PlanStatus.INGEDIEND),
    (Phase.INDIENEN, PlanStatus.AANPASSEN),
    (Phase.BEOORDELEN, PlanStatus.AANPASSEN),
}
WITHDRAWABLE = {
    (phase, status)
    for phase in (Phase.INDIENEN, Phase.BEOORDELEN)
    for status in (PlanStatus.INGEDIEND, PlanStatus.AANPASSEN, PlanStatus.OP_STEMBILJET)
}


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("status", list(PlanStatus))
def test_who_may_edit_or_withdraw_follows_the_phase_and_status(
    phase: Phase, status: PlanStatus
) -> None:
    plan = Plan(status=status.value, round=Round(phase=phase.value))
    assert plans.can_edit(plan) == ((phase, status) in EDITABLE)
    assert plans.can_withdraw(plan) == ((phase, status) in WITHDRAWABLE)


def test_voting_order_is_shuffled_per_visitor_but_stable(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        return make_round(session, costs=[100] * 12).id

    round_id = transact(db, build)

    def order(session, seed):  # type: ignore[no-untyped-def]
        every = plans.public_plans(session, round_id, Phase.STEMMEN.value)
        return [p.public_id for p in plans.in_view(every, Phase.STEMMEN.value, None, seed)]

    a1, a2, b = read(db, order, "a"), read(db, order, "a"), read(db, order, "b")
    assert a1 == a2
    assert a1 != b
    assert sorted(a1) == sorted(b)


def test_a_chosen_order_replaces_the_shuffle_and_a_search_needs_every_word(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        return make_round(session, costs=[300, 100, 200]).id

    round_id = transact(db, build)

    def view(session, **chosen):  # type: ignore[no-untyped-def]
        every = plans.public_plans(session, round_id, Phase.STEMMEN.value)
        shown = plans.in_view(every, Phase.STEMMEN.value, None, "seed", **chosen)
        return [p.title for p in shown]

    assert read(db, view, order="kosten") == ["Plan 1", "Plan 2", "Plan 0"]
    assert read(db, view, order="nieuwste") == ["Plan 2", "Plan 1", "Plan 0"]
    assert read(db, view, search="plan 1") == ["Plan 1"]
    assert read(db, view, search="plan 1 vijver") == []
    assert plans.search_words("  Bankjes   VIJVER ") == ["bankjes", "vijver"]
    assert len("".join(plans.search_words("x" * 500))) == plans.SEARCH_LIMIT
