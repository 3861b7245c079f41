"""Approval: the voter ticks every plan they like, without minding the money."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from proeftuin.allocation.ballots import BallotKind, BallotRules, validate_approval
from proeftuin.allocation.election import Ballot, Project, VoteType
from proeftuin.errors import _
from proeftuin.services.ballot_kinds.spec import BallotKindSpec, Param

CHOICE_LIMITS = frozenset({Param.MIN_CHOICES, Param.MAX_CHOICES})


def check_ticks(
    rules: BallotRules, projects: Sequence[Project], budget: Fraction, choices: Mapping[str, int]
) -> Ballot:
    """A ballot of ticks: every plan given points is chosen (once, with 1 point)."""
    chosen = [project_id for project_id, points in choices.items() if points > 0]
    return validate_approval(rules, projects, budget, chosen)


SPEC = BallotKindSpec(
    kind=BallotKind.APPROVAL,
    name=_("Alle goede plannen"),
    description=_("Kiezers kiezen alle plannen die zij goed vinden, zonder op het geld te letten."),
    params=CHOICE_LIMITS,
    required=frozenset(),
    template="voting/kinds/approval.html",
    check=check_ticks,
    vote_type=VoteType.APPROVAL,
    pabulib_vote_type="approval",
)
