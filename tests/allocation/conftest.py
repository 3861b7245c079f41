"""Shared by the allocation tests: the Pabulib reference files, random elections, and pabutools.

Import the helpers with ``from tests.allocation.conftest import elections, to_pabutools, ...``;
the fixtures (``expected``, ``load``) are found by pytest.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gmpy2 import mpq
from hypothesis import strategies as st
from pabutools.election import (
    AdditiveSatisfaction,
    ApprovalBallot,
    ApprovalProfile,
    CumulativeBallot,
    CumulativeProfile,
    Instance,
)
from pabutools.election import Project as PabuProject

from proeftuin.allocation import Election, Project, VoteType, read_pb

PABULIB_DIR = Path(__file__).resolve().parent.parent / "data" / "pabulib"
EXPECTED: dict[str, dict[str, dict[str, Any]]] = json.loads(
    (PABULIB_DIR / "expected.json").read_text(encoding="utf-8")
)
SMALL_FILES = (
    "Netherlands_Assen_2024.pb",
    "Poland_Czestochowa_2020_Grabowka.pb",
    "France_Toulouse_2022_1_-_Capitole_Arnaud_Bernard_Carmes.pb",
    "Poland_Krakow_2018_Stare_Miasto.pb",
)


@functools.cache
def load_pb(name: str) -> Election:
    """A reference file from tests/data/pabulib, parsed once per test run."""
    return read_pb(PABULIB_DIR / name)


@pytest.fixture(scope="session")
def expected() -> dict[str, dict[str, dict[str, Any]]]:
    """expected.json: file name -> key (``greedy_cost``, ``mes_card``...) -> pabutools' outcome."""
    return EXPECTED


@pytest.fixture(scope="session")
def load() -> Callable[[str], Election]:
    """``load("Netherlands_Assen_2024.pb")``: a reference file as an Election (cached)."""
    return load_pb


# -- random elections ----------------------------------------------------------------------------


@st.composite
def elections(
    draw: st.DrawFn,
    *,
    vote_types: tuple[VoteType, ...] = (VoteType.APPROVAL, VoteType.POINTS),
    max_projects: int = 60,
    max_voters: int = 500,
) -> Election:
    """Random elections that provoke ties: few distinct costs and supports, ids whose string order
    differs from their numeric order ("10" < "9"), budgets from 0 to above the total cost, some
    plans nobody supports, some free plans, decimal costs.

    The ballots come from a numpy generator seeded by hypothesis: fast to draw, and the sizes and
    the seed still shrink.
    """
    vote_type = draw(st.sampled_from(vote_types))
    n_projects = draw(st.integers(1, max_projects))
    n_voters = draw(st.integers(0, max_voters))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ids = [str(i) for i in rng.choice(np.arange(1, 4 * n_projects + 12), n_projects, replace=False)]
    cost_style = draw(st.sampled_from(["few", "many", "decimal", "with_free"]))
    costs = _costs(rng, n_projects, cost_style)
    density = draw(st.sampled_from([0.02, 0.1, 0.3, 0.7]))
    ballots: list[dict[str, int]] = []
    identical = draw(st.booleans()) and n_voters > 0
    first_ballot = _ballot(rng, ids, density, vote_type)
    for _ in range(n_voters):
        ballots.append(dict(first_ballot) if identical else _ballot(rng, ids, density, vote_type))
    total = sum(costs, Fraction(0))
    budget_share = draw(st.sampled_from([0, 0.05, 0.3, 0.5, 0.8, 1.0, 1.3]))
    budget = Fraction(round(float(total) * budget_share * 100), 100)
    if draw(st.booleans()):
        budget = Fraction(int(budget))
    projects = tuple(
        Project(pid, cost, f"Plan {pid}") for pid, cost in zip(ids, costs, strict=True)
    )
    return Election(budget, projects, ballots, vote_type)


def _costs(rng: np.random.Generator, n: int, style: str) -> list[Fraction]:
    if style == "few":
        return [Fraction(int(c)) for c in rng.choice([100, 200, 300, 500], n)]
    if style == "decimal":
        return [Fraction(int(c), 100) for c in rng.integers(1, 100_000, n)]
    costs = [Fraction(int(c)) for c in rng.integers(1, 1000, n)]
    if style == "with_free":
        costs = [Fraction(0) if rng.random() < 0.2 else c for c in costs]
    return costs


def _ballot(
    rng: np.random.Generator, ids: list[str], density: float, vote_type: VoteType
) -> dict[str, int]:
    chosen = [pid for pid in ids if rng.random() < density]
    if vote_type is VoteType.POINTS:
        return {pid: int(rng.integers(1, 6)) for pid in chosen}
    return dict.fromkeys(chosen, 1)


# -- pabutools as the oracle ---------------------------------------------------------------------


def to_pabutools(election: Election) -> tuple[Instance, ApprovalProfile | CumulativeProfile]:
    """The same election as pabutools objects (ordinal ballots become approval ballots)."""
    projects = {
        p.id: PabuProject(p.id, mpq(p.cost.numerator, p.cost.denominator))
        for p in election.projects
    }
    instance = Instance(
        projects.values(),
        budget_limit=mpq(election.budget.numerator, election.budget.denominator),
    )
    if election.vote_type is VoteType.POINTS:
        cumulative = [
            CumulativeBallot({projects[pid]: mpq(points) for pid, points in ballot.items()})
            for ballot in election.ballots
        ]
        return instance, CumulativeProfile(cumulative, instance=instance)
    approval = [ApprovalBallot(projects[pid] for pid in ballot) for ballot in election.ballots]
    return instance, ApprovalProfile(approval, instance=instance)


class PointsXCostSat(AdditiveSatisfaction):  # type: ignore[misc]
    """pabutools' satisfaction for points ballots used in expected.json: points x cost."""

    def __init__(self, instance: Any, profile: Any, ballot: Any) -> None:
        AdditiveSatisfaction.__init__(self, instance, profile, ballot, _points_x_cost)


def _points_x_cost(
    instance: Any, profile: Any, ballot: Any, project: Any, precomputed_values: Any
) -> Any:
    return ballot.get(project, 0) * project.cost


def names(projects: Any) -> list[str]:
    """Sorted project ids of a pabutools budget allocation."""
    return sorted(project.name for project in projects)


def to_fraction(value: Any) -> Fraction:
    """A gmpy2 or plain number as an exact Fraction."""
    q = mpq(value)
    return Fraction(int(q.numerator), int(q.denominator))
