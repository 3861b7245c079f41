"""The ballot kinds: one spec per kind, each in its own module of this package.

A spec says everything that differs between kinds: the round settings it uses (and which the round
form requires), how a ballot is checked, the template with its parts of the ballot, review and
paper-ballot pages, and how its ballots are exported to Pabulib. Adding a kind: a member of
``BallotKind`` (with its case in the engine's ``_shape``), a module here with its ``SPEC``, its case
in ``spec`` below, its template, and a migration for the CHECK constraint on ``round.ballot_kind``.
A kind left out of ``spec`` fails the type check; tests/services/test_ballot_kinds.py checks
that every kind has a spec whose templates exist.
"""

from __future__ import annotations

from typing import Any, assert_never

from sqlalchemy import Row

from proeftuin.allocation.ballots import BallotKind
from proeftuin.models import Round
from proeftuin.services.ballot_kinds import approval, k_approval, knapsack, points
from proeftuin.services.ballot_kinds.spec import TEMPLATE_MACROS, BallotKindSpec, Param, RoundRules

__all__ = [
    "RULE_COLUMNS",
    "SPECS",
    "TEMPLATE_MACROS",
    "BallotKindSpec",
    "Param",
    "RoundRules",
    "columns",
    "round_rules",
    "rules_of",
    "rules_of_row",
    "spec",
]

# The columns of ``round`` that make its rules: what a hand-built statement selects for
# ``rules_of_row``.
RULE_COLUMNS = (
    "budget",
    "ballot_kind",
    "min_choices",
    "max_choices",
    "min_spend_percent",
    "points_total",
)


def spec(kind: BallotKind) -> BallotKindSpec:
    match kind:
        case BallotKind.APPROVAL:
            return approval.SPEC
        case BallotKind.K_APPROVAL:
            return k_approval.SPEC
        case BallotKind.KNAPSACK:
            return knapsack.SPEC
        case BallotKind.POINTS:
            return points.SPEC
        case _:
            assert_never(kind)


# In the order the round form offers them.
SPECS = tuple(
    spec(kind)
    for kind in (BallotKind.KNAPSACK, BallotKind.APPROVAL, BallotKind.K_APPROVAL, BallotKind.POINTS)
)


def rules_of(round_: Round) -> RoundRules:
    return round_rules(
        BallotKind(round_.ballot_kind),
        round_.budget,
        round_.min_choices,
        round_.max_choices,
        round_.min_spend_percent,
        round_.points_total,
    )


def rules_of_row(row: Row[*tuple[Any, ...]]) -> RoundRules:
    """The rules from a row that has the columns ``RULE_COLUMNS``."""
    return round_rules(
        BallotKind(row.ballot_kind),
        row.budget,
        row.min_choices,
        row.max_choices,
        row.min_spend_percent,
        row.points_total,
    )


def round_rules(
    kind: BallotKind,
    budget: int,
    min_choices: int,
    max_choices: int | None,
    min_spend_percent: int,
    points_total: int,
) -> RoundRules:
    """The rules, with each setting the kind does not use at its default."""
    params = spec(kind).params
    return RoundRules(
        kind=kind,
        budget=budget,
        min_choices=min_choices if Param.MIN_CHOICES in params else 0,
        max_choices=max_choices if Param.MAX_CHOICES in params else None,
        min_spend_percent=min_spend_percent if Param.MIN_SPEND_PERCENT in params else 0,
        points_total=points_total if Param.POINTS_TOTAL in params else 0,
    )


def columns(rules: RoundRules) -> dict[str, object]:
    """The rules as the values of ``RULE_COLUMNS``, to store on a round."""
    return {
        "budget": rules.budget,
        "ballot_kind": rules.kind.value,
        "min_choices": rules.min_choices,
        "max_choices": rules.max_choices,
        "min_spend_percent": rules.min_spend_percent,
        "points_total": rules.points_total,
    }
