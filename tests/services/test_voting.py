from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, PhaseClosed, TooManyAttempts
from proeftuin.models import (
    Ballot,
    BallotChoice,
    Channel,
    Phase,
    Plan,
    PlanStatus,
    Round,
    VotingCode,
)
from proeftuin.services import codes, voting
from tests.factories import PEPPER, make_codes, make_round

TODAY = dt.date(2027, 3, 3)


def _setup(db: Database, **kwargs: object) -> tuple[int, list[str]]:
    def build(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, **kwargs)
        return round_.id, make_codes(session, round_)

    return transact(db, build)


def _cast(db: Database, code: str, choices: dict[str, int], **kwargs: object) -> voting.Receipt:
    def run(session):  # type: ignore[no-untyped-def]
        _, credential = voting.check_code(session, PEPPER, code)
        return voting.cast(session, credential, choices, today=TODAY, **kwargs)

    return transact(db, run)


def _ballots(db: Database) -> list[tuple[str, list[tuple[str, int]]]]:
    def load(session):  # type: ignore[no-untyped-def]
        out = []
        for ballot in session.scalars(select(Ballot).order_by(Ballot.id)):
            picks = [(session.get(Plan, c.plan_id).public_id, c.points) for c in ballot.choices]
            out.append((ballot.channel, sorted(picks)))
        return out

    return read(db, load)


def test_a_code_casts_one_ballot_and_is_marked_used(db: Database) -> None:
    _, [code, *_] = _setup(db)
    receipt = _cast(db, code, {"plan0": 1, "plan1": 1})
    assert not receipt.replaced
    assert _ballots(db) == [("online", [("plan0", 1), ("plan1", 1)])]
    statuses = read(db, lambda s: s.scalars(select(VotingCode.status)).all())
    assert sorted(statuses) == ["unused", "unused", "used"]


def test_the_code_is_accepted_as_typed_with_dashes_and_in_lower_case(db: Database) -> None:
    _, [code, *_] = _setup(db)
    typed = f" {code[:4].lower()}-{code[4:8]} {code[8:].lower()} "
    _cast(db, typed, {"plan0": 1})
    assert len(_ballots(db)) == 1


def test_voting_again_replaces_the_ballot(db: Database) -> None:
    _, [code, *_] = _setup(db)
    first = _cast(db, code, {"plan0": 1})
    second = _cast(db, code, {"plan2": 1})
    assert second.replaced and second.receipt != first.receipt
    assert _ballots(db) == [("online", [("plan2", 1)])]


def test_the_same_submission_twice_returns_the_first_receipt(db: Database) -> None:
    _, [code, *_] = _setup(db)
    first = _cast(db, code, {"plan0": 1}, submission_token="tok-1")
    again = _cast(db, code, {"plan0": 1}, submission_token="tok-1")
    assert again.receipt == first.receipt
    assert not again.replaced
    assert len(_ballots(db)) == 1


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"plan0": 1, "plan2": 1}, "meer dan het budget"),  # 9,000 over a budget of 8,000
        ({"elsewhere": 1}, "staat niet op dit stembiljet"),
    ],
)
def test_a_ballot_that_breaks_the_rules_is_refused_and_nothing_is_stored(
    db: Database, choices: dict[str, int], message: str
) -> None:
    _, [code, *_] = _setup(db, budget=8_000)
    with pytest.raises(Invalid) as refused:
        _cast(db, code, choices)
    assert message in refused.value.message.format(**refused.value.params)
    assert _ballots(db) == []
    assert read(db, lambda s: s.scalars(select(VotingCode.status)).all()).count("used") == 0


def test_a_plan_not_on_the_ballot_cannot_be_chosen(db: Database) -> None:
    _, [code, *_] = _setup(db)

    def reject(session):  # type: ignore[no-untyped-def]
        plan = session.scalar(select(Plan).where(Plan.public_id == "plan1"))
        plan.status = PlanStatus.AFGEWEZEN.value

    transact(db, reject)
    with pytest.raises(Invalid):
        _cast(db, code, {"plan1": 1})


def test_minimum_spend_and_points_ballots(db: Database) -> None:
    _, [code, *_] = _setup(db, min_spend_percent=50)
    with pytest.raises(Invalid, match="minstens"):
        _cast(db, code, {"plan1": 1})
    _, [points_code, *_] = _setup(db, ballot_kind="points", points_total=5, plan_prefix="p")
    with pytest.raises(Invalid, match="hoogstens 5 punten"):
        _cast(db, points_code, {"p0": 4, "p1": 2})
    _cast(db, points_code, {"p0": 3, "p1": 2})
    assert ("online", [("p0", 3), ("p1", 2)]) in _ballots(db)


