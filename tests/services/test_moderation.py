from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed
from proeftuin.models import AuditEvent, OutboxMail, Phase, Plan, PlanStatus, Round, Support
from proeftuin.services import audit, lookup, moderation
from proeftuin.services.permissions import Actor
from tests.factories import make_plan, make_resident, make_round, make_staff

FROZEN = "Dit kan niet meer: het stemmen est begonnen.".replace("est", "is")
AUTHOR_EMAIL = "auteur@example.nl"


def _by_public_id(decision: Callable[..., Plan]) -> Callable[..., Plan]:
    """A decision on a plan named by its public id, looked up as the page tier does it."""

    def decide(session: Session, actor: Actor, public_id: str, *args: object) -> Plan:
        return decision(session, actor, lookup.staff_plan(session, actor, public_id), *args)

    return decide


accept = _by_public_id(moderation.accept)
ask_changes = _by_public_id(moderation.ask_changes)
reject = _by_public_id(moderation.reject)
hide = _by_public_id(moderation.hide)
unhide = _by_public_id(moderation.unhide)


def merge(session: Session, actor: Actor, duplicate: str, into: str, reason: str) -> Plan:
    plans = (lookup.staff_plan(session, actor, duplicate), lookup.staff_plan(session, actor, into))
    return moderation.merge(session, actor, *plans, reason)


def _queue(session: Session, actor: Actor, round_id: int) -> moderation.ReviewQueue:
    return moderation.review_queue(session, lookup.staff_round_by_id(session, actor, round_id))


@dataclass(frozen=True)
class Setup:
    round_id: int
    moderator: Actor
    stranger: Actor  # a moderator of another area


def _setup(db: Database, phase: Phase = Phase.BEOORDELEN, **settings: object) -> Setup:
    """A round (budget 10,000) with plans a (ingediend, estimate 2,000, by a resident with two
    supporters), b (ingediend, no author) and c (on the ballot at 3,000)."""

    def build(session: Session) -> Setup:
        round_ = make_round(session, phase=phase, costs=(), **settings)
        author = make_resident(session, AUTHOR_EMAIL, name="Anouk")
        fans = [make_resident(session) for _ in range(2)]
        make_plan(session, round_, "a", estimated_cost=2_000, author=author, supporters=fans)
        make_plan(session, round_, "b", estimated_cost=1_000)
        make_plan(
            session,
            round_,
            "c",
            estimated_cost=3_000,
            status=PlanStatus.OP_STEMBILJET,
            official_cost=3_000,
        )
        other = make_round(session, costs=())
        return Setup(
            round_.id,
            make_staff(session, "moderator", [round_.area_id]),
            make_staff(session, "moderator", [other.area_id]),
        )

    return transact(db, build)


def _plan(db: Database, public_id: str) -> Plan:
    return read(db, lambda s: s.scalar(select(Plan).where(Plan.public_id == public_id)))


def _mails(db: Database) -> list[OutboxMail]:
    return read(db, lambda s: s.scalars(select(OutboxMail).order_by(OutboxMail.id)).all())


def _last_audit(db: Database) -> audit.Entry:
    return read(db, audit.events)[0]


def _audit_count(db: Database) -> int:
    return read(db, lambda s: s.scalar(select(func.count(AuditEvent.id))))


def test_the_queue_lists_plans_by_status_with_their_support(db: Database) -> None:
    setup = _setup(db, support_threshold=1)
    queue = read(db, _queue, setup.moderator, setup.round_id)
    ingediend = queue.by_status[PlanStatus.INGEDIEND]
    assert [(i.plan.public_id, i.supports, i.below_threshold) for i in ingediend] == [
        ("a", 2, False),
        ("b", 0, True),
    ]
    assert [i.plan.public_id for i in queue.by_status[PlanStatus.OP_STEMBILJET]] == ["c"]
    assert queue.by_status[PlanStatus.AFGEWEZEN] == []
    assert list(queue.by_status) == list(PlanStatus)
    assert queue.can_review
    with pytest.raises(NotAllowed):
        read(db, _queue, setup.stranger, setup.round_id)


