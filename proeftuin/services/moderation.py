"""The review queue: staff decide which plans go on the ballot, and at what official cost.

Reviewing happens while plans come in (indienen) and after (beoordelen): reviewing early spreads
the work and tells authors sooner what to change. Once voting opens the plan list is frozen, so
every decision here is refused from then on. Hiding abusive text is not a ballot change: it stays
possible for plans that are not on the ballot, in every phase. The functions take the plan as
the page tier found it (``lookup``), which checked the actor's area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, InvalidForm, _
from proeftuin.i18n import gettext
from proeftuin.models import Phase, Plan, PlanStatus, Resident, Round, Support
from proeftuin.services import audit, comments, merges, outbox, rounds
from proeftuin.services.permissions import Actor

REVIEW_PHASES = (Phase.INDIENEN, Phase.BEOORDELEN)
REASON_LIMITS = (10, 2_000)
EXPLANATION_LIMIT = 2_000
STATUS_REFUSALS = {
    PlanStatus.INGEDIEND: _("Dit plan is nog niet beoordeeld."),
    PlanStatus.AANPASSEN: _("De indiener past dit plan nog aan."),
    PlanStatus.OP_STEMBILJET: _("Dit plan staat al op het stembiljet."),
    PlanStatus.AFGEWEZEN: _("Dit plan is afgewezen."),
    PlanStatus.INGETROKKEN: _("De indiener heeft dit plan ingetrokken."),
    PlanStatus.SAMENGEVOEGD: _("Dit plan is samengevoegd met een ander plan."),
}
# Accepting an accepted plan again changes its official cost; a rejected plan can be reconsidered.
CAN_ACCEPT = (
    PlanStatus.INGEDIEND,
    PlanStatus.AANPASSEN,
    PlanStatus.AFGEWEZEN,
    PlanStatus.OP_STEMBILJET,
)
CAN_ASK_CHANGES = (PlanStatus.INGEDIEND, PlanStatus.OP_STEMBILJET)
CAN_REJECT = (PlanStatus.INGEDIEND, PlanStatus.AANPASSEN, PlanStatus.OP_STEMBILJET)
CAN_BE_MERGED = (*CAN_REJECT, PlanStatus.AFGEWEZEN)
CAN_MERGE_INTO = CAN_REJECT


@dataclass(frozen=True)
class QueueItem:
    plan: Plan
    supports: int
    below_threshold: bool  # cannot be accepted (yet): too little support


@dataclass(frozen=True)
class ReviewQueue:
    round: Round
    by_status: dict[PlanStatus, list[QueueItem]]  # every status, in order; hidden plans too

    @property
    def can_review(self) -> bool:
        return self.round.phase in REVIEW_PHASES


@dataclass(frozen=True)
class RoundWork:
    """What waits for staff in one round, for the dashboard."""

    waiting: int  # plans handed in, waiting for a decision
    asked_to_change: int  # plans sent back to their author
    hidden: int  # plans hidden for their text
    next_phase: Phase | None
    next_at: dt.datetime | None  # when the next phase starts, if a date is set
    reported_comments: int  # comments reported by residents, waiting for a decision

    @property
    def to_do(self) -> int:
        return self.waiting + self.hidden + self.reported_comments


def round_work(session: Session, round_ids: Sequence[int]) -> dict[int, RoundWork]:
    """Per round id: the plans waiting for review, asked to change, hidden, and the next phase."""
    counts: dict[tuple[int, str, bool], int] = {
        (round_id, status, bool(hidden)): n
        for round_id, status, hidden, n in session.execute(
            select(Plan.round_id, Plan.status, Plan.hidden, func.count(Plan.id))
            .where(Plan.round_id.in_(list(round_ids)))
            .group_by(Plan.round_id, Plan.status, Plan.hidden)
        )
    }
    reported = comments.reported_per_round(session, round_ids)
    work = {}
    for round_ in session.scalars(select(Round).where(Round.id.in_(list(round_ids)))):

        def count(status: PlanStatus, round_id: int = round_.id) -> int:
            return counts.get((round_id, status.value, False), 0)

        following = rounds.next_phase(round_.phase)
        field = rounds.PHASE_STARTS.get(following) if following else None
        work[round_.id] = RoundWork(
            waiting=count(PlanStatus.INGEDIEND),
            asked_to_change=count(PlanStatus.AANPASSEN),
            hidden=sum(n for (rid, _s, hidden), n in counts.items() if rid == round_.id and hidden),
            next_phase=following,
            next_at=getattr(round_, field) if field else None,
            reported_comments=reported.get(round_.id, 0),
        )
    return work


def review_queue(session: Session, round_: Round) -> ReviewQueue:
    counts = dict(
        session.execute(
            select(Support.plan_id, func.count(Support.id))
            .join(Plan, Plan.id == Support.plan_id)
            .where(Plan.round_id == round_.id)
            .group_by(Support.plan_id)
        ).all()
    )
    by_status: dict[PlanStatus, list[QueueItem]] = {status: [] for status in PlanStatus}
    for plan in session.scalars(select(Plan).where(Plan.round_id == round_.id).order_by(Plan.id)):
        supports = counts.get(plan.id, 0)
        by_status[PlanStatus(plan.status)].append(
            QueueItem(plan, supports, supports < round_.support_threshold)
        )
    return ReviewQueue(round_, by_status)


def accept(
    session: Session,
    actor: Actor,
    plan: Plan,
    official_cost: int | str,
    cost_explanation: str,
) -> Plan:
    """Put a plan on the ballot with its official cost (which must fit the budget). When it
    differs from the author's estimate, the public explanation is required."""
    round_ = plan.round
    check_reviewable(round_)
    _check_status(plan, CAN_ACCEPT)
    if plan.hidden:
        raise Invalid("", _("Dit plan is verborgen. Maak het eerst weer zichtbaar."))
    supports = _support_count(session, plan)
    if supports < round_.support_threshold:
        raise Invalid(
            "",
            _(
                "Dit plan heeft {count} keer steun gekregen. Voor het stembiljet is "
                "minstens {threshold} keer steun nodig."
            ),
            count=supports,
            threshold=round_.support_threshold,
        )
    cost, explanation = _validated_cost(plan, official_cost, cost_explanation)
    plan.status = PlanStatus.OP_STEMBILJET.value
    plan.official_cost = cost
    plan.cost_explanation = explanation
    plan.public_reason = ""
    session.flush()
    _audit(
        session,
        actor,
        "plan.accept",
        plan,
        official_cost=cost,
        estimated_cost=plan.estimated_cost,
    )
    return plan


