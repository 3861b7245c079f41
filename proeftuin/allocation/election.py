"""An election as the rules see it: a budget, projects with costs, and the ballots.

Money is exact (``Fraction``): Pabulib files carry decimal costs and pabutools decides with exact
rationals, so a float could flip a near-tie. The web app only ever passes whole euros.

Ballots are kept twice on purpose: as the mappings a person reads (``ballots``) and, built once on
first use, as flat integer arrays (``matrix``) that the rules vectorise over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import overload

import numpy as np
import numpy.typing as npt


class VoteType(StrEnum):
    """How a ballot expresses support; ordinal ballots count as approval of the ranked plans."""

    APPROVAL = "approval"
    POINTS = "points"
    ORDINAL = "ordinal"


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    cost: Fraction
    name: str = ""


# One ballot: project id -> points (1 for approval). For ordinal ballots the insertion order is the
# ranking, best first.
Ballot = Mapping[str, int]


@dataclass(frozen=True, slots=True)
class BallotMatrix:
    """All ballots as a sparse voter x project matrix in CSR form.

    ``indptr[v]:indptr[v+1]`` slices ``projects`` (indices into ``Election.projects``) and
    ``points`` for voter ``v``.
    """

    indptr: npt.NDArray[np.int64]
    projects: npt.NDArray[np.int64]
    points: npt.NDArray[np.int64]

    @property
    def voter_count(self) -> int:
        return len(self.indptr) - 1


class MatrixBallots(Sequence[Ballot]):
    """``Election.ballots`` of an election built from a matrix: each ballot a dict on demand.

    Building 100,000 dicts up front costs more than the rules themselves, and only explanations and
    exports look at single ballots.
    """

    def __init__(self, matrix: BallotMatrix, project_ids: Sequence[str]) -> None:
        self._matrix = matrix
        self._ids = project_ids

    def __len__(self) -> int:
        return self._matrix.voter_count

    @overload
    def __getitem__(self, position: int) -> Ballot: ...
    @overload
    def __getitem__(self, position: slice) -> list[Ballot]: ...
    def __getitem__(self, position: int | slice) -> Ballot | list[Ballot]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        m, ids = self._matrix, self._ids
        start, end = int(m.indptr[position]), int(m.indptr[position + 1])
        return {
            ids[p]: points
            for p, points in zip(
                m.projects[start:end].tolist(), m.points[start:end].tolist(), strict=True
            )
        }

    def __iter__(self) -> Iterator[Ballot]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Election:
    budget: Fraction
    projects: tuple[Project, ...]
    ballots: Sequence[Ballot]
    vote_type: VoteType = VoteType.APPROVAL
    meta: Mapping[str, str] = field(default_factory=dict)
    # Further PROJECTS columns of a file (``votes``, ``score``, ``selected``...):
    # id -> column -> text.
    project_data: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_matrix(
        cls,
        budget: Fraction,
        projects: Sequence[Project],
        matrix: BallotMatrix,
        vote_type: VoteType = VoteType.APPROVAL,
        meta: Mapping[str, str] | None = None,
        project_data: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Election:
        """An election whose ballots are already a matrix (a parsed file): no dict per ballot."""
        projects = tuple(projects)
        ballots = MatrixBallots(matrix, [project.id for project in projects])
        election = cls(
            budget, projects, ballots, vote_type, dict(meta or {}), dict(project_data or {})
        )
        election.__dict__["matrix"] = matrix  # seeds the cached_property below
        return election

    @cached_property
    def index(self) -> dict[str, int]:
        """Project id -> position in ``projects``."""
        return {project.id: i for i, project in enumerate(self.projects)}

    @cached_property
    def matrix(self) -> BallotMatrix:
        index = self.index
        lengths = np.fromiter(
            (len(b) for b in self.ballots), dtype=np.int64, count=len(self.ballots)
        )
        indptr = np.zeros(len(self.ballots) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        total = int(indptr[-1])
        projects = np.fromiter(
            (index[pid] for ballot in self.ballots for pid in ballot), dtype=np.int64, count=total
        )
        points = np.fromiter(
            (p for ballot in self.ballots for p in ballot.values()), dtype=np.int64, count=total
        )
        return BallotMatrix(indptr=indptr, projects=projects, points=points)

    @cached_property
    def approvals(self) -> npt.NDArray[np.int64]:
        """Number of ballots that support each project (any positive points)."""
        m = self.matrix
        return np.bincount(m.projects[m.points > 0], minlength=len(self.projects))

    @cached_property
    def points(self) -> npt.NDArray[np.int64]:
        """Total points per project (equals ``approvals`` for approval ballots)."""
        m = self.matrix
        return np.bincount(m.projects, weights=m.points, minlength=len(self.projects)).astype(
            np.int64
        )

    @cached_property
    def support(self) -> npt.NDArray[np.int64]:
        """What the rules count per project: points on points ballots, approvals otherwise."""
        return self.points if self.vote_type is VoteType.POINTS else self.approvals

    @property
    def voter_count(self) -> int:
        return len(self.ballots)

    def as_approval(self) -> Election:
        """The same election with every ballot read as approval of the plans it gives points to."""
        m = self.matrix
        keep = m.points > 0
        kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        indptr = kept_before[m.indptr]
        approval = BallotMatrix(
            indptr=indptr,
            projects=m.projects[keep],
            points=np.ones(int(keep.sum()), dtype=np.int64),
        )
        return Election.from_matrix(
            self.budget, self.projects, approval, VoteType.APPROVAL, self.meta, self.project_data
        )

    def as_points_by_rank(self, top: int | None = None) -> Election:
        """Ordinal ballots as points by rank: of rankings of at most ``top`` plans the first gets
        ``top`` points, the next one less, and so on (Kraków's count). ``top`` defaults to the
        longest ranking. Points a file gave with the ranking (a ``points`` column) are kept.
        """
        if self.vote_type is not VoteType.ORDINAL:
            raise ValueError("only ordinal ballots have ranks")
        m = self.matrix
        if len(m.points) and not (m.points == 1).all():
            points = m.points.copy()
        else:
            lengths = np.diff(m.indptr)
            top = top if top is not None else int(lengths.max(initial=0))
            if len(lengths) and int(lengths.max()) > top:
                raise ValueError(f"a ranking is longer than {top} plans")
            starts = np.repeat(m.indptr[:-1], lengths)
            position = np.arange(len(m.projects), dtype=np.int64) - starts
            points = top - position
        ranked = BallotMatrix(indptr=m.indptr, projects=m.projects, points=points)
        return Election.from_matrix(
            self.budget, self.projects, ranked, VoteType.POINTS, self.meta, self.project_data
        )


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one plan was or was not funded, as data; the web layer words it in Dutch.

    ``reason`` is a stable code (each rule documents its codes); ``facts`` holds the numbers
    behind it.
    """

    funded: bool
    reason: str
    facts: Mapping[str, int | Fraction | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    rule: str
    selected: tuple[str, ...]  # project ids in the order the rule funded them
    explanations: Mapping[str, Explanation]
    facts: Mapping[str, int | Fraction | str] = field(default_factory=dict)

    def total_cost(self, election: Election) -> Fraction:
        index = election.index
        return sum((election.projects[index[pid]].cost for pid in self.selected), Fraction(0))
