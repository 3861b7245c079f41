"""``proeftuin allocate`` on one file or many: run a rule per file, compare with the city's outcome.

``run_file`` reads a ``.pb`` file, converts its ballots as asked (``reading``, always named in the
result: an ordinal file is never silently read as approval) and runs the rule, or with
``rule="official"`` the rule the file's META names (``official.py``). ``FileRun.record`` is one
line of JSON Lines; ``summary`` counts the files whose outcome is the official one, per rule.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proeftuin.allocation.election import Election, Outcome, VoteType
from proeftuin.allocation.official import (
    OfficialResult,
    official_selection,
    rank_points,
    run_official,
)
from proeftuin.allocation.pabulib import PabulibError, read_pb
from proeftuin.allocation.report import allocate, report_json
from proeftuin.allocation.ties import TieBreak

ORDINAL_READINGS = ("points-by-rank", "approval")


@dataclass(frozen=True)
class Options:
    rule: str = "equal-shares"
    utility: str = "cost"
    completion: str = "add1-greedy"
    tie_break: TieBreak = TieBreak.LOTTERY
    seed: str = ""
    threshold: int = 0
    ordinal: str = "points-by-rank"


@dataclass(frozen=True)
class FileRun:
    file: str
    rule: str  # the rule asked for, or for ``official`` the rule the file names
    election: Election | None = None  # as counted (ordinal ballots converted)
    outcome: Outcome | None = None
    reading: str = ""
    official: OfficialResult | None = None
    selection: frozenset[str] | None = None  # the city's outcome, if the file has one
    error: str | None = None  # the file could not be read
    problem: str | None = None  # the rule could not be run
    notes: tuple[str, ...] = field(default=())

    @property
    def matches_official(self) -> bool | None:
        if self.selection is None or self.outcome is None:
            return None
        return frozenset(self.outcome.selected) == self.selection

    def record(self) -> dict[str, Any]:
        """The JSON object of this file (one line of JSON Lines)."""
        base: dict[str, Any] = {"file": self.file, "rule": self.rule}
        if self.error is not None:
            return {**base, "selected": None, "matches_official": None, "error": self.error}
        if self.election is not None and self.outcome is not None:
            base.update(report_json(self.election, self.outcome, self.support()))
            base["rule"] = self.rule
            base["rule_applied"] = self.outcome.rule
        else:
            base["selected"] = None
        base["ballots"] = self.reading
        base["matches_official"] = self.matches_official
        base["official_selected"] = sorted(self.selection) if self.selection is not None else None
        if self.problem is not None:
            base["problem"] = self.problem
        if self.notes:
            base["notes"] = list(self.notes)
        if self.matches_official is False:
            chosen = set(self.outcome.selected) if self.outcome else set()
            base["official_not_selected"] = sorted((self.selection or set()) - chosen)
            base["selected_not_official"] = sorted(chosen - (self.selection or set()))
            if self.official is not None:
                base["reasons"] = list(self.official.reasons)
        return base

    def support(self) -> list[int] | None:
        if self.official is None or self.election is None:
            return None
        return [self.official.counted[project.id] for project in self.election.projects]


def pb_files(paths: Iterable[str]) -> Iterator[str]:
    """The files named, a folder as its ``.pb`` files in name order."""
    for path in paths:
        if os.path.isdir(path):
            yield from sorted(str(p) for p in Path(path).glob("*.pb") if p.is_file())
        else:
            yield path


def run_file(path: str, options: Options) -> FileRun:
    try:
        election = read_pb(path)
    except (PabulibError, OSError) as error:
        return FileRun(path, options.rule, error=str(error))
    if options.rule == "official":
        result = run_official(election, tie_break=options.tie_break, seed=options.seed)
        counted = rank_points(election)[0] if election.vote_type is VoteType.ORDINAL else election
        return FileRun(
            path,
            result.rule or "(none)",
            counted,
            result.outcome,
            result.reading,
            result,
            result.official,
            problem=result.problem,
            notes=result.notes,
        )
    counted, reading = read_ballots(election, options.ordinal)
    outcome = allocate(
        counted,
        options.rule,
        utility=options.utility,
        completion=options.completion,
        tie_break=options.tie_break,
        seed=options.seed,
        threshold=options.threshold,
    )
    return FileRun(
        path, options.rule, counted, outcome, reading, selection=official_selection(election)
    )


def read_ballots(election: Election, ordinal: str = "points-by-rank") -> tuple[Election, str]:
    """The election as the rules will count it, and that reading in words."""
    written = election.meta.get("vote_type", "") or str(election.vote_type)
    if election.vote_type is VoteType.APPROVAL:
        return election, f"{written} ballots"
    if election.vote_type is VoteType.POINTS:
        return election, f"{written} ballots, counted by their points"
    if ordinal not in ORDINAL_READINGS:
        raise ValueError(f"unknown ordinal reading {ordinal!r}")
    if ordinal == "approval":
        return election.as_approval(), "ordinal ballots, read as approval of the ranked plans"
    return rank_points(election)


@dataclass
class Tally:
    files: int = 0
    matched: int = 0
    differ: list[str] = field(default_factory=list)
    without_official: int = 0


def summary(runs: Iterable[FileRun]) -> dict[str, Tally]:
    """Per rule (as the file names it for ``official``): files, reproduced, those that differ."""
    tallies: dict[str, Tally] = {}
    for run in runs:
        if run.error is not None:
            continue
        tally = tallies.setdefault(run.rule, Tally())
        tally.files += 1
        if run.selection is None:
            tally.without_official += 1
        elif run.matches_official:
            tally.matched += 1
        else:  # differs, or the rule could not be run
            tally.differ.append(run.file)
    return dict(sorted(tallies.items()))


def summary_lines(tallies: dict[str, Tally]) -> list[str]:
    lines = []
    total = Counter[str]()
    for rule, tally in tallies.items():
        compared = tally.files - tally.without_official
        share = f" ({tally.matched / compared:.1%})" if compared else ""
        line = f"{rule}: {tally.matched} of {compared} official outcomes reproduced{share}"
        if tally.without_official:
            line += f"; {tally.without_official} files without an official outcome"
        lines.append(line)
        total["matched"] += tally.matched
        total["compared"] += compared
    if len(tallies) > 1 and total["compared"]:
        lines.append(
            f"all: {total['matched']} of {total['compared']} official outcomes reproduced "
            f"({total['matched'] / total['compared']:.1%})"
        )
    return lines
