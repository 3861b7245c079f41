"""What a ballot kind says about itself, and the one shape of a round's ballot rules.

Each module of this package fills in one ``BallotKindSpec``; the package registers them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from proeftuin.allocation.ballots import BallotKind, BallotRules
from proeftuin.allocation.election import Ballot, Project, VoteType
from proeftuin.errors import _


class Param(StrEnum):
    """A round setting (a column of ``round``) that a ballot kind may use."""

    MIN_CHOICES = "min_choices"
    MAX_CHOICES = "max_choices"
    MIN_SPEND_PERCENT = "min_spend_percent"
    POINTS_TOTAL = "points_total"


@dataclass(frozen=True, slots=True)
class RoundRules:
    """A round's ballot rules, as every service above the table sees them.

    Built by ``ballot_kinds.rules_of`` (the ORM object) or ``rules_of_row`` (a row with the
    columns ``RULE_COLUMNS``, for the measured statements of the hot paths). A setting the kind
    does not use is at its default (0, or None for ``max_choices``).
    """

    kind: BallotKind
    budget: int
    min_choices: int
    max_choices: int | None
    min_spend_percent: int
    points_total: int

    @property
    def min_spend(self) -> int:
        """The least a ballot must spend, in euros rounded up (0: no minimum)."""
        return -(-self.budget * self.min_spend_percent // 100)


# The macros every kind's template defines: the generic pages import the template named by the
# round's spec and call these (ballot page: voting/ballot.html and _state.html; review page:
# voting/review.html; paper-ballot form: codes/paper.html and _paper_total.html).
TEMPLATE_MACROS = (
    "rules",  # (round) what the voter may choose, above the plans
    "legend",  # () the heading of the plans
    "options",  # (page, errors, typed) the plans as list items, each with its input
    "live_state",  # (page) what is left to spend or give, updated as the voter chooses
    "review_heading",  # () the column beside each chosen plan on the review page
    "review_value",  # (option, points) that column for one plan
    "review_total",  # (state) and its total
    "review_summary",  # (round, state) a sentence under the table
    "paper_hint",  # (round) how staff copy a paper ballot into the form
    "paper_choice",  # (plan, field, typed, chosen) the input for one plan
    "paper_total",  # (round, state) what the entered choices add up to
)

# The engine's check of one ballot: the plans given points (at most MAX_SELECTIONS of them, all
# whole numbers of 0 or more) become the ballot the count sees, or InvalidBallot says why not.
BallotCheck = Callable[[BallotRules, Sequence[Project], Fraction, Mapping[str, int]], Ballot]
PabulibMeta = Callable[[RoundRules], list[tuple[str, str]]]


# What the printed paper ballot tells the voter to do first (services/paper_form.py): msgids with
# their parameters, translated and with whole numbers formatted when printed.
PaperSteps = Callable[[RoundRules], list[tuple[str, dict[str, int]]]]


def no_meta(rules: RoundRules) -> list[tuple[str, str]]:
    return []


def tick_steps(rules: RoundRules) -> list[tuple[str, dict[str, int]]]:
    return [(_("Zet een kruisje bij elk plan dat u steunt."), {})]


@dataclass(frozen=True)
class BallotKindSpec:
    kind: BallotKind
    # The round form's option and the round page's fact (Dutch, translated when shown).
    name: str
    description: str
    params: frozenset[Param]  # the round settings this kind uses; the others stay at default
    required: frozenset[Param]  # of those, the ones the round form must have a value for
    template: str  # under templates/, with the TEMPLATE_MACROS
    check: BallotCheck
    vote_type: VoteType  # how the count and the open data read its ballots
    pabulib_vote_type: str  # the Pabulib META name of that
    pabulib_meta: PabulibMeta = no_meta  # its own META lines, after min_length and max_length
    paper_steps: PaperSteps = tick_steps

    @property
    def uses_points(self) -> bool:
        """The voter gives points (a number per plan), not ticks."""
        return Param.POINTS_TOTAL in self.params

    def engine_rules(self, rules: RoundRules) -> BallotRules:
        uses_points = self.uses_points
        return BallotRules(
            kind=self.kind,
            min_choices=rules.min_choices,
            max_choices=rules.max_choices,
            min_spend_percent=rules.min_spend_percent,
            points_total=rules.points_total if uses_points else None,
        )
