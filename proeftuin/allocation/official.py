"""The rule a Pabulib file's META names, run as the city ran it, and checked against its outcome.

Pabulib records the city's rule in META ``rule`` and its outcome in the PROJECTS column
``selected`` (0: not funded; 1, 2 or 3: funded, where a file's ``comment`` may say what 2 and 3
mean). What each rule means (from the Pabulib format and the files' own comments):

- ``greedy``: by support, a plan that does not fit is skipped (a minimum score in
  ``min_project_score_threshold`` is applied when META gives one).
- ``greedy-threshold``: the same, counting only plans with at least
  ``min_project_score_threshold`` support.
- ``greedy-no-skip``: by support, stopping at the first plan that does not fit (with the
  threshold when META gives one).
- ``greedy-exclusive``: greedy where some plans exclude each other. No Pabulib field says which;
  pairs named in the ``comment`` ("projects 12 and 26 ... mutually exclusive") are used, otherwise
  none, and the result says so.
- ``greedy-custom``: the rule the ``comment`` states. The one we can write down: fund by support
  until a plan does not fit, then fund that plan too when what is left covers a stated share of it
  ("at least 80%", Poznań). Any other custom rule is reported as not reproducible.
- ``equalshares``, ``equalshares/add1``, and their ``-comparison`` forms: the Method of Equal
  Shares with cost utility; ``/add1`` raises the per-voter budget in steps of 1 as long as the
  outcome stays within the budget (equalshares.net; not stopping at the first exhaustive outcome
  as pabutools does); ``-comparison`` switches to the greedy outcome when strictly more voters
  prefer it (more of their plans funded).

How support is counted (``reading``): approval and choose-1 ballots by approvals, cumulative and
scoring ballots by points, ordinal ballots by points by rank (the first of at most ``max_length``
ranked plans gets ``max_length`` points, as Kraków counts). Where the file's own ``score`` column
shows that the city counted ranks otherwise, that column is used and the reading says so. Totals
in the file's ``votes`` or ``score`` columns that differ from the ballots are noted: they are the
usual reason an outcome cannot be reproduced (for example paper votes missing from the file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proeftuin.allocation.city_greedy import CityGreedy, city_greedy
from proeftuin.allocation.election import Election, Outcome, VoteType
from proeftuin.allocation.equal_shares import Completion, equal_shares
from proeftuin.allocation.greedy import greedy
from proeftuin.allocation.metrics import _funded_per_voter
from proeftuin.allocation.ties import TieBreak

GREEDY_RULES = (
    "greedy",
    "greedy-threshold",
    "greedy-no-skip",
    "greedy-exclusive",
    "greedy-custom",
)
EQUAL_SHARES_RULES = (
    "equalshares",
    "equalshares/add1",
    "equalshares-comparison",
    "equalshares/add1-comparison",
)
KNOWN_RULES = GREEDY_RULES + EQUAL_SHARES_RULES
_RESERVE = re.compile(
    r"does not fit.{0,200}?\bat least (\d{1,3}(?:[.,]\d+)?)\s*%", re.IGNORECASE | re.DOTALL
)
_EXCLUSIVE = re.compile(
    r"projects? ([\w./-]+) and ([\w./-]+)[^#]{0,120}?mutually exclusive", re.IGNORECASE
)


@dataclass(frozen=True)
class OfficialResult:
    """What ``run_official`` found for one file."""

    rule: str  # META ``rule`` as written ("" when missing)
    reading: str  # how the ballots were counted, in words
    outcome: Outcome | None  # None when the rule is unknown or cannot be run
    problem: str | None  # why there is no outcome
    official: frozenset[str] | None  # plans the city funded; None without a ``selected`` column
    notes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # why the outcome differs from the official one, where known
    counted: Mapping[str, int] = field(default_factory=dict)  # the support used, per plan

    @property
    def matches(self) -> bool | None:
        if self.official is None or self.outcome is None:
            return None
        return frozenset(self.outcome.selected) == self.official

    @property
    def missing(self) -> list[str]:
        """Funded by the city, not by the rule."""
        chosen = set(self.outcome.selected) if self.outcome else set()
        return sorted((self.official or frozenset()) - chosen)

    @property
    def extra(self) -> list[str]:
        """Funded by the rule, not by the city."""
        if self.outcome is None or self.official is None:
            return []
        return sorted(set(self.outcome.selected) - self.official)


def official_selection(election: Election) -> frozenset[str] | None:
    """The plans the city funded (``selected`` not 0), or None when the file does not say."""
    marks = [data.get("selected", "") for data in election.project_data.values()]
    if not election.project_data or not all(marks):
        return None
    return frozenset(pid for pid, data in election.project_data.items() if data["selected"] != "0")


def run_official(
    election: Election, *, tie_break: TieBreak = TieBreak.LOTTERY, seed: str = ""
) -> OfficialResult:
    """Run the rule the file's META names and compare it with the file's ``selected`` column."""
    meta = election.meta
    rule = meta.get("rule", "").strip()
    official = official_selection(election)
    notes: list[str] = []
    counted_election, support, reading = _count(election, notes)
    outcome: Outcome | None = None
    problem: str | None = None
    try:
        if rule in GREEDY_RULES:
            city_rule = _greedy_rule(rule, meta, election, notes)
            outcome = city_greedy(
                counted_election, city_rule, support=support, tie_break=tie_break, seed=seed
            )
            other_ties = TieBreak.PABUTOOLS if tie_break is TieBreak.LOTTERY else TieBreak.LOTTERY
            other = city_greedy(counted_election, city_rule, support=support, tie_break=other_ties)
            if set(other.selected) != set(outcome.selected):
                notes.append(
                    "plans with equal support decide this outcome: with ties broken by "
                    f"{other_ties} it would fund {', '.join(sorted(other.selected)) or 'nothing'}"
                )
        elif rule in EQUAL_SHARES_RULES:
            outcome = _equal_shares(rule, election, notes, tie_break, seed)
        elif not rule:
            problem = "the file names no rule (META has no rule)"
        else:
            problem = f"the file's rule {rule!r} is not one we know ({', '.join(KNOWN_RULES)})"
    except _CannotRun as error:
        problem = str(error)
    ids = [project.id for project in election.projects]
    counted = dict(zip(ids, support or counted_election.support.tolist(), strict=True))
    result = OfficialResult(rule, reading, outcome, problem, official, tuple(notes), (), counted)
    if result.matches is False:
        reasons = _reasons(election, result)
        return OfficialResult(
            rule, reading, outcome, problem, official, tuple(notes), tuple(reasons), counted
        )
    return result


class _CannotRun(Exception):
    pass


def _count(election: Election, notes: list[str]) -> tuple[Election, list[int] | None, str]:
    """The election the greedy rules count, a replacement support if any, and the reading."""
    written = election.meta.get("vote_type", "")
    if election.vote_type is VoteType.APPROVAL:
        _compare_column(election, "votes", election.approvals.tolist(), notes)
        return election, None, f"{written or 'approval'} ballots, counted by approvals"
    if election.vote_type is VoteType.POINTS:
        _compare_column(election, "votes", election.approvals.tolist(), notes)
        _compare_column(election, "score", election.points.tolist(), notes)
        return election, None, f"{written or 'points'} ballots, counted by points"
    _compare_column(election, "votes", election.approvals.tolist(), notes)
    ranked, reading = rank_points(election)
    column = _column(election, "score")
    ours = ranked.points.tolist()
    if column is None:
        return ranked, None, reading
    differing = sum(1 for a, b in zip(column, ours, strict=True) if a != b)
    if not differing:
        return ranked, None, reading + ", as the file's score column"
    notes.append(
        f"points by rank differ from the file's score column for {differing} plans: "
        "the score column is counted"
    )
    return ranked, column, "ordinal ballots, counted by the file's score column"


def rank_points(election: Election) -> tuple[Election, str]:
    """Ordinal ballots as points by rank (the first of at most META ``max_length`` plans gets
    ``max_length`` points, or the longest ranking's length without it), and that reading in words;
    points the file gives each rank are kept."""
    top = _whole(election.meta.get("max_length"))
    longest = int(np.diff(election.matrix.indptr).max(initial=0))
    if top is None or top < longest:
        top = longest
    ranked = election.as_points_by_rank(top)
    m = election.matrix
    if len(m.points) and not bool((m.points == 1).all()):
        return ranked, "ordinal ballots, counted by the points the file gives each rank"
    return ranked, f"ordinal ballots, counted as points by rank (first {top}, then one less each)"


def _compare_column(election: Election, name: str, ours: list[int], notes: list[str]) -> None:
    column = _column(election, name)
    if column is None:
        return
    differing = [
        project.id
        for project, theirs, mine in zip(election.projects, column, ours, strict=True)
        if theirs != mine
    ]
    if differing:
        notes.append(
            f"the file's {name} column differs from the ballots for {len(differing)} plans "
            f"({', '.join(differing[:5])}{', ...' if len(differing) > 5 else ''}): "
            "the ballots in the file are not all the city counted"
        )


def _column(election: Election, name: str) -> list[int] | None:
    values = [election.project_data.get(p.id, {}).get(name, "") for p in election.projects]
    if not election.project_data or not all(values):
        return None
    numbers = [_whole(value) for value in values]
    if any(number is None for number in numbers):
        return None
    return [number for number in numbers if number is not None]


def _whole(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _greedy_rule(
    rule: str, meta: Mapping[str, str], election: Election, notes: list[str]
) -> CityGreedy:
    written = meta.get("min_project_score_threshold")
    threshold = _whole(written) if written is not None else None
    if written is not None and (threshold is None or threshold < 0):
        raise _CannotRun(f"min_project_score_threshold is not a whole number: {written!r}")
    if rule == "greedy-threshold" and threshold is None:
        raise _CannotRun("the rule is greedy-threshold but META has no min_project_score_threshold")
    if rule == "greedy" and threshold:
        notes.append(f"the rule is greedy, but META gives a minimum score of {threshold}: applied")
    threshold = threshold or 0
    if rule == "greedy-no-skip":
        return CityGreedy(skip=False, threshold=threshold)
    if rule == "greedy-exclusive":
        groups = _exclusive_groups(meta.get("comment", ""), election)
        if groups:
            pairs = "; ".join(" and ".join(sorted(group)) for group in groups)
            notes.append(f"mutually exclusive by the file's comment: {pairs}")
        else:
            notes.append("the file does not say which plans exclude each other: none are excluded")
        return CityGreedy(threshold=threshold, exclusive=groups)
    if rule == "greedy-custom":
        comment = meta.get("comment", "")
        found = _RESERVE.search(comment)
        if found is None:
            raise _CannotRun(
                "the rule is greedy-custom and the file's comment states no rule we can follow"
                if comment
                else "the rule is greedy-custom and the file has no comment that states it"
            )
        share = Fraction(found.group(1).replace(",", ".")) / 100
        if not 0 < share <= 1:
            raise _CannotRun(f"the comment's share of {found.group(1)} % is not a share")
        notes.append(
            f"greedy-custom by the file's comment: by support until a plan does not fit, which "
            f"is funded too when what is left covers at least {found.group(1)} % of its cost"
        )
        return CityGreedy(skip=False, threshold=threshold, reserve_share=share)
    return CityGreedy(threshold=threshold)


def _exclusive_groups(comment: str, election: Election) -> tuple[frozenset[str], ...]:
    groups: list[frozenset[str]] = []
    seen: set[str] = set()
    for first, second in _EXCLUSIVE.findall(comment):
        pair = frozenset(pid.rstrip(".") for pid in (first, second))
        if len(pair) == 2 and all(pid in election.index for pid in pair) and not pair & seen:
            groups.append(pair)
            seen |= pair
    return tuple(groups)


def _equal_shares(
    rule: str, election: Election, notes: list[str], tie_break: TieBreak, seed: str
) -> Outcome:
    if election.vote_type is not VoteType.APPROVAL:
        raise _CannotRun(f"{rule} is defined here for approval ballots only")
    completion: Completion = "add1" if "/add1" in rule else "none"
    # Add1 as equalshares.net runs it: on until the next step would overspend.
    outcome = equal_shares(
        election,
        utility="cost",
        completion=completion,
        tie_break=tie_break,
        seed=seed,
        exhaustive_stop=False,
    )
    if not rule.endswith("-comparison"):
        return outcome
    plain = greedy(election, tie_break=tie_break, seed=seed)
    prefer_mes, prefer_greedy = _preferences(election, outcome.selected, plain.selected)
    notes.append(
        f"comparison step: {prefer_mes} voters prefer Equal Shares, {prefer_greedy} greedy"
    )
    return plain if prefer_greedy > prefer_mes else outcome


def _preferences(
    election: Election, first: Sequence[str], second: Sequence[str]
) -> tuple[int, int]:
    """Voters with more funded plans under ``first``, and under ``second``."""

    def funded_per_voter(selected: Sequence[str]) -> npt.NDArray[np.int64]:
        funded = np.zeros(len(election.projects), dtype=np.bool_)
        funded[[election.index[pid] for pid in selected]] = True
        return _funded_per_voter(election, funded)

    a, b = funded_per_voter(first), funded_per_voter(second)
    return int((a > b).sum()), int((b > a).sum())


def _reasons(election: Election, result: OfficialResult) -> list[str]:
    """Why the outcome differs, as far as the file tells."""
    reasons: list[str] = []
    chosen = set(result.outcome.selected) if result.outcome else set()
    marked: dict[str, list[str]] = {}
    for pid, data in election.project_data.items():
        mark = data.get("selected", "")
        if mark not in ("0", "1") and pid not in chosen:
            marked.setdefault(mark, []).append(pid)
    comment = election.meta.get("comment", "")
    for mark, pids in sorted(marked.items()):
        said = _comment_about(comment, f"selected={mark}") or _comment_about(
            comment, f"number {mark}"
        )
        reasons.append(
            f"plans {', '.join(pids)} are marked selected={mark}: "
            + (f"the file's comment says: {said}" if said else "the file does not say why")
        )
    reasons.extend(note for note in result.notes if "differs from the ballots" in note)
    if re.search(r"paper|incomplete|missing", comment, re.IGNORECASE):
        reasons.append("the file's comment says its data are incomplete")
    if not reasons:
        reasons.append("the file does not say why")
    return reasons


def _comment_about(comment: str, phrase: str) -> str | None:
    """The ``#n:`` part of a comment that mentions ``phrase``, trimmed."""
    for part in re.split(r"#\d+:\s*", comment):
        if phrase.lower() in part.lower():
            text = " ".join(part.split()).strip(' "')
            return text if len(text) <= 300 else text[:297] + "..."
    return None
