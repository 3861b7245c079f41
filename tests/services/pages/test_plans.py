"""The pages of a resident's own plans: propose, edit, withdraw and support."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import InvalidForm, NotAllowed, NotFound, PhaseClosed
from proeftuin.models import Phase, Plan, PlanStatus, Round
from proeftuin.services.pages import plans
from proeftuin.services.pages.declare import Transaction, perform_now, transaction_of
from proeftuin.services.pages.plans import PlanInput
from tests.factories import make_plan, make_resident, make_round

GOOD = PlanInput(
    title="Bankjes in het park",
    summary="Zes bankjes langs het pad.",
    body="",
    estimated_cost="4.500",
    location="Julianapark",
    theme="ontmoeten",
    self_executed=False,
)


def _round_with_plan(
    db: Database, phase: Phase, status: PlanStatus = PlanStatus.INGEDIEND
) -> tuple[str, str, int, int]:
    """(round slug, plan public id, its author's id, another resident's id)."""

    def build(session: Session) -> tuple[str, str, int, int]:
        round_ = make_round(session, phase=phase, costs=(), budget=20_000)
        anna = make_resident(session, name="Anna")
        bram = make_resident(session, name="Bram")
        on_ballot = status == PlanStatus.OP_STEMBILJET
        plan = make_plan(
            session,
            round_,
            "bankjes",
            status=status,
            author=anna,
            official_cost=1_000 if on_ballot else None,
        )
        return round_.slug, plan.public_id, anna.id, bram.id

    return transact(db, build)


def _set_phase(db: Database, slug: str, phase: Phase) -> None:
    def change(session: Session) -> None:
        session.execute(update(Round).where(Round.slug == slug).values(phase=phase.value))

    transact(db, change)


def _plan(session: Session, public_id: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.public_id == public_id))
    assert plan is not None
    return plan


def test_each_page_declares_the_transaction_its_route_used() -> None:
    reads = (
        plans.proposer,
        plans.proposal_round,
        plans.editable_plan,
        plans.withdrawable_plan,
        plans.support_view,
    )
    for page in reads:
        assert transaction_of(page) == Transaction.READ
    for action in (plans.propose, plans.edit, plans.withdraw, plans.set_support):
        assert transaction_of(action) == Transaction.WRITE


def test_a_plan_is_proposed_only_while_plans_are_being_submitted(db: Database) -> None:
    slug, _, anna, _ = _round_with_plan(db, Phase.INDIENEN)
    brief = perform_now(db, plans.proposal_round, slug)
    assert (brief.slug, brief.phase, brief.budget, brief.area_name) == (
        slug,
        Phase.INDIENEN,
        20_000,
        "Noord",
    )
    public_id = perform_now(db, plans.propose, slug, anna, GOOD)
    stored = read(db, lambda s: _plan(s, public_id))
    assert (stored.title, stored.estimated_cost, stored.author_name) == (
        "Bankjes in het park",
        4_500,
        "Anna",
    )

    _set_phase(db, slug, Phase.BEOORDELEN)
    with pytest.raises(PhaseClosed):
        perform_now(db, plans.proposal_round, slug)
    with pytest.raises(PhaseClosed):
        perform_now(db, plans.propose, slug, anna, GOOD)
    _set_phase(db, slug, Phase.CONCEPT)
    with pytest.raises(NotFound):
        perform_now(db, plans.proposal_round, slug)


def test_a_wrong_proposal_names_its_fields_and_stores_nothing(db: Database) -> None:
    slug, _, anna, _ = _round_with_plan(db, Phase.INDIENEN)
    wrong = PlanInput(**{**GOOD.__dict__, "title": "Kort", "estimated_cost": "veel"})
    with pytest.raises(InvalidForm) as refused:
        perform_now(db, plans.propose, slug, anna, wrong)
    assert set(refused.value.errors) == {"title", "estimated_cost"}
    assert (
        read(db, lambda s: s.scalar(select(func.count(Plan.id)))) == 1
    )  # only the one built above


def test_the_proposer_is_the_signed_in_account_with_its_name(db: Database) -> None:
    _, _, anna, _ = _round_with_plan(db, Phase.INDIENEN)
    nameless = transact(db, lambda s: make_resident(s, name="").id)
    assert perform_now(db, plans.proposer, anna) == plans.Proposer("Anna")
    assert perform_now(db, plans.proposer, nameless) == plans.Proposer("")
    assert perform_now(db, plans.proposer, nameless + 1_000) is None


def test_only_the_author_opens_the_edit_form_with_the_plan_as_it_is(db: Database) -> None:
    _, public_id, anna, bram = _round_with_plan(db, Phase.INDIENEN)
    plan = perform_now(db, plans.editable_plan, public_id, anna)
    assert plan.values.title == "Plan bankjes"
    assert plan.values.estimated_cost == "1000"  # as the form shows it
    assert (plan.can_edit, plan.can_withdraw) == (True, True)
    with pytest.raises(NotAllowed):
        perform_now(db, plans.editable_plan, public_id, bram)
    with pytest.raises(NotAllowed):
        perform_now(db, plans.edit, public_id, bram, GOOD)
    with pytest.raises(NotFound):
        perform_now(db, plans.editable_plan, "geen-plan", anna)


@pytest.mark.parametrize(
    ("phase", "status", "editable"),
    [
        (Phase.INDIENEN, PlanStatus.INGEDIEND, True),
        (Phase.INDIENEN, PlanStatus.AANPASSEN, True),
        (Phase.BEOORDELEN, PlanStatus.INGEDIEND, False),
        (Phase.BEOORDELEN, PlanStatus.AANPASSEN, True),
        # Changes asked, but voting began: the form is refused as the edit itself is.
        (Phase.STEMMEN, PlanStatus.AANPASSEN, False),
        (Phase.BEOORDELEN, PlanStatus.AFGEWEZEN, False),
    ],
)
def test_the_edit_form_is_open_exactly_when_the_edit_is_allowed(
    db: Database, phase: Phase, status: PlanStatus, editable: bool
) -> None:
    _, public_id, anna, _ = _round_with_plan(db, phase, status)
    if editable:
        assert perform_now(db, plans.editable_plan, public_id, anna).can_edit
        perform_now(db, plans.edit, public_id, anna, GOOD)
        title = read(db, lambda s: _plan(s, public_id).title)
        assert title == GOOD.title
    else:
        with pytest.raises(PhaseClosed):
            perform_now(db, plans.editable_plan, public_id, anna)
        with pytest.raises(PhaseClosed):
            perform_now(db, plans.edit, public_id, anna, GOOD)


def test_a_plan_is_withdrawn_until_voting_starts(db: Database) -> None:
    slug, public_id, anna, _ = _round_with_plan(db, Phase.BEOORDELEN, PlanStatus.OP_STEMBILJET)
    _set_phase(db, slug, Phase.STEMMEN)
    with pytest.raises(PhaseClosed):
        perform_now(db, plans.withdrawable_plan, public_id, anna)
    with pytest.raises(PhaseClosed):
        perform_now(db, plans.withdraw, public_id, anna)

    _set_phase(db, slug, Phase.BEOORDELEN)
    assert perform_now(db, plans.withdrawable_plan, public_id, anna).title == "Plan bankjes"
    perform_now(db, plans.withdraw, public_id, anna)
    status = read(db, lambda s: _plan(s, public_id).status)
    assert status == PlanStatus.INGETROKKEN
    with pytest.raises(PhaseClosed):  # withdrawn once is enough
        perform_now(db, plans.withdrawable_plan, public_id, anna)


def test_support_is_given_and_taken_back_and_the_plan_shows_it(db: Database) -> None:
    _, public_id, anna, bram = _round_with_plan(db, Phase.INDIENEN)
    assert perform_now(db, plans.set_support, public_id, bram, True) == 1
    assert perform_now(db, plans.set_support, public_id, anna, True) == 2
    view = perform_now(db, plans.support_view, public_id, bram)
    assert (view.support_count, view.supported, view.is_author) == (2, True, False)
    assert perform_now(db, plans.set_support, public_id, bram, False) == 1
    assert perform_now(db, plans.support_view, public_id, bram).supported is False


def test_a_hidden_plan_gets_no_support(db: Database) -> None:
    def build(session: Session) -> tuple[str, int]:
        round_ = make_round(session, phase=Phase.INDIENEN, costs=())
        plan = make_plan(session, round_, "verborgen", hidden=True)
        return plan.public_id, make_resident(session).id

    public_id, resident = transact(db, build)
    with pytest.raises(NotFound):
        perform_now(db, plans.set_support, public_id, resident, True)
