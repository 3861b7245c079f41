"""Allocation rules against pabutools: time, peak memory, and whether the outcome agrees.

    python benchmarks/allocation.py              # the largest Pabulib files and a synthetic city
    python benchmarks/allocation.py --quick      # the small files only
    python benchmarks/allocation.py --synthetic  # Equal Shares on the synthetic city, by completion

pabutools' time comes from tests/data/pabulib/expected.json (one run of the exact call on a 2-core
machine). Ours is the best of a few runs on an already parsed election; peak memory is measured in
a separate run under tracemalloc (which slows Python down, so it does not share the timing run).
Equal Shares rows appear when proeftuin/allocation/equal_shares.py is importable.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from proeftuin.allocation import (
    BallotMatrix,
    Election,
    Outcome,
    Project,
    TieBreak,
    VoteType,
    greedy,
    optimal,
    read_pb,
)

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pabulib"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
SMALL = (
    "Netherlands_Assen_2024.pb",
    "Poland_Czestochowa_2020_Grabowka.pb",
    "France_Toulouse_2022_1_-_Capitole_Arnaud_Bernard_Carmes.pb",
    "Poland_Krakow_2018_Stare_Miasto.pb",
)
LARGE = (
    "Poland_Warszawa_2020_Praga-Poludnie.pb",
    "Poland_Czestochowa_2024.pb",
    "Poland_Katowice_2023.pb",
    "Poland_Warszawa_2026.pb",
    "Poland_Krakow_2024.pb",
    "Poland_Lodz_2022.pb",
)
SYNTHETIC = "synthetic: 150 plans, 100,000 voters"
PABUTOOLS = TieBreak.PABUTOOLS  # so that "agrees" compares like with like

Rule = Callable[[Election], Outcome]


@dataclass(frozen=True)
class RuleCase:
    label: str
    run: Rule
    approval_key: str  # the expected.json key this run reproduces on approval files
    points_key: str  # ... and on points files


def _equal_shares() -> Rule | None:
    """Cost utilities, completed as in expected.json: Add1 then greedy (``mes_cost_add1_greedy``)
    on approval files, Add1 alone (``mes_points_x_cost_add1``) on points files."""
    try:
        module = importlib.import_module("proeftuin.allocation.equal_shares")
    except ImportError:
        return None
    run: Callable[..., Outcome] = module.equal_shares

    def equal_shares(election: Election) -> Outcome:
        points = election.vote_type is VoteType.POINTS
        completion = "add1" if points else "add1-greedy"
        return run(election, utility="cost", completion=completion, tie_break=PABUTOOLS, seed="")

    return equal_shares


def equal_shares_completions() -> list[RuleCase]:
    """Equal Shares with cost utilities and each completion that matters for speed."""
    module = importlib.import_module("proeftuin.allocation.equal_shares")
    run: Callable[..., Outcome] = module.equal_shares

    def completed(completion: str) -> Rule:
        def rule(election: Election) -> Outcome:
            return run(election, utility="cost", completion=completion, tie_break=PABUTOOLS)

        return rule

    return [
        RuleCase(
            f"equal-shares {completion}",
            completed(completion),
            f"mes_cost{suffix}",
            f"mes_points_x_cost{suffix}",
        )
        for completion, suffix in (("none", ""), ("add1", "_add1"), ("add1-greedy", "_add1_greedy"))
    ]


def rule_cases() -> list[RuleCase]:
    cases = [
        RuleCase(
            "greedy",
            lambda e: greedy(e, tie_break=PABUTOOLS),
            "greedy_cost",
            "greedy_points_x_cost",
        ),
        RuleCase(
            "greedy-per-euro",
            lambda e: greedy(e, per_euro=True, tie_break=PABUTOOLS),
            "greedy_card",
            "greedy_points",
        ),
        RuleCase(
            "optimal",
            lambda e: optimal(e, tie_break=PABUTOOLS),
            "maxwelfare_card",
            "maxwelfare_points",
        ),
    ]
    mes = _equal_shares()
    if mes is not None:
        cases.append(
            RuleCase("equal-shares", mes, "mes_cost_add1_greedy", "mes_points_x_cost_add1")
        )
    return cases


def synthetic_election(seed: int = 2026) -> Election:
    """Warsaw-scale: 150 plans, 100,000 voters approving about 8 plans each, skewed popularity."""
    rng = np.random.default_rng(seed)
    plans, voters = 150, 100_000
    popularity = rng.lognormal(0.0, 0.8, plans)
    popularity /= popularity.sum()
    # Draw with replacement, then drop repeats on a ballot: about 8 distinct plans per voter.
    draws = np.clip(rng.poisson(8.4, voters), 1, 25)
    voter = np.repeat(np.arange(voters, dtype=np.int64), draws)
    plan = rng.choice(plans, size=len(voter), p=popularity)
    voter, plan = np.divmod(np.unique(voter * plans + plan), plans)
    indptr = np.zeros(voters + 1, dtype=np.int64)
    np.cumsum(np.bincount(voter, minlength=voters), out=indptr[1:])
    matrix = BallotMatrix(indptr, plan, np.ones(len(plan), dtype=np.int64))
    costs = rng.integers(20, 2_000, plans) * 500
    projects = [Project(f"P{i:03d}", Fraction(int(c))) for i, c in enumerate(costs)]
    budget = Fraction(int(costs.sum()) * 3 // 10)
    return Election.from_matrix(budget, projects, matrix, VoteType.APPROVAL)


def best_time(run: Callable[[], object], budget_seconds: float = 1.0, most: int = 5) -> float:
    times: list[float] = []
    while len(times) < most and sum(times) < budget_seconds:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_mib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench_file(name: str, election: Election, cases: list[RuleCase]) -> list[list[str]]:
    rows = []
    expected = EXPECTED.get(name, {})
    for case in cases:
        key = case.points_key if election.vote_type is VoteType.POINTS else case.approval_key
        reference = expected.get(key)
        ours = best_time(lambda c=case: c.run(election))
        outcome = case.run(election)
        memory = peak_mib(lambda c=case: c.run(election))
        theirs = reference["seconds"] if reference else None
        if reference is None:
            agrees = "-"
        else:
            agrees = "yes" if sorted(outcome.selected) == reference["selected"] else "NO"
        rows.append(_row(name, election, case.label, ours, theirs, memory, agrees))
    return rows


def bench_parse(name: str) -> tuple[Election, list[str]]:
    path = DATA / name
    ours = best_time(lambda: read_pb(path), budget_seconds=2.0, most=3)
    memory = peak_mib(lambda: read_pb(path))
    election = read_pb(path)
    theirs = None
    if path.stat().st_size < 1_000_000:  # pabutools takes seconds on the big files
        from pabutools.election import parse_pabulib

        theirs = best_time(lambda: parse_pabulib(str(path)), budget_seconds=2.0, most=3)
    return election, _row(name, election, "parse .pb", ours, theirs, memory, "-")


def _row(
    name: str,
    election: Election,
    rule: str,
    ours: float,
    theirs: float | None,
    memory: float,
    agrees: str,
) -> list[str]:
    ratio = f"{theirs / ours:,.0f}x" if theirs else "-"
    return [
        name.removesuffix(".pb")[:34],
        f"{election.matrix.voter_count:,}",
        str(len(election.projects)),
        rule,
        f"{ours * 1000:,.1f}",
        f"{theirs * 1000:,.0f}" if theirs else "-",
        ratio,
        f"{memory:,.1f}",
        agrees,
    ]


def print_table(rows: list[list[str]]) -> None:
    header = [
        "instance",
        "voters",
        "plans",
        "rule",
        "ours ms",
        "pabutools ms",
        "speed-up",
        "peak MiB",
        "agrees",
    ]
    table = [header, *rows]
    widths = [max(len(row[k]) for row in table) for k in range(len(header))]
    for n, row in enumerate(table):
        cells = [
            c.ljust(w) if k in (0, 3) else c.rjust(w)
            for k, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the small Pabulib files")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="only the synthetic city, with Equal Shares per completion (none, add1, add1-greedy)",
    )
    arguments = parser.parse_args(argv)
    if arguments.synthetic:
        print_table(bench_file(SYNTHETIC, synthetic_election(), equal_shares_completions()))
        return
    cases = rule_cases()
    if not any(case.label == "equal-shares" for case in cases):
        print("(equal_shares.py not importable: no Equal Shares rows)")
    rows: list[list[str]] = []
    for name in SMALL if arguments.quick else LARGE:
        election, parse_row = bench_parse(name)
        rows.append(parse_row)
        rows.extend(bench_file(name, election, cases))
    if not arguments.quick:
        start = time.perf_counter()
        election = synthetic_election()
        print(f"(synthetic instance built in {time.perf_counter() - start:.1f} s)")
        rows.extend(bench_file(SYNTHETIC, election, cases))
    print_table(rows)


if __name__ == "__main__":
    main()
