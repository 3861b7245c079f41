"""Method of Equal Shares (MES), completed the way real elections do it.

The budget is split equally over all ballots (empty ones included). In each round every plan
still in the race gets a price ρ: the smallest amount per unit of utility such that its supporters,
each paying ``min(their money left, ρ·utility)``, cover its cost. The plan with the lowest ρ is
funded and its supporters pay; a plan whose supporters together have less money left than its
cost drops out. With cost utility (the default) ρ·cost is what each supporter pays, and 1/ρ is the
plan's *effective vote count* (equalshares.net).

Utilities (``utility``): ``"cost"`` is pabutools' ``Cost_Sat`` on approval and ordinal ballots
and ``points × cost`` on points ballots; ``"count"`` is ``Cardinality_Sat`` on approval and
ordinal ballots and ``Additive_Cardinal_Sat`` (the points) on points ballots. Only entries with
positive points count as support.

Completions (``completion``), each identical to the pabutools 1.2.3 call named:

* ``"none"``: ``method_of_equal_shares``.
* ``"add1"``: ``method_of_equal_shares(..., voter_budget_increment=1)``: start at budget / voters,
  raise every voter's budget by 1 and rerun until the outcome is exhaustive over the plans MES can
  fund, or return the previous outcome as soon as a run overspends the real budget.
* ``"greedy"``: ``completion_by_rule_combination`` of MES and ``greedy_utilitarian_welfare`` with
  the same utility: spend what MES left over on the remaining plans in order of utility per euro
  (cost utility: most supporters first), skipping plans that no longer fit.
* ``"add1-greedy"`` (default, what cities use): Add1, then the greedy completion.
* ``"exhaust1pct"``: ``exhaustion_by_budget_increase`` with its default step: rerun MES with the
  total budget raised by 1 % each time, with the same stopping rules as Add1 except that
  exhaustiveness is judged over all plans.

Ties: ``TieBreak.PABUTOOLS`` (project id in string order, as pabutools) or ``TieBreak.LOTTERY``
(:func:`proeftuin.allocation.ties.tie_ranks`: more support, lower cost, then the seeded lot);
among plans with exactly equal ρ, or equal utility per euro in the completion, the lower rank wins.
Every decision is exact (see :mod:`proeftuin.allocation._mes_core`).

Explanation reason codes (``Outcome.explanations[plan_id].reason``) and their facts. Money facts
are in euros rounded to cents (downwards for money a plan's supporters had, so "had less than the
cost" stays true), vote counts to hundredths.

* ``funded``: funded by Equal Shares. Facts: ``round`` (1 = first plan funded),
  ``supporters``, ``cost``, ``effective_votes`` (cost / what one full supporter paid, i.e. 1/ρ
  with cost utility), ``max_payment`` (the most one supporter paid), ``supporters_paying_all``
  (supporters who had less than their share and paid everything they had left).
* ``funded_free``: a supported plan that costs nothing, with count utility; funded before the
  rounds start. Facts: ``supporters``, ``cost``.
* ``funded_by_completion``: funded by the greedy completion with money Equal Shares left
  unspent. Facts: ``supporters``, ``cost``, ``dropped_out_round`` (as below).
* ``supporters_ran_out``: not funded; during the rounds its supporters' money fell below its cost.
  Facts: ``supporters``, ``cost``, ``dropped_out_round`` (plans funded before it dropped out; 0 =
  its supporters never had enough), ``dropped_out_after`` (id of the plan whose funding took the
  money, "" if none), ``supporters_money`` (their money left then), ``max_cost_to_fund`` and
  ``extra_supporters_needed`` (see below), and with a completion ``left_over`` (what remained
  after the completion: the plan did not fit in it).
* ``no_support``: nobody supported the plan. Facts: ``cost``.
* ``free_without_utility``: a supported plan that costs nothing, with cost utility: it is worth
  nothing to anyone, so Equal Shares (as pabutools) does not weigh it; a greedy completion takes
  it. Facts: ``supporters``, ``cost``.

``max_cost_to_fund`` is the highest cost at which the plan would have been funded in the same run
(same per-voter budget, everything else unchanged; exactly at it the plan may tie with a round's
winner, which the tie-break decides); 0 if no lower cost would have sufficed. It is exact for that
one run; with Add1 or 1 % steps a cheaper plan can change which per-voter budget the completion
ends at, and with a greedy completion what is left for it, so there it is an approximation. Likewise
``extra_supporters_needed`` is the least number of extra voters — each supporting only this plan
(one point on points ballots) and holding the full per-voter budget — with whom it would have been
funded in the same run, ties aside; it is omitted when the per-voter budget is 0.

``Outcome.facts``: ``utility``, ``completion``, ``tie_break``, ``voters``, ``per_voter_budget``
(exact: the amount each voter was allocated in the run that produced the outcome), ``add1_steps``
(how often the per-voter budget was raised, for Add1; budget steps for ``exhaust1pct``),
``rounds`` (plans funded by Equal Shares), ``spent_equal_shares``, ``spent_completion``,
``left_over``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from proeftuin.allocation._mes_core import (
    CleanPrefix,
    FloatArray,
    IntArray,
    MesProfile,
    Round,
    RunResult,
    Supporters,
    build_profile,
    matvec,
    run_mes,
    run_mes_batch,
    verify_same_outcome,
)
from proeftuin.allocation.election import Election, Explanation, Outcome
from proeftuin.allocation.ties import TieBreak, tie_ranks

Completion = Literal["add1-greedy", "add1", "greedy", "none", "exhaust1pct"]
Utility = Literal["cost", "count"]
WINDOW = 32  # most consecutive per-voter budgets run side by side
SMALL_ENTRIES = 50_000  # ballot entries below which a run costs well under a millisecond
SIDE_BY_SIDE_ENTRIES = 100_000  # ballot entries up to which runs side by side pay off
COMPLETIONS: tuple[Completion, ...] = ("add1-greedy", "add1", "greedy", "none", "exhaust1pct")


def equal_shares(
    election: Election,
    *,
    utility: Utility = "cost",
    completion: Completion = "add1-greedy",
    tie_break: TieBreak = TieBreak.LOTTERY,
    seed: str = "",
    exhaustive_stop: bool = True,
) -> Outcome:
    """The Equal Shares outcome of ``election``, with explanations (see the module docstring).

    ``exhaustive_stop=False``: Add1 goes on raising the per-voter budget past an exhaustive
    outcome, until the next step would overspend (as equalshares.net and Pabulib's checker).
    """
    if utility not in ("cost", "count"):
        raise ValueError(f"unknown utility {utility!r}")
    if completion not in COMPLETIONS:
        raise ValueError(f"unknown completion {completion!r}")
    profile = build_profile(election, utility)
    ranks = tie_ranks(election, tie_break, seed)
    search, final = _search_per_voter_budget(profile, ranks, completion, exhaustive_stop)
    if final is None and search.ran:
        # Replayed with every round's budgets kept, for the explanations.
        final = run_mes(profile, search.per_voter, ranks, record=True, hint=search.selected)
    free = _free_in_rank_order(profile, ranks) if search.ran else []
    mes_selected = [*free, *search.selected]
    with_completion = completion in ("greedy", "add1-greedy")
    completed = _greedy_completion(profile, ranks, mes_selected) if with_completion else []
    selected = mes_selected + completed
    spent_mes = _cost_of(profile, mes_selected)
    spent_completion = _cost_of(profile, completed)
    left_over = profile.budget - spent_mes - spent_completion
    return Outcome(
        rule="equal_shares",
        selected=tuple(election.projects[p].id for p in selected),
        explanations=_explanations(
            profile,
            election,
            final,
            set(free),
            completed,
            left_over if with_completion else None,
            ranks,
        ),
        facts={
            "utility": utility,
            "completion": completion,
            "tie_break": str(tie_break),
            "voters": profile.voter_count,
            "per_voter_budget": search.per_voter,
            "add1_steps": search.steps,
            "rounds": len(search.selected),
            "spent_equal_shares": spent_mes,
            "spent_completion": spent_completion,
            "left_over": left_over,
        },
    )


def _cost_of(profile: MesProfile, projects: list[int]) -> Fraction:
    return sum((profile.costs[p] for p in projects), Fraction(0))


@dataclass(frozen=True)
class _Search:
    per_voter: Fraction
    selected: list[int]  # MES winners in funding order (free plans not included)
    steps: int
    ran: bool = True  # False without ballots: pabutools then funds nothing, not even free plans


def _search_per_voter_budget(
    profile: MesProfile, ranks: IntArray, completion: Completion, exhaustive_stop: bool = True
) -> tuple[_Search, RunResult | None]:
    """The per-voter budget whose MES outcome stands, and its recorded run if already made."""
    voters = profile.voter_count
    if voters == 0:
        return _Search(Fraction(0), [], 0, ran=False), None
    start = profile.budget / voters
    if completion == "add1" or completion == "add1-greedy":
        search = _raise_until_exhaustive(
            profile, ranks, start, Fraction(1), all_plans=False, exhaustive_stop=exhaustive_stop
        )
        return search, None
    if completion == "exhaust1pct":
        return _raise_until_exhaustive(profile, ranks, start, start / 100, all_plans=True), None
    run = run_mes(profile, start, ranks, record=True)
    return _Search(start, run.selected, 0), run


def _raise_until_exhaustive(
    profile: MesProfile,
    ranks: IntArray,
    start: Fraction,
    step: Fraction,
    *,
    all_plans: bool,
    exhaustive_stop: bool = True,
) -> _Search:
    """pabutools' Add1 loop (``all_plans=False``) and ``exhaustion_by_budget_increase``.

    Both rerun MES with a higher per-voter budget until the outcome is exhaustive (no plan left out
    still fits; Add1 only looks at plans MES could fund) or overspends the real budget, in which
    case the previous outcome stands (at the start: only the free plans). Runs are done a window
    at a time; where a window shows the same outcome throughout, the steps ahead that provably
    keep it are skipped.
    """
    budget = profile.budget
    free_cost = _cost_of(profile, profile.free.tolist())
    pool = _exhaustion_pool(profile, all_plans)
    everything = profile.candidate_cost
    # exhaustion_by_budget_increase gives up once the total budget passes budget·(voters + 1).
    limit = start * (profile.voter_count + 1) if all_plans else None
    previous = _Search(start, [], 0)
    prefix: CleanPrefix | None = None  # the clean first rounds of the latest run
    # Wide windows share more overhead but may overshoot the last step needed: start narrow
    # where a run is expensive.
    steps, width = 0, 16 if len(profile.entries.rows) <= SMALL_ENTRIES else 4
    while True:
        window = [start + (steps + i) * step for i in range(width)]
        window = [b for b in window if limit is None or b <= limit]
        if not window:
            return previous
        seen: list[list[int]] = []
        outcomes = _outcomes(profile, window, ranks, previous.selected, prefix)
        for i, (selected, latest) in enumerate(outcomes):
            prefix = latest
            current = _Search(window[i], selected, steps + i)
            spent = free_cost + _cost_of(profile, selected)
            if spent > budget:
                return previous
            if exhaustive_stop and _is_exhaustive(profile, selected, spent, pool):
                return current
            if step == 0 or window[i] >= everything:
                # Nothing can change any more: a zero step repeats the same run, and once every
                # voter alone could pay for all plans MES funds them all, here and beyond.
                return current
            previous = current
            seen.append(selected)
        steps += len(window)
        width = min(2 * width, WINDOW)
        if len(seen) >= 4 and all(selected == seen[0] for selected in seen):
            # A whole window with one outcome: perhaps a long stretch; try to skip it.
            previous = _skip_same_outcome(profile, previous, ranks, step, limit)
            steps = previous.steps + 1


def _outcomes(
    profile: MesProfile,
    per_voters: list[Fraction],
    ranks: IntArray,
    hint: list[int],
    prefix: CleanPrefix | None,
) -> Iterator[tuple[list[int], CleanPrefix | None]]:
    """MES winners at each per-voter budget, in order: side by side, exact where floats could not
    decide; each with the clean first rounds of the latest run at a lower budget (maybe none).

    Side by side only pays on small elections, where numpy's per-call overhead dominates; on
    large ones the runs are made one at a time, so none is made after the search has ended, each
    hinted with the winners of the run before (``hint``: the outcome just before the first) and
    starting after its clean first rounds (``prefix``: those of the run just before the first).
    """
    if len(profile.entries.rows) > SIDE_BY_SIDE_ENTRIES:
        for per_voter in per_voters:
            run = run_mes(profile, per_voter, ranks, hint=hint, keep_prefix=True, resume=prefix)
            hint, prefix = run.selected, run.prefix
            yield hint, prefix
        return
    for per_voter, selected in zip(
        per_voters, run_mes_batch(profile, per_voters, ranks), strict=True
    ):
        yield (run_mes(profile, per_voter, ranks).selected if selected is None else selected), None


def _skip_same_outcome(
    profile: MesProfile, last: _Search, ranks: IntArray, step: Fraction, limit: Fraction | None
) -> _Search:
    """``last`` moved on by the steps ahead that provably give the same outcome (maybe none).

    One run estimates how many; one run along the same winners checks it (the check is only
    sufficient, so when it fails half as many steps are tried). A check of a single step costs as
    much as running it, so it is not done.
    """
    run = run_mes(profile, last.per_voter, ranks, track=True)
    guess = int(min(run.reach / float(step), 1 << 40))
    if limit is not None:
        guess = min(guess, int((limit - last.per_voter) // step))
    while guess >= 2:
        if verify_same_outcome(profile, run, last.per_voter + guess * step, ranks):
            return _Search(last.per_voter + guess * step, last.selected, last.steps + guess)
        guess //= 2
    return last


def _exhaustion_pool(profile: MesProfile, all_plans: bool) -> list[int]:
    if all_plans:
        return list(range(profile.project_count))
    return [int(p) for p in profile.candidates]


def _is_exhaustive(
    profile: MesProfile, selected: list[int], spent: Fraction, pool: list[int]
) -> bool:
    taken = set(selected) | set(profile.free.tolist())
    room = profile.budget - spent
    return all(p in taken or profile.costs[p] > room for p in pool)


def _free_in_rank_order(profile: MesProfile, ranks: IntArray) -> list[int]:
    return sorted(profile.free.tolist(), key=lambda p: int(ranks[p]))


def _greedy_completion(profile: MesProfile, ranks: IntArray, selected: list[int]) -> list[int]:
    """pabutools' ``greedy_utilitarian_welfare`` from ``selected``: by utility per euro, then rank.

    Free supported plans come first, unsupported plans last (utility 0); a plan is taken when it
    fits in what is left.
    """
    taken = set(selected)
    room = profile.budget - sum((profile.costs[p] for p in selected), Fraction(0))
    order = sorted(
        (p for p in range(profile.project_count) if p not in taken),
        key=lambda p: (_density_key(profile, p), int(ranks[p])),
    )
    added = []
    for p in order:
        if profile.costs[p] <= room:
            added.append(p)
            room -= profile.costs[p]
    return added


def _density_key(profile: MesProfile, p: int) -> tuple[int, Fraction]:
    sup = profile.supporters[p]
    utility = profile.kappa[p] * sup.total_points
    cost = profile.costs[p]
    if utility == 0:
        return (2, Fraction(0))
    if cost == 0:
        return (0, Fraction(0))
    return (1, -utility / cost)


def _explanations(
    profile: MesProfile,
    election: Election,
    final: RunResult | None,
    funded_free: set[int],
    completed: list[int],
    left_over: Fraction | None,
    ranks: IntArray,
) -> dict[str, Explanation]:
    run_facts = _explain_run(profile, final, ranks) if final is not None else {}
    completed_set = set(completed)
    explanations: dict[str, Explanation] = {}
    for p, project in enumerate(election.projects):
        base: dict[str, int | Fraction | str] = {
            "supporters": profile.supporters[p].voters,
            "cost": project.cost,
        }
        found = run_facts.get(p)
        if p in funded_free:
            explanation = Explanation(True, "funded_free", base)
        elif found is not None and found.funded:
            explanation = Explanation(True, found.reason, {**base, **found.facts})
        elif p in completed_set:
            dropped = (
                {} if found is None else {"dropped_out_round": found.facts["dropped_out_round"]}
            )
            explanation = Explanation(True, "funded_by_completion", {**base, **dropped})
        elif found is not None:
            extra = {} if left_over is None else {"left_over": left_over}
            explanation = Explanation(False, found.reason, {**base, **found.facts, **extra})
        elif profile.supporters[p].voters > 0:
            explanation = Explanation(False, "free_without_utility", base)
        else:
            explanation = Explanation(False, "no_support", {"cost": project.cost})
        explanations[project.id] = explanation
    return explanations


def _explain_run(profile: MesProfile, run: RunResult, ranks: IntArray) -> dict[int, Explanation]:
    """Facts per plan MES weighed in ``run`` (recorded): why funded, or where it fell short."""
    assert run.final_budgets is not None
    history = [*run.budgets_before, run.final_budgets]
    facts: dict[int, Explanation] = {}
    for r, rnd in enumerate(run.rounds):
        facts[rnd.project] = _explain_funded(profile, rnd, r, history[r])
    # Per row, its budget before each round and after the last: a plan's supporters are then
    # gathered as whole rows, which is far cheaper than picking them out of every round.
    by_row = np.stack(history, axis=1)
    funded = set(run.selected)
    for p in profile.candidates.tolist():
        if p not in funded:
            facts[p] = _explain_not_funded(profile, run, by_row, p, ranks)
    return facts


def _explain_funded(profile: MesProfile, rnd: Round, r: int, budgets: FloatArray) -> Explanation:
    sup = profile.supporters[rnd.project]
    paid = np.minimum(budgets[sup.rows], rnd.rho * sup.util_f)
    full_share = rnd.rho * float(profile.kappa[rnd.project])
    return Explanation(
        True,
        "funded",
        {
            "round": r + 1,
            "effective_votes": _hundredths(float(profile.cost_f[rnd.project]) / full_share),
            "max_payment": _cents(float(paid.max())),
            "supporters_paying_all": int(profile.row_mult[rnd.poor_rows].sum()),
        },
    )


def _explain_not_funded(
    profile: MesProfile, run: RunResult, by_row: FloatArray, p: int, ranks: IntArray
) -> Explanation:
    sup = profile.supporters[p]
    # Per round (and after the last), per supporter row.
    budgets = np.ascontiguousarray(by_row.take(sup.rows, axis=0).T)
    money = matvec(budgets, sup.mult_f)
    prices = np.array([rnd.rho for rnd in run.rounds], dtype=np.float64)
    # What p's supporters would pay towards p at each round's winning price.
    collected = matvec(np.minimum(budgets[:-1], prices[:, None] * sup.util_f[None, :]), sup.mult_f)
    dropped, money_then = _dropout(profile, run, p, money)
    facts: dict[str, int | Fraction | str] = {
        "dropped_out_round": dropped,
        "dropped_out_after": "" if dropped == 0 else _project_id(profile, run, dropped - 1),
        "supporters_money": money_then,
    }
    # By the utility, not by kappa: with cost utility a plan that costs 1 has kappa 1 as well.
    if profile.utility == "count":
        highest = max(float(money[-1]), float(collected.max(initial=0.0)))
    else:
        wins_ties = np.array([ranks[p] < ranks[rnd.project] for rnd in run.rounds], dtype=bool)
        highest = _max_cost_with_cost_utility(sup, budgets, money, prices, wins_ties)
    facts["max_cost_to_fund"] = _cents_down(highest)
    extra = _extra_supporters_needed(profile, run, p, money, prices, collected)
    if extra is not None:
        facts["extra_supporters_needed"] = extra
    return Explanation(False, "supporters_ran_out", facts)


def _project_id(profile: MesProfile, run: RunResult, r: int) -> str:
    return profile.project_ids[run.rounds[r].project]


def _dropout(
    profile: MesProfile, run: RunResult, p: int, money: FloatArray
) -> tuple[int, Fraction]:
    """First round before which the supporters' money was below the cost, and that money
    (rounded down to cents); decided exactly when the float is close to the cost or to a cent."""
    cost = profile.costs[p]
    cost_f = float(cost)
    assert run.engine is not None
    rows = profile.supporters[p].rows
    for r, have in enumerate(money.tolist()):
        cents = have * 100
        if have < cost_f * (1 - CLOSE) - CLOSE and abs(cents - round(cents)) > CLOSE * cents:
            return r, _cents_down(have)
        if have <= cost_f * (1 + CLOSE) + CLOSE:
            # Close to the cost, or to a whole cent (the float sum may fall on either side).
            exact = run.engine.exact_money(rows, r)
            if exact < cost:
                return r, Fraction(math.floor(exact * 100), 100)
    raise AssertionError(f"plan {p} was never funded, so its supporters ran out of money")


# ``max_cost_to_fund``: the run up to the round a plan wins is the same whatever the plan costs,
# so it is funded at cost c exactly when at some round its ρ at cost c is below that round's
# winning ρ (or equal, with the tie-break on its side), or when its supporters still have c at the
# end, when nothing else is affordable. With count utility its ρ at cost c is below the price x
# while c is below what its supporters would pay at x (``collected``).


def _max_cost_with_cost_utility(
    sup: Supporters,
    budgets: FloatArray,
    money: FloatArray,
    prices: FloatArray,
    wins_ties: npt.NDArray[np.bool_],
) -> float:
    """With cost utility a supporter pays ρ·c·s: the plan wins at price x while
    g(x·c) ≥ c, g(z) = Σ m·min(budget, z·s). g is concave, so that holds from 0 up to the root of
    g(z) = z/x, found between the breakpoints budget/s. While nobody runs out, the plan's ρ is
    1 / Σ m·s whatever it costs: equal to x, only the tie-break can give it the round, until the
    first supporter runs out."""
    best = float(money[-1])
    rounds = np.flatnonzero(money[:-1] > best)  # a round can give at most the money then
    if rounds.size == 0:
        return best
    held = budgets[rounds]
    inverse = 1 / prices[rounds]
    live = held > 0
    weighted_points = sup.mult_f * sup.points
    slope = matvec(live, weighted_points)
    tie = np.abs(slope - inverse) <= CLOSE * inverse
    if tie.any():
        first_out = np.where(live[tie], held[tie] / sup.points, np.inf).min(axis=1)
        best = max(best, float((first_out * inverse[tie])[wins_ties[rounds][tie]].max(initial=0)))
    steep = ~tie & (slope > inverse)
    held, inverse = held[steep], inverse[steep]
    # The largest root: rounds whose root cannot beat the best cost c so far are dropped with one
    # cheap pass (g(x·c) − c is concave in c, so negative beyond the root), and the roots of the
    # most promising rounds left are found exactly, a few at a time.
    while len(inverse):
        shares = (best / inverse)[:, None] * sup.points
        surplus = matvec(np.minimum(held, shares), sup.mult_f) - best
        promising = surplus >= -PRUNE * best
        held, inverse, surplus = held[promising], inverse[promising], surplus[promising]
        if not len(inverse):
            break
        first = np.argsort(-surplus, kind="stable")[:ROOTS_AT_ONCE]
        best = max(best, float(_roots(held[first], inverse[first], sup, weighted_points).max()))
        rest = np.ones(len(inverse), dtype=np.bool_)
        rest[first] = False
        held, inverse = held[rest], inverse[rest]
    return best


# A round is dropped only when its surplus at the best cost so far is clearly negative: float
# error must not drop the round whose root is the largest.
PRUNE = 1e-9
ROOTS_AT_ONCE = 4


def _roots(
    held: FloatArray, inverse: FloatArray, sup: Supporters, weighted_points: FloatArray
) -> FloatArray:
    """Per round (row of ``held``, price x = 1/inverse): the largest cost c with g(x·c) ≥ c."""
    z = held / sup.points
    order = _stable_argsort_rows(z)
    z_sorted = np.take_along_axis(z, order, axis=1)
    paid_in_full = np.take_along_axis(held * sup.mult_f, order, axis=1)
    poor_money = np.cumsum(paid_in_full, axis=1) - paid_in_full
    rich_points = np.cumsum(weighted_points[order][:, ::-1], axis=1)[:, ::-1]
    surplus = poor_money + z_sorted * (rich_points - inverse[:, None])
    negative = surplus < 0
    crossing = negative.any(axis=1)
    k = np.argmax(negative, axis=1)
    at = np.arange(len(k))
    # Below the first breakpoint where g falls short of z/x the root solves a linear equation.
    shortfall = np.where(crossing, inverse - rich_points[at, k], 1.0)
    roots: FloatArray = np.where(
        crossing, poor_money[at, k] / shortfall * inverse, matvec(held, sup.mult_f)
    )
    return roots


def _stable_argsort_rows(values: FloatArray) -> IntArray:
    """``np.argsort(values, axis=1, kind="stable")``, faster on long rows: each row is sorted by
    the rank of its value among the row's distinct values, small integers that numpy sorts by
    radix (stable, so the permutation is the same)."""
    if values.shape[1] < RADIX_FROM:
        return np.argsort(values, axis=1, kind="stable")
    order = np.empty(values.shape, dtype=np.int64)
    for i, row in enumerate(values):
        distinct, rank = np.unique(row, return_inverse=True)
        if len(distinct) <= 1 << 16:
            order[i] = np.argsort(rank.astype(np.uint16), kind="stable")
        else:
            order[i] = np.argsort(row, kind="stable")
    return order


# Row length from which ranking first and sorting the ranks by radix beats numpy's merge sort.
RADIX_FROM = 2048


def _extra_supporters_needed(
    profile: MesProfile,
    run: RunResult,
    p: int,
    money: FloatArray,
    prices: FloatArray,
    collected: FloatArray,
) -> int | None:
    """Fewest extra voters, each with the full per-voter budget and supporting only ``p`` (one
    point), with whom ``p`` would have won some round of ``run`` or been affordable at the end."""
    per_voter = float(run.per_voter)
    if per_voter <= 0:
        return None
    cost = float(profile.cost_f[p])
    each = np.minimum(per_voter, prices * float(profile.kappa[p]))
    needed = np.ceil((cost - collected) / each - CLOSE)
    best = math.ceil((cost - float(money[-1])) / per_voter - CLOSE)
    return max(int(min(best, needed.min(initial=best))), 1)


# Relative band in which a float money comparison is settled exactly instead.
CLOSE = 1e-9


def _cents(value: float) -> Fraction:
    return Fraction(round(value * 100), 100)


def _cents_down(value: float) -> Fraction:
    return Fraction(math.floor(value * 100), 100)


def _hundredths(value: float) -> Fraction:
    return Fraction(round(value * 100), 100)