@pytest.mark.parametrize("typed", ["", "ABC", "ABCD-EFGH-JKMU", "0000-0000-0000"])
def test_wrong_codes_get_a_clear_message(db: Database, typed: str) -> None:
    _setup(db)
    with pytest.raises(Invalid) as refused:
        read(db, voting.check_code, PEPPER, typed)
    assert refused.value.field == "code"
    assert "code" in refused.value.message.lower()


def test_a_revoked_code_and_a_closed_round_are_refused(db: Database) -> None:
    round_id, [code, other, *_] = _setup(db)

    def revoke(session):  # type: ignore[no-untyped-def]
        hashed = codes.code_hash(PEPPER, code)
        session.scalar(select(VotingCode).where(VotingCode.code_hash == hashed)).status = "revoked"

    transact(db, revoke)
    with pytest.raises(Invalid, match="ingetrokken"):
        read(db, voting.check_code, PEPPER, code)

    def close(session):  # type: ignore[no-untyped-def]
        session.get(Round, round_id).phase = Phase.GESLOTEN.value

    transact(db, close)
    with pytest.raises(PhaseClosed):
        read(db, voting.check_code, PEPPER, other)


def test_casting_sees_changes_made_earlier_in_its_transaction(db: Database) -> None:
    """Casting writes with SQL statements, not through the ORM: what the same transaction
    changed through the ORM before (a code revoked, a round closed) must count all the same."""
    round_id, [code, other, *_] = _setup(db)

    def revoke_then_cast(session):  # type: ignore[no-untyped-def]
        _, credential = voting.check_code(session, PEPPER, code)
        session.get(VotingCode, credential.code_id).status = "revoked"
        voting.cast(session, credential, {"plan0": 1}, today=TODAY)

    with pytest.raises(Invalid, match="ingetrokken"):
        transact(db, revoke_then_cast)

    def close_then_cast(session):  # type: ignore[no-untyped-def]
        _, credential = voting.check_code(session, PEPPER, other)
        session.get(Round, round_id).phase = Phase.GESLOTEN.value
        voting.cast(session, credential, {"plan0": 1}, today=TODAY)

    with pytest.raises(PhaseClosed):
        transact(db, close_then_cast)
    assert _ballots(db) == []


def test_paper_and_online_can_never_both_count(db: Database) -> None:
    _, [online_first, paper_first, *_] = _setup(db)
    _cast(db, online_first, {"plan0": 1})
    with pytest.raises(Invalid, match="al online gestemd"):
        _cast(db, online_first, {"plan1": 1}, channel=Channel.PAPER)
    _cast(db, paper_first, {"plan1": 1}, channel=Channel.PAPER)
    with pytest.raises(Invalid, match="op papier"):
        _cast(db, paper_first, {"plan0": 1})
    assert sorted(c for c, _ in _ballots(db)) == ["online", "paper"]


def test_the_database_refuses_a_second_ballot_for_one_voter_key(db: Database) -> None:
    round_id, _ = _setup(db)

    def two(session):  # type: ignore[no-untyped-def]
        for receipt in ("A", "B"):
            session.add(
                Ballot(
                    round_id=round_id,
                    voter_key="k",
                    receipt=receipt,
                    channel="online",
                    cast_on=TODAY,
                )
            )
        session.flush()

    with pytest.raises(Exception, match=r"(?i)unique"):
        transact(db, two)
    assert read(db, lambda s: s.scalar(select(func.count(Ballot.id)))) == 0


def test_a_ballot_row_holds_nothing_that_identifies_the_voter() -> None:
    columns = set(Ballot.__table__.columns.keys()) | set(BallotChoice.__table__.columns.keys())
    assert columns == {
        "id",
        "round_id",
        "voter_key",
        "receipt",
        "channel",
        "cast_on",
        "submission_token",
        "ballot_id",
        "plan_id",
        "points",
    }
    assert str(Ballot.__table__.columns["cast_on"].type) == "DATE"


def test_wrong_codes_from_one_ip_are_counted_and_then_refused(db: Database) -> None:
    round_id, [code, *_] = _setup(db)
    now = dt.datetime(2027, 3, 3, 12, 0, tzinfo=dt.UTC)
    for _ in range(10):
        with pytest.raises(Invalid):
            transact(db, voting.code_credential, PEPPER, "AAAA-AAAA-AAAA", "ip-1", now)
    with pytest.raises(TooManyAttempts) as blocked:
        transact(db, voting.code_credential, PEPPER, code, "ip-1", now)
    assert blocked.value.retry_after > 0
    credential = transact(db, voting.code_credential, PEPPER, code, "ip-2", now)
    assert credential.round_id == round_id


def test_valid_codes_never_count_against_an_ip(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        return make_codes(session, make_round(session), 30)

    many = transact(db, build)
    now = dt.datetime(2027, 3, 3, 12, 0, tzinfo=dt.UTC)
    for code in many:
        transact(db, voting.code_credential, PEPPER, code, "community-centre", now)
