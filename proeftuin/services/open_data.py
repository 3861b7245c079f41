"""Open data of a published round, and the ballot export the count is checked against.

Files: the ballots as a Pabulib ``.pb`` (anyone can recompute the result with pabutools or
``proeftuin allocate``), the plans as CSV, the whole result as JSON, and the list of trackers.

Every file is derived only from what the count fixed in its ``ResultRecord`` (the round's settings,
the plans and an export seed) and from the ballots, which cannot change once voting has closed. So a
file is the same, byte for byte, on every request. The ``.pb`` is checked against the SHA-256
stored at the count (and printed on the proces-verbaal) each time it is built: a file that would
differ is never served.

In the ``.pb`` the ballots are shuffled by a keyed hash (the export seed) of their row id, so their
order says nothing about when or how anyone voted; voters are numbered 1..n in that order (fresh
ids, unrelated to credentials); trackers are never in it. The tracker list is a separate file,
sorted, so nothing lines up with the ballots.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from proeftuin.allocation import BallotMatrix, Election, Project, VoteType, format_pb
from proeftuin.errors import Invalid, NotFound, _
from proeftuin.i18n import TIMEZONE
from proeftuin.models import (
    Ballot,
    BallotChoice,
    BallotKind,
    Phase,
    Plan,
    PlanStatus,
    Result,
    ResultStatus,
    Round,
    Rule,
)
from proeftuin.services import ballot_kinds, events, places, result_record, spreadsheets
from proeftuin.services.result_record import ResultRecord, Snapshot, SnapshotPlan

NOT_PUBLISHED = _("De uitslag van deze ronde is nog niet bekend.")
CHANGED = _(
    "Het bestand met de stemmen komt niet meer overeen met de vastgestelde uitslag. "
    "Neem contact op met de gemeente."
)
# Names pabulib.org uses for the rules, in META "rule".
PABULIB_RULES = {"optimal": "optimal", "greedy": "greedy", "equal_shares": "equalshares"}
CACHE_SIZE = 4

_cache: OrderedDict[tuple[int, str], bytes] = OrderedDict()
_cache_lock = threading.Lock()


# -- what a count fixes -------------------------------------------------------------------------


def snapshot(session: Session, round_: Round, *, threshold: int | None = None) -> Snapshot:
    """The round and its ballot plans as the count sees them; stored with the result, so that a
    later edit of a title changes neither the published result nor the export. ``threshold``:
    greedy's minimum support in this count, when the round has one."""
    plans = session.scalars(
        select(Plan)
        .where(Plan.round_id == round_.id, Plan.status == PlanStatus.OP_STEMBILJET)
        .order_by(Plan.id)
    ).all()
    kind = ballot_kinds.spec(BallotKind(round_.ballot_kind))
    starts, ends = _local_day(round_.voting_starts_at), _local_day(round_.voting_ends_at)
    return Snapshot(
        slug=round_.slug,
        title=round_.title,
        area=round_.area.name,
        council=round_.area.council_name,
        budget=round_.budget,
        ballot_kind=round_.ballot_kind,
        vote_type=kind.vote_type.value,
        min_choices=round_.min_choices,
        max_choices=round_.max_choices,
        min_spend_percent=round_.min_spend_percent,
        points_total=round_.points_total,
        voting_starts_on=starts.isoformat() if starts else None,
        voting_ends_on=ends.isoformat() if ends else None,
        plans=tuple(
            SnapshotPlan(id=plan.public_id, title=plan.title, cost=plan.official_cost or 0)
            for plan in plans
        ),
        pabulib_meta=tuple(
            _pabulib_meta(round_, starts, ends, threshold, events.pabulib_place(session, round_))
        ),
    )


def _local_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(TIMEZONE).date() if moment is not None else None


