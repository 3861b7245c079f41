from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Base, Database, read, transact
from proeftuin.errors import Invalid, NotAllowed
from proeftuin.models import AuditEvent, Phase, Round, VotingCode
from proeftuin.services import audit, codes, voting
from proeftuin.services.permissions import Actor
from tests.factories import PEPPER, make_round, make_staff


def _setup(db: Database, **settings: object) -> tuple[int, Actor, Actor]:
    """A round in voting, its moderator, and a moderator of another area."""

    def build(session: Session) -> tuple[int, Actor, Actor]:
        round_ = make_round(session, **settings)
        other = make_round(session, costs=())
        return (
            round_.id,
            make_staff(session, "moderator", [round_.area_id]),
            make_staff(session, "moderator", [other.area_id]),
        )

    return transact(db, build)


def _generate(db: Database, actor: Actor, round_id: int, count: int | str) -> list[str]:
    return transact(db, codes.generate_for_round, actor, round_id, count, PEPPER)


def _counts(db: Database, actor: Actor, round_id: int) -> codes.CodeCounts:
    return read(db, codes.code_counts, actor, round_id)


def _plaintext_in_database(db: Database, plain: set[str]) -> list[str]:
    """Every text value in every table that contains one of the codes, typed any way."""

    def scan(session: Session) -> list[str]:
        found = []
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, sa.String | sa.Text):
                    continue
                for value in session.scalars(select(column).where(column.is_not(None))):
                    compact = value.upper().replace("-", "").replace(" ", "")
                    windows = {compact[i : i + 12] for i in range(len(compact) - 11)}
                    if windows & plain:
                        found.append(f"{table.name}.{column.name}")
        return found

    return read(db, scan)