def test_accepting_puts_a_plan_on_the_ballot_with_its_official_cost(db: Database) -> None:
    setup = _setup(db)
    transact(db, accept, setup.moderator, "a", "€ 2.500", " Inclusief onderhoud. ")
    plan = _plan(db, "a")
    assert (plan.status, plan.official_cost, plan.cost_explanation) == (
        PlanStatus.OP_STEMBILJET,
        2_500,
        "Inclusief onderhoud.",
    )
    entry = _last_audit(db)
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "plan.accept",
        plan.id,
        setup.moderator.staff_id,
    )
    assert entry.details == {"official_cost": 2_500, "estimated_cost": 2_000}
    # The same cost as the estimate needs no explanation.
    transact(db, accept, setup.moderator, "b", 1_000, "")
    assert _plan(db, "b").status == PlanStatus.OP_STEMBILJET


@pytest.mark.parametrize(
    ("cost", "explanation", "field", "message"),
    [
        ("2500", "", "cost_explanation", "schatting van de indiener (€ 2.000)"),
        ("12000", "Duurder", "official_cost", "hoger dan het budget van € 10.000"),
        ("0", "", "official_cost", "groter dan 0"),
        ("twee", "", "official_cost", "heel bedrag"),
    ],
)
def test_an_official_cost_that_does_not_fit_is_refused(
    db: Database, cost: str, explanation: str, field: str, message: str
) -> None:
    setup = _setup(db)
    with pytest.raises(InvalidForm) as refused:
        transact(db, accept, setup.moderator, "a", cost, explanation)
    assert message in str(refused.value.errors[field])
    assert _plan(db, "a").status == PlanStatus.INGEDIEND
    assert _audit_count(db) == 0


def test_a_plan_below_the_support_threshold_cannot_be_accepted(db: Database) -> None:
    setup = _setup(db, support_threshold=3)
    with pytest.raises(Invalid, match=r"2 keer steun gekregen.*minstens 3 keer steun"):
        transact(db, accept, setup.moderator, "a", 2_000, "")

    def support(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == "a"))
        session.add(Support(plan_id=plan.id, resident_id=make_resident(session).id))

    transact(db, support)
    transact(db, accept, setup.moderator, "a", 2_000, "")
    assert _plan(db, "a").status == PlanStatus.OP_STEMBILJET


@pytest.mark.parametrize(
    ("status", "hidden", "message"),
    [
        (PlanStatus.INGETROKKEN, False, "ingetrokken"),
        (PlanStatus.SAMENGEVOEGD, False, "samengevoegd"),
        (PlanStatus.INGEDIEND, True, "verborgen"),
    ],
)
def test_withdrawn_merged_or_hidden_plans_cannot_be_accepted(
    db: Database, status: PlanStatus, hidden: bool, message: str
) -> None:
    setup = _setup(db)

    def change(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == "b"))
        plan.status, plan.hidden = status.value, hidden

    transact(db, change)
    with pytest.raises(Invalid, match=message):
        transact(db, accept, setup.moderator, "b", 1_000, "")


def test_review_is_open_while_plans_come_in(db: Database) -> None:
    setup = _setup(db, phase=Phase.INDIENEN)
    transact(db, accept, setup.moderator, "b", 1_000, "")
    assert _plan(db, "b").status == PlanStatus.OP_STEMBILJET


def _all_decisions(setup: Setup) -> list[Callable[[Session], object]]:
    m = setup.moderator
    return [
        lambda s: accept(s, m, "b", 1_000, ""),
        lambda s: ask_changes(s, m, "a", "Graag een tekening erbij."),
        lambda s: reject(s, m, "c", "Dit kan niet op deze plek."),
        lambda s: merge(s, m, "b", "a", "Deze plannen gaan over hetzelfde."),
    ]


