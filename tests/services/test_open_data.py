"""Open data of a published round: the Pabulib export anyone can recompute (with pabutools too),
CSV, JSON and the tracker list; identical bytes on every request; nothing before publication."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    max_additive_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from proeftuin.allocation import TieBreak, parse_pb, tie_ranks
from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotFound
from proeftuin.models import Ballot, BallotChoice, Plan, Round
from proeftuin.services import open_data, results
from tests.allocation.conftest import PointsXCostSat
from tests.factories import NOW, SPLIT, SPLIT_COSTS, closed_round, make_staff, published_round

DOWNLOADS = (
    open_data.pabulib_file,
    open_data.plans_csv,
    open_data.result_json,
    open_data.trackers_file,
)


def random_ballots(
    count: int, plans: int, seed: int, *, points: bool = False
) -> list[dict[str, int]]:
    rng = random.Random(seed)
    weights = [1 / (n + 2) for n in range(plans)]
    ballots = []
    for _ in range(count):
        chosen = {f"plan{n}" for n in rng.choices(range(plans), weights, k=rng.randint(0, 3))}
        ballots.append({p: rng.randint(1, 3) if points else 1 for p in sorted(chosen)})
    return ballots


# -- the acceptance test: pabutools on the export gives the published selection -----------------


COSTS = (400, 250, 310, 120, 90, 275, 180, 60)


def _pabutools(path: Path, rule: str, points: bool, seed: str) -> list[str]:
    instance, profile = parse_pabulib(str(path))
    # The round's published tie-break (support, then cost, then the seeded lot), for pabutools.
    election = parse_pb(path.read_bytes())
    ranks = tie_ranks(election, TieBreak.LOTTERY, seed)
    rank = {project.id: int(ranks[i]) for i, project in enumerate(election.projects)}
    ties = TieBreakingRule(lambda inst, prof, project: rank[project.name])
    sat: Any = PointsXCostSat if points else Cost_Sat
    if rule == "equal_shares":
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [
                {"sat_class": sat, "voter_budget_increment": 1, "tie_breaking": ties},
                {"sat_class": sat, "tie_breaking": ties},
            ],
        )
    elif rule == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=sat, tie_breaking=ties)
    else:
        # pabutools' ILP has no tie-breaking: any optimum may come back (compared by welfare).
        outcome = max_additive_utilitarian_welfare(instance, profile, sat_class=Cardinality_Sat)
    return sorted(project.name for project in outcome)


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("equal_shares", "approval"),
        ("greedy", "approval"),
        ("optimal", "approval"),
        ("equal_shares", "points"),
        ("greedy", "points"),
    ],
)
def test_pabutools_on_the_export_gives_the_published_selection(
    db: Database, tmp_path: Path, rule: str, kind: str
) -> None:
    points = kind == "points"
    ballots = random_ballots(60, len(COSTS), seed=7, points=points)
    options: dict[str, Any] = {"points_total": 9} if points else {}

    def publish(session: Session) -> str:
        round_, _ = published_round(
            session,
            ballots,
            costs=COSTS,
            budget=1_000,
            rule=rule,
            ballot_kind=kind,
            **options,
        )
        return round_.slug

    slug = transact(db, publish)
    download = read(db, open_data.pabulib_file, slug)
    path = tmp_path / download.filename
    path.write_bytes(download.content)
    view = read(db, results.public_view, slug)
    assert download.sha256 == view.sha256
    theirs = _pabutools(path, rule, points, view.tie_break_seed)
    if rule == "optimal":
        votes = {plan.id: plan.votes for plan in view.own.plans}
        assert sum(votes[p] for p in theirs) == sum(votes[p] for p in view.own.selected)
    else:
        assert theirs == sorted(view.own.selected)
    # ... and our own command line on the file agrees, with the seed printed on the page.
    from click.testing import CliRunner

    from proeftuin.cli import main
    from proeftuin.web.results import command

    arguments = command(view).split()[3:]
    output = CliRunner().invoke(main, ["allocate", str(path), *arguments, "--json"])
    assert output.exit_code == 0, output.output
    assert sorted(json.loads(output.output)["selected"]) == sorted(view.own.selected)


# -- the .pb ------------------------------------------------------------------------------------


def test_the_export_has_shuffled_ballots_fresh_ids_and_no_trackers(db: Database) -> None:
    ballots = [{"plan0": 1}] * 5 + [{"plan1": 1}] * 5 + [{"plan2": 1, "plan0": 1}] * 5

    def run(session: Session) -> None:
        round_, _ = published_round(session, ballots)
        content = open_data.pabulib_file(session, round_.slug).content.decode()
        votes = content.split("VOTES\n", 1)[1].splitlines()
        assert votes[0] == "voter_id;vote"
        assert [line.split(";")[0] for line in votes[1:]] == [str(n) for n in range(1, 16)]
        cast_order = [sorted(b) for b in ballots]
        exported = [sorted(line.split(";")[1].split(",")) for line in votes[1:]]
        assert sorted(exported) == sorted(cast_order)
        assert exported != cast_order  # shuffled (15!/(5!5!5!) orders: not by chance)
        for receipt in session.scalars(select(Ballot.receipt)):
            assert receipt not in content
        for voter_key in session.scalars(select(Ballot.voter_key)):
            assert voter_key not in content
        assert "tie_break_seed;" + round_.tie_break_seed in content

    transact(db, run)


def test_the_shuffle_is_fixed_by_the_seed(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, random_ballots(40, 3, seed=1))
        snap = open_data.snapshot(session, round_)
        same = [
            open_data.pabulib_bytes(open_data.build_election(session, round_.id, snap, "a"))
            for _ in range(2)
        ]
        other = open_data.pabulib_bytes(open_data.build_election(session, round_.id, snap, "b"))
        assert same[0] == same[1] != other
        assert _ballots(same[0]) == _ballots(other)

    transact(db, run)


def _ballots(content: bytes) -> list[tuple[str, ...]]:
    return sorted(tuple(sorted(ballot)) for ballot in parse_pb(content).ballots)


def test_every_request_gets_the_same_bytes(db: Database) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    for download in DOWNLOADS:
        first = read(db, download, slug)
        open_data._cache.clear()
        assert read(db, download, slug).content == first.content
    view = read(db, results.public_view, slug)
    assert read(db, open_data.pabulib_file, slug).sha256 == view.sha256


def test_a_file_that_no_longer_matches_the_checksum_is_not_served(db: Database) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    open_data._cache.clear()

    def tamper(session: Session) -> None:
        plan = session.scalar(select(Plan.id).where(Plan.public_id == "plan0"))
        session.execute(delete(BallotChoice).where(BallotChoice.plan_id == plan))

    transact(db, tamper)
    with pytest.raises(Invalid, match="komt niet meer overeen"):
        read(db, open_data.pabulib_file, slug)


def test_a_title_edited_after_the_count_changes_no_file(db: Database) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    before = [read(db, download, slug).content for download in DOWNLOADS]
    open_data._cache.clear()

    def rename(session: Session) -> None:
        for plan in session.scalars(select(Plan)):
            plan.title = "Nieuwe titel"

    transact(db, rename)
    assert [read(db, download, slug).content for download in DOWNLOADS] == before


# -- CSV, JSON and trackers ---------------------------------------------------------------------


def test_csv_lists_every_plan_with_votes_cost_and_funded(db: Database) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    download = read(db, open_data.plans_csv, slug)
    assert not download.content.startswith(b"\xef\xbb\xbf")  # standard CSV: no BOM
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8"))))
    assert [(r["id"], r["cost"], r["votes"], r["funded"]) for r in rows] == [
        ("plan0", "6000", "6", "0"),
        ("plan1", "3000", "6", "1"),
        ("plan2", "4000", "4", "1"),
        ("plan3", "1000", "4", "1"),
    ]
    assert rows[0]["title"] == "Plan 0"
    assert (rows[0]["latitude"], rows[0]["longitude"]) == ("", "")


def test_csv_gives_each_plan_its_place_and_the_pabulib_file_stays_as_it_was(db: Database) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    pabulib = read(db, open_data.pabulib_file, slug)

    def place(session: Session) -> None:
        plan = session.scalars(select(Plan).where(Plan.public_id == "plan1")).one()
        plan.latitude_e6, plan.longitude_e6 = 52_992_500, 6_564_900

    transact(db, place)
    download = read(db, open_data.plans_csv, slug)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))}
    assert (rows["plan1"]["latitude"], rows["plan1"]["longitude"]) == ("52.992500", "6.564900")
    assert rows["plan0"]["latitude"] == ""
    open_data._cache.clear()
    assert read(db, open_data.pabulib_file, slug) == pabulib


def test_json_holds_the_whole_result(db: Database) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    document = json.loads(read(db, open_data.result_json, slug).content)
    view = read(db, results.public_view, slug)
    assert document["rule"] == "equal_shares"
    assert document["selected"] == list(view.own.selected)
    assert document["pabulib"]["sha256"] == view.sha256
    assert document["options"] == {
        "rule": "equal-shares",
        "utility": "cost",
        "completion": "add1-greedy",
        "tie_break": "lottery",
        "seed": view.tie_break_seed,
    }
    assert {p["id"]: p["votes"] for p in document["plans"]} == {
        "plan0": 6,
        "plan1": 6,
        "plan2": 4,
        "plan3": 4,
    }
    assert all(p["explanation"]["reason"] for p in document["plans"])
    assert document["turnout"]["ballots"] == 10


def test_the_tracker_list_has_every_counted_receipt_sorted(db: Database) -> None:
    def run(session: Session) -> tuple[str, list[str]]:
        round_, _ = published_round(session, SPLIT, costs=SPLIT_COSTS)
        return round_.slug, list(session.scalars(select(Ballot.receipt)))

    slug, receipts = transact(db, run)
    listed = read(db, open_data.trackers_file, slug).content.decode().split()
    assert listed == sorted(receipts)
    typed = receipts[0].lower().replace("-", " ")
    assert read(db, open_data.receipt_counted, slug, typed) is True
    assert read(db, open_data.receipt_counted, slug, "0000-0000-0000") is False
    assert read(db, open_data.receipt_counted, slug, "geen stembon") is None


# -- before publication ---------------------------------------------------------------------------


def test_nothing_is_downloadable_before_publication(db: Database) -> None:
    def run(session: Session) -> str:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        return round_.slug

    slug = transact(db, run)
    for download in (*DOWNLOADS, results.public_view):
        with pytest.raises(NotFound):
            read(db, download, slug)
    with pytest.raises(NotFound):
        read(db, open_data.receipt_counted, slug, "0000-0000-0000")
    assert read(db, lambda s: s.scalar(select(Round.phase).where(Round.slug == slug))) == (
        "gesloten"
    )