def ask_changes(
    session: Session, actor: Actor, plan: Plan, reason: str, plan_url: str = ""
) -> Plan:
    """Send a plan back to its author with what to change; the author is mailed."""
    check_reviewable(plan.round)
    _check_status(plan, CAN_ASK_CHANGES)
    reason = _reason(reason)
    plan.status = PlanStatus.AANPASSEN.value
    plan.public_reason = reason
    session.flush()
    mailed = _mail_author(
        session,
        plan,
        _("Uw plan: wilt u iets aanpassen?"),
        _("Wij hebben uw plan bekeken. Wilt u er iets aan aanpassen? Dit is de reden:"),
        reason,
        plan_url,
        _("Pas uw plan aan via deze link:"),
    )
    _audit(session, actor, "plan.ask_changes", plan, reason=reason, author_mailed=mailed)
    return plan


def reject(
    session: Session, actor: Actor, plan: Plan, public_reason: str, plan_url: str = ""
) -> Plan:
    """Refuse a plan with a reason that everyone can read; the author is mailed."""
    check_reviewable(plan.round)
    _check_status(plan, CAN_REJECT)
    reason = _reason(public_reason, "public_reason")
    plan.status = PlanStatus.AFGEWEZEN.value
    plan.public_reason = reason
    session.flush()
    mailed = _mail_author(
        session,
        plan,
        _("Uw plan komt niet op het stembiljet"),
        _("Wij hebben uw plan bekeken. Het komt niet op het stembiljet. Dit is de reden:"),
        reason,
        plan_url,
        _("Bekijk uw plan via deze link:"),
    )
    _audit(session, actor, "plan.reject", plan, reason=reason, author_mailed=mailed)
    return plan


