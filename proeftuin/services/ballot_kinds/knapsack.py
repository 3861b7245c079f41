"""Knapsack: the voter ticks plans until the budget is spent, and no further."""

from __future__ import annotations

from proeftuin.allocation.ballots import BallotKind
from proeftuin.allocation.election import VoteType
from proeftuin.errors import _
from proeftuin.services.ballot_kinds.approval import CHOICE_LIMITS, check_ticks
from proeftuin.services.ballot_kinds.spec import BallotKindSpec, Param, RoundRules


def pabulib_meta(rules: RoundRules) -> list[tuple[str, str]]:
    meta = [("max_sum_cost", str(rules.budget))]
    if rules.min_spend_percent:
        meta.append(("min_sum_cost", str(rules.min_spend)))
    return meta


def paper_steps(rules: RoundRules) -> list[tuple[str, dict[str, int]]]:
    steps = [
        (
            _(
                "Zet een kruisje bij de plannen die u wilt. Samen mogen ze niet meer kosten "
                "dan {amount} euro."
            ),
            {"amount": rules.budget},
        )
    ]
    if rules.min_spend:
        steps.append((_("Samen kosten ze minstens {amount} euro."), {"amount": rules.min_spend}))
    return steps


SPEC = BallotKindSpec(
    kind=BallotKind.KNAPSACK,
    name=_("Binnen het budget"),
    description=_("Kiezers kiezen plannen tot het budget op is."),
    params=CHOICE_LIMITS | {Param.MIN_SPEND_PERCENT},
    required=frozenset(),
    template="voting/kinds/knapsack.html",
    check=check_ticks,
    vote_type=VoteType.APPROVAL,
    pabulib_vote_type="approval",
    pabulib_meta=pabulib_meta,
    paper_steps=paper_steps,
)
