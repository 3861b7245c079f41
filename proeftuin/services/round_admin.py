"""The staff pages' view of a round, one call per page or action (issue 5, items 3 to 7).

The staff pages name a round by its slug and a plan by its public id; the services they build on
(rounds, moderation, codes, letters, paper, turnout) take ids. This module looks the round up,
checks the actor's area, checks that a plan in the path belongs to that round (so that a round of
one's own cannot open another area's plan), and then makes the one service call, in the same
transaction. It also holds what those services do not: the second-person check setting
(``Round.paper_check``) and the checker's sign-in for paper ballots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from proeftuin.db import utcnow
from proeftuin.errors import Invalid, InvalidForm, NotFound, _
from proeftuin.models import (
    PHASE_ORDER,
    Area,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Role,
    Round,
    StaffUser,
    Support,
    VotingCode,
)
from proeftuin.services import (
    accounts,
    audit,
    ballot_rules,
    codes,
    letters,
    moderation,
    paper,
    permissions,
    results,
    rounds,
    staff_sessions,
    turnout,
    voting,
)
from proeftuin.services.ballot_rules import BallotState
from proeftuin.services.codes import CodeCounts
from proeftuin.services.letters import Letter
from proeftuin.services.moderation import ReviewQueue
from proeftuin.services.permissions import Actor
from proeftuin.services.turnout import Turnout

# Letters for more codes than this in one browser page get too heavy to render and print (each
# carries a QR code); the CLI makes any number as a CSV for mail merge.
WEB_BATCH_LIMIT = 1_000
# When each phase starts, for the timeline; concept has no date and publishing is by hand.
PHASE_DATES = rounds.PHASE_STARTS
NOT_VOTING = _("Papieren stembiljetten invoeren kan alleen zolang het stemmen loopt.")
CODES_NOT_OF_ROUND = _("Deze codes horen niet (allemaal) bij deze ronde.")
NO_CODES = _("Er zijn geen codes meegestuurd.")


# -- Rounds ----------------------------------------------------------------------------------


def round_by_slug(session: Session, actor: Actor, slug: str) -> Round:
    """The round (with its area loaded), if it exists and the actor may work on its area."""
    round_ = session.scalar(
        select(Round).where(Round.slug == slug).options(selectinload(Round.area))
    )
    if round_ is None:
        raise NotFound()
    permissions.require_area(actor, round_.area_id)
    return round_


def round_list(session: Session, actor: Actor) -> list[Round]:
    """The rounds the actor may work on (with their areas), newest first."""
    query = select(Round).options(selectinload(Round.area)).order_by(Round.id.desc())
    if not actor.is_admin:
        query = query.where(Round.area_id.in_(list(actor.area_ids)))
    return list(session.scalars(query))


def area_choices(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The areas the actor may make a round for, as (id, name), by name."""
    query = select(Area.id, Area.name).order_by(Area.name, Area.id)
    if not actor.is_admin:
        query = query.where(Area.id.in_(list(actor.area_ids)))
    return [(area_id, name) for area_id, name in session.execute(query)]


@dataclass(frozen=True)
class RoundForm:
    round: Round | None  # None for a new round
    areas: list[tuple[int, str]]


def round_form(session: Session, actor: Actor, slug: str | None) -> RoundForm:
    round_ = round_by_slug(session, actor, slug) if slug is not None else None
    return RoundForm(round_, area_choices(session, actor))


def create_round(
    session: Session, actor: Actor, data: rounds.RoundInput, paper_check: bool
) -> Round:
    round_ = rounds.create_round(session, actor, data, now=utcnow())
    round_.paper_check = paper_check
    session.flush()
    return round_


def update_round(
    session: Session, actor: Actor, slug: str, data: rounds.RoundInput, paper_check: bool
) -> Round:
    """``rounds.update_round`` plus the second-person check, which is frozen with the ballot
    rules: turning it off during voting would let one person enter ballots alone."""
    round_ = round_by_slug(session, actor, slug)
    changed = round_.paper_check != paper_check
    try:
        rounds.update_round(session, actor, round_.id, data, now=utcnow())
    except InvalidForm as error:
        if changed and rounds.is_frozen(round_):
            error.errors["paper_check"] = Invalid("paper_check", rounds.FROZEN)
        raise
    if changed:
        rounds.require_not_frozen(round_, "paper_check")
        round_.paper_check = paper_check
        session.flush()
        audit.record(
            session,
            actor.staff_id,
            "round.update",
            "round",
            round_.id,
            round_.area_id,
            changed=["paper_check"],
        )
    return round_