def check_merge(duplicate: Plan, into: Plan, public_reason: str) -> str:
    """Whether ``duplicate`` may be merged into ``into``; the reason, cleaned."""
    if duplicate.id == into.id:
        raise Invalid("into_id", _("Een plan kan niet met zichzelf worden samengevoegd."))
    if duplicate.round_id != into.round_id:
        raise Invalid("into_id", _("Alleen plannen uit dezelfde ronde kunnen samen."))
    check_reviewable(duplicate.round)
    _check_status(duplicate, CAN_BE_MERGED)
    _check_status(into, CAN_MERGE_INTO, field="into_id")
    return _reason(public_reason, "public_reason")


def merge(
    session: Session,
    actor: Actor,
    duplicate: Plan,
    into: Plan,
    public_reason: str,
    plan_url: str = "",
) -> Plan:
    """Merge a duplicate into another plan of the same round. Its supporters now support the
    other plan (each resident once); plans merged into the duplicate before follow along. What
    changed is kept (services/merges.py) so staff can undo it, and the author is mailed only
    after the undo window."""
    reason = check_merge(duplicate, into, public_reason)
    previous_status, previous_reason = duplicate.status, duplicate.public_reason
    supporters = list(
        session.scalars(select(Support.resident_id).where(Support.plan_id == duplicate.id))
    )
    moved = _move_supports(session, duplicate.id, into.id)
    followers = list(session.scalars(select(Plan.id).where(Plan.merged_into_id == duplicate.id)))
    session.execute(
        update(Plan).where(Plan.merged_into_id == duplicate.id).values(merged_into_id=into.id)
    )
    duplicate.status = PlanStatus.SAMENGEVOEGD.value
    duplicate.merged_into_id = into.id
    duplicate.public_reason = reason
    session.flush()
    mail = _author_mail(
        session,
        duplicate,
        _("Uw plan is samengevoegd met een ander plan"),
        _("Er is een plan ingediend dat erg op het uwe lijkt. Wij hebben ze samengevoegd:"),
        reason,
        plan_url,
        _("Bekijk het plan via deze link:"),
    )
    record = merges.record(
        session,
        actor,
        duplicate,
        into,
        previous_status=previous_status,
        previous_reason=previous_reason,
        supporters=supporters,
        moved=moved,
        followers=followers,
        mail=mail,
    )
    _audit(
        session,
        actor,
        "plan.merge",
        duplicate,
        into_plan_id=into.id,
        moved_supports=len(moved),
        reason=reason,
        author_mailed=False,
        author_notice_due=record.mail_due_at.isoformat() if record.mail_due_at else "",
    )
    return duplicate


def undo_merge(session: Session, actor: Actor, plan: Plan) -> Plan:
    """Put a merged plan back as it was (services/merges.py), while review decisions are open."""
    check_reviewable(plan.round)
    return merges.undo(session, actor, plan)


def hide(session: Session, actor: Actor, plan: Plan, reason: str) -> Plan:
    """Take abusive text out of public view. The reason is kept in the audit log only."""
    if plan.status == PlanStatus.OP_STEMBILJET:
        rounds.require_not_frozen(plan.round)
        raise Invalid(
            "",
            _(
                "Een plan op het stembiljet kan niet verborgen worden. "
                "Wijs het eerst af, of vraag de indiener om het aan te passen."
            ),
        )
    if plan.hidden:
        raise Invalid("", _("Dit plan is al verborgen."))
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", _("Schrijf op waarom u dit plan verbergt."))
    plan.hidden = True
    session.flush()
    _audit(session, actor, "plan.hide", plan, reason=reason[: REASON_LIMITS[1]])
    return plan


def unhide(session: Session, actor: Actor, plan: Plan) -> Plan:
    if not plan.hidden:
        raise Invalid("", _("Dit plan is niet verborgen."))
    plan.hidden = False
    session.flush()
    _audit(session, actor, "plan.unhide", plan)
    return plan


def check_reviewable(round_: Round) -> None:
    rounds.require_not_frozen(round_)
    if round_.phase not in REVIEW_PHASES:
        raise Invalid("", _("Plannen beoordelen kan pas als het indienen is begonnen."))


def _check_status(plan: Plan, allowed: tuple[PlanStatus, ...], field: str = "") -> None:
    if plan.status not in allowed:
        raise Invalid(field, STATUS_REFUSALS[PlanStatus(plan.status)])


