"""Points: the voter shares out a number of points over the plans they want."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from proeftuin.allocation.ballots import BallotKind, BallotRules, validate_points
from proeftuin.allocation.election import Ballot, Project, VoteType
from proeftuin.errors import _
from proeftuin.services.ballot_kinds.approval import CHOICE_LIMITS
from proeftuin.services.ballot_kinds.spec import BallotKindSpec, Param, RoundRules


def check_points(
    rules: BallotRules, projects: Sequence[Project], budget: Fraction, choices: Mapping[str, int]
) -> Ballot:
    return validate_points(rules, projects, list(choices.items()))


def pabulib_meta(rules: RoundRules) -> list[tuple[str, str]]:
    return [("max_sum_points", str(rules.points_total))]


def paper_steps(rules: RoundRules) -> list[tuple[str, dict[str, int]]]:
    return [
        (
            _(
                "Verdeel {total} punten over de plannen. Schrijf in het vakje hoeveel punten u "
                "een plan geeft. Samen niet meer dan {total}."
            ),
            {"total": rules.points_total},
        )
    ]


SPEC = BallotKindSpec(
    kind=BallotKind.POINTS,
    name=_("Punten verdelen"),
    description=_("Kiezers verdelen punten over de plannen die zij willen."),
    params=CHOICE_LIMITS | {Param.POINTS_TOTAL},
    required=frozenset({Param.POINTS_TOTAL}),
    template="voting/kinds/points.html",
    check=check_points,
    vote_type=VoteType.POINTS,
    pabulib_vote_type="cumulative",
    pabulib_meta=pabulib_meta,
    paper_steps=paper_steps,
)
