"""Tie-breaking between plans that a rule cannot tell apart.

Two orders: ``lottery`` (ours, published with the result: more support first, then lower cost,
then a shuffle seeded by the round's published seed) and ``pabutools`` (project id in string
order, so that "10" comes before "9"), which reproduces pabutools exactly for cross-checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proeftuin.allocation.election import Election

# Compared as a whole; the lower key wins the tie.
TieKey = tuple[int, Fraction, str]


class TieBreak(StrEnum):
    LOTTERY = "lottery"
    PABUTOOLS = "pabutools"


def tie_key(
    election: Election, tie_break: TieBreak, seed: str = ""
) -> Callable[[int, int], TieKey]:
    """Key of plan ``i`` (index into ``election.projects``) as if it had ``support``.

    Explanations ask "what support would this plan have needed", so the key must be computable for a
    support the plan did not get.
    """
    projects = election.projects
    if tie_break is TieBreak.PABUTOOLS:
        ids = [project.id for project in projects]
        return lambda i, support: (0, Fraction(0), ids[i])
    costs = [project.cost for project in projects]
    lots = [_lot(seed, project.id) for project in projects]
    return lambda i, support: (-support, costs[i], lots[i])


def tie_ranks(election: Election, tie_break: TieBreak, seed: str = "") -> npt.NDArray[np.int64]:
    """Rank per project (index into ``election.projects``): among tied plans the lower rank wins."""
    key = tie_key(election, tie_break, seed)
    support = election.support.tolist()
    order = sorted(range(len(election.projects)), key=lambda i: key(i, support[i]))
    ranks = np.empty(len(election.projects), dtype=np.int64)
    ranks[order] = np.arange(len(election.projects), dtype=np.int64)
    return ranks


def _lot(seed: str, project_id: str) -> str:
    # A keyed hash instead of random.shuffle: the draw for a plan does not depend on which other
    # plans are in the election, so anyone can recompute it from the seed and the plan's id.
    return hashlib.sha256(f"{seed}\x00{project_id}".encode()).hexdigest()
