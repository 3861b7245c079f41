"""A round's result: counted after voting closes, compared under the three rules, signed off by the
council (proces-verbaal), then published (docs/decisions.md, Counting, sign-off and publication).

- ``count``: only in gesloten. Runs the round's own rule and, for the comparison, the other two, on
  the same ballots; stores everything (a ``ResultRecord``) with the SHA-256 of the ballot export. A
  recount before sign-off replaces the concept; after sign-off it is refused and audited.
- ``sign_off``: the council's decision, recorded by a staff member and kept with the result
  (``Result.decision``). Checks first that the ballots
  still give the export that was counted. From then on the stored result is immutable: only
  ``publish`` may still move it from vastgesteld to gepubliceerd (a mapper event refuses any other
  change, whoever makes it).
- ``publish``: the round moves to gepubliceerd and the result becomes public.

Embargo: nothing here shows a tally before the round is gesloten, to anyone.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import event, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from proeftuin.allocation import Election, Outcome, TieBreak, VoteType, allocate, report_json
from proeftuin.errors import Invalid, NotFound, PhaseClosed, _
from proeftuin.models import (
    AuditEvent,
    Ballot,
    Channel,
    Phase,
    Result,
    ResultStatus,
    Round,
    Rule,
    StaffUser,
)
from proeftuin.services import (
    audit,
    codes,
    explain_nl,
    lookup,
    open_data,
    result_record,
    rounds,
)
from proeftuin.services import paper as paper_ballots
from proeftuin.services.explain_nl import Phrase
from proeftuin.services.open_data import Published
from proeftuin.services.permissions import Actor
from proeftuin.services.result_record import (
    Fact,
    Facts,
    Metrics,
    Options,
    ResultRecord,
    RuleRun,
    Turnout,
)

# The round's rule as the engine (and ``proeftuin allocate --rule``) names it.
ENGINE_RULES = {
    Rule.OPTIMAL.value: "optimal",
    Rule.GREEDY.value: "greedy",
    Rule.EQUAL_SHARES.value: "equal-shares",
}
# Equal Shares as cities run it: cost utilities, Add1, then greedy for what is left.
UTILITY = "cost"
COMPLETION = "add1-greedy"
RULE_ORDER = (Rule.EQUAL_SHARES.value, Rule.GREEDY.value, Rule.OPTIMAL.value)
DECISION_LIMIT = 500

NOT_YET = _("Tellen kan pas als het stemmen is gesloten.")
ALREADY_PUBLISHED = _("De uitslag is al gepubliceerd.")
SIGNED_OFF = _("De uitslag is al vastgesteld. Daarna kan er niets meer aan veranderen.")
LOCKED = _("Een vastgestelde uitslag kan niet meer veranderen.")


class ResultLocked(Invalid):
    def __init__(self) -> None:
        super().__init__("", LOCKED)


# -- counting -----------------------------------------------------------------------------------


def count(session: Session, actor: Actor, slug: str, now: dt.datetime) -> Result:
    round_ = lookup.staff_round(session, actor, slug)
    existing = _result(session, round_.id)
    if existing is not None and existing.status != ResultStatus.CONCEPT:
        audit.record(
            session,
            actor.staff_id,
            "result.recount_refused",
            "round",
            round_.id,
            round_.area_id,
            status=existing.status,
        )
        raise Invalid("", SIGNED_OFF).keeping_changes()
    _require_closed(round_)
    return _count(session, round_, actor.staff_id, now)


def _require_closed(round_: Round) -> None:
    if round_.phase == Phase.GEPUBLICEERD:
        raise PhaseClosed(ALREADY_PUBLISHED)
    if round_.phase != Phase.GESLOTEN:
        raise PhaseClosed(NOT_YET)


def _count(session: Session, round_: Round, actor_id: int, now: dt.datetime) -> Result:
    result = _result(session, round_.id)
    # A recount keeps the export seed: the same ballots give the same file and checksum.
    seed = result_record.read(result).export.seed if result is not None else secrets.token_hex(16)
    snap = open_data.snapshot(session, round_)
    election = open_data.build_election(session, round_.id, snap, seed)
    threshold = _threshold(round_, election)
    if threshold is not None:
        # The export says the minimum in votes, which only the ballots tell: the same ballots,
        # with META that names it.
        snap = open_data.snapshot(session, round_, threshold=threshold)
        election = open_data.election(snap, election.matrix)
    export = open_data.pabulib_bytes(election)
    checksum = open_data.sha256(export)
    record = ResultRecord(
        snapshot=snap,
        rule=round_.rule,
        tie_break=result_record.TieBreak(TieBreak.LOTTERY.value, round_.tie_break_seed),
        export=result_record.Export(
            seed=seed,
            sha256=checksum,
            size=len(export),
            ballots=election.voter_count,
            trackers_sha256=open_data.sha256(open_data.receipts_text(session, round_.id)),
        ),
        turnout=_turnout(session, round_.id),
        results={
            rule: _run(election, rule, round_.tie_break_seed, _greedy_options(round_, threshold))
            for rule in RULE_ORDER
        },
    )
    if result is None:
        result = Result(round_id=round_.id, status=ResultStatus.CONCEPT.value)
        session.add(result)
    result.rule = round_.rule
    result.tie_break_seed = round_.tie_break_seed
    result_record.write(result, record)
    result.ballots_sha256 = checksum
    result.computed_at = now
    session.flush()
    audit.record(
        session,
        actor_id,
        "result.count",
        "round",
        round_.id,
        round_.area_id,
        rule=round_.rule,
        ballots=election.voter_count,
        funded=len(record.own.report.selected),
        sha256=checksum,
    )
    return result


def _threshold(round_: Round, election: Election) -> int | None:
    """The round's minimum share of the votes as a number of votes (points on points ballots):
    ``min_vote_percent`` of the ballots cast, or of all points given, rounded up; None without
    one (docs/decisions.md, Allocation rules and ties)."""
    if round_.rule != Rule.GREEDY or not round_.min_vote_percent:
        return None
    points = election.vote_type is VoteType.POINTS
    base = int(election.support.sum()) if points else election.voter_count
    return -(-round_.min_vote_percent * base // 100)


def _greedy_options(round_: Round, threshold: int | None) -> Options:
    """How greedy runs in this round: the engine's rule name, and the minimum if any."""
    no_skip = round_.rule == Rule.GREEDY and round_.greedy_no_skip
    return Options(
        rule="greedy-no-skip" if no_skip else ENGINE_RULES[Rule.GREEDY.value],
        tie_break=TieBreak.LOTTERY.value,
        seed=round_.tie_break_seed,
        min_vote_percent=round_.min_vote_percent if threshold is not None else None,
        threshold=threshold,
    )