@pytest.mark.parametrize("phase", [Phase.STEMMEN, Phase.GESLOTEN, Phase.GEPUBLICEERD])
def test_every_decision_is_refused_once_voting_opened(db: Database, phase: Phase) -> None:
    setup = _setup(db, phase=phase)
    for decision in _all_decisions(setup):
        with pytest.raises(Invalid) as refused:
            transact(db, decision)
        assert str(refused.value) == FROZEN
    with pytest.raises(Invalid, match=FROZEN):
        transact(db, hide, setup.moderator, "c", "Scheldwoorden in de tekst.")
    assert [_plan(db, p).status for p in "abc"] == ["ingediend", "ingediend", "op_stembiljet"]
    assert _audit_count(db) == 0


def test_nothing_is_decided_in_a_concept_round(db: Database) -> None:
    setup = _setup(db, phase=Phase.CONCEPT)
    for decision in _all_decisions(setup):
        with pytest.raises(Invalid, match="pas als het indienen is begonnen"):
            transact(db, decision)


def test_a_moderator_of_another_area_can_do_nothing_here(db: Database) -> None:
    setup = _setup(db)
    stranger = Setup(setup.round_id, setup.stranger, setup.stranger)
    for decision in [
        *_all_decisions(stranger),
        lambda s: hide(s, setup.stranger, "a", "Scheldwoorden in de tekst."),
        lambda s: lookup.staff_plan(s, setup.stranger, "a"),
    ]:
        with pytest.raises(NotAllowed):
            transact(db, decision)
    assert _audit_count(db) == 0


def test_asking_for_changes_mails_the_author_and_keeps_the_address_out_of_the_log(
    db: Database,
) -> None:
    setup = _setup(db)
    transact(
        db,
        lambda s: ask_changes(
            s, setup.moderator, "a", "Graag een tekening erbij.", "https://x.example/plannen/a"
        ),
    )
    plan = _plan(db, "a")
    assert (plan.status, plan.public_reason) == (PlanStatus.AANPASSEN, "Graag een tekening erbij.")
    [mail] = _mails(db)
    assert mail.recipient == AUTHOR_EMAIL
    assert "Hallo Anouk," in mail.body
    assert "Graag een tekening erbij." in mail.body
    assert "https://x.example/plannen/a" in mail.body
    entry = _last_audit(db)
    assert entry.action == "plan.ask_changes"
    assert entry.details == {"reason": "Graag een tekening erbij.", "author_mailed": True}
    raw = read(db, lambda s: s.scalar(select(AuditEvent.details)))
    assert "@" not in raw


def test_a_plan_without_an_author_gets_no_mail(db: Database) -> None:
    setup = _setup(db)
    transact(db, ask_changes, setup.moderator, "b", "Graag een tekening erbij.")
    assert _mails(db) == []
    assert _last_audit(db).details["author_mailed"] is False


def test_rejecting_needs_a_public_reason(db: Database) -> None:
    setup = _setup(db)
    with pytest.raises(Invalid) as refused:
        transact(db, reject, setup.moderator, "a", "  nee  ")
    assert refused.value.field == "public_reason"
    assert _plan(db, "a").status == PlanStatus.INGEDIEND
    transact(db, reject, setup.moderator, "a", "Dit is geen openbare ruimte.")
    plan = _plan(db, "a")
    assert (plan.status, plan.public_reason) == (
        PlanStatus.AFGEWEZEN,
        "Dit is geen openbare ruimte.",
    )
    assert "Dit is geen openbare ruimte." in _mails(db)[0].body
    with pytest.raises(Invalid, match="is afgewezen"):
        transact(db, reject, setup.moderator, "a", "Dit is geen openbare ruimte.")


def test_a_rejected_plan_can_be_reconsidered_and_taken_off_the_ballot(db: Database) -> None:
    setup = _setup(db)
    transact(db, reject, setup.moderator, "c", "Dit kan niet op deze plek.")
    assert _plan(db, "c").status == PlanStatus.AFGEWEZEN
    transact(db, accept, setup.moderator, "c", 3_000, "")
    assert _plan(db, "c").status == PlanStatus.OP_STEMBILJET


