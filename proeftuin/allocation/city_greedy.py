"""Greedy as cities run it: by support, with the variations Polish and French cities use.

Plans go in order of support (approvals, or points on points ballots; ordinal ballots are
converted by the caller, see ``Election.as_points_by_rank``), ties broken as in ``greedy.py``.
Each plan in turn is funded when it still fits. ``CityGreedy`` says what differs:

- ``skip=False`` (greedy without skipping, Gdynia and Wrocław): the run stops at the first plan
  that does not fit; cheaper plans after it are not funded.
- ``threshold`` (a minimum score, Łódź, Katowice, Warsaw): a plan with less support than this
  takes no part. Pabulib's ``min_project_score_threshold``; a plan exactly at it takes part.
- ``reserve_share`` (Poznań): the run stops at the first plan that does not fit, and that plan is
  funded as well, from reserve funds outside the budget, when what is left covers at least this
  share of its cost (Poznań: 80 %).
- ``exclusive``: groups of plans of which at most one is funded (the same place, say); a plan
  whose group already has a funded plan is passed over.

A plan nobody supported is never funded. Order comparisons are exact.

Explanations (``Explanation.reason``), each with the facts ``support``, ``cost``, ``turn`` (1-based
place in the order) and ``budget_left`` (money left when its turn came):

- ``funded``.
- ``funded_from_reserve``: did not fit, but what was left covered ``reserve_share`` of its cost;
  ``reserve`` is what the reserve paid (its cost minus what was left).
- ``did_not_fit``: its cost exceeded ``budget_left``. Without skipping, the run stopped here.
- ``not_reached``: without skipping (or after a reserve plan), the run had stopped at
  ``stopped_at`` before its turn came.
- ``below_threshold``: its support was below ``threshold``.
- ``excluded``: ``excluded_by``, a plan of the same exclusive group, was funded before it.
- ``over_budget``: it costs more than the whole budget.
- ``no_support``: nobody supported it.

``needed_support`` (not for ``excluded`` plans, nor with a reserve share) is the smallest support
with which the plan, every other plan's support unchanged, would have been funded by the same
rule: at least the threshold, and enough to come before ``taken_by``, the first plan whose
funding left less than its cost, or else before the plan at which the run stopped.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction

from proeftuin.allocation.election import Election, Explanation, Outcome
from proeftuin.allocation.greedy import _order_key, _support_to_pass, _turn_facts
from proeftuin.allocation.ties import TieBreak, TieKey, tie_key


@dataclass(frozen=True)
class CityGreedy:
    skip: bool = True
    threshold: int = 0
    reserve_share: Fraction | None = None
    exclusive: tuple[frozenset[str], ...] = ()

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError("threshold cannot be negative")
        if self.reserve_share is not None and not 0 < self.reserve_share <= 1:
            raise ValueError("reserve_share is a share above 0 and at most 1")

    @property
    def name(self) -> str:
        if self.reserve_share is not None:
            base = "greedy-reserve"
        else:
            base = "greedy" if self.skip else "greedy-no-skip"
        if self.threshold:
            base += "-threshold"
        return base + ("-exclusive" if self.exclusive else "")


def city_greedy(
    election: Election,
    rule: CityGreedy = CityGreedy(),
    *,
    support: Sequence[int] | None = None,
    tie_break: TieBreak = TieBreak.LOTTERY,
    seed: str = "",
) -> Outcome:
    """The outcome of ``rule``; ``support`` replaces the ballots' count (a file's own totals)."""
    counted = [int(s) for s in (support if support is not None else election.support.tolist())]
    if len(counted) != len(election.projects):
        raise ValueError("one support per plan")
    costs = [project.cost for project in election.projects]
    ids = [project.id for project in election.projects]
    group_of = _groups(rule.exclusive, election.index)
    scale = math.lcm(election.budget.denominator, *(cost.denominator for cost in costs))
    weights = [int(cost * scale) for cost in costs]
    tie = tie_key(election, tie_break, seed)
    key = _order_key(weights, False, tie)
    order = sorted(range(len(costs)), key=lambda i: key(i, counted[i]))
    left = int(election.budget * scale)
    funded: list[int] = []
    left_after: list[int] = []
    reasons: dict[int, str] = {}
    extra: dict[int, int | str] = {}
    left_at_turn = [0] * len(costs)
    stopped_at: int | None = None
    reserve = 0
    for i in order:
        left_at_turn[i] = left
        group = group_of.get(i, ())
        taken = next((j for j in funded if j in group), None)
        if counted[i] <= 0:
            reasons[i] = "no_support"
        elif counted[i] < rule.threshold:
            reasons[i] = "below_threshold"
        elif stopped_at is not None:
            reasons[i] = "not_reached"
        elif taken is not None:
            reasons[i], extra[i] = "excluded", ids[taken]
        elif weights[i] <= left:
            left -= weights[i]
            funded.append(i)
            left_after.append(left)
            reasons[i] = "funded"
        elif rule.reserve_share is not None and left >= rule.reserve_share * weights[i]:
            reserve = weights[i] - left
            funded.append(i)
            left_after.append(0)
            left, stopped_at = 0, i
            reasons[i] = "funded_from_reserve"
        else:
            reasons[i] = "over_budget" if costs[i] > election.budget else "did_not_fit"
            if not rule.skip or rule.reserve_share is not None:
                stopped_at = i
    turns = {i: turn for turn, i in enumerate(order, start=1)}
    funded_set = set(funded)
    run = _Run(funded, left_after, stopped_at)
    explanations: dict[str, Explanation] = {}
    for i, project_id in enumerate(ids):
        facts = _turn_facts(counted[i], costs[i], Fraction(left_at_turn[i], scale), turns[i])
        reason = reasons[i]
        if rule.threshold:
            facts["threshold"] = rule.threshold
        if reason == "funded_from_reserve":
            facts["reserve"] = Fraction(reserve, scale)
            facts["reserve_share"] = rule.reserve_share or Fraction(0)
        if reason == "excluded":
            facts["excluded_by"] = extra[i]
        if reason == "not_reached" and stopped_at is not None:
            facts["stopped_at"] = ids[stopped_at]
        is_funded = reason in ("funded", "funded_from_reserve")
        rival_funded = any(j in funded_set for j in group_of.get(i, ()))
        if not is_funded and not rival_funded and rule.reserve_share is None:
            facts.update(_needed(i, counted, weights, election.budget * scale, run, rule, tie))
            if "taken_by" in facts:
                facts["taken_by"] = ids[int(facts["taken_by"])]
        explanations[project_id] = Explanation(is_funded, reason, facts)
    spent = election.budget - Fraction(left, scale) + Fraction(reserve, scale)
    outcome_facts: dict[str, int | Fraction | str] = {
        "budget": election.budget,
        "spent": spent,
        "left": Fraction(left, scale),
    }
    if rule.threshold:
        outcome_facts["threshold"] = rule.threshold
    if rule.reserve_share is not None:
        outcome_facts["reserve"] = Fraction(reserve, scale)
    if stopped_at is not None:
        outcome_facts["stopped_at"] = ids[stopped_at]
    return Outcome(
        rule=rule.name,
        selected=tuple(ids[i] for i in funded),
        explanations=explanations,
        facts=outcome_facts,
    )


def _groups(
    exclusive: Sequence[Collection[str]], index: dict[str, int]
) -> dict[int, frozenset[int]]:
    group_of: dict[int, frozenset[int]] = {}
    for group in exclusive:
        unknown = [pid for pid in group if pid not in index]
        if unknown:
            raise ValueError(f"unknown plans in an exclusive group: {', '.join(unknown)}")
        members = frozenset(index[pid] for pid in group)
        for member in members:
            if member in group_of:
                raise ValueError("a plan can be in one exclusive group only")
            group_of[member] = members
    return group_of


@dataclass(frozen=True)
class _Run:
    funded: list[int]  # in funding order
    left_after: list[int]  # money left after each funded plan
    stopped_at: int | None


def _needed(
    i: int,
    counted: list[int],
    weights: list[int],
    budget: Fraction,
    run: _Run,
    rule: CityGreedy,
    tie: Callable[[int, int], TieKey],
) -> dict[str, int]:
    """``needed_support`` and ``taken_by`` (an index) of a plan that was not funded."""
    if weights[i] > budget:
        return {}
    # Moving a plan earlier does not change what happens before it, so it is funded exactly when
    # it comes before the first funded plan that leaves less than its cost (and, without
    # skipping, before the plan at which the run stopped).
    first_short = bisect_right([-money for money in run.left_after], -weights[i])
    other = run.funded[first_short] if first_short < len(run.funded) else run.stopped_at
    floor = max(rule.threshold, 1)
    if other is None or weights[i] == 0:  # supported free plans come first
        return {"needed_support": floor} if counted[i] < floor else {}
    passing = _support_to_pass(i, other, counted, weights, False, tie)
    return {"needed_support": max(floor, passing), "taken_by": other}