def _validated_cost(plan: Plan, typed_cost: int | str, typed_explanation: str) -> tuple[int, str]:
    errors: list[Invalid] = []
    budget = plan.round.budget
    cost = _whole_euros(typed_cost)
    explanation = typed_explanation.strip()
    if cost is None or cost == 0:
        errors.append(
            Invalid(
                "official_cost",
                _("Vul de officiële kosten in als een heel bedrag in euro's, groter dan 0."),
            )
        )
    elif cost > budget:
        errors.append(
            Invalid(
                "official_cost",
                _("De officiële kosten (€ {cost}) zijn hoger dan het budget van € {budget}."),
                cost=rounds.euros(cost),
                budget=rounds.euros(budget),
            )
        )
    if cost is not None and cost != plan.estimated_cost and not explanation:
        errors.append(
            Invalid(
                "cost_explanation",
                _(
                    "Leg uit waarom de officiële kosten anders zijn dan de schatting "
                    "van de indiener (€ {estimate})."
                ),
                estimate=rounds.euros(plan.estimated_cost),
            )
        )
    if len(explanation) > EXPLANATION_LIMIT:
        errors.append(
            Invalid(
                "cost_explanation", _("Gebruik hoogstens {limit} tekens."), limit=EXPLANATION_LIMIT
            )
        )
    if errors:
        raise InvalidForm(errors)
    assert cost is not None
    return cost, explanation


def _whole_euros(typed: int | str) -> int | None:
    if isinstance(typed, int):
        return typed if 0 <= typed < 10**12 else None
    text = typed.strip().replace("€", "").replace(" ", "").replace(".", "")
    if text.endswith(",-"):
        text = text[:-2]
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    return int(text)


def _reason(text: str, field: str = "reason") -> str:
    reason = text.strip()
    low, high = REASON_LIMITS
    if len(reason) < low:
        raise Invalid(
            field,
            _("Schrijf een reden van minstens {low} tekens. Bewoners kunnen die lezen."),
            low=low,
        )
    if len(reason) > high:
        raise Invalid(field, _("Gebruik hoogstens {limit} tekens."), limit=high)
    return reason


def _support_count(session: Session, plan: Plan) -> int:
    return int(
        session.scalar(select(func.count(Support.id)).where(Support.plan_id == plan.id)) or 0
    )


def _move_supports(session: Session, from_plan_id: int, to_plan_id: int) -> list[int]:
    already = select(Support.resident_id).where(Support.plan_id == to_plan_id)
    movers = list(
        session.scalars(
            select(Support.resident_id).where(
                Support.plan_id == from_plan_id, Support.resident_id.not_in(already)
            )
        )
    )
    session.add_all(Support(plan_id=to_plan_id, resident_id=rid) for rid in movers)
    session.execute(delete(Support).where(Support.plan_id == from_plan_id))
    session.flush()
    return movers


def _mail_author(session: Session, plan: Plan, *text: str) -> bool:
    """Mail the decision to the plan's author now (``text`` as for ``_author_mail``); False when
    the plan has no author to mail."""
    mail = _author_mail(session, plan, *text)
    if mail is not None:
        outbox.queue(session, mail.recipient, mail.subject, mail.body)
    return mail is not None


def _author_mail(
    session: Session,
    plan: Plan,
    subject: str,
    intro: str,
    reason: str,
    plan_url: str,
    link_text: str,
) -> merges.AuthorMail | None:
    """The decision as a mail to the plan's author, in the language of the request that made it
    (no language is stored for residents; see services/outbox.py)."""
    resident = session.get(Resident, plan.author_id) if plan.author_id is not None else None
    if resident is None or not resident.email:
        return None
    name = resident.display_name or plan.author_name or ""
    lines = [
        gettext(_("Hallo {name},"), name=name).replace(" ,", ","),
        "",
        gettext(
            _("U diende het plan \u201c{title}\u201d in voor \u201c{round}\u201d."),
            title=plan.title,
            round=plan.round.title,
        ),
        gettext(intro),
        "",
        reason,
        "",
    ]
    if plan_url:
        lines += [gettext(link_text), plan_url, ""]
    lines += [gettext(_("Heeft u vragen? Neem dan contact op met de gemeente.")), ""]
    return merges.AuthorMail(resident.email, gettext(subject), "\n".join(lines))


def _audit(
    session: Session, actor: Actor, action: str, plan: Plan, **details: audit.Detail
) -> None:
    audit.record(session, actor.staff_id, action, "plan", plan.id, plan.round.area_id, **details)
