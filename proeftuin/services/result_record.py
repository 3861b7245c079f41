"""What a count fixes, as a versioned record: the only module that reads or writes ``Result.data``.

A count stores the round as it was counted (``Snapshot``), the export it was checked against, the
turnout and, for each of the three rules, the engine's report on the same ballots. Everything a
results page, the proces-verbaal and the open data show is derived from this record, so it is kept
exactly as written: amounts stay as the engine wrote them (whole euros as a number, other amounts
as exact text, see ``proeftuin.allocation.report``), and ``to_json(from_json(text)) == text``.

The council's decision is not part of the record: it is made after the count, at sign-off, and
is kept in its own column (``Result.decision``) beside who signed off and when.

Versions: 2 (this one). Version 1 (``"format": 1``) had the same content; a migration converts it.
Greedy's options (``Options.min_vote_percent``, ``threshold``; no skipping is the rule name
``greedy-no-skip``) are written only when a round has them, so version-2 records written before
them are unchanged.
Reading any other version is refused with ``UnknownVersion``, never guessed at.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from proeftuin.models import Result

VERSION = 2

Amount: TypeAlias = int | str  # whole euros, or exact text: "1234.56", "60000/1003"
Fact: TypeAlias = int | float | str | bool | None
Facts: TypeAlias = Mapping[str, Fact]


class RecordError(ValueError):
    """A stored result that this code cannot read."""


class UnknownVersion(RecordError):
    def __init__(self, version: object) -> None:
        super().__init__(
            f"The stored result has record version {version!r}; this code reads version "
            f"{VERSION} only. Run `proeftuin db upgrade` to convert stored results."
        )
        self.version = version


# -- the record -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotPlan:
    id: str  # public id, as in the .pb and the API
    title: str
    cost: int


@dataclass(frozen=True)
class Snapshot:
    """The round and its ballot plans as the count saw them; a later edit changes neither."""

    slug: str
    title: str
    area: str
    council: str
    budget: int
    ballot_kind: str
    vote_type: str  # "approval" or "points": what the rules count
    min_choices: int
    max_choices: int | None
    min_spend_percent: int
    points_total: int
    voting_starts_on: str | None  # ISO dates, local
    voting_ends_on: str | None
    plans: tuple[SnapshotPlan, ...]
    pabulib_meta: tuple[tuple[str, str], ...]  # META of the .pb, in pabulib.org's order

    @property
    def points(self) -> bool:
        return self.vote_type == "points"

    @property
    def titles(self) -> dict[str, str]:
        return {plan.id: plan.title for plan in self.plans}


@dataclass(frozen=True)
class TieBreak:
    method: str
    seed: str


@dataclass(frozen=True)
class Export:
    """The ballot export (.pb) the count ran on, and the tracker list beside it."""

    seed: str  # orders the ballots in the .pb; a recount keeps it
    sha256: str
    size: int
    ballots: int
    trackers_sha256: str


@dataclass(frozen=True)
class Turnout:
    ballots: int
    online: int
    paper: int
    codes_issued: int
    codes_used: int
    codes_revoked: int
    # Blank and invalid paper ballots (counted in turnout, never in the count) and the reasons
    # (key of vocabulary.VOID_REASONS, count); None in records written before they were kept.
    blank: int | None = None
    invalid: int | None = None
    void_reasons: tuple[tuple[str, int], ...] | None = None

    @property
    def share_of_codes_used(self) -> float | None:
        valid = self.codes_issued - self.codes_revoked
        return self.codes_used / valid if valid else None


@dataclass(frozen=True)
class Explanation:
    reason: str  # the engine's code, e.g. "did_not_fit"
    facts: Facts  # the engine's numbers behind it; which ones depends on rule and reason


@dataclass(frozen=True)
class PlanOutcome:
    id: str
    cost: Amount
    support: int  # what the rules count: approvals, or points on points ballots
    supporters: int  # ballots that chose it
    funded: bool
    explanation: Explanation | None


@dataclass(frozen=True)
class Metrics:
    budget_used: Amount
    budget_used_share: float | None
    voters_with_funded_choice: int
    voters_with_funded_choice_share: float | None
    mean_cost_satisfaction: float | None
    mean_count_satisfaction: float | None
    ejr_up_to_one: bool | None


@dataclass(frozen=True)
class Report:
    rule: str  # as the engine names it ("equal-shares")
    budget: Amount
    selected: tuple[str, ...]  # in funding order
    total_cost: Amount
    projects: tuple[PlanOutcome, ...]  # in ballot order
    metrics: Metrics
    welfare: int


@dataclass(frozen=True)
class Options:
    """How the engine was called, so anyone can repeat the count."""

    rule: str
    tie_break: str
    seed: str
    utility: str | None = None  # equal shares only
    completion: str | None = None  # equal shares only
    # Greedy's options, as the round chose them: ``min_vote_percent`` of the votes, which was
    # ``threshold`` votes (or points) in this count.
    min_vote_percent: int | None = None
    threshold: int | None = None

    @property
    def no_skip(self) -> bool:
        """Greedy without skipping: the run stops at the first plan that does not fit."""
        return self.rule == "greedy-no-skip"


@dataclass(frozen=True)
class RuleRun:
    options: Options
    report: Report
    facts: Facts  # about the whole run; which ones depends on the rule


@dataclass(frozen=True)
class ResultRecord:
    snapshot: Snapshot
    rule: str  # the round's own rule (Rule value): the one that counts
    tie_break: TieBreak
    export: Export
    turnout: Turnout
    results: Mapping[str, RuleRun]  # every rule (Rule value), for the comparison

    @property
    def own(self) -> RuleRun:
        return self.results[self.rule]


# -- on a Result row ------------------------------------------------------------------------------


def read(result: Result) -> ResultRecord:
    return from_json(result.data)


def write(result: Result, record: ResultRecord) -> None:
    result.data = to_json(record)


# -- JSON -----------------------------------------------------------------------------------------


def to_json(record: ResultRecord) -> str:
    payload = {"version": VERSION, **plain(record)}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> ResultRecord:
    try:
        payload = json.loads(text)
    except ValueError as error:
        raise RecordError(f"The stored result is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise RecordError("The stored result is not a JSON object.")
    version = payload.get("version", payload.get("format"))
    if type(version) is not int or version != VERSION:
        raise UnknownVersion(version)
    try:
        return _record(payload)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RecordError(
            f"The stored result (version {VERSION}) is incomplete: {error!r}"
        ) from error


def plain(part: Any) -> dict[str, Any]:
    """A record, or a part of one, as plain JSON values: a field's name is its key."""
    return dataclasses.asdict(part, dict_factory=_leaving_out_unset)