def _run(election: Election, rule: str, seed: str, greedy: Options) -> RuleRun:
    options = Options(rule=ENGINE_RULES[rule], tie_break=TieBreak.LOTTERY.value, seed=seed)
    if rule == Rule.EQUAL_SHARES:
        options = Options(options.rule, options.tie_break, seed, UTILITY, COMPLETION)
    if rule == Rule.GREEDY:
        options = greedy
    outcome = allocate(
        election,
        options.rule,
        utility=UTILITY,
        completion=COMPLETION,
        tie_break=TieBreak.LOTTERY,
        seed=seed,
        threshold=options.threshold or 0,
    )
    report = result_record.engine_report(
        report_json(election, outcome), supporters=election.approvals.tolist()
    )
    return RuleRun(options=options, report=report, facts=_facts(outcome))


def _facts(outcome: Outcome) -> dict[str, Fact]:
    return {key: _plain(value) for key, value in outcome.facts.items()}


def _plain(value: int | Fraction | str) -> Fact:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    return value


def _turnout(session: Session, round_id: int) -> Turnout:
    by_channel = dict(
        session.execute(
            select(Ballot.channel, func.count(Ballot.id))
            .where(Ballot.round_id == round_id)
            .group_by(Ballot.channel)
        ).all()
    )
    counts = codes.counts_for(session, round_id)
    void = paper_ballots.void_counts(session, round_id)
    online, paper = by_channel.get(Channel.ONLINE.value, 0), by_channel.get(Channel.PAPER.value, 0)
    return Turnout(
        ballots=online + paper,
        online=online,
        paper=paper,
        codes_issued=counts.issued,
        codes_used=counts.used,
        codes_revoked=counts.revoked,
        blank=void.blank,
        invalid=void.invalid,
        void_reasons=void.reasons,
    )