@dataclass(frozen=True)
class Step:
    phase: Phase
    starts_at: dt.datetime | None
    state: str  # "done" | "current" | "upcoming"


@dataclass(frozen=True)
class RoundPage:
    round: Round
    steps: tuple[Step, ...]
    next_phase: Phase | None
    problem: Invalid | None  # why the next phase cannot start now, or None
    frozen: bool
    ballot: tuple[Plan, ...]  # the plans on the ballot
    plan_counts: dict[PlanStatus, int]
    code_counts: CodeCounts


def round_page(session: Session, actor: Actor, slug: str) -> RoundPage:
    round_ = round_by_slug(session, actor, slug)
    current = PHASE_ORDER.index(Phase(round_.phase))
    steps = tuple(
        Step(
            phase,
            getattr(round_, PHASE_DATES[phase]) if phase in PHASE_DATES else None,
            "done" if i < current else "current" if i == current else "upcoming",
        )
        for i, phase in enumerate(PHASE_ORDER)
    )
    target = rounds.next_phase(round_.phase)
    counts: dict[PlanStatus, int] = dict.fromkeys(PlanStatus, 0)
    for status, count in session.execute(
        select(Plan.status, func.count(Plan.id))
        .where(Plan.round_id == round_.id)
        .group_by(Plan.status)
    ):
        counts[PlanStatus(status)] = count
    return RoundPage(
        round=round_,
        steps=steps,
        next_phase=target,
        problem=rounds.step_problem(session, round_, target) if target else None,
        frozen=rounds.is_frozen(round_),
        ballot=tuple(voting.ballot_plans(session, round_)),
        plan_counts=counts,
        code_counts=codes.counts_for(session, round_.id),
    )


def advance(session: Session, actor: Actor, slug: str, to_phase: str) -> Round:
    round_ = round_by_slug(session, actor, slug)
    if to_phase == Phase.GEPUBLICEERD:
        # Publishing is more than a phase: the signed-off result is published with it.
        return results.publish(session, actor, slug, utcnow())
    return rounds.advance_phase(session, actor, round_.id, to_phase)


def reset(session: Session, actor: Actor, slug: str, reason: str) -> int:
    permissions.require_admin(actor)
    round_ = round_by_slug(session, actor, slug)
    return rounds.reset_round(session, actor, round_.id, reason)


# -- The review queue ------------------------------------------------------------------------


def queue(session: Session, actor: Actor, slug: str) -> ReviewQueue:
    round_ = round_by_slug(session, actor, slug)
    return moderation.review_queue(session, actor, round_.id)


@dataclass(frozen=True)
class PlanReview:
    round: Round
    plan: Plan
    supports: int
    merge_targets: tuple[Plan, ...]  # plans of the round this one could be merged into
    merged_into: Plan | None


