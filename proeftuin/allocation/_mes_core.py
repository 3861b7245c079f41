"""The engine behind :mod:`proeftuin.allocation.equal_shares`: runs of the Method of Equal Shares
at given per-voter budgets, fast and exactly equal to pabutools 1.2.3.

Speed:

* identical ballots are merged into weighted *rows* up front (a row's voters always hold the same
  budget: they support the same plans with the same points);
* a plan's ρ is only recomputed when one of its supporters paid since it was last computed, and
  only if its last ρ (a lower bound: budgets never grow within a run) could still beat the best
  plan of the round — the shortcut pabutools takes too; and before recomputing, one cheap pass
  often shows that it cannot beat the best plan so far, raising its lower bound instead;
* a run may be given the winners of a run at a nearby budget (Add1's previous step) as a hint:
  the hinted plan is priced first, so that the cheap pass settles most others;
* budgets are float64 arrays and every ρ carries an error bound; long sums avoid BLAS, whose
  threads cost more than they save on a busy machine;
* a run's first rounds in which every supporter of the winner pays in full, each won by the plan
  with the least possible ρ, are the first rounds at every higher per-voter budget too
  (:class:`CleanPrefix`): Add1's next run starts after them, from the budgets they left plus
  the difference;
* :class:`MesBatch` runs many per-voter budgets side by side (Add1's consecutive runs on small
  elections), sharing numpy's per-call overhead; :meth:`MesRun.verify` proves that a whole range
  of per-voter budgets gives one outcome, so Add1 can skip it.

Exactness comes from not trusting floats where they could flip a decision. Every comparison
whose float margin is inside the error bound (near-ties between two ρ, supporters' money almost
equal to a cost, a voter whose budget almost equals their share) is decided again with
``Fraction``. Exact budgets are never stored: a voter who never had to pay everything still holds
``b − Σ ρ_w·u_w`` over the plans w they supported, and a voter who once paid everything holds 0,
so the exact money of any group of voters follows from the exact ρ of earlier rounds, which are
themselves computed only when needed (most runs need none beyond trivial ``cost / Σu`` ones).
:class:`MesBatch` does not do fractions: a column that would need them is redone by :class:`MesRun`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from proeftuin.allocation.election import Election, VoteType

Utility = Literal["cost", "count"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Generous bound on the relative rounding error of one float operation (a few ulp).
ROUND = 1e-15
NEVER = np.iinfo(np.int64).max
# A supporter whose budget/utility exceeds ρ by this factor is certainly not among those who pay
# everything, whatever the float error.
ROBUST = 1e-7
# Up to this many plans, which plans share supporters is found with a bit set per row.
PLAN_BITS = 256
SMALLEST = 5e-324  # a positive budget too small for a float still must not read as "paid all"


# Long products go through einsum, not BLAS (``@``): OpenBLAS spreads them over threads, which
# costs far more than it saves on a busy machine (a web server). Short ones stay on one thread.
SINGLE_THREADED = 8192


def dot(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    return float(a @ b) if len(a) <= SINGLE_THREADED else float(np.einsum("i,i->", a, b))


def vecmat(vector: FloatArray, matrix: npt.NDArray[Any]) -> FloatArray:
    if matrix.size <= SINGLE_THREADED:
        return np.asarray(vector @ matrix, dtype=np.float64)
    product: FloatArray = np.einsum("i,ij->j", vector, matrix)
    return product


def matvec(matrix: npt.NDArray[Any], vector: npt.NDArray[Any]) -> FloatArray:
    if matrix.size <= SINGLE_THREADED:
        return np.asarray(matrix @ vector, dtype=np.float64)
    product: FloatArray = np.einsum("ij,j->i", matrix, vector)
    return product


@dataclass(frozen=True, eq=False)
class Supporters:
    """The rows supporting one plan, with their weights and utilities for it."""

    rows: IntArray
    mult: IntArray  # voters per row
    points: IntArray  # s: the row's points for the plan (1 unless points ballots)
    mult_f: FloatArray
    util_f: FloatArray  # u = s·κ as float
    weighted_util_f: FloatArray  # m·u
    voters: int  # Σ m
    weighted_points: IntArray  # m·s
    total_points: int  # Σ m·s
    total_util_f: float  # Σ m·u
    max_util_f: float
    uniform: bool  # every supporter has the same utility (approval ballots)
    single: bool  # one voter per row
    shared_at: IntArray  # the rows with more than one voter (usually few) ...
    shared_extra: IntArray  # ... and how many more


@dataclass(frozen=True, eq=False)
class CandidateEntries:
    """The supporters of all candidates back to back (candidate order), for whole-election sums."""

    projects: IntArray  # the candidates, in order
    starts: IntArray  # where each candidate's supporters begin
    rows: IntArray
    mult_f: FloatArray
    util_f: FloatArray


@dataclass(frozen=True, eq=False)
class MesProfile:
    """An election prepared for Equal Shares with one utility: merged ballots, per-plan supporters.

    ``kappa`` is what one point is worth to a voter: the plan's cost (cost utility, so a voter
    pays the same share ρ of every plan's cost) or 1 (count utility).
    """

    voter_count: int
    utility: Utility
    budget: Fraction
    project_ids: tuple[str, ...]
    costs: tuple[Fraction, ...]
    cost_f: FloatArray
    kappa: tuple[Fraction, ...]
    row_mult: IntArray
    row_indptr: IntArray
    row_projects: IntArray
    row_points: IntArray
    supporters: tuple[Supporters, ...]
    candidates: IntArray  # supported, positive cost: the plans MES weighs
    free: IntArray  # supported, zero cost, count utility: funded before MES starts
    entries: CandidateEntries
    _neighbours: dict[int, IntArray] = field(default_factory=dict)

    @property
    def project_count(self) -> int:
        return len(self.costs)

    @property
    def row_count(self) -> int:
        return len(self.row_mult)

    @cached_property
    def candidate_sums(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per candidate: supporters, their total utility and the largest utility."""
        chosen = [self.supporters[p] for p in self.candidates.tolist()]
        return (
            np.array([sup.voters for sup in chosen], dtype=np.float64),
            np.array([sup.total_util_f for sup in chosen], dtype=np.float64),
            np.array([sup.max_util_f for sup in chosen], dtype=np.float64),
        )

    @property
    def candidate_cost(self) -> Fraction:
        return sum((self.costs[p] for p in self.candidates.tolist()), Fraction(0))

    def neighbours(self, p: int) -> IntArray:
        """The plans sharing at least one supporter row with ``p`` (``p`` included).

        Only winners need them: found on first use rather than for every pair up front.
        """
        found = self._neighbours.get(p)
        if found is None:
            rows = self.supporters[p].rows
            if self.project_count <= PLAN_BITS:
                words = np.bitwise_or.reduce(self.row_plan_bits.take(rows, axis=0), axis=0)
                shared = np.unpackbits(words.view(np.uint8), bitorder="little").view(np.bool_)
                found = np.flatnonzero(shared[: self.project_count])
            else:
                entries = _entry_positions(self.row_indptr, rows)
                shared = np.zeros(self.project_count, dtype=np.bool_)
                shared[self.row_projects[entries]] = True
                found = np.flatnonzero(shared)
            self._neighbours[p] = found
        return found

    @cached_property
    def row_plan_bits(self) -> npt.NDArray[np.uint64]:
        """Per row, the plans it supports as a bit set (64 plans a word)."""
        words = (self.project_count + 63) // 64
        rows = np.repeat(np.arange(self.row_count, dtype=np.int64), np.diff(self.row_indptr))
        word, bit = np.divmod(self.row_projects, 64)
        key = rows * words + word
        values = np.left_shift(np.uint64(1), bit.astype(np.uint64))
        if not (key[1:] >= key[:-1]).all():
            order = np.argsort(key, kind="stable")
            key, values = key[order], values[order]
        bits = np.zeros(self.row_count * words, dtype=np.uint64)
        if len(key):
            # A row supports a plan at most once: the bits of one word add up without carries.
            starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
            bits[key[starts]] = np.add.reduceat(values, starts)
        return bits.reshape(self.row_count, words)

    def entries_of(self, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """(project, points, row multiplicity) of every ballot entry of ``rows``."""
        starts = self.row_indptr[rows]
        lengths = self.row_indptr[rows + 1] - starts
        total = int(lengths.sum())
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        idx = offsets + np.arange(total, dtype=np.int64)
        return self.row_projects[idx], self.row_points[idx], np.repeat(self.row_mult[rows], lengths)


def build_profile(election: Election, utility: Utility) -> MesProfile:
    costs = tuple(project.cost for project in election.projects)
    kappa = tuple(cost if utility == "cost" else Fraction(1) for cost in costs)
    voter_count = len(election.ballots)
    mult, indptr, projects, points = _merge_identical_ballots(election)
    supporters = _supporters_per_project(
        len(costs), mult, indptr, projects, points, [float(k) for k in kappa]
    )
    # pabutools weighs a plan only if someone gets utility from it: with cost utility a free plan
    # is worth nothing to anyone, so it is not funded up front (the greedy completion may take it).
    supported = np.array(
        [s.voters > 0 and k > 0 for s, k in zip(supporters, kappa, strict=True)], dtype=np.bool_
    )
    positive = np.array([cost > 0 for cost in costs], dtype=np.bool_)
    return MesProfile(
        voter_count=voter_count,
        utility=utility,
        budget=election.budget,
        project_ids=tuple(project.id for project in election.projects),
        costs=costs,
        cost_f=np.array([float(c) for c in costs], dtype=np.float64),
        kappa=kappa,
        row_mult=mult,
        row_indptr=indptr,
        row_projects=projects,
        row_points=points,
        supporters=supporters,
        candidates=np.flatnonzero(supported & positive).astype(np.int64),
        free=np.flatnonzero(supported & ~positive).astype(np.int64),
        entries=_candidate_entries(supporters, np.flatnonzero(supported & positive)),
    )


def _merge_identical_ballots(election: Election) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Distinct ballots (support only: points > 0) as CSR rows, with how many voters cast each."""
    matrix = election.matrix
    voters = matrix.voter_count
    if voters == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(1, dtype=np.int64), empty, empty
    keep = matrix.points > 0
    lengths = np.diff(matrix.indptr)
    voter_of = np.repeat(np.arange(voters, dtype=np.int64), lengths)[keep]
    projects = matrix.projects[keep]
    points = (
        matrix.points[keep]
        if election.vote_type is VoteType.POINTS
        else np.ones(len(projects), dtype=np.int64)
    )
    # Entries are grouped by voter already; sorting each ballot by project makes equal ballots
    # equal rows (one integer sort is much faster than a lexsort), unless they are sorted already.
    key = voter_of * (int(projects.max(initial=0)) + 1) + projects
    if not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        voter_of, projects, points = voter_of[order], projects[order], points[order]
    codes = projects * (int(points.max(initial=0)) + 1) + points
    row_len = np.bincount(voter_of, minlength=voters)
    starts = np.zeros(voters + 1, dtype=np.int64)
    np.cumsum(row_len, out=starts[1:])
    first, mult = _group_identical_rows(voter_of, codes, starts, row_len)
    # Each distinct ballot keeps the (sorted) entries of the first voter who cast it.
    lengths_first = row_len[first]
    indptr = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(lengths_first, out=indptr[1:])
    take = _entry_positions(starts, first)
    return mult, indptr, projects[take], points[take]


def _group_identical_rows(
    voter_of: IntArray, codes: IntArray, starts: IntArray, row_len: IntArray
) -> tuple[IntArray, IntArray]:
    """First voter and number of voters of each distinct row (``codes`` from ``starts``).

    Sorting the rows themselves is slow, so each row is hashed to one 64-bit number (a sum of
    fixed random numbers per entry, wrapping), the numbers are grouped, and the grouping is
    checked against the rows (each voter's entries against those of the first voter with the same
    number); on a collision the rows are sorted after all.
    """
    salt = np.random.default_rng(0x5EED).integers(
        1, 2**63, size=int(codes.max(initial=0)) + 1, dtype=np.uint64
    )
    key = np.zeros(len(row_len), dtype=np.uint64)
    filled = np.flatnonzero(row_len)
    if filled.size:
        key[filled] = np.add.reduceat(salt[codes], starts[filled])
    key += row_len.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    first, inverse, mult = _group_by_key(key)
    same = first[inverse]
    if not (
        np.array_equal(row_len, row_len[same])
        and np.array_equal(codes, codes[_entry_positions(starts, same)])
    ):
        padded = _padded_rows(voter_of, codes, starts, row_len)
        rows = padded.view(np.dtype((np.void, 8 * padded.shape[1])))
        _, first, mult = np.unique(rows.ravel(), return_index=True, return_counts=True)
    return first.astype(np.int64), mult.astype(np.int64)


def _group_by_key(key: npt.NDArray[np.uint64]) -> tuple[IntArray, IntArray, IntArray]:
    """``np.unique(key, return_index=True, return_inverse=True, return_counts=True)`` without the
    unique values: a plain (unstable, much faster) sort, then the first index of each group as the
    least one."""
    perm = np.argsort(key)
    ordered = key[perm]
    new = np.empty(len(key), dtype=np.bool_)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    first = np.minimum.reduceat(perm, starts).astype(np.int64, copy=False)
    mult = np.diff(np.append(starts, len(key))).astype(np.int64, copy=False)
    inverse = np.empty(len(key), dtype=np.int64)
    inverse[perm] = np.cumsum(new) - 1
    return first, inverse, mult


def _padded_rows(
    voter_of: IntArray, codes: IntArray, starts: IntArray, row_len: IntArray
) -> IntArray:
    """One row per voter: their codes, then −1."""
    width = max(int(row_len.max(initial=0)), 1)
    column = np.arange(len(codes), dtype=np.int64) - starts[voter_of]
    padded = np.full((len(row_len), width), -1, dtype=np.int64)
    padded[voter_of, column] = codes
    return padded


def _entry_positions(starts: IntArray, voters: IntArray) -> IntArray:
    lengths = starts[voters + 1] - starts[voters]
    total = int(lengths.sum())
    offsets = np.repeat(starts[voters] - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.int64)


def _supporters_per_project(
    project_count: int,
    mult: IntArray,
    indptr: IntArray,
    projects: IntArray,
    points: IntArray,
    kappa_f: Sequence[float],
) -> tuple[Supporters, ...]:
    # Every per-supporter array of every plan at once, in plan order; each plan gets its slice.
    # (Gathers through ``order`` are what costs here: the ones whose result is known are skipped.)
    order = _stable_order(projects, project_count)
    counts = np.bincount(projects, minlength=project_count)
    bounds = np.zeros(project_count + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    rows = np.repeat(np.arange(len(mult), dtype=np.int64), np.diff(indptr))[order]
    row_mult = mult[rows] if (mult != 1).any() else np.ones(len(rows), dtype=np.int64)
    pts = points[order] if (points != 1).any() else np.ones(len(rows), dtype=np.int64)
    util = pts.astype(np.float64) * np.repeat(np.asarray(kappa_f, dtype=np.float64), counts)
    mult_f = row_mult.astype(np.float64)
    weighted_util = mult_f * util
    weighted_points = row_mult * pts
    result = []
    for p in range(project_count):
        at = slice(int(bounds[p]), int(bounds[p + 1]))
        m, u = row_mult[at], util[at]
        result.append(
            Supporters(
                rows=rows[at],
                mult=m,
                points=pts[at],
                mult_f=mult_f[at],
                util_f=u,
                weighted_util_f=weighted_util[at],
                voters=int(m.sum()),
                weighted_points=weighted_points[at],
                total_points=int(weighted_points[at].sum()),
                total_util_f=float(weighted_util[at].sum()),
                max_util_f=float(u.max(initial=0.0)),
                uniform=bool((u == u[:1]).all()),
                single=bool((m == 1).all()),
                shared_at=np.flatnonzero(m > 1),
                shared_extra=m[m > 1] - 1,
            )
        )
    return tuple(result)


def _stable_order(values: IntArray, bound: int) -> IntArray:
    """``np.argsort(values, kind="stable")`` for values in [0, bound): small ones as 16-bit
    integers, which numpy sorts by radix, several times faster."""
    if bound <= 1 << 16:
        values = values.astype(np.uint16)
    return np.argsort(values, kind="stable").astype(np.int64, copy=False)


def _candidate_entries(
    supporters: tuple[Supporters, ...], candidates: npt.NDArray[np.intp]
) -> CandidateEntries:
    chosen = [supporters[p] for p in candidates.tolist()]
    lengths = np.array([len(sup.rows) for sup in chosen], dtype=np.int64)
    starts = np.zeros(len(chosen), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])

    def joined(parts: list[npt.NDArray[np.generic]], dtype: type[np.generic]) -> npt.NDArray[Any]:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return CandidateEntries(
        projects=candidates.astype(np.int64),
        starts=starts,
        rows=joined([sup.rows for sup in chosen], np.int64),
        mult_f=joined([sup.mult_f for sup in chosen], np.float64),
        util_f=joined([sup.util_f for sup in chosen], np.float64),
    )


@dataclass(eq=False)
class Round:
    """One plan funded by one run: its float ρ and what is needed to know ρ exactly later."""

    project: int
    rho: float
    poor_rows: IntArray  # rows that paid everything they had (not already empty before)
    rich_points: int  # Σ m·s over supporters who paid ρ·u
    err: float  # bound on |rho − exact ρ|
    rho_exact: Fraction | None = None


@dataclass(eq=False)
class CleanPrefix:
    """The first rounds of a run at ``per_voter`` in which every supporter of the winner could pay
    its full share, each won by the first plan of ``order`` not yet funded (of those whose
    supporters held their cost at the start), with every row's budget after them.

    A run at a higher per-voter budget makes the same rounds, every budget higher by the
    difference: its winners still pay ρ0 = cost / Σu in full, and no other plan's ρ can be
    below its ρ0. So a run may start from here instead (see :meth:`MesRun._resume`).
    """

    per_voter: Fraction
    order: IntArray  # the candidates by exact ρ0, then rank
    winners: list[int]
    budgets: FloatArray | None = None
    budget_err: FloatArray | None = None
    max_err: float = 0.0


def clean_order(profile: MesProfile, ranks: IntArray) -> IntArray:
    """The candidates by exact ρ0 = cost / Σu (the least ρ they can ever have), then rank."""

    def key(p: int) -> tuple[Fraction, int]:
        rho0 = profile.costs[p] / (profile.kappa[p] * profile.supporters[p].total_points)
        return rho0, int(ranks[p])

    return np.array(sorted(profile.candidates.tolist(), key=key), dtype=np.int64)


@dataclass(eq=False)
class RunResult:
    per_voter: Fraction
    selected: list[int]  # MES winners in funding order (free plans not included)
    rounds: list[Round]
    # Only when recorded: budgets per row before each round, after the last, and the run itself
    # (for exact money when a float comparison is too close to call).
    budgets_before: list[FloatArray] = field(default_factory=list)
    final_budgets: FloatArray | None = None
    engine: MesRun | None = None
    # Only when tracked: an estimate (no guarantee) of how far the per-voter budget can rise
    # before the outcome changes; worth checking with ``verify_same_outcome``.
    reach: float = 0.0
    prefix: CleanPrefix | None = None  # only when asked for (``keep_prefix``)


class MesRun:
    """One run of MES at per-voter budget ``per_voter``; ``ranks`` breaks ties (lower wins).

    ``record`` keeps every round's budgets (for explanations); ``track`` estimates how far the
    per-voter budget could rise before the outcome changes (``RunResult.reach``). ``hint``: the
    winners of a run at a nearby budget, in order; each round looks at its hinted plan first, whose
    price then settles most others with a cheap test. Hints only change the work, not the outcome.
    ``keep_prefix`` returns the run's clean first rounds (``RunResult.prefix``); ``resume`` starts
    after those of a run at a lower budget when they are this run's first rounds too. Neither goes
    with ``record`` or ``track``.
    """

    def __init__(
        self,
        profile: MesProfile,
        per_voter: Fraction,
        ranks: IntArray,
        *,
        record: bool = False,
        track: bool = False,
        hint: Sequence[int] = (),
        keep_prefix: bool = False,
        resume: CleanPrefix | None = None,
    ) -> None:
        if (keep_prefix or resume is not None) and (record or track):
            raise ValueError("clean prefixes are for plain runs only")
        self.profile = profile
        self.hint = hint
        self.per_voter = per_voter
        self.per_voter_f = float(per_voter)
        self.ranks = ranks
        self.record = record
        self.track = track
        rows, projects = profile.row_count, profile.project_count
        # A row's budget is 0.0 exactly when its voters have paid everything (capped).
        self.budgets = np.full(rows, self.per_voter_f, dtype=np.float64)
        self.budget_err = np.full(rows, ROUND * self.per_voter_f, dtype=np.float64)
        self.max_err = ROUND * self.per_voter_f  # at least every budget_err
        self.capped_round = np.full(rows, NEVER, dtype=np.int64)
        self.round_of = np.full(projects, NEVER, dtype=np.int64)
        self.rounds: list[Round] = []
        self.rho = np.zeros(projects, dtype=np.float64)
        self.err = np.zeros(projects, dtype=np.float64)
        self.lower = np.zeros(projects, dtype=np.float64)  # lower bound on ρ, ordering key
        self.fresh = np.zeros(projects, dtype=np.bool_)  # rho is current (no supporter paid since)
        self.alive = np.zeros(projects, dtype=np.bool_)
        self.exact_cache: dict[int, Fraction] = {}
        # Budgets and their errors of a plan's supporters, as gathered since the last payment: a
        # round's winner is priced, then funded, from the same ones.
        self.held: dict[int, FloatArray] = {}
        self.held_err: dict[int, FloatArray] = {}
        self.snapshots: list[FloatArray] = []
        self.seen: list[int] = []  # plans whose ρ was looked at in the current round
        # d budget / d per-voter budget per row along this run's decisions (for ``reach``).
        self.slope = np.ones(rows, dtype=np.float64) if track else np.zeros(0, dtype=np.float64)
        self.reach = float("inf")
        self.resume = resume
        self.order = np.zeros(0, dtype=np.int64)  # the candidates by exact ρ0, then rank
        if resume is not None:
            self.order = resume.order
        elif keep_prefix:
            self.order = clean_order(profile, ranks)
        self.prefix = CleanPrefix(per_voter, self.order, []) if keep_prefix else None
        self.clean_next: list[int] = []  # ``order`` without the plans nobody can fund here

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> RunResult:
        self._start()
        self.clean_next = self.order[self.alive[self.order]].tolist()
        selected = self._resume(self.resume) if self.resume is not None else []
        while (winner := self._pick_winner()) is not None:
            self._fund(winner)
            selected.append(winner)
        self._close_prefix()
        if self.track:
            self.reach = min(self.reach, self._affordability_estimate(set(selected)))
        return RunResult(
            per_voter=self.per_voter,
            selected=selected,
            rounds=self.rounds,
            budgets_before=self.snapshots,
            final_budgets=self.budgets.copy() if self.record else None,
            engine=self,
            reach=self.reach if self.track else 0.0,
            prefix=self.prefix,
        )

    def _resume(self, base: CleanPrefix) -> list[int]:
        """Make ``base``'s clean rounds at once, if they are this run's first rounds (its winners
        first in ``clean_next``, per-voter budget not above this run's); returns their winners.

        Rows hold their budget at ``base`` plus the difference: the float sum is off by at most
        the base error plus two roundings.
        """
        winners = base.winners
        if (
            base.budgets is None
            or base.budget_err is None
            or not winners
            or base.per_voter > self.per_voter
            or self.clean_next[: len(winners)] != winners
        ):
            return []
        extra = 2 * ROUND * self.per_voter_f
        self.budgets = base.budgets + float(self.per_voter - base.per_voter)
        self.budget_err = base.budget_err + extra
        self._forget_held()
        self.max_err = base.max_err + extra
        empty = np.zeros(0, dtype=np.int64)
        for w in winners:
            # Everyone pays in full: ρ is _start's ρ0 = cost / Σu, with its error bound.
            rho, err = float(self.rho[w]), float(self.err[w])
            total = self.profile.supporters[w].total_points
            self.round_of[w] = len(self.rounds)
            self.rounds.append(Round(w, rho, empty, total, err))
            self.alive[w] = False
            self.fresh[self.profile.neighbours(w)] = False
        if self.prefix is not None:
            self.prefix.winners = list(winners)
        return list(winners)

    def _extend_prefix(self, w: int, clean: bool) -> None:
        """Before ``w`` is funded: one more clean round, or the end of the clean prefix."""
        prefix = self.prefix
        if prefix is None or prefix.budgets is not None:
            return
        k = len(prefix.winners)
        if clean and k < len(self.clean_next) and self.clean_next[k] == w:
            prefix.winners.append(w)
        else:
            self._close_prefix()

    def _close_prefix(self) -> None:
        prefix = self.prefix
        if prefix is not None and prefix.budgets is None:
            prefix.budgets = self.budgets.copy()
            prefix.budget_err = self.budget_err.copy()
            prefix.max_err = self.max_err

    def _start(self) -> None:
        """Initial ρ of every candidate while nobody has paid: cost / Σu if all can pay it."""
        profile = self.profile
        b = self.per_voter_f
        candidates = profile.candidates
        voters, total_util, max_util = profile.candidate_sums
        cost = profile.cost_f[candidates]
        money = b * voters
        tol = 8 * ROUND * (money + cost)
        affordable = money > cost + tol
        for i in np.flatnonzero(np.abs(money - cost) <= tol).tolist():
            affordable[i] = self._exact_affordable(int(candidates[i]))
        p = candidates[affordable]
        rho0 = (cost / total_util)[affordable]
        self.alive[p] = True
        self.rho[p] = rho0
        self.err[p] = (tol / total_util)[affordable]
        self.lower[p] = rho0 - self.err[p]
        # If everyone can pay ρ0·u, ρ0 is the answer; otherwise it is a lower bound to refine.
        self.fresh[p] = b >= rho0 * max_util[affordable] * (1 + ROBUST)

    def _pick_winner(self) -> int | None:
        """The plan with the least ρ (pabutools' shortcut: a stale ρ is a lower bound)."""
        lower, rho, err = self.lower, self.rho, self.err
        upper = np.inf
        seen: list[int] = []
        hinted = self._hinted()
        if hinted is not None and (self.fresh[hinted] or self._refresh(hinted)):
            seen.append(hinted)
            upper = rho[hinted] + err[hinted]
        alive = np.flatnonzero(self.alive & (lower <= upper))
        order = alive[np.argsort(lower[alive], kind="stable")]
        for p in order.tolist():
            if lower[p] > upper:
                break
            if p == hinted:
                continue
            if not self.fresh[p]:
                # Tracking needs every plan that came close; otherwise a cheap test may do.
                if upper < np.inf and not self.track and self._dearer_than(p, upper):
                    continue
                if not self._refresh(p):
                    continue
            seen.append(p)
            upper = min(upper, rho[p] + err[p])
        self.seen = seen
        contenders = [p for p in seen if lower[p] <= upper]
        if len(contenders) <= 1:
            return contenders[0] if contenders else None
        return self._break_near_tie(contenders)

    def _dearer_than(self, p: int, price: float) -> bool:
        """Whether ρ of ``p`` is certainly above ``price``; if so its lower bound is raised.

        One pass instead of computing ρ: what the supporters would pay at ``price`` (those who
        cannot pay price·u paying all they have). If that falls short of the cost, one step of
        the fixpoint iteration from ``price`` is a lower bound on ρ, usually close to it: with
        P the money of those short at ``price`` and U the utility of the others, every x ≥ price
        collects at most P + x·U, so ρ ≥ (cost − P) / U.
        """
        sup = self.profile.supporters[p]
        cost = float(self.profile.cost_f[p])
        budgets = self._held(p)
        share = price * sup.max_util_f if sup.uniform else price * sup.util_f
        short = budgets < share
        poor_money = _money_in(sup, budgets, short)
        if sup.uniform:
            rich_util = (sup.voters - _voters_in(sup, short)) * sup.max_util_f
        else:
            rich_util = dot(sup.weighted_util_f, ~short)
        rounding = (len(sup.rows) + 8) * ROUND * (self.per_voter_f * sup.voters + cost)
        tol = self.max_err * sup.voters + rounding
        if poor_money + price * rich_util >= cost - tol:
            return False
        step = (cost - poor_money - tol) / rich_util * (1 - ROBUST) if rich_util > 0 else np.inf
        self.lower[p] = max(float(self.lower[p]), price, step)
        return True

    def _hinted(self) -> int | None:
        now = len(self.rounds)
        if self.track or now >= len(self.hint) or not self.alive[self.hint[now]]:
            return None
        return int(self.hint[now])

    def _refresh(self, p: int) -> bool:
        """Recompute ρ of ``p`` from current budgets; drop it (False) if it became unaffordable."""
        found = self._evaluate(p)
        if found is None:
            self.alive[p] = False
            return False
        self.rho[p], self.err[p] = found
        self.lower[p] = found[0] - found[1]
        self.fresh[p] = True
        return True

    def _evaluate(self, p: int) -> tuple[float, float] | None:
        """(ρ, error bound) of ``p`` from the current budgets, or None if it is unaffordable."""
        sup = self.profile.supporters[p]
        cost = float(self.profile.cost_f[p])
        budgets = self._held(p)
        money = dot(budgets, sup.mult_f)
        rounding = (len(sup.rows) + 8) * ROUND * (self.per_voter_f * sup.voters + cost)
        if not self._affordable(p, money, cost, rounding):
            return None
        if sup.uniform:
            return self._evaluate_uniform(p, cost, budgets, rounding)
        ratio = budgets / sup.util_f
        rho0 = cost / sup.total_util_f
        if ratio.min() >= rho0 * (1 + ROBUST):
            return rho0, rounding / sup.total_util_f
        weighted_money = budgets * sup.mult_f
        # ρ never falls within a run: the iteration may start from its last lower bound.
        floor = max(rho0, float(self.lower[p]))
        rho = _rho_by_fixpoint(cost, floor, ratio, weighted_money, sup.weighted_util_f)
        if rho is None:
            rho = _rho_by_scan(cost, ratio, weighted_money, sup.weighted_util_f)
        carried = self._held_err(p) * sup.mult_f
        return rho, _rho_error(rounding, rho, ratio, sup.weighted_util_f, carried)

    def _evaluate_uniform(
        self, p: int, cost: float, budgets: FloatArray, rounding: float
    ) -> tuple[float, float]:
        """As :meth:`_evaluate` when every supporter has the same utility u (approval ballots):
        budgets compare with the share x = ρ·u directly, and the supporters who can pay it are
        counted (exactly) rather than their utilities summed."""
        sup = self.profile.supporters[p]
        u, voters = sup.max_util_f, sup.voters
        rho0 = cost / sup.total_util_f
        if budgets.min() >= rho0 * u * (1 + ROBUST):
            return rho0, rounding / sup.total_util_f
        # The fixpoint iteration of _rho_by_fixpoint, on shares, from the last lower bound.
        short = budgets < max(rho0, float(self.lower[p])) * u
        rich = voters - _voters_in(sup, short)
        for _ in range(8):
            if rich <= 0:
                break
            share = (cost - _money_in(sup, budgets, short)) / rich
            short = budgets < share
            now = voters - _voters_in(sup, short)
            if now == rich:
                return share / u, self._error_uniform(p, share, budgets, rounding)
            rich = now
        weighted_money = budgets * sup.mult_f
        rho = _rho_by_scan(cost, budgets / sup.util_f, weighted_money, sup.weighted_util_f)
        return rho, self._error_uniform(p, rho * u, budgets, rounding)

    def _error_uniform(self, p: int, share: float, budgets: FloatArray, rounding: float) -> float:
        """:func:`_rho_error` for one utility u, given the share ρ·u."""
        sup = self.profile.supporters[p]
        near = budgets <= share * (1 + ROBUST)
        slope = (sup.voters - _voters_in(sup, near)) * sup.max_util_f
        if slope <= 0:
            return float("inf")
        errors = self._held_err(p)
        carried = dot(errors if sup.single else errors * sup.mult_f, near)
        err = (rounding + carried) / slope
        return err if err <= share / sup.max_util_f * ROBUST / 2 else float("inf")

    def _affordable(self, p: int, money: float, cost: float, rounding: float) -> bool:
        """Whether the supporters of ``p`` hold at least its cost; a crude bound on their budgets'
        errors first, the tight one only when that is too loose to tell."""
        sup = self.profile.supporters[p]
        tol = self.max_err * sup.voters + rounding
        if abs(money - cost) <= tol:
            tol = dot(self._held_err(p), sup.mult_f) + rounding
        if money < cost - tol:
            return False
        return money > cost + tol or self._exact_affordable(p)

    def _money_left(
        self, p: int, rho: float, err: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per supporter of ``p``: budget, budget − ρ·u, and the error bound of the latter."""
        sup = self.profile.supporters[p]
        budgets, errors = self._held(p), self._held_err(p)
        if sup.uniform:  # one share for every supporter
            left = budgets - rho * sup.max_util_f
            tol = errors + (err * sup.max_util_f + ROUND * self.per_voter_f)
        else:
            left = budgets - rho * sup.util_f
            tol = errors + err * sup.util_f + ROUND * self.per_voter_f
        return budgets, left, tol

    def _held(self, p: int) -> FloatArray:
        """The budgets of ``p``'s supporters (not to be written to)."""
        held = self.held.get(p)
        if held is None:
            held = self.held[p] = self.budgets.take(self.profile.supporters[p].rows)
        return held

    def _held_err(self, p: int) -> FloatArray:
        """The error bounds of :meth:`_held` (not to be written to)."""
        held = self.held_err.get(p)
        if held is None:
            held = self.held_err[p] = self.budget_err.take(self.profile.supporters[p].rows)
        return held

    def _forget_held(self) -> None:
        self.held.clear()
        self.held_err.clear()

    def _classify(
        self, p: int, rho: float, err: float
    ) -> tuple[BoolArray, BoolArray, BoolArray, FloatArray, FloatArray]:
        """Supporters of ``p`` who certainly pay all they have left, who might, who certainly do
        not (rows already empty are in none), what the latter keep, and its error bound."""
        budgets, left, tol = self._money_left(p, rho, err)
        poor = (left < -tol) & (budgets > 0)
        rich = left > tol
        unclear = ~(poor | rich) & (budgets > 0)
        return poor, unclear, rich, left, tol

    def _break_near_tie(self, contenders: list[int]) -> int:
        exact = {p: self.exact_rho_now(p) for p in contenders}
        best = min(exact.values())
        tied = [p for p in contenders if exact[p] == best]
        return min(tied, key=lambda p: int(self.ranks[p]))

    def _fund(self, w: int) -> None:
        """Fund ``w``: each supporter pays min(money left, ρ·u)."""
        profile = self.profile
        sup = profile.supporters[w]
        now = len(self.rounds)
        if self.record:
            self.snapshots.append(self.budgets.copy())
        rho_exact = self.exact_cache.get(w)
        rho, err = float(self.rho[w]), float(self.err[w])
        if rho_exact is not None:
            rho, err = float(rho_exact), ROUND * float(rho_exact)
        budgets, left, tol = self._money_left(w, rho, err)
        # Every supporter left with more than any error bound pays ρ·u in full; the few others
        # are looked at one by one: certainly not (some had nothing left already), or too close.
        most = self.max_err + err * sup.max_util_f + ROUND * self.per_voter_f
        doubtful = np.flatnonzero(left <= most)
        doubt_left, doubt_tol = left[doubtful], tol[doubtful]
        had_money = budgets[doubtful] > 0
        not_rich = doubtful[doubt_left <= doubt_tol]
        poor = doubtful[had_money & (doubt_left < -doubt_tol)]
        unclear = doubtful[had_money & (np.abs(doubt_left) <= doubt_tol)]
        # Every supporter paying in full (their exact money exceeds the share by more than any
        # error): ρ is exactly ρ0.
        self._extend_prefix(w, clean=not_rich.size == 0)
        new_budgets = np.maximum(left, 0.0)
        new_budgets[not_rich] = 0.0
        new_errors = tol
        new_errors[not_rich] = 0.0
        rich_after_all: list[int] = []
        if unclear.size:
            rho_exact = self.exact_rho_now(w)
            for i in unclear.tolist():
                share = rho_exact * profile.kappa[w] * int(sup.points[i])
                exact_left = self._exact_row_budget(int(sup.rows[i]), now) - share
                if exact_left > 0:
                    rich_after_all.append(i)
                    new_budgets[i] = max(float(exact_left), SMALLEST)
                    new_errors[i] = ROUND * new_budgets[i]
            poor = np.sort(np.setdiff1d(np.concatenate([poor, unclear]), rich_after_all))
        if self.track:
            rich = np.ones(len(sup.rows), dtype=np.bool_)
            rich[not_rich] = False
            rich[rich_after_all] = True
            self._track_round(w, rho, poor, rich)
        self.budgets[sup.rows] = new_budgets
        self.budget_err[sup.rows] = new_errors
        self._forget_held()
        # ``most`` bounds every new error (see _money_left) unless ρ was not trusted at all.
        bound = most if most < np.inf else float(new_errors.max(initial=0.0))
        self.max_err = max(self.max_err, bound)
        poor_rows = sup.rows[poor]
        self.capped_round[poor_rows] = now
        rich_points = sup.total_points - _points_of(sup, not_rich) + _points_of(sup, rich_after_all)
        self.rounds.append(
            Round(
                project=w,
                rho=rho,
                poor_rows=poor_rows,
                rich_points=rich_points,
                err=err,
                rho_exact=rho_exact,
            )
        )
        self.round_of[w] = now
        self.alive[w] = False
        touched = profile.neighbours(w)
        self.fresh[touched] = False
        if self.exact_cache:
            for p in touched.tolist():
                self.exact_cache.pop(p, None)

    # -- how far the per-voter budget can rise without changing the outcome ----------------------
    #
    # Fix the sequence of winners and raise the per-voter budget b: by induction over the rounds
    # every budget can only grow and every ρ only fall (more money lowers the price, and what is
    # left, max(0, budget − ρ·u), grows). So if, with the budgets of per-voter budget b + T, every
    # other plan's ρ in every round is still above the winner's ρ at b (equal only where the tie
    # goes to the winner), and every plan left unaffordable at the end still is, then at every
    # budget in [b, b + T] each round has the same winner: the outcome is the same. ``verify``
    # checks exactly that in one run along the fixed sequence. ``track`` only estimates a T worth
    # checking: the money a plan could collect at the winner's price grows at most as fast as the
    # budgets of its supporters who cannot pay that price, at their current rates of growth.

    def _track_round(self, w: int, rho: float, poor: IntArray, rich: BoolArray) -> None:
        profile = self.profile
        for p in self.seen:
            if p != w:
                self.reach = min(self.reach, self._overtake_estimate(p, rho))
        sup = profile.supporters[w]
        slope = self.slope[sup.rows]
        rich_util = float(sup.weighted_util_f[rich].sum())
        rho_slope = -float((sup.mult_f * slope)[poor].sum()) / rich_util
        self.slope[sup.rows] = np.where(rich, slope - rho_slope * sup.util_f, 0.0)

    def _overtake_estimate(self, p: int, rho: float) -> float:
        sup = self.profile.supporters[p]
        budgets = self.budgets[sup.rows]
        share = rho * sup.util_f
        short = budgets < share
        collected = dot(np.minimum(budgets, share), sup.mult_f)
        growth = float((self.slope[sup.rows] * sup.mult_f)[short].sum())
        margin = max(float(self.profile.cost_f[p]) - collected, 0.0)
        return margin / growth if growth > 0 else float("inf")

    def _affordability_estimate(self, selected: set[int]) -> float:
        """Estimated rise of b before a plan MES left unfunded becomes affordable."""
        entries = self.profile.entries
        if len(entries.starts) == 0:
            return float("inf")
        money = np.add.reduceat(entries.mult_f * self.budgets[entries.rows], entries.starts)
        growth = np.add.reduceat(entries.mult_f * self.slope[entries.rows], entries.starts)
        unfunded = np.array([p not in selected for p in entries.projects.tolist()], dtype=bool)
        margin = np.maximum(self.profile.cost_f[entries.projects] - money, 0.0)[unfunded]
        growth = growth[unfunded]
        rising = growth > 0
        return float((margin[rising] / growth[rising]).min()) if rising.any() else float("inf")

    def verify(self, base: RunResult) -> bool:
        """Whether every per-voter budget from ``base.per_voter`` (lower) up to this run's gives
        the same outcome as ``base``; see the comment above. False may also mean "not sure"."""
        assert base.engine is not None
        self._start()
        for r, rnd in enumerate(base.rounds):
            if not self._others_stay_dearer(rnd, r, base.engine):
                return False
            w = rnd.project
            if not self.fresh[w] and not self._refresh(w):
                return False  # cannot happen in exact arithmetic: more money keeps w affordable
            self._fund(w)
        return not any(self._refresh(p) for p in np.flatnonzero(self.alive).tolist())

    def _others_stay_dearer(self, rnd: Round, r: int, base: MesRun) -> bool:
        w = rnd.project
        ceiling = rnd.rho + rnd.err
        for p in np.flatnonzero(self.alive).tolist():
            if p == w or self.lower[p] > ceiling:
                continue
            if not self.fresh[p] and not self._refresh(p):
                continue
            if self.rho[p] - self.err[p] > ceiling:
                continue
            if self.rho[p] + self.err[p] < rnd.rho - rnd.err:
                return False
            theirs, ours = self.exact_rho_now(p), base.exact_round_rho(r)
            if theirs < ours or (theirs == ours and self.ranks[p] < self.ranks[w]):
                return False
        return True

    # -- exact arithmetic, on demand -----------------------------------------------------------

    def exact_rho_now(self, p: int) -> Fraction:
        """ρ of ``p`` from the current (exact) budgets, using the float ρ to find who is poor."""
        cached = self.exact_cache.get(p)
        if cached is not None:
            return cached
        profile = self.profile
        sup = profile.supporters[p]
        now = len(self.rounds)
        poor, unclear, rich, _, _ = self._classify(p, float(self.rho[p]), float(self.err[p]))
        poor_money = self.exact_money(sup.rows[poor], now)
        rich_points = int(sup.weighted_points[rich | unclear].sum())
        pending = [
            (int(sup.mult[i]), int(sup.points[i]), self._exact_row_budget(int(sup.rows[i]), now))
            for i in np.flatnonzero(unclear).tolist()
        ]
        cost, kappa = profile.costs[p], profile.kappa[p]
        # pabutools' poor/rich iteration, exactly, on the few supporters the floats left open.
        while True:
            if rich_points == 0:
                raise ArithmeticError(f"plan {p}: no supporter left to pay at the exact ρ")
            rho = (cost - poor_money) / (kappa * rich_points)
            short = [(m, s, b) for m, s, b in pending if b < rho * kappa * s]
            if not short:
                break
            for m, s, b in short:
                poor_money += m * b
                rich_points -= m * s
            pending = [item for item in pending if item not in short]
        self.exact_cache[p] = rho
        return rho

    def _exact_affordable(self, p: int) -> bool:
        sup = self.profile.supporters[p]
        return self.exact_money(sup.rows, len(self.rounds)) >= self.profile.costs[p]

    def _exact_row_budget(self, row: int, before: int) -> Fraction:
        rows = np.array([row], dtype=np.int64)
        return self.exact_money(rows, before) / int(self.profile.row_mult[row])

    def exact_money(self, rows: IntArray, before: int) -> Fraction:
        """Exact Σ m·budget of ``rows`` just before round ``before``."""
        rows = rows[self.capped_round[rows] >= before]
        if rows.size == 0:
            return Fraction(0)
        profile = self.profile
        money = self.per_voter * int(profile.row_mult[rows].sum())
        projects, points, mult = profile.entries_of(rows)
        paid = self.round_of[projects] < before
        if not paid.any():
            return money
        # A row that never paid everything paid exactly ρ_w·u for every plan w it supported.
        weights = np.zeros(profile.project_count, dtype=np.int64)
        np.add.at(weights, projects[paid], points[paid] * mult[paid])
        for w in np.flatnonzero(weights).tolist():
            rho = self.exact_round_rho(int(self.round_of[w]))
            money -= rho * profile.kappa[w] * int(weights[w])
        return money

    def exact_round_rho(self, r: int) -> Fraction:
        """Exact ρ of the plan funded in round ``r``."""
        rnd = self.rounds[r]
        if rnd.rho_exact is None:
            p = rnd.project
            poor_money = self.exact_money(rnd.poor_rows, r)
            rnd.rho_exact = (self.profile.costs[p] - poor_money) / (
                self.profile.kappa[p] * rnd.rich_points
            )
        return rnd.rho_exact


def _voters_in(sup: Supporters, chosen: BoolArray) -> int:
    """How many voters the ``chosen`` supporter rows hold: one each, plus the few extra."""
    voters = int(np.count_nonzero(chosen))
    if sup.shared_at.size:
        voters += int(np.dot(sup.shared_extra, chosen[sup.shared_at]))
    return voters


def _points_of(sup: Supporters, at: IntArray | list[int]) -> int:
    """Σ m·s over the supporter rows ``at``: their number when every row holds one point."""
    if sup.total_points == len(sup.rows) or len(at) == 0:
        return len(at)
    return int(sup.weighted_points[at].sum())


def _money_in(sup: Supporters, budgets: FloatArray, chosen: BoolArray) -> float:
    """The money of the ``chosen`` supporter rows: one budget each, plus the few extra."""
    money = dot(budgets, chosen)
    if sup.shared_at.size:
        at = sup.shared_at
        money += dot(budgets[at] * sup.shared_extra, chosen[at])
    return money


def _rho_by_fixpoint(
    cost: float, rho0: float, ratio: FloatArray, money: FloatArray, weighted_util: FloatArray
) -> float | None:
    """ρ = (cost − money of those who cannot pay ρ·u) / utility of the others, by iteration.

    Each pass moves the supporters who cannot afford the current ρ to "pays everything"; ρ only
    grows, so this stops at the same ρ as pabutools' sorted scan. A few vectorised passes are
    cheaper than sorting; give up (None) if it takes too many.
    """
    poor = ratio < rho0
    rich_util = dot(weighted_util, ~poor)
    for _ in range(8):
        if rich_util <= 0:
            return None
        rho = (cost - dot(money, poor)) / rich_util
        poor = ratio < rho
        # The poor only ever join (ρ grows), each with positive utility: the same rich utility
        # means the same supporters.
        now = dot(weighted_util, ~poor)
        if now == rich_util:
            return rho
        rich_util = now
    return None


def _rho_by_scan(
    cost: float, ratio: FloatArray, money: FloatArray, weighted_util: FloatArray
) -> float:
    """pabutools' scan: supporters by budget/utility; the poorest pay everything they have, and
    the first one who can pay ρ·u fixes ρ for everyone richer."""
    order = np.argsort(ratio, kind="stable")
    sorted_ratio = ratio[order]
    poor_before = np.concatenate(([0.0], np.cumsum(money[order])[:-1]))
    rich_util = np.cumsum(weighted_util[order][::-1])[::-1]
    candidates = (cost - poor_before) / rich_util
    fits = candidates <= sorted_ratio
    k = int(np.argmax(fits)) if fits.any() else len(fits) - 1
    return float(candidates[k])


def _rho_error(
    rounding: float,
    rho: float,
    ratio: FloatArray,
    weighted_util: FloatArray,
    carried: FloatArray,
) -> float:
    """Bound on |float ρ − exact ρ|.

    The money a plan can collect at price x is Σ min(budget, x·u); near ρ it is off by at most
    the budget errors of those who pay everything (``carried``; the others pay x·u whatever their
    exact budget) plus ``rounding``, and it grows at least as fast as the utility of those who can
    still pay more, so ρ is off by at most that error over that utility. Supporters too close to
    ρ to be sure of count as paying everything; if that leaves too little utility, trust nothing
    (inf): every decision about this plan is then taken exactly.
    """
    robust = ratio > rho * (1 + ROBUST)
    slope = dot(weighted_util, robust)
    if slope <= 0:
        return float("inf")
    err = (rounding + dot(carried, ~robust)) / slope
    return err if err <= rho * ROBUST / 2 else float("inf")


def run_mes(
    profile: MesProfile,
    per_voter: Fraction,
    ranks: IntArray,
    *,
    record: bool = False,
    track: bool = False,
    hint: Sequence[int] = (),
    keep_prefix: bool = False,
    resume: CleanPrefix | None = None,
) -> RunResult:
    return MesRun(
        profile,
        per_voter,
        ranks,
        record=record,
        track=track,
        hint=hint,
        keep_prefix=keep_prefix,
        resume=resume,
    ).run()


def verify_same_outcome(
    profile: MesProfile, base: RunResult, per_voter: Fraction, ranks: IntArray
) -> bool:
    """Whether every per-voter budget from ``base.per_voter`` up to ``per_voter`` gives the same
    MES outcome as ``base`` (a sufficient test: False may be returned when it does)."""
    return MesRun(profile, per_voter, ranks).verify(base)


class MesBatch:
    """MES at several per-voter budgets at once, one column each, for Add1's consecutive runs.

    Runs at nearby budgets take mostly the same steps, so doing them side by side shares the
    per-step overhead. Floats only: a column that meets a decision its floats cannot settle
    (a near-tie that is not between two plans everyone can still pay, money almost equal to a cost,
    a supporter whose money almost equals the share) stops and is reported as ``None``, for the
    exact :class:`MesRun` to redo. Decisions taken are the ones :class:`MesRun` takes.
    """

    def __init__(self, profile: MesProfile, budgets: Sequence[Fraction], ranks: IntArray) -> None:
        self.profile = profile
        self.ranks = ranks
        self.columns = len(budgets)
        b = np.array([float(x) for x in budgets], dtype=np.float64)
        self.per_voter_f = b
        self.top = float(b.max(initial=0.0))
        shape = (profile.row_count, self.columns)
        self.budgets = np.repeat(b[None, :], profile.row_count, axis=0).reshape(shape)
        self.budget_err = ROUND * self.budgets
        projects = (profile.project_count, self.columns)
        self.rho = np.zeros(projects, dtype=np.float64)
        self.err = np.zeros(projects, dtype=np.float64)
        self.lower = np.full(projects, np.inf, dtype=np.float64)
        self.fresh = np.zeros(projects, dtype=np.bool_)
        self.alive = np.zeros(projects, dtype=np.bool_)
        self.active = np.ones(self.columns, dtype=np.bool_)  # still running
        self.failed = np.zeros(self.columns, dtype=np.bool_)
        self.selected: list[list[int]] = [[] for _ in range(self.columns)]

    def run(self) -> list[list[int] | None]:
        self._start()
        while self.active.any():
            winners = self._pick_winners()
            for w in np.unique(winners[winners >= 0]).tolist():
                self._fund(w, np.flatnonzero(winners == w))
        return [None if self.failed[c] else self.selected[c] for c in range(self.columns)]

    def _fail(self, columns: npt.NDArray[np.intp]) -> None:
        self.failed[columns] = True
        self.active[columns] = False

    def _start(self) -> None:
        profile = self.profile
        b = self.per_voter_f
        for p in profile.candidates.tolist():
            sup = profile.supporters[p]
            cost = float(profile.cost_f[p])
            money = b * sup.voters
            tol = 8 * ROUND * (money + cost)
            self._fail(np.flatnonzero(np.abs(money - cost) <= tol))
            affordable = money > cost + tol
            rho0 = cost / sup.total_util_f
            self.alive[p] = affordable
            self.rho[p] = rho0
            self.err[p] = tol / sup.total_util_f
            self.lower[p] = np.where(affordable, rho0 - self.err[p], np.inf)
            self.fresh[p] = b >= rho0 * sup.max_util_f * (1 + ROBUST)

    def _pick_winners(self) -> npt.NDArray[np.intp]:
        """Each active column's winner this round (−1: the column is done).

        As :meth:`MesRun._pick_winner`, all columns at once: while some column has a plan whose
        stale ρ (a lower bound) could still beat its best current ρ, recompute the most promising
        such plan of each column.
        """
        while True:
            live = self.alive & self.active[None, :]
            upper = np.where(live & self.fresh, self.rho + self.err, np.inf).min(axis=0)
            due = live & ~self.fresh & (self.lower <= upper[None, :])
            waiting = due.any(axis=0)
            if not waiting.any():
                break
            first = np.where(due, self.lower, np.inf).argmin(axis=0)
            for p in np.unique(first[waiting]).tolist():
                self._refresh(p, np.flatnonzero(due[p]))
        contenders = live & self.fresh & (self.lower <= upper[None, :])
        winners = np.full(self.columns, -1, dtype=np.intp)
        counts = contenders.sum(axis=0)
        active = self.active.copy()
        self.active[active & (counts == 0)] = False
        single = active & (counts == 1)
        winners[single] = np.argmax(contenders[:, single], axis=0)
        for c in np.flatnonzero(active & (counts > 1)).tolist():
            winners[c] = self._break_simple_tie(np.flatnonzero(contenders[:, c]).tolist(), c)
        return winners

    def _refresh(self, p: int, columns: npt.NDArray[np.intp]) -> None:
        sup = self.profile.supporters[p]
        cost = float(self.profile.cost_f[p])
        every = columns.size == self.columns
        budgets = _take(self.budgets, sup.rows, columns, every)
        errors = _take(self.budget_err, sup.rows, columns, every)
        money = vecmat(sup.mult_f, budgets)
        carried = vecmat(sup.mult_f, errors)
        rounding = (len(sup.rows) + 8) * ROUND * (self.top * sup.voters + cost)
        tol = carried + rounding
        affordable = money > cost + tol
        if not affordable.all():
            self._fail(columns[np.abs(money - cost) <= tol])
            self.alive[p, columns[~affordable]] = False
            columns, budgets, errors, money, carried = (
                columns[affordable],
                budgets[:, affordable],
                errors[:, affordable],
                money[affordable],
                carried[affordable],
            )
            if columns.size == 0:
                return
        # With one utility for all supporters (approval ballots) budgets compare with ρ·u directly.
        unit = sup.max_util_f if sup.uniform else 1.0
        ratio = budgets if sup.uniform else budgets / sup.util_f[:, None]
        rho = _rho_columns(cost, ratio, unit, budgets, money, sup)
        # Only supporters not robustly above ρ carry their budget errors into ρ (all errors
        # minus those of the others: an error on errors, far below ``rounding``).
        robust = (ratio > (rho * (unit * (1 + ROBUST)))[None, :]).astype(np.float64)
        slope = vecmat(sup.weighted_util_f, robust)
        carried = np.maximum(carried - vecmat(sup.mult_f, errors * robust), 0.0)
        err = (rounding + carried) / np.maximum(slope, SMALLEST)
        err = np.where((slope > 0) & (err <= rho * ROBUST / 2), err, np.inf)
        self.rho[p, columns] = rho
        self.err[p, columns] = err
        self.lower[p, columns] = rho - err
        self.fresh[p, columns] = True

    def _break_simple_tie(self, contenders: list[int], c: int) -> int:
        """Exact tie-break when every contender's live supporters all pay the full share
        (then ρ = cost / Σ utility of those still holding money); otherwise give the column up."""
        exact: dict[int, Fraction] = {}
        for p in contenders:
            sup = self.profile.supporters[p]
            budgets = self.budgets[sup.rows, c]
            live = budgets > 0
            ratio = budgets[live] / sup.util_f[live]
            if not np.isfinite(self.err[p, c]) or ratio.min(initial=np.inf) < self.rho[p, c] * (
                1 + ROBUST
            ):
                self._fail(np.array([c]))
                return -1
            points = int(sup.weighted_points[live].sum())
            exact[p] = self.profile.costs[p] / (self.profile.kappa[p] * points)
        best = min(exact.values())
        return min((p for p in contenders if exact[p] == best), key=lambda p: int(self.ranks[p]))

    def _fund(self, w: int, columns: npt.NDArray[np.intp]) -> None:
        columns = columns[self.active[columns]]
        if columns.size == 0:
            return
        profile = self.profile
        sup = profile.supporters[w]
        every = columns.size == self.columns
        budgets = _take(self.budgets, sup.rows, columns, every)
        rho, err = self.rho[w, columns], self.err[w, columns]
        errors = _take(self.budget_err, sup.rows, columns, every)
        if sup.uniform:  # one share per column
            left = budgets - (rho * sup.max_util_f)[None, :]
            tol = errors + (err * sup.max_util_f + ROUND * self.top)[None, :]
        else:
            left = budgets - rho[None, :] * sup.util_f[:, None]
            tol = errors + err[None, :] * sup.util_f[:, None] + ROUND * self.top
        rich = left > tol
        unclear = ((np.abs(left) <= tol) & (budgets > 0)).any(axis=0)
        if unclear.any():  # floats cannot tell whether these supporters pay all they have
            self._fail(columns[unclear])
            keep = ~unclear
            columns, left, tol, rich = columns[keep], left[:, keep], tol[:, keep], rich[:, keep]
            every = False
            if columns.size == 0:
                return
        _put(self.budgets, sup.rows, columns, every, np.where(rich, left, 0.0))
        _put(self.budget_err, sup.rows, columns, every, np.where(rich, tol, 0.0))
        if every:
            self.fresh[profile.neighbours(w)] = False
        else:
            self.fresh[profile.neighbours(w)[:, None], columns[None, :]] = False
        self.alive[w, columns] = False
        for c in columns.tolist():
            self.selected[c].append(w)


def _take(
    array: FloatArray, rows: IntArray, columns: npt.NDArray[np.intp], every: bool
) -> FloatArray:
    # Rows are contiguous in memory: taking whole rows first is much cheaper than a 2-D fancy
    # index, and np.take much cheaper than indexing with [].
    whole: FloatArray = np.take(array, rows, axis=0)
    return whole if every else np.take(whole, columns, axis=1)


def _put(
    array: FloatArray,
    rows: IntArray,
    columns: npt.NDArray[np.intp],
    every: bool,
    values: FloatArray,
) -> None:
    if every:
        array[rows] = values
    else:
        whole = np.take(array, rows, axis=0)
        whole[:, columns] = values
        array[rows] = whole


def _rho_columns(
    cost: float,
    ratio: FloatArray,
    unit: float,
    budgets: FloatArray,
    total_money: FloatArray,
    sup: Supporters,
) -> FloatArray:
    """ρ per column, as :func:`_rho_by_fixpoint` (or the scan for columns it leaves open).

    ``ratio`` is budget / utility, or the budgets with ``unit`` the one utility of all supporters;
    ``total_money`` is Σ m·budget per column. ρ only grows from pass to pass, so the supporters
    who can pay ρ·u only shrink: a pass that loses none of them has found the fixpoint. The money
    of those who cannot is all money minus theirs (an error within the ``rounding`` allowed).
    """
    rho0 = cost / sup.total_util_f
    columns = ratio.shape[1]
    rho: FloatArray = np.full(columns, rho0)
    money = budgets if sup.single else budgets * sup.mult_f[:, None]
    rich = (ratio >= rho0 * unit).astype(np.float64)
    rich_util, rich_voters = vecmat(sup.weighted_util_f, rich), vecmat(sup.mult_f, rich)
    settled = np.zeros(columns, dtype=np.bool_)
    stuck = np.zeros(columns, dtype=np.bool_)  # left to the scan
    for _ in range(8):
        stuck |= ~settled & ~(rich_util > 0)  # nobody left to pay ρ·u
        todo = ~settled & ~stuck
        if not todo.any():
            break
        poor_money = total_money - np.einsum("ij,ij->j", money, rich)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = (cost - poor_money) / rich_util
        stuck |= todo & ~(new >= rho)
        todo &= ~stuck
        rho = np.where(todo, new, rho)
        rich = (ratio >= (rho * unit)[None, :]).astype(np.float64)
        rich_util, now_voters = vecmat(sup.weighted_util_f, rich), vecmat(sup.mult_f, rich)
        settled |= todo & (now_voters == rich_voters)
        rich_voters = now_voters
    for c in np.flatnonzero(~settled).tolist():
        rho[c] = _rho_by_scan(cost, ratio[:, c] / unit, money[:, c], sup.weighted_util_f)
    return rho


def run_mes_batch(
    profile: MesProfile, budgets: Sequence[Fraction], ranks: IntArray
) -> list[list[int] | None]:
    """MES winners in order at each per-voter budget (None: redo that one with :func:`run_mes`)."""
    return MesBatch(profile, budgets, ranks).run()