def test_merging_moves_the_support_without_counting_anyone_twice(db: Database) -> None:
    setup = _setup(db)

    def more(session: Session) -> None:
        round_ = session.get(Round, setup.round_id)
        a = session.scalar(select(Plan).where(Plan.public_id == "a"))
        fans = session.scalars(select(Support.resident_id).where(Support.plan_id == a.id)).all()
        both = session.get(Plan, a.id)
        assert both is not None
        make_plan(session, round_, "d", status=PlanStatus.AFGEWEZEN)
        target = session.scalar(select(Plan).where(Plan.public_id == "b"))
        session.add(Support(plan_id=target.id, resident_id=fans[0]))  # supports a and b
        earlier = session.scalar(select(Plan).where(Plan.public_id == "d"))
        earlier.status, earlier.merged_into_id = PlanStatus.SAMENGEVOEGD.value, a.id

    transact(db, more)
    transact(db, merge, setup.moderator, "a", "b", "Deze plannen gaan over hetzelfde.")

    a, b, d = (_plan(db, p) for p in "abd")
    assert (a.status, a.merged_into_id, a.public_reason) == (
        PlanStatus.SAMENGEVOEGD,
        b.id,
        "Deze plannen gaan over hetzelfde.",
    )
    assert d.merged_into_id == b.id  # what was merged into a follows along

    def supports(session: Session) -> dict[int, list[int]]:
        rows = session.execute(select(Support.plan_id, Support.resident_id))
        out: dict[int, list[int]] = {}
        for plan_id, resident_id in rows:
            out.setdefault(plan_id, []).append(resident_id)
        return out

    by_plan = read(db, supports)
    assert a.id not in by_plan
    assert len(by_plan[b.id]) == len(set(by_plan[b.id])) == 2
    assert _last_audit(db).details["moved_supports"] == 1
    assert _mails(db) == []  # the author's mail waits out the undo window (services/merges.py)


@pytest.mark.parametrize(
    ("duplicate", "into", "message"),
    [
        ("a", "a", "met zichzelf"),
        ("a", "elders", "dezelfde ronde"),
    ],
)
def test_only_two_plans_of_one_round_can_be_merged(
    db: Database, duplicate: str, into: str, message: str
) -> None:
    setup = _setup(db)

    def elsewhere(session: Session) -> None:
        other = make_round(session, costs=(), phase=Phase.BEOORDELEN)
        other.area_id = session.get(Round, setup.round_id).area_id
        make_plan(session, other, "elders")

    transact(db, elsewhere)
    with pytest.raises(Invalid, match=message):
        transact(db, merge, setup.moderator, duplicate, into, "Zelfde plan als b.")
    assert _plan(db, "a").status == PlanStatus.INGEDIEND


def test_hiding_abusive_text_is_audited_and_can_be_undone(db: Database) -> None:
    setup = _setup(db)
    with pytest.raises(Invalid, match="waarom"):
        transact(db, hide, setup.moderator, "a", " ")
    transact(db, hide, setup.moderator, "a", "Scheldwoorden in de tekst.")
    assert _plan(db, "a").hidden
    with pytest.raises(Invalid, match="al verborgen"):
        transact(db, hide, setup.moderator, "a", "Nog eens.")
    assert _last_audit(db).details == {"reason": "Scheldwoorden in de tekst."}
    transact(db, unhide, setup.moderator, "a")
    assert not _plan(db, "a").hidden
    assert [e.action for e in read(db, audit.events)][:2] == ["plan.unhide", "plan.hide"]
    with pytest.raises(Invalid, match="op het stembiljet kan niet verborgen"):
        transact(db, hide, setup.moderator, "c", "Scheldwoorden in de tekst.")


def test_abusive_text_off_the_ballot_can_be_hidden_during_voting(db: Database) -> None:
    setup = _setup(db, phase=Phase.STEMMEN)
    transact(db, hide, setup.moderator, "a", "Scheldwoorden in de tekst.")
    assert _plan(db, "a").hidden