def _result(session: Session, round_id: int) -> Result | None:
    return session.scalar(select(Result).where(Result.round_id == round_id))


# -- signing off and publishing ---------------------------------------------------------------


def sign_off(
    session: Session,
    actor: Actor,
    slug: str,
    *,
    confirmed: bool,
    decision: str,
    now: dt.datetime,
) -> Result:
    """Record the council's decision: the result becomes vastgesteld and immutable."""
    round_ = lookup.staff_round(session, actor, slug)
    _require_closed(round_)
    result = _result(session, round_.id)
    if result is None:
        raise Invalid("", _("Tel eerst de stemmen."))
    if result.status != ResultStatus.CONCEPT:
        raise Invalid("", SIGNED_OFF)
    decision = " ".join(decision.split())
    if not confirmed:
        raise Invalid(
            "confirmed", _("Kruis aan dat de raad of commissie deze uitslag heeft vastgesteld.")
        )
    if len(decision) > DECISION_LIMIT:
        raise Invalid("decision", _("Gebruik hoogstens {limit} tekens."), limit=DECISION_LIMIT)
    record = result_record.read(result)
    current = open_data.build_election(session, round_.id, record.snapshot, record.export.seed)
    if open_data.sha256(open_data.pabulib_bytes(current)) != result.ballots_sha256:
        raise Invalid("", _("De stemmen zijn veranderd sinds de telling. Tel opnieuw."))
    result.status = ResultStatus.VASTGESTELD.value
    result.signed_off_by_id = actor.staff_id
    result.signed_off_at = now
    result.decision = decision
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "result.sign_off",
        "round",
        round_.id,
        round_.area_id,
        rule=result.rule,
        sha256=result.ballots_sha256,
        decision=decision,
    )
    return result


def publish(session: Session, actor: Actor, slug: str, now: dt.datetime) -> Round:
    """Publish a signed-off result: the round moves to gepubliceerd."""
    round_ = lookup.staff_round(session, actor, slug)
    result = _result(session, round_.id)
    if round_.phase != Phase.GESLOTEN:
        raise PhaseClosed(ALREADY_PUBLISHED if round_.phase == Phase.GEPUBLICEERD else NOT_YET)
    if result is None or result.status != ResultStatus.VASTGESTELD:
        raise Invalid("", _("Stel eerst de uitslag vast. Daarna kunt u publiceren."))
    rounds.advance_phase(session, actor, round_.id, Phase.GEPUBLICEERD)
    result.status = ResultStatus.GEPUBLICEERD.value
    result.published_at = now
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "result.publish",
        "round",
        round_.id,
        round_.area_id,
        sha256=result.ballots_sha256,
    )
    return round_


@event.listens_for(Result, "before_update")
def _refuse_changes_after_sign_off(
    mapper: Mapper[Result], conn: Connection, target: Result
) -> None:
    state = inspect(target)
    status = state.attrs.status.history
    before = status.deleted[0] if status.deleted else target.status
    if before == ResultStatus.CONCEPT:
        return
    if status.has_changes() and (before, target.status) != (
        ResultStatus.VASTGESTELD,
        ResultStatus.GEPUBLICEERD,
    ):
        raise ResultLocked()
    for attribute in state.attrs:
        if attribute.key not in ("status", "published_at") and attribute.history.has_changes():
            raise ResultLocked()


