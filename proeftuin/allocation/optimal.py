"""Optimal allocation: the plans with the most total support that fit the budget, exactly.

Support is approvals (points on points ballots), the objective of pabutools'
``max_additive_utilitarian_welfare`` with ``Cardinality_Sat`` (``Additive_Cardinal_Sat``). Costs are
scaled to integers by their common denominator and solved by ``knapsack.solve`` (exact, no floats).
Supported plans that cost nothing are always funded; plans nobody supported never are.

Among several optimal sets the result funds the plan first in the tie order (``TieBreak``) if some
optimum does, then the next, and so on.

Explanations (``Explanation.reason``), each with ``support`` and ``cost``:

- ``funded``: in the optimum; ``support_lost`` is how much the best total falls if this plan may
  not be funded (0: an equally good set without it exists).
- ``not_in_optimum``: ``support_lost`` is how much the best total falls if this plan must be funded.
- ``no_support``: nobody supported it; ``support_lost`` as for ``not_in_optimum``.
- ``over_budget``: it costs more than the whole budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from proeftuin.allocation.election import Election, Explanation, Outcome
from proeftuin.allocation.knapsack import Knapsack, Solution, solve
from proeftuin.allocation.ties import TieBreak, tie_ranks


@dataclass(frozen=True)
class _Plans:
    """The election as a knapsack: item ``k`` is plan ``items[k]``."""

    support: list[int]
    weights: list[int]  # costs times a common denominator
    capacity: int
    free: list[int]  # supported plans that cost nothing
    items: list[int]  # supported plans that cost something and fit the budget
    knapsack: Knapsack

    @classmethod
    def of(cls, election: Election) -> _Plans:
        support = [int(s) for s in election.support.tolist()]
        costs = [project.cost for project in election.projects]
        scale = math.lcm(election.budget.denominator, *(cost.denominator for cost in costs))
        weights = [int(cost * scale) for cost in costs]
        capacity = int(election.budget * scale)
        free = [i for i, w in enumerate(weights) if support[i] > 0 and w == 0]
        items = [i for i, w in enumerate(weights) if support[i] > 0 and 0 < w <= capacity]
        knapsack = Knapsack(
            tuple(support[i] for i in items), tuple(weights[i] for i in items), capacity
        )
        return cls(support, weights, capacity, free, items, knapsack)


def optimal(
    election: Election, *, tie_break: TieBreak = TieBreak.LOTTERY, seed: str = ""
) -> Outcome:
    plans = _Plans.of(election)
    best = _solve(plans.knapsack)
    flipped = [_flip(plans.knapsack, k, best) for k in range(len(plans.items))]
    ranks = tie_ranks(election, tie_break, seed)
    chosen = _preferred(plans, best, flipped, [int(ranks[i]) for i in plans.items])
    funded = sorted([*plans.free, *(plans.items[k] for k in chosen)])
    funded_set = set(funded)
    item_of = {plan: k for k, plan in enumerate(plans.items)}

    explanations: dict[str, Explanation] = {}
    for i, project in enumerate(election.projects):
        facts: dict[str, int | Fraction | str] = {
            "support": plans.support[i],
            "cost": project.cost,
        }
        if i in item_of:
            facts["support_lost"] = best.value - flipped[item_of[i]]
            reason = "funded" if i in funded_set else "not_in_optimum"
        elif i in plans.free:
            facts["support_lost"] = plans.support[i]
            reason = "funded"
        elif plans.weights[i] > plans.capacity:
            reason = "over_budget"
        else:
            forced = _solve(plans.knapsack, reserved=plans.weights[i], hint=best.chosen)
            facts["support_lost"] = best.value - forced.value
            reason = "no_support"
        explanations[project.id] = Explanation(i in funded_set, reason, facts)
    welfare = best.value + sum(plans.support[i] for i in plans.free)
    return Outcome(
        rule="optimal",
        selected=tuple(election.projects[i].id for i in funded),
        explanations=explanations,
        facts={"budget": election.budget, "welfare": welfare},
    )


def _solve(
    knapsack: Knapsack,
    *,
    forced_in: list[int] | tuple[()] = (),
    forced_out: list[int] | tuple[()] = (),
    reserved: int = 0,
    hint: frozenset[int] = frozenset(),
) -> Solution:
    solution = solve(
        knapsack, forced_in=forced_in, forced_out=forced_out, reserved=reserved, hint=hint
    )
    if solution is None:  # callers only force what fits the budget on its own
        raise AssertionError("forced plans do not fit")
    return solution


def _flip(knapsack: Knapsack, item: int, best: Solution) -> int:
    """The best total when ``item`` gets the other status than in ``best``."""
    if item in best.chosen:
        return _solve(knapsack, forced_out=[item], hint=best.chosen).value
    return _solve(knapsack, forced_in=[item], hint=best.chosen).value


def _preferred(
    plans: _Plans, best: Solution, flipped: list[int], ranks: list[int]
) -> frozenset[int]:
    """Among all optima, the one that funds the earliest plan in tie order that any optimum funds,
    then the next. Only plans whose flip keeps the optimum (``flipped == best``) can differ
    between optima; the others are settled.
    """
    open_items = sorted(
        (k for k, value in enumerate(flipped) if value == best.value), key=ranks.__getitem__
    )
    current = best
    forced_in: list[int] = []
    forced_out: list[int] = []
    for k in open_items:
        if k not in current.chosen:
            trial = solve(
                plans.knapsack,
                forced_in=[*forced_in, k],
                forced_out=forced_out,
                hint=current.chosen,
            )
            if trial is None or trial.value < best.value:
                forced_out.append(k)
                continue
            current = trial
        forced_in.append(k)
    return current.chosen
