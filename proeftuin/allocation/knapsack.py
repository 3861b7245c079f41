"""Exact 0/1 knapsack on integers: the most profit within a capacity, with items forced in or out.

No floating point decides anything. The method is the textbook "core" approach:

1. the LP relaxation (fill by profit per weight, the first item that does not fit is the break
   item) gives an upper bound and a multiplier ``r`` (the break item's profit per weight);
2. a feasible set (greedy fill, or a repaired hint such as a neighbouring optimum) gives a lower
   bound ``LB``;
3. the Lagrangian bound with ``r`` and one item set against the LP's choice is
   ``LP - |p - r*w|``; when that is below ``LB`` the item has the LP's choice in *every* optimum
   and is fixed;
4. the few items left (the core) are solved by dynamic programming over profit or over weight
   (whichever table is smaller), with a branch on the break item when the table would be too big.

Every optimum survives step 3, so the result is exactly optimal. Integers throughout: reduced costs
are scaled by the break item's weight. With real ballots the core is a handful of items and a solve
takes a millisecond or two; contrived instances whose profits are nearly proportional to their
weights keep every item in the core and cost up to about a second per solve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import numpy.typing as npt

# Cells of a DP table (items x table width, one bit each kept for the way back) above which the
# core is split by branching instead: about a second of numpy and 25 MB.
_MAX_TABLE = 200_000_000
_INT64_SAFE = 2**62


@dataclass(frozen=True)
class Knapsack:
    profits: tuple[int, ...]  # each at least 1
    weights: tuple[int, ...]  # each at least 1
    capacity: int

    def __post_init__(self) -> None:
        if len(self.profits) != len(self.weights):
            raise ValueError("one weight per profit")
        if any(p < 1 for p in self.profits) or any(w < 1 for w in self.weights):
            raise ValueError("profits and weights must be positive integers")

    @cached_property
    def by_efficiency(self) -> tuple[int, ...]:
        """Items by profit per weight, best first; equal ratios by index."""
        return tuple(
            sorted(
                range(len(self.profits)),
                key=lambda i: (-Fraction(self.profits[i], self.weights[i]), i),
            )
        )


@dataclass(frozen=True)
class Solution:
    value: int
    chosen: frozenset[int]


def solve(
    knapsack: Knapsack,
    *,
    forced_in: Iterable[int] = (),
    forced_out: Iterable[int] = (),
    reserved: int = 0,
    hint: Iterable[int] = (),
) -> Solution | None:
    """An optimal set containing ``forced_in``, avoiding ``forced_out``, within capacity minus
    ``reserved``; None when the forced items alone do not fit.

    ``hint`` (any set, e.g. the optimum without forcing) only speeds the search up. Among several
    optima the result is deterministic for the same arguments.
    """
    forced_in, forced_out = frozenset(forced_in), frozenset(forced_out)
    profits, weights = knapsack.profits, knapsack.weights
    room = knapsack.capacity - reserved - sum(weights[i] for i in forced_in)
    if room < 0:
        return None
    free = [i for i in knapsack.by_efficiency if i not in forced_in and i not in forced_out]
    base = sum(profits[i] for i in forced_in)
    value, chosen = _solve_free(knapsack, free, room, set(hint) - forced_in - forced_out)
    return Solution(base + value, forced_in | chosen)


def _solve_free(
    knapsack: Knapsack, free: list[int], room: int, hint: set[int]
) -> tuple[int, frozenset[int]]:
    """Best (profit, set) over ``free`` (in efficiency order) within ``room``."""
    profits, weights = knapsack.profits, knapsack.weights
    used = taken = 0
    break_item = -1
    for i in free:
        if used + weights[i] > room:
            break_item = i
            break
        used += weights[i]
        taken += profits[i]
    if break_item < 0:  # everything fits
        return taken, frozenset(free)
    pb, wb = profits[break_item], weights[break_item]
    lower, lower_set = _lower_bound(knapsack, free, room, hint)
    if lower == taken + pb * (room - used) // wb:  # a feasible set reaches the LP bound
        return lower, lower_set
    reduced = [profits[i] * wb - pb * weights[i] for i in free]
    lagrangian = pb * room + sum(r for r in reduced if r > 0)
    fixing = lagrangian - lower * wb  # fix an item whose flip costs more than this
    fixed_in: list[int] = []
    core: list[int] = []
    for i, r in zip(free, reduced, strict=True):
        if r > fixing:
            fixed_in.append(i)
        elif -r <= fixing:
            core.append(i)
    core_room = room - sum(weights[i] for i in fixed_in)
    if core_room < 0:  # impossible: the fixed items are in every optimum
        raise AssertionError("knapsack bound fixing went wrong")
    value, chosen = _solve_core(knapsack, core, core_room)
    value += sum(profits[i] for i in fixed_in)
    if value < lower:  # impossible: the optimum cannot be below a feasible set
        raise AssertionError("knapsack core search went wrong")
    return value, chosen | frozenset(fixed_in)


def _lower_bound(
    knapsack: Knapsack, free: list[int], room: int, hint: set[int]
) -> tuple[int, frozenset[int]]:
    """The better of greedy filling and the hint repaired (worst ratio out) then filled."""
    best = _fill(knapsack, free, room, [])
    if hint:
        weights = knapsack.weights
        kept = [i for i in free if i in hint]
        total = sum(weights[i] for i in kept)
        while total > room:
            total -= weights[kept.pop()]
        repaired = _fill(knapsack, free, room, kept)
        if repaired[0] > best[0]:
            best = repaired
    return best


def _fill(
    knapsack: Knapsack, free: list[int], room: int, start: list[int]
) -> tuple[int, frozenset[int]]:
    """``start`` (which fits) plus every item that still fits, best ratio first."""
    profits, weights = knapsack.profits, knapsack.weights
    chosen = set(start)
    left = room - sum(weights[i] for i in start)
    value = sum(profits[i] for i in start)
    for i in free:
        if weights[i] <= left and i not in chosen:
            chosen.add(i)
            left -= weights[i]
            value += profits[i]
    return value, frozenset(chosen)


def _solve_core(knapsack: Knapsack, core: list[int], room: int) -> tuple[int, frozenset[int]]:
    """Dynamic programming over the core (in efficiency order), over profit or weight."""
    profits, weights = knapsack.profits, knapsack.weights
    core = [i for i in core if weights[i] <= room]
    if not core:
        return 0, frozenset()
    bound = _lp_bound([profits[i] for i in core], [weights[i] for i in core], room)
    core = [i for i in core if profits[i] <= bound]  # more profit than any feasible set: too heavy
    core_profits = [profits[i] for i in core]
    core_weights = [weights[i] for i in core]
    step = math.gcd(*core_weights)
    by_profit = min(sum(core_profits), bound) + 1
    by_weight = room // step + 1
    if len(core) * min(by_profit, by_weight) > _MAX_TABLE:
        return _branch(knapsack, core, room)
    if by_weight <= by_profit:
        picked = _dp_by_weight(core_profits, [w // step for w in core_weights], room // step)
    elif room < _INT64_SAFE:
        picked = _dp_by_profit(core_profits, core_weights, room, by_profit)
    else:
        return _branch(knapsack, core, room)
    chosen = frozenset(core[k] for k in picked)
    return sum(profits[i] for i in chosen), chosen


def _lp_bound(profits: list[int], weights: list[int], room: int) -> int:
    """Floor of the LP relaxation's value; the items are in efficiency order."""
    value = 0
    for p, w in zip(profits, weights, strict=True):
        if w > room:
            return value + p * room // w
        value += p
        room -= w
    return value