@event.listens_for(Result, "before_delete")
def _refuse_delete_after_sign_off(mapper: Mapper[Result], conn: Connection, target: Result) -> None:
    committed = inspect(target).attrs.status.history
    before = committed.deleted[0] if committed.deleted else target.status
    if before != ResultStatus.CONCEPT:
        raise ResultLocked()


# -- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    id: str  # the plan's public id, as in the .pb and the API
    title: str
    cost: int
    votes: int  # what the rules count: approvals, or points on points ballots
    supporters: int  # ballots that chose it
    funded: bool
    why: tuple[Phrase, ...]


@dataclass(frozen=True)
class RuleResult:
    rule: str
    selected: tuple[str, ...]  # in funding order
    plans: tuple[PlanResult, ...]  # most votes first
    spent: Fraction
    metrics: Metrics
    facts: Facts
    welfare: int
    options: Options
    funded_by_completion: int  # equal shares: plans paid from what was left over

    @property
    def funded(self) -> tuple[PlanResult, ...]:
        return tuple(p for p in self.plans if p.funded)


@dataclass(frozen=True)
class ResultView:
    slug: str
    title: str
    area: str
    council: str
    phase: Phase
    budget: int
    ballot_kind: str
    points: bool
    rule: str  # the round's own rule: the one that counts
    status: ResultStatus
    sha256: str
    export_size: int
    tie_break_seed: str
    turnout: Turnout
    results: dict[str, RuleResult]  # every rule, for the comparison
    computed_at: dt.datetime
    signed_off_at: dt.datetime | None
    signed_off_by: str  # the staff member who recorded the council's decision
    published_at: dt.datetime | None
    # The SHA-256 of the seed made public when voting opened (as the audit log recorded it).
    tie_break_committed: str = ""

    @property
    def tie_break_sha256(self) -> str:
        """The SHA-256 of the seed revealed with the result: it must be the one committed."""
        return rounds.tie_break_commitment(self.tie_break_seed)

    @property
    def tie_break_matches(self) -> bool:
        return self.tie_break_sha256 == self.tie_break_committed

    @property
    def own(self) -> RuleResult:
        return self.results[self.rule]

    @property
    def left(self) -> Fraction:
        return Fraction(self.budget) - self.own.spent

    def how_counted(self) -> list[list[Phrase]]:
        own = self.own
        return explain_nl.how_counted(
            self.rule,
            budget=self.budget,
            ballots=self.turnout.ballots,
            spent=own.spent,
            funded=len(own.selected),
            points=self.points,
            facts=own.facts,
            welfare=own.welfare,
            completion_funded=own.funded_by_completion,
            seed=self.tie_break_seed,
            no_skip=own.options.no_skip,
            min_vote_percent=own.options.min_vote_percent or 0,
        )


@dataclass(frozen=True)
class StaffResult:
    """What a moderator sees of a round's result: nothing of the tally before close."""

    slug: str
    title: str
    phase: Phase
    can_count: bool
    view: ResultView | None  # None until counted (and always before close)
    decision: str  # the council's decision as recorded at sign-off
    # The audit chain's head right after sign-off (the sign-off event's hash): printed on the
    # proces-verbaal, so that a later edit of the log shows (``proeftuin audit verify --head``).
    audit_head: str = ""


def staff_view(session: Session, actor: Actor, slug: str) -> StaffResult:
    round_ = lookup.staff_round(session, actor, slug)
    phase = Phase(round_.phase)
    closed = phase in (Phase.GESLOTEN, Phase.GEPUBLICEERD)
    result = _result(session, round_.id) if closed else None
    view = _view(session, round_, result) if result is not None else None
    signed = result is not None and result.status != ResultStatus.CONCEPT
    return StaffResult(
        slug=round_.slug,
        title=round_.title,
        phase=phase,
        can_count=phase == Phase.GESLOTEN
        and (result is None or result.status == ResultStatus.CONCEPT),
        view=view,
        decision=(result.decision or "") if result is not None and signed else "",
        audit_head=_audit_head(session, round_.id) if signed else "",
    )


