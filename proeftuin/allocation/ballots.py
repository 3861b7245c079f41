"""Is a ballot valid under the round's rules? One check per ballot kind, raising ``InvalidBallot``.

``InvalidBallot.code`` is stable and ``facts`` holds the numbers, so the web layer can word the
problem in Dutch. Codes and facts:

- ``unknown_project`` (project_id), ``duplicate_choice`` (project_id)
- ``too_few_choices`` / ``too_many_choices`` (count, limit)
- ``over_budget`` (total_cost, budget), ``under_minimum_spend`` (total_cost, minimum, percent)
- ``negative_points`` (project_id, points), ``too_many_points`` (total, limit)

Ballot kinds: ``approval`` (choose between ``min_choices`` and ``max_choices`` plans),
``k_approval`` (the same with a required ``max_choices``), ``knapsack`` (approval whose total cost
fits the budget and reaches ``min_spend_percent`` of it) and ``points`` (distribute at most
``points_total`` whole, non-negative points; plans given 0 points are left off the ballot).

``BallotKind`` is defined here, once: the data model stores it, and the services hold one spec
per kind (how a round sets it up, shows and exports it). What a kind means for a ballot's validity
is decided in ``_shape``, where a kind without a case fails the type check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple, assert_never

from proeftuin.allocation.election import Ballot, Project


class BallotKind(StrEnum):
    APPROVAL = "approval"
    K_APPROVAL = "k_approval"
    KNAPSACK = "knapsack"
    POINTS = "points"


class _Shape(NamedTuple):
    points: bool  # the voter gives each plan a number of points, not a tick
    within_budget: bool  # the chosen plans must fit the budget (and may have a minimum spend)
    needs_max_choices: bool


def _shape(kind: BallotKind) -> _Shape:
    match kind:
        case BallotKind.APPROVAL:
            return _Shape(points=False, within_budget=False, needs_max_choices=False)
        case BallotKind.K_APPROVAL:
            return _Shape(points=False, within_budget=False, needs_max_choices=True)
        case BallotKind.KNAPSACK:
            return _Shape(points=False, within_budget=True, needs_max_choices=False)
        case BallotKind.POINTS:
            return _Shape(points=True, within_budget=False, needs_max_choices=False)
        case _:
            assert_never(kind)


@dataclass(frozen=True, slots=True)
class BallotRules:
    kind: BallotKind
    min_choices: int = 0
    max_choices: int | None = None
    min_spend_percent: int = 0  # knapsack only
    points_total: int | None = None  # points only

    def __post_init__(self) -> None:
        shape = _shape(self.kind)
        if self.min_choices < 0:
            raise ValueError("min_choices cannot be negative")
        if self.max_choices is not None and self.max_choices < max(self.min_choices, 1):
            raise ValueError("max_choices must be at least 1 and at least min_choices")
        if shape.needs_max_choices and self.max_choices is None:
            raise ValueError("k_approval needs max_choices")
        if not 0 <= self.min_spend_percent <= 100:
            raise ValueError("min_spend_percent is a percentage")
        if self.min_spend_percent and not shape.within_budget:
            raise ValueError("only knapsack ballots have a minimum spend")
        if shape.points != (self.points_total is not None):
            raise ValueError("points_total is required for, and only for, points ballots")
        if self.points_total is not None and self.points_total < 1:
            raise ValueError("points_total must be positive")


class InvalidBallot(Exception):
    def __init__(self, code: str, message: str, **facts: int | Fraction | str) -> None:
        super().__init__(message)
        self.code = code
        self.facts: Mapping[str, int | Fraction | str] = facts


def validate_approval(
    rules: BallotRules, projects: Sequence[Project], budget: Fraction, choices: Sequence[str]
) -> Ballot:
    """The ballot (each chosen plan with 1 point, in the given order) or ``InvalidBallot``."""
    shape = _shape(rules.kind)
    if shape.points:
        raise ValueError("points ballots are checked by validate_points")
    costs = {project.id: project.cost for project in projects}
    _check_known_once(costs, choices)
    _check_count(rules, len(choices))
    if shape.within_budget:
        total = sum((costs[c] for c in choices), Fraction(0))
        if total > budget:
            raise InvalidBallot(
                "over_budget",
                f"the chosen plans cost {total}, more than the budget of {budget}",
                total_cost=total,
                budget=budget,
            )
        minimum = budget * rules.min_spend_percent / 100
        if total < minimum:
            raise InvalidBallot(
                "under_minimum_spend",
                f"the chosen plans cost {total}, less than {rules.min_spend_percent}% "
                f"of the budget ({minimum})",
                total_cost=total,
                minimum=minimum,
                percent=rules.min_spend_percent,
            )
    return dict.fromkeys(choices, 1)


def validate_points(
    rules: BallotRules, projects: Sequence[Project], allocation: Sequence[tuple[str, int]]
) -> Ballot:
    """The ballot (plans with positive points, in the given order) or ``InvalidBallot``."""
    if not _shape(rules.kind).points or rules.points_total is None:
        raise ValueError("approval ballots are checked by validate_approval")
    costs = {project.id: project.cost for project in projects}
    _check_known_once(costs, [project_id for project_id, _ in allocation])
    for project_id, points in allocation:
        if points < 0:
            raise InvalidBallot(
                "negative_points",
                f"plan {project_id} was given {points} points",
                project_id=project_id,
                points=points,
            )
    total = sum(points for _, points in allocation)
    if total > rules.points_total:
        raise InvalidBallot(
            "too_many_points",
            f"{total} points given, at most {rules.points_total} allowed",
            total=total,
            limit=rules.points_total,
        )
    ballot = {project_id: points for project_id, points in allocation if points > 0}
    _check_count(rules, len(ballot))
    return ballot


def _check_known_once(costs: Mapping[str, Fraction], choices: Sequence[str]) -> None:
    seen: set[str] = set()
    for project_id in choices:
        if project_id not in costs:
            raise InvalidBallot(
                "unknown_project", f"no plan {project_id!r} on this ballot", project_id=project_id
            )
        if project_id in seen:
            raise InvalidBallot(
                "duplicate_choice", f"plan {project_id!r} chosen twice", project_id=project_id
            )
        seen.add(project_id)


def _check_count(rules: BallotRules, count: int) -> None:
    if count < rules.min_choices:
        raise InvalidBallot(
            "too_few_choices",
            f"{count} plans chosen, at least {rules.min_choices} required",
            count=count,
            limit=rules.min_choices,
        )
    if rules.max_choices is not None and count > rules.max_choices:
        raise InvalidBallot(
            "too_many_choices",
            f"{count} plans chosen, at most {rules.max_choices} allowed",
            count=count,
            limit=rules.max_choices,
        )