def _pabulib_meta(
    round_: Round,
    starts: dt.date | None,
    ends: dt.date | None,
    threshold: int | None,
    place: tuple[str, str] | None = None,
) -> list[tuple[str, str]]:
    """META in pabulib.org's order; num_projects, num_votes, budget and vote_type are written by
    ``format_pb`` itself at their place here. Greedy's options are named as Pabulib's own files
    name them (``greedy-no-skip``, ``greedy-threshold`` with ``min_project_score_threshold``),
    so ``proeftuin allocate --rule official`` runs the round's rule."""
    rules = ballot_kinds.rules_of(round_)
    kind = ballot_kinds.spec(rules.kind)
    rule = PABULIB_RULES[round_.rule]
    if round_.rule == Rule.GREEDY and round_.greedy_no_skip:
        rule = "greedy-no-skip"
    elif threshold is not None:
        rule = "greedy-threshold"
    # A district round of a voting event names its gemeente and district as Pabulib's district
    # files do (unit, then district and subunit: docs/decisions.md, Voting events).
    unit = [("unit", round_.area.name)]
    if place is not None:
        unit = [("unit", place[0]), ("district", place[1]), ("subunit", place[1])]
    meta = [
        ("description", round_.title),
        ("country", "Netherlands"),
        *unit,
        ("instance", round_.slug),
        ("num_projects", ""),
        ("num_votes", ""),
        ("budget", str(round_.budget)),
        ("vote_type", kind.pabulib_vote_type),
        ("rule", rule),
    ]
    if starts is not None:
        meta.append(("date_begin", starts.strftime("%d.%m.%Y")))
    if ends is not None:
        meta.append(("date_end", ends.strftime("%d.%m.%Y")))
    meta += [("language", "nl"), ("currency", "EUR")]
    if rules.min_choices:
        meta.append(("min_length", str(rules.min_choices)))
    if rules.max_choices:
        meta.append(("max_length", str(rules.max_choices)))
    meta += kind.pabulib_meta(rules)
    if threshold is not None:
        meta.append(("min_project_score_threshold", str(threshold)))
    meta += [("tie_break", "lottery"), ("tie_break_seed", round_.tie_break_seed)]
    return meta


# -- ballots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedBallots:
    ballot_ids: npt.NDArray[np.int64]  # ascending, one per voter
    matrix: BallotMatrix  # rows in the order of ballot_ids


