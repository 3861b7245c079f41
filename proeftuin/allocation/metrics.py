"""How an outcome serves the voters, so a gebiedscommissie can compare rules side by side.

A voter *supports* a plan when the ballot gives it any points (approval and ordinal ballots: when it
is on the ballot). Satisfaction per voter: ``cost`` = euros of funded plans the voter supports,
``count`` = number of funded plans the voter supports.

EJR up to one project (Peters, Pierczyński & Skowron 2021), for approval and ordinal ballots: a
group ``S`` of voters who all approve every plan of a set ``T`` is ``T``-cohesive when
``|S| * budget >= n * cost(T)``. The outcome ``W`` satisfies EJR up to one when every such group has
a member ``i`` with ``u_i(W) >= u_i(T)`` or, for some ``a`` in ``T`` not funded,
``u_i(W + a) > u_i(T)``. The check is exact; it returns None (not checked) when
it would have to examine more than ``EJR_MAX_PAIRS`` (distinct ballot, subset of that ballot) pairs,
when a ballot lists more than ``EJR_MAX_BALLOT`` plans, or when the amounts (costs scaled to whole
numbers, times the number of voters) do not fit 64-bit integers.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from proeftuin.allocation.election import Election, Outcome, VoteType

Utility = Literal["cost", "count"]
EJR_MAX_PAIRS = 4_000_000
EJR_MAX_BALLOT = 16


@dataclass(frozen=True)
class Metrics:
    budget_used: Fraction
    budget_used_share: Fraction | None  # None for a budget of 0
    voters_with_funded_choice: int
    voters_with_funded_choice_share: Fraction | None  # None without voters
    mean_cost_satisfaction: Fraction | None  # euros; None without voters
    mean_count_satisfaction: Fraction | None  # plans; None without voters
    ejr_up_to_one: bool | None  # cost utilities; None for points ballots or when not tractable


def metrics(election: Election, outcome: Outcome) -> Metrics:
    index = election.index
    funded = np.zeros(len(election.projects), dtype=np.bool_)
    funded[[index[project_id] for project_id in outcome.selected]] = True
    used = outcome.total_cost(election)
    voters = election.matrix.voter_count
    approvals = election.approvals.tolist()
    cost_total = sum(
        (approvals[i] * election.projects[i].cost for i in np.flatnonzero(funded).tolist()),
        Fraction(0),
    )
    count_total = sum(approvals[i] for i in np.flatnonzero(funded).tolist())
    reached = int(np.count_nonzero(_funded_per_voter(election, funded)))
    return Metrics(
        budget_used=used,
        budget_used_share=used / election.budget if election.budget else None,
        voters_with_funded_choice=reached,
        voters_with_funded_choice_share=Fraction(reached, voters) if voters else None,
        mean_cost_satisfaction=cost_total / voters if voters else None,
        mean_count_satisfaction=Fraction(count_total, voters) if voters else None,
        ejr_up_to_one=satisfies_ejr_up_to_one(election, outcome.selected),
    )


def _funded_per_voter(election: Election, funded: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    m = election.matrix
    hits = np.zeros(len(m.projects) + 1, dtype=np.int64)
    np.cumsum(funded[m.projects] & (m.points > 0), out=hits[1:])
    return hits[m.indptr[1:]] - hits[m.indptr[:-1]]


def satisfies_ejr_up_to_one(
    election: Election, selected: Collection[str], *, utility: Utility = "cost"
) -> bool | None:
    """Exact EJR-up-to-one check (see the module docstring); None when not tractable."""
    if election.vote_type is VoteType.POINTS:
        return None
    ballots = _distinct_ballots(election)
    pairs = sum(len(rows) << length for length, (rows, _) in ballots.items())
    projects = len(election.projects)
    too_wide = any(length * math.log2(projects + 1) > 62 for length in ballots)
    if pairs > EJR_MAX_PAIRS or max(ballots, default=0) > EJR_MAX_BALLOT or too_wide:
        return None
    costs = [project.cost for project in election.projects]
    scale = math.lcm(election.budget.denominator, *(cost.denominator for cost in costs))
    scaled = [int(c * scale) for c in costs]
    budget = int(election.budget * scale)
    voters = election.matrix.voter_count
    if (sum(scaled) + 1) * max(voters, budget, 1) >= 2**62:
        return None  # amounts too large for exact 64-bit arithmetic
    cost = np.array(scaled, dtype=np.int64)
    value = cost if utility == "cost" else np.ones(projects, dtype=np.int64)
    funded = np.zeros(projects, dtype=np.bool_)
    index = election.index
    funded[[index[project_id] for project_id in selected]] = True
    keys: list[npt.NDArray[np.int64]] = []
    weights: list[npt.NDArray[np.int64]] = []
    set_costs: list[npt.NDArray[np.int64]] = []
    for length, (rows, counts) in ballots.items():
        row_value = value[rows]
        row_funded = funded[rows]
        have = (row_value * row_funded).sum(axis=1)  # u_i(W)
        for mask in range(1, 1 << length):
            columns = [j for j in range(length) if mask >> j & 1]
            chosen_unfunded = ~row_funded[:, columns]
            if not chosen_unfunded.any():
                continue
            worth = row_value[:, columns].sum(axis=1)  # u_i(T)
            best_add = np.where(chosen_unfunded, row_value[:, columns], 0).max(axis=1)
            failing = chosen_unfunded.any(axis=1) & (have < worth) & (have + best_add <= worth)
            if failing.any():
                subset = rows[failing][:, columns]
                keys.append(_subset_key(subset, projects))
                weights.append(counts[failing])
                set_costs.append(cost[subset].sum(axis=1))
    if not keys:
        return True
    all_keys = np.concatenate(keys)
    order = np.argsort(all_keys, kind="stable")
    sorted_keys = all_keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    group_size = np.add.reduceat(np.concatenate(weights)[order], starts)
    group_cost = np.concatenate(set_costs)[order][starts]
    return not bool(np.any(group_size * budget >= voters * group_cost))


def _distinct_ballots(
    election: Election,
) -> dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Per ballot length: the distinct ballots (sorted project indices, one row each) and how many
    voters cast each."""
    m = election.matrix
    supported = m.points > 0
    kept = np.zeros(len(supported) + 1, dtype=np.int64)
    np.cumsum(supported, out=kept[1:])
    starts = kept[m.indptr[:-1]]
    lengths = kept[m.indptr[1:]] - starts
    projects = m.projects[supported]
    result: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
    for length in np.unique(lengths).tolist():
        if length == 0:
            continue
        first = starts[lengths == length]
        rows = np.sort(projects[first[:, None] + np.arange(length)], axis=1)
        distinct, counts = np.unique(rows, axis=0, return_counts=True)
        result[length] = (distinct, counts.astype(np.int64))
    return result


def _subset_key(subset: npt.NDArray[np.int64], projects: int) -> npt.NDArray[np.int64]:
    """One integer per row of sorted project indices (base ``projects + 1``, 0 means none)."""
    key = np.zeros(len(subset), dtype=np.int64)
    for column in range(subset.shape[1]):
        key = key * (projects + 1) + subset[:, column] + 1
    return key
