"""A round's result: counted after voting closes, compared under the three rules, signed off by the
council (proces-verbaal), then published (DESIGN.md §4.6, issue 6).

- ``count``: only in gesloten. Runs the round's own rule and, for the comparison, the other two, on
  the same ballots; stores everything (``Result.data``) with the SHA-256 of the ballot export. A
  recount before sign-off replaces the concept; after sign-off it is refused and audited.
- ``sign_off``: the council's decision, recorded by a staff member. Checks first that the ballots
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
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from proeftuin.allocation import Election, Outcome, TieBreak, allocate, report_json
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
from proeftuin.services import audit, codes, explain_nl, open_data, permissions, rounds
from proeftuin.services.explain_nl import Phrase
from proeftuin.services.open_data import Published
from proeftuin.services.permissions import Actor

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


def staff_round(session: Session, actor: Actor, slug: str) -> Round:
    """The round by slug, if the actor may work on its area."""
    round_ = session.scalar(select(Round).where(Round.slug == slug))
    if round_ is None:
        raise NotFound()
    permissions.require_area(actor, round_.area_id)
    return round_


def count(session: Session, actor: Actor, slug: str, now: dt.datetime) -> Result:
    round_ = staff_round(session, actor, slug)
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
    return count_round(session, round_, actor.staff_id, now)


def _require_closed(round_: Round) -> None:
    if round_.phase == Phase.GEPUBLICEERD:
        raise PhaseClosed(ALREADY_PUBLISHED)
    if round_.phase != Phase.GESLOTEN:
        raise PhaseClosed(NOT_YET)


def count_round(session: Session, round_: Round, actor_id: int | None, now: dt.datetime) -> Result:
    """Count without an access check (the demo uses it); the round must be gesloten."""
    _require_closed(round_)
    result = _result(session, round_.id)
    if result is not None and result.status != ResultStatus.CONCEPT:
        raise Invalid("", SIGNED_OFF)
    # A recount keeps the export seed: the same ballots give the same file and checksum.
    seed = (
        json.loads(result.data)["export"]["seed"] if result is not None else secrets.token_hex(16)
    )
    snap = open_data.snapshot(session, round_)
    election = open_data.build_election(session, round_.id, snap, seed)
    export = open_data.pabulib_bytes(election)
    checksum = open_data.sha256(export)
    runs = {rule: _run(election, rule, round_.tie_break_seed) for rule in RULE_ORDER}
    data: dict[str, Any] = {
        "format": 1,
        "snapshot": snap,
        "rule": round_.rule,
        "tie_break": {"method": TieBreak.LOTTERY.value, "seed": round_.tie_break_seed},
        "export": {
            "seed": seed,
            "sha256": checksum,
            "size": len(export),
            "ballots": election.voter_count,
            "trackers_sha256": open_data.sha256(open_data.receipts_text(session, round_.id)),
        },
        "turnout": _turnout(session, round_.id),
        "results": runs,
    }
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if result is None:
        result = Result(round_id=round_.id, status=ResultStatus.CONCEPT.value)
        session.add(result)
    result.rule = round_.rule
    result.tie_break_seed = round_.tie_break_seed
    result.data = text
    result.ballots_sha256 = checksum
    result.computed_at = now
    session.flush()
    report = runs[round_.rule]["report"]
    audit.record(
        session,
        actor_id,
        "result.count",
        "round",
        round_.id,
        round_.area_id,
        rule=round_.rule,
        ballots=election.voter_count,
        funded=len(report["selected"]),
        sha256=checksum,
    )
    return result


def _run(election: Election, rule: str, seed: str) -> dict[str, Any]:
    options = {"rule": ENGINE_RULES[rule], "tie_break": TieBreak.LOTTERY.value, "seed": seed}
    if rule == Rule.EQUAL_SHARES:
        options |= {"utility": UTILITY, "completion": COMPLETION}
    outcome = allocate(
        election,
        ENGINE_RULES[rule],
        utility=UTILITY,
        completion=COMPLETION,
        tie_break=TieBreak.LOTTERY,
        seed=seed,
    )
    report = report_json(election, outcome)
    approvals = election.approvals.tolist()
    for i, project in enumerate(report["projects"]):
        project["supporters"] = approvals[i]
    return {"options": options, "report": report, "facts": _facts(outcome)}


def _facts(outcome: Outcome) -> dict[str, Any]:
    return {key: _plain(value) for key, value in outcome.facts.items()}


def _plain(value: object) -> object:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    return value


def _turnout(session: Session, round_id: int) -> dict[str, Any]:
    by_channel = dict(
        session.execute(
            select(Ballot.channel, func.count(Ballot.id))
            .where(Ballot.round_id == round_id)
            .group_by(Ballot.channel)
        ).all()
    )
    counts = codes.counts_for(session, round_id)
    online, paper = by_channel.get(Channel.ONLINE.value, 0), by_channel.get(Channel.PAPER.value, 0)
    return {
        "ballots": online + paper,
        "online": online,
        "paper": paper,
        "codes_issued": counts.issued,
        "codes_used": counts.used,
        "codes_revoked": counts.revoked,
    }


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
    round_ = staff_round(session, actor, slug)
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
    data = json.loads(result.data)
    current = open_data.build_election(session, round_.id, data["snapshot"], data["export"]["seed"])
    if open_data.sha256(open_data.pabulib_bytes(current)) != result.ballots_sha256:
        raise Invalid("", _("De stemmen zijn veranderd sinds de telling. Tel opnieuw."))
    record_sign_off(session, round_, result, actor.staff_id, decision, now)
    return result


def record_sign_off(
    session: Session,
    round_: Round,
    result: Result,
    actor_id: int | None,
    decision: str,
    now: dt.datetime,
) -> None:
    """Without the checks of ``sign_off`` (the demo uses it)."""
    result.status = ResultStatus.VASTGESTELD.value
    result.signed_off_by_id = actor_id
    result.signed_off_at = now
    session.flush()
    audit.record(
        session,
        actor_id,
        "result.sign_off",
        "round",
        round_.id,
        round_.area_id,
        rule=result.rule,
        sha256=result.ballots_sha256,
        decision=decision,
    )


def publish(session: Session, actor: Actor, slug: str, now: dt.datetime) -> Round:
    """Publish a signed-off result: the round moves to gepubliceerd."""
    round_ = staff_round(session, actor, slug)
    result = _result(session, round_.id)
    if round_.phase != Phase.GESLOTEN:
        raise PhaseClosed(ALREADY_PUBLISHED if round_.phase == Phase.GEPUBLICEERD else NOT_YET)
    if result is None or result.status != ResultStatus.VASTGESTELD:
        raise Invalid("", _("Stel eerst de uitslag vast. Daarna kunt u publiceren."))
    rounds.advance_phase(session, actor, round_.id, Phase.GEPUBLICEERD)
    mark_published(session, result, actor.staff_id, now)
    return round_


def mark_published(
    session: Session, result: Result, actor_id: int | None, now: dt.datetime
) -> None:
    result.status = ResultStatus.GEPUBLICEERD.value
    result.published_at = now
    session.flush()
    round_ = session.get(Round, result.round_id)
    audit.record(
        session,
        actor_id,
        "result.publish",
        "round",
        result.round_id,
        round_.area_id if round_ is not None else None,
        sha256=result.ballots_sha256,
    )


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
class Turnout:
    ballots: int
    online: int
    paper: int
    codes_issued: int
    codes_used: int
    codes_revoked: int

    @property
    def share_of_codes_used(self) -> float | None:
        valid = self.codes_issued - self.codes_revoked
        return self.codes_used / valid if valid else None


@dataclass(frozen=True)
class RuleResult:
    rule: str
    selected: tuple[str, ...]  # in funding order
    plans: tuple[PlanResult, ...]  # most votes first
    spent: Fraction
    metrics: dict[str, Any]
    facts: dict[str, Any]
    welfare: int
    options: dict[str, Any]
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
    round_ = staff_round(session, actor, slug)
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
        decision=_decision(session, round_.id) if signed else "",
        audit_head=_audit_head(session, round_.id) if signed else "",
    )


def public_view(session: Session, slug: str) -> ResultView:
    """The published result; ``NotFound`` until it is published."""
    found = open_data.published(session, slug)
    return _view(session, found.round, found.result, found)


def _view(
    session: Session, round_: Round, result: Result, found: Published | None = None
) -> ResultView:
    data = found.data if found is not None else json.loads(result.data)
    snap = data["snapshot"]
    titles = {str(p["id"]): str(p["title"]) for p in snap["plans"]}
    points = snap["vote_type"] == "points"
    results = {
        rule: _rule_result(rule, run, titles, points=points, budget=int(snap["budget"]))
        for rule, run in data["results"].items()
    }
    signer = session.get(StaffUser, result.signed_off_by_id) if result.signed_off_by_id else None
    return ResultView(
        slug=round_.slug,
        title=str(snap["title"]),
        area=str(snap["area"]),
        council=str(snap["council"]),
        phase=Phase(round_.phase),
        budget=int(snap["budget"]),
        ballot_kind=str(snap["ballot_kind"]),
        points=points,
        rule=str(data["rule"]),
        status=ResultStatus(result.status),
        sha256=result.ballots_sha256,
        export_size=int(data["export"]["size"]),
        tie_break_seed=str(data["tie_break"]["seed"]),
        turnout=Turnout(**data["turnout"]),
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
    rule: str, run: dict[str, Any], titles: dict[str, str], *, points: bool, budget: int
) -> RuleResult:
    report = run["report"]
    plans = [
        PlanResult(
            id=str(p["id"]),
            title=titles.get(str(p["id"]), str(p["id"])),
            cost=int(explain_nl.amount(p["cost"])),
            votes=int(p["support"]),
            supporters=int(p.get("supporters", p["support"])),
            funded=bool(p["funded"]),
            why=tuple(explain_nl.explain_plan(rule, p, titles, points=points, budget=budget)),
        )
        for p in report["projects"]
    ]
    plans.sort(key=lambda p: (-p.votes, p.cost, p.title))
    return RuleResult(
        rule=rule,
        selected=tuple(str(i) for i in report["selected"]),
        plans=tuple(plans),
        spent=explain_nl.amount(report["total_cost"]),
        metrics=dict(report["metrics"]),
        facts=dict(run["facts"]),
        welfare=int(report["welfare"]),
        options=dict(run["options"]),
        funded_by_completion=sum(
            1
            for p in report["projects"]
            if (p.get("explanation") or {}).get("reason") == "funded_by_completion"
        ),
    )


def proces_verbaal(session: Session, actor: Actor, slug: str) -> StaffResult:
    """The record of the count (a draft until signed off): who signed off and when, the rule,
    the counts and the export's checksum."""
    staff = staff_view(session, actor, slug)
    if staff.view is None:
        raise NotFound(_("Er is nog geen telling van deze ronde."))
    return staff


def _decision(session: Session, round_id: int) -> str:
    """The council's decision as recorded at sign-off (kept in the audit log)."""
    event = _sign_off(session, round_id)
    if event is None or not event.details:
        return ""
    return str(json.loads(event.details).get("decision", ""))


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
