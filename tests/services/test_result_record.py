"""The stored result as a versioned record: written and read in one place, exactly as stored.

tests/data/results/version1.json is ``Result.data`` as the code before version 2 wrote it (a count
of 11 ballots, one empty, on four plans under Equal Shares, in round buurtbudget-noord-2026), and
version1-open-data.json the result JSON that code served for it once published.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.orm import Session

import proeftuin
from proeftuin.db import Database, transact
from proeftuin.demo import results as demo_results
from proeftuin.models import Channel, Phase, Result, Round
from proeftuin.services import open_data, result_record, results
from proeftuin.services.open_data import Published
from proeftuin.services.result_record import RecordError, UnknownVersion
from tests.factories import make_round, make_staff

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "results"
VERSION_1 = (DATA / "version1.json").read_text(encoding="utf-8").strip()
NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def migration() -> ModuleType:
    path = ROOT / "migrations" / "versions" / "0002_result_record.py"
    spec = importlib.util.spec_from_file_location("migration_0002_result_record", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count(session: Session, ballot_kind: str, ballots: list[dict[int, int]]) -> Result:
    """A round with plans 0..2 counted after ``ballots`` (plan number → points)."""
    round_ = make_round(session, ballot_kind=ballot_kind, points_total=5, phase=Phase.STEMMEN)
    plan_ids = [plan.id for plan in round_.plans]
    demo_results.insert_ballots(
        session,
        round_.id,
        [{plan_ids[i]: points for i, points in ballot.items()} for ballot in ballots],
        voter_keys=[f"voter-{n}" for n in range(len(ballots))],
        receipts=[f"AAAA-BBBB-{n:04X}" for n in range(len(ballots))],
        channels=[Channel.PAPER, *[Channel.ONLINE] * (len(ballots) - 1)],
        cast_on=[NOW.date()] * len(ballots),
    )
    round_.phase = Phase.GESLOTEN.value
    session.flush()
    return results.count(session, make_staff(session, role="admin"), round_.slug, NOW)


@pytest.mark.parametrize(
    ("ballot_kind", "ballots"),
    [
        ("knapsack", [{0: 1, 1: 1}, {1: 1}, {2: 1}, {}]),
        ("points", [{0: 3, 2: 2}, {2: 5}, {1: 1, 0: 4}]),
    ],
)
def test_a_count_reads_back_as_written(
    db: Database, ballot_kind: str, ballots: list[dict[int, int]]
) -> None:
    def run(session: Session) -> None:
        result = count(session, ballot_kind, ballots)
        record = result_record.read(result)
        assert json.loads(result.data)["version"] == result_record.VERSION == 2
        assert result_record.to_json(record) == result.data
        assert result_record.from_json(result_record.to_json(record)) == record
        assert record.rule == result.rule
        assert record.tie_break.seed == result.tie_break_seed
        assert record.export.sha256 == result.ballots_sha256
        assert record.export.ballots == len(ballots)
        assert (record.turnout.ballots, record.turnout.paper) == (len(ballots), 1)
        assert set(record.results) == {"equal_shares", "greedy", "optimal"}
        assert record.snapshot.points is (ballot_kind == "points")
        support = [sum(b.get(i, 0) for b in ballots) for i in range(3)]
        chosen = [sum(1 for b in ballots if i in b) for i in range(3)]
        for run_ in record.results.values():
            assert [p.support for p in run_.report.projects] == support
            assert [p.supporters for p in run_.report.projects] == chosen
        own = record.own
        assert own.options.utility == results.UTILITY and own.options.completion is not None
        assert record.results["greedy"].options.utility is None
        assert result.decision is None  # nothing decided before sign-off

    transact(db, run)


def test_the_decision_is_kept_with_the_result(db: Database) -> None:
    def run(session: Session) -> None:
        result = count(session, "knapsack", [{0: 1}, {1: 1}])
        round_ = session.get(Round, result.round_id)
        assert round_ is not None
        staff = make_staff(session, area_ids=[round_.area_id])
        assert results.staff_view(session, staff, round_.slug).decision == ""
        results.sign_off(
            session, staff, round_.slug, confirmed=True, decision="  Besluit\n 4 ", now=NOW
        )
        assert result.decision == "Besluit 4"
        assert results.staff_view(session, staff, round_.slug).decision == "Besluit 4"

    transact(db, run)


@pytest.mark.parametrize("version", [1, 3, None, True, "2"])
def test_an_unknown_version_is_refused_with_what_to_do(version: object) -> None:
    payload = json.loads(VERSION_1)
    del payload["format"]
    if version is not None:
        payload["version"] = version
    with pytest.raises(UnknownVersion, match="proeftuin db upgrade") as refused:
        result_record.from_json(json.dumps(payload))
    assert refused.value.version == version


def test_version_1_as_stored_is_refused_not_misread() -> None:
    with pytest.raises(UnknownVersion, match="record version 1;") as refused:
        result_record.from_json(VERSION_1)
    assert refused.value.version == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.pop("export"),
        lambda p: p["results"]["greedy"]["report"]["projects"][0].pop("supporters"),
        lambda p: p["turnout"].update(ballots="11"),
        lambda p: p["snapshot"].update(plans=None),
    ],
)
def test_an_incomplete_record_is_a_record_error_not_a_key_error(
    damage: Callable[[dict[str, Any]], object],
) -> None:
    payload = json.loads(migration().upgrade_payload(VERSION_1))
    damage(payload)
    with pytest.raises(RecordError, match="version 2"):
        result_record.from_json(json.dumps(payload))


@pytest.mark.parametrize("text", ["", "[2]", "{", '"version 2"'])
def test_what_is_no_json_object_is_a_record_error(text: str) -> None:
    with pytest.raises(RecordError, match="not"):
        result_record.from_json(text)


def test_the_migration_converts_a_version_1_payload() -> None:
    step = migration()
    upgraded = step.upgrade_payload(VERSION_1)
    record = result_record.from_json(upgraded)
    assert result_record.to_json(record) == upgraded  # exactly as the application writes it
    old, new = json.loads(VERSION_1), json.loads(upgraded)
    assert old.pop("format") == 1 and new.pop("version") == 2
    assert new == old  # nothing else changes
    assert step.upgrade_payload(upgraded) == upgraded
    assert step.downgrade_payload(upgraded) == VERSION_1
    assert step.downgrade_payload(VERSION_1) == VERSION_1
    with pytest.raises(ValueError, match="unknown version"):
        step.upgrade_payload(json.dumps({"version": 3}))
    assert step.decision_from_audit('{"decision": "Besluit 4", "rule": "greedy"}') == "Besluit 4"
    assert step.decision_from_audit('{"rule": "greedy"}') == ""

    assert record.snapshot.slug == "buurtbudget-noord-2026"
    assert [p.id for p in record.snapshot.plans] == ["plan0", "plan1", "plan2", "plan3"]
    assert record.rule == "equal_shares" and record.own.options.rule == "equal-shares"
    assert record.export.ballots == record.turnout.ballots == 11
    assert record.own.report.metrics.voters_with_funded_choice == 10
    assert record.own.facts["per_voter_budget"] == "13751/11"


def test_open_data_of_a_converted_record_is_byte_for_byte_what_version_1_served() -> None:
    record = result_record.from_json(migration().upgrade_payload(VERSION_1))
    result = Result(signed_off_at=NOW, published_at=NOW + dt.timedelta(days=1))
    document = open_data.result_document(Published(Round(), result, record))
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert text == (DATA / "version1-open-data.json").read_text(encoding="utf-8")


def test_the_record_is_frozen() -> None:
    record = result_record.from_json(migration().upgrade_payload(VERSION_1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.rule = "greedy"  # type: ignore[misc]


def test_only_the_record_module_touches_result_data() -> None:
    package = Path(proeftuin.__file__).resolve().parent
    touching = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Attribute) and n.attr == "data" for n in ast.walk(tree)):
            touching.add(path.relative_to(package).as_posix())
    assert touching == {"services/result_record.py"}
