"""Greedy allocation: plans in order of support, each funded if it still fits in what is left.

``per_euro=False`` orders by total support (approvals, or points on points ballots): pabutools'
``greedy_utilitarian_welfare`` with ``Cost_Sat`` (points x cost on points ballots).
``per_euro=True`` orders by support per euro: ``Cardinality_Sat`` (``Additive_Cardinal_Sat`` on
points ballots). Supported plans that cost nothing come first. A plan that does not fit is
skipped; cheaper plans after it can still be funded. Order comparisons are exact (integers and
fractions).

One deliberate difference from pabutools: a plan nobody supported is never funded, where pabutools
funds such plans last if money is left. ``fund_unsupported=True`` restores pabutools' behaviour.

Explanations (``Explanation.reason``):

- ``funded``: ``turn`` (1-based place in the order), ``budget_left`` when its turn came, ``cost``,
  ``support``.
- ``did_not_fit``: its cost exceeded ``budget_left`` at its turn. ``needed_support`` is the smallest
  support with which this plan, every other plan's support unchanged, would have been funded by the
  same rule and tie-break: enough to be placed before ``taken_by``, the plan whose funding left less
  than its cost.
- ``over_budget``: it costs more than the whole budget (no ``needed_support``).
- ``no_support``: nobody supported it (with ``needed_support`` as above when it could fit).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from fractions import Fraction

from proeftuin.allocation.election import Election, Explanation, Outcome
from proeftuin.allocation.ties import TieBreak, TieKey, tie_key

_FIRST, _BY_SUPPORT, _UNSUPPORTED = 0, 1, 2
OrderKey = tuple[int, Fraction | int, TieKey]


def greedy(
    election: Election,
    *,
    per_euro: bool = False,
    tie_break: TieBreak = TieBreak.LOTTERY,
    seed: str = "",
    fund_unsupported: bool = False,
) -> Outcome:
    support = [int(s) for s in election.support.tolist()]
    costs = [project.cost for project in election.projects]
    # Money as integers (costs times their common denominator): exact and fast.
    scale = math.lcm(election.budget.denominator, *(cost.denominator for cost in costs))
    weights = [int(cost * scale) for cost in costs]
    tie = tie_key(election, tie_break, seed)
    key = _order_key(weights, per_euro, tie)
    order = sorted(range(len(costs)), key=lambda i: key(i, support[i]))
    left_at_turn = [0] * len(costs)
    funded: list[int] = []
    left_after: list[int] = []  # money left after each funded plan, in funding order
    left = int(election.budget * scale)
    for i in order:
        left_at_turn[i] = left
        if weights[i] <= left and (support[i] > 0 or fund_unsupported):
            left -= weights[i]
            funded.append(i)
            left_after.append(left)
    turns = {i: turn for turn, i in enumerate(order, start=1)}
    funded_set = set(funded)
    ids = [project.id for project in election.projects]
    explanations: dict[str, Explanation] = {}
    for i, project_id in enumerate(ids):
        facts = _turn_facts(support[i], costs[i], Fraction(left_at_turn[i], scale), turns[i])
        if i in funded_set:
            explanations[project_id] = Explanation(True, "funded", facts)
            continue
        if costs[i] > election.budget:
            reason = "over_budget"
        else:
            reason = "did_not_fit" if support[i] > 0 else "no_support"
            # Moving a plan earlier does not change what happens before it, so it is funded
            # exactly when it comes before the first funded plan that leaves less than its cost.
            first_short = bisect_right([-money for money in left_after], -weights[i])
            if first_short == len(funded):
                facts["needed_support"] = 1  # only a plan left out for lack of any support
            else:
                other = funded[first_short]
                facts["needed_support"] = _support_to_pass(
                    i, other, support, weights, per_euro, tie
                )
                facts["taken_by"] = ids[other]
        explanations[project_id] = Explanation(False, reason, facts)
    spent = election.budget - Fraction(left, scale)
    return Outcome(
        rule="greedy-per-euro" if per_euro else "greedy",
        selected=tuple(ids[i] for i in funded),
        explanations=explanations,
        facts={"budget": election.budget, "spent": spent, "left": Fraction(left, scale)},
    )


def _turn_facts(
    support: int, cost: Fraction, budget_left: Fraction, turn: int
) -> dict[str, int | Fraction | str]:
    """The facts every greedy explanation starts with."""
    return {"support": support, "cost": cost, "budget_left": budget_left, "turn": turn}


def _order_key(
    weights: list[int], per_euro: bool, tie: Callable[[int, int], TieKey]
) -> Callable[[int, int], OrderKey]:
    """Sort key of plan ``i`` as if it had ``support``; the lowest key is funded first."""

    def key(i: int, support: int) -> OrderKey:
        if support <= 0:
            return (_UNSUPPORTED, 0, tie(i, support))
        if weights[i] == 0:
            return (_FIRST, 0, tie(i, support))
        primary = Fraction(-support, weights[i]) if per_euro else -support
        return (_BY_SUPPORT, primary, tie(i, support))

    return key


def _support_to_pass(
    plan: int,
    other: int,
    support: list[int],
    weights: list[int],
    per_euro: bool,
    tie: Callable[[int, int], TieKey],
) -> int:
    """The smallest support that orders ``plan`` (which costs something) before ``other``."""
    if support[other] <= 0:
        return 1  # a funded plan nobody supported comes after every supported one
    if per_euro:  # support / cost at least that of ``other``
        level, rest = divmod(support[other] * weights[plan], weights[other])
        equal = level if rest == 0 else None
        more = level + 1
    else:
        equal, more = support[other], support[other] + 1
    if equal is not None and equal >= 1 and tie(plan, equal) < tie(other, support[other]):
        return equal
    return more