def _branch(knapsack: Knapsack, core: list[int], room: int) -> tuple[int, frozenset[int]]:
    """Split on the break item (the one the LP takes only in part); each side fixes more items."""
    weights, profits = knapsack.weights, knapsack.profits
    used, split = 0, core[0]
    for i in core:
        if used + weights[i] > room:
            split = i
            break
        used += weights[i]
    rest = [i for i in core if i != split]
    best = _solve_free(knapsack, rest, room, set())
    if weights[split] <= room:
        value, chosen = _solve_free(knapsack, rest, room - weights[split], set())
        if value + profits[split] > best[0]:
            best = (value + profits[split], chosen | {split})
    return best


def _dp_by_weight(profits: list[int], weights: list[int], room: int) -> list[int]:
    """Positions of an optimal subset; table over used weight 0..room."""
    best = np.zeros(room + 1, dtype=np.int64)
    took: list[npt.NDArray[np.uint8]] = []  # per item: bits "taking it helps" from its weight on
    for p, w in zip(profits, weights, strict=True):
        candidate = best[: max(room + 1 - w, 0)] + p
        took.append(np.packbits(candidate > best[w:]))
        np.maximum(best[w:], candidate, out=best[w:])
    picked, left = [], room
    for k in range(len(profits) - 1, -1, -1):
        if left >= weights[k] and _bit(took[k], left - weights[k]):
            picked.append(k)
            left -= weights[k]
    return picked


def _dp_by_profit(profits: list[int], weights: list[int], room: int, width: int) -> list[int]:
    """Positions of an optimal subset; table of the least weight for each profit below ``width``
    (which must exceed the optimum)."""
    never = room + 1  # any weight above room is as useless as infinity, and cannot overflow
    least = np.full(width, never, dtype=np.int64)
    least[0] = 0
    took: list[npt.NDArray[np.uint8]] = []  # per item: bits "taking it helps" from its profit on
    for p, w in zip(profits, weights, strict=True):
        candidate = least[: max(width - p, 0)] + w
        took.append(np.packbits(candidate < least[p:]))
        np.minimum(least[p:], candidate, out=least[p:])
    target = int(np.flatnonzero(least <= room)[-1])
    picked = []
    for k in range(len(profits) - 1, -1, -1):
        if target >= profits[k] and _bit(took[k], target - profits[k]):
            picked.append(k)
            target -= profits[k]
    return picked


def _bit(packed: npt.NDArray[np.uint8], position: int) -> bool:
    return bool(packed[position >> 3] >> (7 - (position & 7)) & 1)