def load_ballots(
    session: Session, round_id: int, plan_ids: Sequence[int], *, points: bool
) -> LoadedBallots:
    """Every ballot of the round as a matrix over ``plan_ids`` (database ids, in project order):
    one query, no ORM object (nor even a SQLAlchemy row) per ballot."""
    query = (
        select(
            Ballot.id,
            func.coalesce(BallotChoice.plan_id, 0),
            func.coalesce(BallotChoice.points, 0),
        )
        .select_from(Ballot)
        .outerjoin(BallotChoice, BallotChoice.ballot_id == Ballot.id)
        .where(Ballot.round_id == round_id)
    )
    rows = _raw_rows(session, query)
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=3 * len(rows))
    ids, chosen, given = flat[0::3], flat[1::3], flat[2::3]
    # Sorted here rather than by the database: the same order whatever plan it chose.
    order = np.lexsort((chosen, ids))
    ids, chosen, given = ids[order], chosen[order], given[order]
    first = np.ones(len(ids), dtype=np.bool_)
    first[1:] = ids[1:] != ids[:-1]
    ballot_ids = ids[first]
    voter = np.cumsum(first) - 1
    keep = chosen != 0  # an empty ballot is one row without a plan
    lengths = np.bincount(voter[keep], minlength=len(ballot_ids)).astype(np.int64)
    indptr = np.zeros(len(ballot_ids) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return LoadedBallots(
        ballot_ids=ballot_ids,
        matrix=BallotMatrix(
            indptr=indptr,
            projects=_project_index(chosen[keep], plan_ids),
            points=given[keep] if points else np.ones(int(keep.sum()), dtype=np.int64),
        ),
    )


def _raw_rows(session: Session, query: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows as the database driver returns them: for 400,000 choices SQLAlchemy's own rows
    would take longer than the query. Binds are round ids only, so they can be literal."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _project_index(chosen: npt.NDArray[np.int64], plan_ids: Sequence[int]) -> npt.NDArray[np.int64]:
    known = np.array(plan_ids, dtype=np.int64)
    order = np.argsort(known, kind="stable")
    position = np.searchsorted(known[order], chosen)
    inside = position < len(known)
    if not (inside.all() and (known[order][position[inside]] == chosen).all()):
        raise Invalid(
            "",
            _("Er zijn stemmen op plannen die niet op het stembiljet staan. Tellen kan zo niet."),
        )
    return order[position].astype(np.int64)


def shuffled(loaded: LoadedBallots, seed: str) -> BallotMatrix:
    """The ballots in an order fixed by ``seed`` and unrelated to the order they were cast in:
    the n-th ballot by id gets the n-th number of a keystream (BLAKE2b keyed with the seed, in
    counter mode: stable across versions, unlike numpy's shuffles), then they are sorted by it."""
    count = len(loaded.ballot_ids)
    key = hashlib.sha256(seed.encode()).digest()
    stream = b"".join(
        hashlib.blake2b(block.to_bytes(8, "big"), key=key, digest_size=64).digest()
        for block in range((count + 7) // 8)
    )
    draws = np.frombuffer(stream, dtype=">u8")[:count].astype(np.uint64)
    order = np.lexsort((np.arange(count), draws))
    m = loaded.matrix
    lengths = (m.indptr[1:] - m.indptr[:-1])[order]
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    entries = np.repeat(m.indptr[:-1][order] - indptr[:-1], lengths) + np.arange(
        int(indptr[-1]), dtype=np.int64
    )
    return BallotMatrix(indptr=indptr, projects=m.projects[entries], points=m.points[entries])


def election(snap: Snapshot, matrix: BallotMatrix) -> Election:
    projects = [Project(plan.id, Fraction(plan.cost), plan.title) for plan in snap.plans]
    vote_type = VoteType.POINTS if snap.points else VoteType.APPROVAL
    meta = dict(snap.pabulib_meta)
    return Election.from_matrix(Fraction(snap.budget), projects, matrix, vote_type, meta)


def build_election(session: Session, round_id: int, snap: Snapshot, seed: str) -> Election:
    """The election the count runs on and the ``.pb`` holds: the ballots, shuffled by ``seed``."""
    public_ids = [plan.id for plan in snap.plans]
    by_public = dict(
        session.execute(
            select(Plan.public_id, Plan.id).where(
                Plan.round_id == round_id, Plan.public_id.in_(public_ids)
            )
        ).all()
    )
    plan_ids = [by_public[public_id] for public_id in public_ids]
    loaded = load_ballots(session, round_id, plan_ids, points=snap.points)
    return election(snap, shuffled(loaded, seed))


def pabulib_bytes(built: Election) -> bytes:
    text = format_pb(built)
    if built.vote_type is VoteType.POINTS:
        # An empty points ballot: pabutools reads points "" as a number and fails, "None" as
        # none (and so does our own reader).
        head, votes = text.split("\nVOTES\n", 1)
        votes = _EMPTY_POINTS_BALLOT.sub(r"\1;;None", votes)
        text = f"{head}\nVOTES\n{votes}"
    return text.encode("utf-8")


_EMPTY_POINTS_BALLOT = re.compile(r"^(\d+);;$", re.MULTILINE)


def receipts_text(session: Session, round_id: int) -> bytes:
    """The trackers of the counted ballots, one per line, sorted."""
    rows = _raw_rows(session, select(Ballot.receipt).where(Ballot.round_id == round_id))
    return "".join(f"{receipt}\n" for receipt in sorted(str(row[0]) for row in rows)).encode(
        "ascii"
    )


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# -- published files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    round: Round
    result: Result
    record: ResultRecord


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    media_type: str

    @property
    def sha256(self) -> str:
        return sha256(self.content)


def published(session: Session, slug: str) -> Published:
    """The round and its result, once published; ``NotFound`` before."""
    row = session.execute(
        select(Round, Result)
        .join(Result, Result.round_id == Round.id)
        .where(Round.slug == slug, Round.phase == Phase.GEPUBLICEERD)
    ).first()
    if row is None or row[1].status == ResultStatus.CONCEPT:
        raise NotFound(NOT_PUBLISHED)
    round_, result = row
    return Published(round_, result, result_record.read(result))


def pabulib_file(session: Session, slug: str) -> Download:
    found = published(session, slug)
    return Download(
        pabulib_content(session, found.round.id, found.result, found.record),
        f"{slug}.pb",
        "text/plain; charset=utf-8",
    )


def pabulib_content(session: Session, round_id: int, result: Result, record: ResultRecord) -> bytes:
    """The exact bytes whose SHA-256 the count stored; refused when they would differ."""
    expected = record.export.sha256
    key = (result.id, expected)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    content = pabulib_bytes(build_election(session, round_id, record.snapshot, record.export.seed))
    if sha256(content) != expected or expected != result.ballots_sha256:
        raise Invalid("", CHANGED)
    with _cache_lock:
        _cache[key] = content
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return content


def plans_csv(session: Session, slug: str) -> Download:
    """One row per plan: id (as in the .pb), title, cost, votes (support), funded (1/0), and its
    place on the map (WGS84 degrees; empty without one). The place is read now, not from the
    count: it is not part of the result."""
    found = published(session, slug)
    titles = found.record.snapshot.titles
    points = places.points_of_round(session, found.round.id)
    rows = [
        (
            p.id,
            titles.get(p.id, ""),
            p.cost,
            p.support,
            int(p.funded),
            *places.decimal_degrees(points.get(p.id)),
        )
        for p in found.record.own.report.projects
    ]
    # Open data: standard comma-separated UTF-8 (services/spreadsheets.py), English names.
    header = ("id", "title", "cost", "votes", "funded", "latitude", "longitude")
    sheet = spreadsheets.Sheet(slug, header, rows)
    return Download(spreadsheets.open_data_csv(sheet), f"{slug}.csv", spreadsheets.CSV_TYPE)


def result_document(found: Published) -> dict[str, Any]:
    """The whole published result as plain data (the JSON download)."""
    record = found.record
    snap = record.snapshot
    own = record.own
    report = own.report
    titles = snap.titles
    result = found.result
    return {
        "round": {
            "slug": snap.slug,
            "title": snap.title,
            "area": snap.area,
            "budget": snap.budget,
            "ballot_kind": snap.ballot_kind,
            "vote_type": snap.vote_type,
        },
        "rule": record.rule,
        "tie_break": result_record.plain(record.tie_break),
        "options": result_record.plain(own.options),
        "selected": list(report.selected),
        "total_cost": report.total_cost,
        "plans": [
            {
                "id": p.id,
                "title": titles.get(p.id, ""),
                "cost": p.cost,
                "votes": p.support,
                "supporters": p.supporters,
                "funded": p.funded,
                "explanation": (
                    result_record.plain(p.explanation) if p.explanation is not None else None
                ),
            }
            for p in report.projects
        ],
        "metrics": result_record.plain(report.metrics),
        "facts": dict(own.facts),
        "turnout": result_record.plain(record.turnout),
        "pabulib": {
            "file": f"{snap.slug}.pb",
            "sha256": record.export.sha256,
            "ballots": record.export.ballots,
        },
        "trackers_sha256": record.export.trackers_sha256,
        "signed_off_at": _iso(result.signed_off_at),
        "published_at": _iso(result.published_at),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def result_json(session: Session, slug: str) -> Download:
    document = result_document(published(session, slug))
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return Download(text.encode("utf-8"), f"{slug}.json", "application/json")


def trackers_file(session: Session, slug: str) -> Download:
    found = published(session, slug)
    content = receipts_text(session, found.round.id)
    if sha256(content) != found.record.export.trackers_sha256:
        raise Invalid("", CHANGED)
    return Download(content, f"{slug}-stembonnen.txt", "text/plain; charset=utf-8")


def normalise_receipt(typed: str) -> str | None:
    """ "abcd ef12-3456" → "ABCD-EF12-3456"; None when it cannot be a tracker."""
    compact = "".join(c for c in typed.upper() if c.isalnum())
    if len(compact) != 12 or any(c not in "0123456789ABCDEF" for c in compact):
        return None
    return f"{compact[0:4]}-{compact[4:8]}-{compact[8:12]}"


def receipt_counted(session: Session, slug: str, typed: str) -> bool | None:
    """Whether a tracker is on the published list; None when what was typed is no tracker."""
    found = published(session, slug)
    receipt = normalise_receipt(typed)
    if receipt is None:
        return None
    hit = session.scalar(
        select(Ballot.id).where(Ballot.round_id == found.round.id, Ballot.receipt == receipt)
    )
    return hit is not None