# Options a rule does not have are left out (not null): equal shares' utility and completion,
# greedy's minimum. So records written before greedy had options read and write as they were.
_LEFT_OUT_WHEN_NONE = frozenset(
    {
        "utility",
        "completion",
        "min_vote_percent",
        "threshold",
        "blank",
        "invalid",
        "void_reasons",
    }
)


def _leaving_out_unset(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {
        key: value for key, value in pairs if value is not None or key not in _LEFT_OUT_WHEN_NONE
    }


# -- parsing (plain JSON values to the record) ----------------------------------------------------


def _record(payload: Mapping[str, Any]) -> ResultRecord:
    tie_break = payload["tie_break"]
    return ResultRecord(
        snapshot=_snapshot(payload["snapshot"]),
        rule=_str(payload["rule"]),
        tie_break=TieBreak(method=_str(tie_break["method"]), seed=_str(tie_break["seed"])),
        export=_export(payload["export"]),
        turnout=_turnout(payload["turnout"]),
        results={_str(rule): _run(run) for rule, run in payload["results"].items()},
    )


def _snapshot(snap: Mapping[str, Any]) -> Snapshot:
    return Snapshot(
        slug=_str(snap["slug"]),
        title=_str(snap["title"]),
        area=_str(snap["area"]),
        council=_str(snap["council"]),
        budget=_int(snap["budget"]),
        ballot_kind=_str(snap["ballot_kind"]),
        vote_type=_str(snap["vote_type"]),
        min_choices=_int(snap["min_choices"]),
        max_choices=_optional_int(snap["max_choices"]),
        min_spend_percent=_int(snap["min_spend_percent"]),
        points_total=_int(snap["points_total"]),
        voting_starts_on=_optional_str(snap["voting_starts_on"]),
        voting_ends_on=_optional_str(snap["voting_ends_on"]),
        plans=tuple(
            SnapshotPlan(id=_str(p["id"]), title=_str(p["title"]), cost=_int(p["cost"]))
            for p in snap["plans"]
        ),
        pabulib_meta=tuple((_str(key), _str(value)) for key, value in snap["pabulib_meta"]),
    )


def _export(export: Mapping[str, Any]) -> Export:
    return Export(
        seed=_str(export["seed"]),
        sha256=_str(export["sha256"]),
        size=_int(export["size"]),
        ballots=_int(export["ballots"]),
        trackers_sha256=_str(export["trackers_sha256"]),
    )


def _turnout(turnout: Mapping[str, Any]) -> Turnout:
    return Turnout(
        ballots=_int(turnout["ballots"]),
        online=_int(turnout["online"]),
        paper=_int(turnout["paper"]),
        codes_issued=_int(turnout["codes_issued"]),
        codes_used=_int(turnout["codes_used"]),
        codes_revoked=_int(turnout["codes_revoked"]),
        blank=_optional_int(turnout.get("blank")),
        invalid=_optional_int(turnout.get("invalid")),
        void_reasons=_void_reasons(turnout.get("void_reasons")),
    )


def _void_reasons(value: Any) -> tuple[tuple[str, int], ...] | None:
    if value is None:
        return None
    return tuple((_str(reason), _int(count)) for reason, count in value)


def _run(run: Mapping[str, Any]) -> RuleRun:
    options = run["options"]
    return RuleRun(
        options=Options(
            rule=_str(options["rule"]),
            tie_break=_str(options["tie_break"]),
            seed=_str(options["seed"]),
            utility=_optional_str(options.get("utility")),
            completion=_optional_str(options.get("completion")),
            min_vote_percent=_optional_int(options.get("min_vote_percent")),
            threshold=_optional_int(options.get("threshold")),
        ),
        report=parse_report(run["report"]),
        facts=_facts(run["facts"]),
    )


def parse_report(report: Mapping[str, Any]) -> Report:
    """A report as ``allocation.report_json`` writes it, with each plan's ``supporters``."""
    metrics = report["metrics"]
    return Report(
        rule=_str(report["rule"]),
        budget=_amount(report["budget"]),
        selected=tuple(_str(i) for i in report["selected"]),
        total_cost=_amount(report["total_cost"]),
        projects=tuple(parse_plan(p) for p in report["projects"]),
        metrics=Metrics(
            budget_used=_amount(metrics["budget_used"]),
            budget_used_share=_optional_float(metrics["budget_used_share"]),
            voters_with_funded_choice=_int(metrics["voters_with_funded_choice"]),
            voters_with_funded_choice_share=_optional_float(
                metrics["voters_with_funded_choice_share"]
            ),
            mean_cost_satisfaction=_optional_float(metrics["mean_cost_satisfaction"]),
            mean_count_satisfaction=_optional_float(metrics["mean_count_satisfaction"]),
            ejr_up_to_one=_optional_bool(metrics["ejr_up_to_one"]),
        ),
        welfare=_int(report["welfare"]),
    )


def engine_report(report: Mapping[str, Any], supporters: Sequence[int]) -> Report:
    """The engine's report of a count, with the number of ballots that chose each plan."""
    projects = [dict(p, supporters=n) for p, n in zip(report["projects"], supporters, strict=True)]
    return parse_report(dict(report, projects=projects))


def parse_plan(plan: Mapping[str, Any]) -> PlanOutcome:
    explanation = plan["explanation"]
    return PlanOutcome(
        id=_str(plan["id"]),
        cost=_amount(plan["cost"]),
        support=_int(plan["support"]),
        supporters=_int(plan["supporters"]),
        funded=_bool(plan["funded"]),
        explanation=None
        if explanation is None
        else Explanation(reason=_str(explanation["reason"]), facts=_facts(explanation["facts"])),
    )


def _facts(facts: Mapping[str, Any]) -> dict[str, Fact]:
    return {_str(key): _fact(value) for key, value in facts.items()}


def _fact(value: object) -> Fact:
    if value is None or isinstance(value, int | float | str | bool):
        return value
    raise TypeError(f"not a plain value: {value!r}")


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not text: {value!r}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"not a whole number: {value!r}")
    return value


def _optional_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"not true or false: {value!r}")
    return value


def _optional_bool(value: object) -> bool | None:
    return None if value is None else _bool(value)


def _optional_float(value: object) -> float | None:
    # Kept as read: a share of exactly 1 may be stored as 1.0 or 1, and must be written back so.
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise TypeError(f"not a number: {value!r}")


def _amount(value: object) -> Amount:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError(f"not an amount: {value!r}")