def plan_in_round(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    """The plan, when it belongs to this round (of the actor's area); NotFound otherwise."""
    return _round_and_plan(session, actor, slug, public_id)[1]


def _round_and_plan(
    session: Session, actor: Actor, slug: str, public_id: str
) -> tuple[Round, Plan]:
    round_ = round_by_slug(session, actor, slug)
    plan = session.scalar(
        select(Plan).where(Plan.public_id == public_id, Plan.round_id == round_.id)
    )
    if plan is None:
        raise NotFound()
    return round_, plan


def plan_review(session: Session, actor: Actor, slug: str, public_id: str) -> PlanReview:
    round_, plan = _round_and_plan(session, actor, slug, public_id)
    targets = session.scalars(
        select(Plan)
        .where(
            Plan.round_id == plan.round_id,
            Plan.id != plan.id,
            Plan.status.in_([s.value for s in moderation.CAN_MERGE_INTO]),
        )
        .order_by(Plan.title, Plan.id)
    )
    return PlanReview(
        round=round_,
        plan=plan,
        supports=int(
            session.scalar(select(func.count(Support.id)).where(Support.plan_id == plan.id)) or 0
        ),
        merge_targets=tuple(targets),
        merged_into=session.get(Plan, plan.merged_into_id) if plan.merged_into_id else None,
    )


def accept(
    session: Session, actor: Actor, slug: str, public_id: str, cost: str, explanation: str
) -> Plan:
    plan_in_round(session, actor, slug, public_id)
    return moderation.accept(session, actor, public_id, cost, explanation)


def ask_changes(
    session: Session, actor: Actor, slug: str, public_id: str, reason: str, plan_url: str
) -> Plan:
    plan_in_round(session, actor, slug, public_id)
    return moderation.ask_changes(session, actor, public_id, reason, plan_url)


def reject(
    session: Session, actor: Actor, slug: str, public_id: str, reason: str, plan_url: str
) -> Plan:
    plan_in_round(session, actor, slug, public_id)
    return moderation.reject(session, actor, public_id, reason, plan_url)


def merge(
    session: Session,
    actor: Actor,
    slug: str,
    public_id: str,
    into_id: str,
    reason: str,
    plan_url: str,
) -> Plan:
    plan_in_round(session, actor, slug, public_id)
    if not into_id:
        raise Invalid("into_id", _("Kies het plan waarmee u dit plan samenvoegt."))
    try:
        plan_in_round(session, actor, slug, into_id)
    except NotFound:
        raise Invalid("into_id", _("Alleen plannen uit dezelfde ronde kunnen samen.")) from None
    return moderation.merge(session, actor, public_id, into_id, reason, plan_url)


def hide(session: Session, actor: Actor, slug: str, public_id: str, reason: str) -> Plan:
    plan_in_round(session, actor, slug, public_id)
    return moderation.hide(session, actor, public_id, reason)


def unhide(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    plan_in_round(session, actor, slug, public_id)
    return moderation.unhide(session, actor, public_id)


# -- Letter codes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodesPage:
    round: Round
    counts: CodeCounts

    @property
    def uses_codes(self) -> bool:
        return self.round.eligibility != Eligibility.EMAIL

    @property
    def closed(self) -> bool:
        return self.round.phase in codes.CLOSED_PHASES


def codes_page(session: Session, actor: Actor, slug: str) -> CodesPage:
    round_ = round_by_slug(session, actor, slug)
    return CodesPage(round_, codes.counts_for(session, round_.id))


@dataclass(frozen=True)
class NewCodes:
    round: Round
    codes: list[str]  # plain, shown once: never stored
    letters: list[Letter]


def generate(
    session: Session,
    actor: Actor,
    slug: str,
    count: str,
    pepper: str,
    base_url: str,
    gemeente: str,
) -> NewCodes:
    """A new batch of codes with their letters; the plain codes exist only in the answer."""
    round_ = round_by_slug(session, actor, slug)
    text = count.strip().replace(".", "")
    # The length first: int() refuses text of more than 4,300 digits with a ValueError.
    if text.isascii() and text.isdigit() and (len(text) > 9 or int(text) > WEB_BATCH_LIMIT):
        raise Invalid(
            "count",
            _(
                "Maak hier hoogstens {limit} codes tegelijk. Meer nodig? Maak ze in delen, "
                "of vraag de beheerder om ze met de opdracht 'proeftuin codes generate' te maken."
            ),
            limit=f"{WEB_BATCH_LIMIT:,}".replace(",", "."),
        )
    plain = codes.generate_for_round(session, actor, round_.id, count, pepper)
    made = [letters.letter(round_, code, base_url, gemeente) for code in plain]
    return NewCodes(round_, plain, made)


def codes_csv(
    session: Session, actor: Actor, slug: str, typed_codes: Iterable[str], pepper: str
) -> str:
    """The CSV of codes that the staff member's browser sends back right after generating them.

    Nothing is stored or looked up by the plain code: each code must hash to a code of this
    round, so the download can only repeat codes this round really has.
    """
    round_ = round_by_slug(session, actor, slug)
    normalised = [codes.normalise(c) for c in typed_codes if c.strip()]
    if not normalised:
        raise Invalid("codes", NO_CODES)
    if any(c is None for c in normalised) or len(normalised) > WEB_BATCH_LIMIT:
        raise Invalid("codes", CODES_NOT_OF_ROUND)
    plain = [c for c in normalised if c is not None]
    hashes = {codes.code_hash(pepper, c) for c in plain}
    known = session.scalar(
        select(func.count(VotingCode.id)).where(
            VotingCode.round_id == round_.id, VotingCode.code_hash.in_(hashes)
        )
    )
    if known != len(hashes):
        raise Invalid("codes", CODES_NOT_OF_ROUND)
    return codes.codes_csv(plain)


def revoke(session: Session, actor: Actor, slug: str, typed_code: str, pepper: str) -> Round:
    round_ = round_by_slug(session, actor, slug)
    codes.revoke_code(session, actor, round_.id, typed_code, pepper)
    return round_


# -- Paper ballots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperBallot:
    round: Round
    plans: tuple[Plan, ...]
    state: BallotState

    @property
    def voting(self) -> bool:
        return self.round.phase == Phase.STEMMEN


def paper_ballot(
    session: Session, actor: Actor, slug: str, choices: Mapping[str, int]
) -> PaperBallot:
    """The paper ballot form of a round with ``choices`` filled in, and what they add up to."""
    round_ = round_by_slug(session, actor, slug)
    plans = voting.ballot_plans(session, round_)
    by_id = {plan.public_id: plan for plan in plans}
    return PaperBallot(round_, tuple(plans), ballot_rules.state(round_, by_id, choices))


@dataclass(frozen=True)
class Checker:
    """The second staff member's sign-in, typed on the same form."""

    email: str
    password: str
    totp: str


def enter_paper(
    session: Session,
    actor: Actor,
    slug: str,
    typed_code: str,
    choices: Mapping[str, int],
    pepper: str,
    today: dt.date,
    checker: Checker | None,
    ip_key: str,
    secret_key: str,
    now: dt.datetime,
    require_admin_totp: bool,
) -> voting.Receipt:
    """Store a paper ballot; when the round asks for it, only after a second staff member
    proved who they are (password, and TOTP where set) on the same form.

    A wrong checker password is counted like a failed sign-in (and committed, nothing else
    having changed yet); the checker's sign-in opens no session that stays usable.
    """
    round_ = round_by_slug(session, actor, slug)
    if round_.phase != Phase.STEMMEN:
        raise Invalid("code", NOT_VOTING)
    checked_by = None
    if round_.paper_check:
        if checker is None or not checker.email.strip():
            raise Invalid("checked_by", _("Vul het e-mailadres van de tweede medewerker in."))
        signed_in = staff_sessions.sign_in(
            session,
            checker.email,
            checker.password,
            checker.totp,
            ip_key,
            secret_key,
            now,
            require_admin_totp,
        )
        staff_sessions.sign_out(session, signed_in.token, now)
        checked_by = signed_in.actor.staff_id
    return paper.enter_paper_ballot(
        session,
        actor,
        round_.id,
        typed_code,
        choices,
        pepper,
        today,
        checked_by,
        require_check=round_.paper_check,
    )


# -- Turnout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnoutDay:
    day: dt.date
    ballots: int
    codes_used: int


@dataclass(frozen=True)
class TurnoutPage:
    round: Round
    turnout: Turnout
    days: tuple[TurnoutDay, ...]  # every day with ballots or used codes, in order

    @property
    def busiest(self) -> int:
        return max((max(d.ballots, d.codes_used) for d in self.days), default=0)


def turnout_page(session: Session, actor: Actor, slug: str) -> TurnoutPage:
    """Turnout without a tally (DESIGN.md §4.6): nothing here is counted per plan."""
    round_ = round_by_slug(session, actor, slug)
    figures = turnout.turnout(session, actor, round_.id)
    ballots = {d.day: d.count for d in figures.ballots_per_day}
    used = {d.day: d.count for d in figures.codes_used_per_day}
    days = tuple(
        TurnoutDay(day, ballots.get(day, 0), used.get(day, 0))
        for day in sorted(ballots.keys() | used.keys())
    )
    return TurnoutPage(round_, figures, days)


# -- The command line ------------------------------------------------------------------------


def acting_admin(session: Session, email: str | None) -> Actor:
    """The admin a command acts for (and the audit log names): the one with ``email``, or,
    without an address, the only active admin there is."""
    query = select(StaffUser.id).where(StaffUser.role == Role.ADMIN, StaffUser.active)
    if email:
        query = query.where(StaffUser.email == accounts.normalise_email(email))
    found = list(session.scalars(query.order_by(StaffUser.id).limit(2)))
    if email and not found:
        raise Invalid("as_admin", _("Er is geen actieve beheerder met dit e-mailadres."))
    if not found:
        raise Invalid(
            "as_admin", _("Er is geen beheerder. Maak er een met 'proeftuin create-admin'.")
        )
    if len(found) > 1:
        raise Invalid("as_admin", _("Er zijn meer beheerders. Kies er een met --as-admin."))
    return Actor(staff_id=found[0], role=Role.ADMIN.value, area_ids=frozenset())


def generate_csv(session: Session, actor: Actor, slug: str, count: int, pepper: str) -> str:
    """A batch of codes as a CSV (one code per row, 4-4-4), for ``proeftuin codes generate``."""
    round_ = round_by_slug(session, actor, slug)
    return codes.codes_csv(codes.generate_for_round(session, actor, round_.id, count, pepper))