def test_ten_thousand_codes_are_distinct_and_never_stored_in_plain_text(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    plain = _generate(db, moderator, round_id, 10_000)
    assert len(plain) == len(set(plain)) == 10_000
    assert all(codes.normalise(code) == code for code in plain)
    assert _counts(db, moderator, round_id) == codes.CodeCounts(10_000, 10_000, 0, 0)
    hashes = read(db, lambda s: set(s.scalars(select(VotingCode.code_hash))))
    assert hashes == {codes.code_hash(PEPPER, code) for code in plain}
    assert _plaintext_in_database(db, set(plain)) == []
    [entry] = read(db, audit.events)
    assert (entry.action, entry.details) == ("codes.generate", {"count": 10_000, "batch": 1})


def test_the_scan_for_plain_codes_finds_one_that_leaked(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    plain = _generate(db, moderator, round_id, 3)

    def leak(session: Session) -> None:
        details = f'{{"x": "{codes.display(plain[1])}"}}'
        session.add(AuditEvent(action="oops", details=details, prev_hash="x", hash="y"))

    transact(db, leak)
    assert _plaintext_in_database(db, set(plain)) == ["audit_event.details"]


def test_each_batch_is_numbered_and_the_codes_work(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    _generate(db, moderator, round_id, 2)
    [code] = _generate(db, moderator, round_id, "1")
    assert read(db, lambda s: sorted(s.scalars(select(VotingCode.batch)))) == [1, 1, 2]
    found, _ = read(db, voting.check_code, PEPPER, code)
    assert found.id == round_id


@pytest.mark.parametrize("count", [0, -1, "", "veel", codes.MAX_BATCH + 1, "9" * 4_301])
def test_a_batch_has_a_sane_size(db: Database, count: int | str) -> None:
    round_id, moderator, _ = _setup(db)
    with pytest.raises(Invalid, match=r"1 tot en met 100\.000") as refused:
        _generate(db, moderator, round_id, count)
    assert refused.value.field == "count"
    assert _counts(db, moderator, round_id).issued == 0


def test_no_codes_for_closed_rounds_or_rounds_that_vote_by_e_mail(db: Database) -> None:
    closed, moderator, _ = _setup(db, phase=Phase.GESLOTEN)
    with pytest.raises(Invalid, match="gesloten"):
        _generate(db, moderator, closed, 5)
    by_mail, moderator, _ = _setup(db, eligibility="email", plan_prefix="m")
    with pytest.raises(Invalid, match="e-mailadres"):
        _generate(db, moderator, by_mail, 5)
    concept, moderator, _ = _setup(db, phase=Phase.CONCEPT, plan_prefix="c")
    assert len(_generate(db, moderator, concept, 5)) == 5  # letters go out before voting opens


def test_a_moderator_of_another_area_gets_no_codes_and_no_counts(db: Database) -> None:
    round_id, moderator, stranger = _setup(db)
    [code] = _generate(db, moderator, round_id, 1)
    with pytest.raises(NotAllowed):
        _generate(db, stranger, round_id, 5)
    with pytest.raises(NotAllowed):
        _counts(db, stranger, round_id)
    with pytest.raises(NotAllowed):
        transact(db, codes.revoke_code, stranger, round_id, code, PEPPER)


def _revoke(db: Database, actor: Actor, round_id: int, typed: str) -> VotingCode:
    return transact(db, codes.revoke_code, actor, round_id, typed, PEPPER)


def test_a_revoked_code_can_no_longer_vote(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    code, _ = _generate(db, moderator, round_id, 2)
    typed = codes.display(code).lower()
    row = _revoke(db, moderator, round_id, typed)
    assert row.status == "revoked"
    with pytest.raises(Invalid, match="ingetrokken"):
        read(db, voting.check_code, PEPPER, code)
    with pytest.raises(Invalid, match="al ingetrokken"):
        _revoke(db, moderator, round_id, code)
    assert _counts(db, moderator, round_id) == codes.CodeCounts(2, 1, 0, 1)
    entry = read(db, audit.events)[0]
    assert (entry.action, entry.target_type, entry.target_id) == (
        "code.revoke",
        "voting_code",
        row.id,
    )
    raw = read(db, lambda s: s.scalar(select(AuditEvent.details).order_by(AuditEvent.id.desc())))
    assert code not in raw.upper().replace("-", "")


def test_a_used_code_cannot_be_revoked(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    [code] = _generate(db, moderator, round_id, 1)

    def vote(session: Session) -> None:
        _, credential = voting.check_code(session, PEPPER, code)
        voting.cast(session, credential, {"plan0": 1}, today=dt.date(2027, 3, 3))

    transact(db, vote)
    with pytest.raises(Invalid, match="al gestemd"):
        _revoke(db, moderator, round_id, code)
    assert _counts(db, moderator, round_id) == codes.CodeCounts(1, 0, 1, 0)


def test_only_codes_of_this_round_can_be_revoked(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    other_round, other_moderator, _ = _setup(db, plan_prefix="q")
    [elsewhere] = _generate(db, other_moderator, other_round, 1)
    with pytest.raises(Invalid, match="hoort niet bij deze ronde"):
        _revoke(db, moderator, round_id, elsewhere)
    with pytest.raises(Invalid, match="12 tekens"):
        _revoke(db, moderator, round_id, "ABC")


def test_codes_cannot_be_revoked_after_the_round_closed(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    [code] = _generate(db, moderator, round_id, 1)

    def close(session: Session) -> None:
        session.get(Round, round_id).phase = Phase.GESLOTEN.value

    transact(db, close)
    with pytest.raises(Invalid, match="gesloten"):
        _revoke(db, moderator, round_id, code)


def test_the_csv_has_a_header_and_one_code_per_row_as_4_4_4() -> None:
    plain = [codes.generate_code() for _ in range(3)]
    text = codes.codes_csv(plain)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["code"], *([codes.display(c)] for c in plain)]
    assert all(len(row[0]) == 14 and row[0].count("-") == 2 for row in rows[1:])
    with pytest.raises(ValueError):
        codes.codes_csv(["geen code"])