def public_view(session: Session, slug: str) -> ResultView:
    """The published result; ``NotFound`` until it is published."""
    found = open_data.published(session, slug)
    return _view(session, found.round, found.result, found)


def _view(
    session: Session, round_: Round, result: Result, found: Published | None = None
) -> ResultView:
    record = found.record if found is not None else result_record.read(result)
    snap = record.snapshot
    titles = snap.titles
    results = {
        rule: _rule_result(rule, run, titles, points=snap.points, budget=snap.budget)
        for rule, run in record.results.items()
    }
    signer = session.get(StaffUser, result.signed_off_by_id) if result.signed_off_by_id else None
    return ResultView(
        slug=round_.slug,
        title=snap.title,
        area=snap.area,
        council=snap.council,
        phase=Phase(round_.phase),
        budget=snap.budget,
        ballot_kind=snap.ballot_kind,
        points=snap.points,
        rule=record.rule,
        status=ResultStatus(result.status),
        sha256=result.ballots_sha256,
        export_size=record.export.size,
        tie_break_seed=record.tie_break.seed,
        turnout=record.turnout,
        results=results,
        computed_at=result.computed_at,
        signed_off_at=result.signed_off_at,
        signed_off_by=signer.name if signer is not None else "",
        published_at=result.published_at,
        tie_break_committed=_committed_seed_hash(session, round_),
    )


def _committed_seed_hash(session: Session, round_: Round) -> str:
    """What was made public when voting opened: the hash in the audit event of that step, or,
    for a round that never took it here (made in its voting phase), its seed's hash."""
    opened = session.scalars(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == "round.phase",
            AuditEvent.target_type == "round",
            AuditEvent.target_id == round_.id,
        )
        .order_by(AuditEvent.id.desc())
    )
    for details in opened:
        committed = json.loads(details).get("tie_break_sha256")
        if committed:
            return str(committed)
    return rounds.tie_break_commitment(round_.tie_break_seed)


def _rule_result(
    rule: str, run: RuleRun, titles: dict[str, str], *, points: bool, budget: int
) -> RuleResult:
    report = run.report
    plans = [
        PlanResult(
            id=p.id,
            title=titles.get(p.id, p.id),
            cost=int(explain_nl.amount(p.cost)),
            votes=p.support,
            supporters=p.supporters,
            funded=p.funded,
            why=tuple(
                explain_nl.explain_plan(
                    rule,
                    p,
                    titles,
                    points=points,
                    budget=budget,
                    no_skip=run.options.no_skip,
                    min_vote_percent=run.options.min_vote_percent or 0,
                )
            ),
        )
        for p in report.projects
    ]
    plans.sort(key=lambda p: (-p.votes, p.cost, p.title))
    return RuleResult(
        rule=rule,
        selected=report.selected,
        plans=tuple(plans),
        spent=explain_nl.amount(report.total_cost),
        metrics=report.metrics,
        facts=run.facts,
        welfare=report.welfare,
        options=run.options,
        funded_by_completion=sum(
            1
            for p in report.projects
            if p.explanation is not None and p.explanation.reason == "funded_by_completion"
        ),
    )


def proces_verbaal(session: Session, actor: Actor, slug: str) -> StaffResult:
    """The record of the count (a draft until signed off): who signed off and when, the rule,
    the counts and the export's checksum."""
    staff = staff_view(session, actor, slug)
    if staff.view is None:
        raise NotFound(_("Er is nog geen telling van deze ronde."))
    return staff


def _audit_head(session: Session, round_id: int) -> str:
    """The audit chain's head right after sign-off: the sign-off event's own hash."""
    found = _sign_off(session, round_id)
    return found.hash if found is not None else ""


def _sign_off(session: Session, round_id: int) -> AuditEvent | None:
    return session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.action == "result.sign_off",
            AuditEvent.target_type == "round",
            AuditEvent.target_id == round_id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
