from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed
from proeftuin.models import AuditEvent, Eligibility, Letter, Phase, VotingCode
from proeftuin.services import mail_house
from proeftuin.services.address_list import Address
from proeftuin.services.permissions import Actor
from tests.factories import PEPPER, make_round, make_staff

NOW = dt.datetime(2027, 2, 10, 12, 0, tzinfo=dt.UTC)
ADDRESSES = [
    Address("Kerkweg", "3", "1234 AB", "Veenhoven"),
    Address("Kerkweg", "5", "1234 AB", "Veenhoven"),
    Address("Laan", "1", "5678 CD", "Veenhoven"),
]


def setup(db: Database, **settings: object) -> tuple[int, Actor]:
    def build(session: Session) -> tuple[int, Actor]:
        round_ = make_round(session, **settings)
        return round_.id, make_staff(session, area_ids=[round_.area_id])

    return transact(db, build)


def make(db: Database, actor: Actor, round_id: int) -> mail_house.Made:
    return transact(
        db,
        lambda s: mail_house.make_letters(
            s, actor, round_id, ADDRESSES, PEPPER, "https://stem.nl", "Gemeente", "nl", NOW
        ),
    )


def test_letters_are_numbered_and_keep_only_the_postcode_area(db: Database) -> None:
    round_id, actor = setup(db)
    made = make(db, actor, round_id)
    assert (made.first, made.last) == (1, 3)
    with zipfile.ZipFile(io.BytesIO(made.content)) as archive:
        assert sorted(archive.namelist()) == ["brieven.pdf", "samenvoegbestand.csv"]
    rows = read(db, lambda s: sorted((x.number, x.pc4) for x in s.scalars(select(Letter))))
    assert rows == [(1, "1234"), (2, "1234"), (3, "5678")]
    event = read(
        db,
        lambda s: s.scalars(select(AuditEvent).where(AuditEvent.action == "letters.make")).one(),
    )
    assert '"count": 3' in event.details and '"postcode_areas": 2' in event.details
    assert "Kerkweg" not in event.details


def test_no_letters_for_a_closed_round_or_one_without_codes(db: Database) -> None:
    closed_id, actor = setup(db, phase=Phase.GESLOTEN)
    with pytest.raises(Invalid):
        make(db, actor, closed_id)
    email_id, other = setup(db, eligibility=Eligibility.EMAIL.value, plan_prefix="e")
    with pytest.raises(Invalid):
        make(db, other, email_id)
    with pytest.raises(NotAllowed):
        make(db, actor, email_id)
    assert read(db, lambda s: s.scalars(select(VotingCode)).all()) == []


def test_a_used_code_cannot_be_revoked_by_its_letter(db: Database) -> None:
    round_id, actor = setup(db)
    make(db, actor, round_id)

    def use(session: Session) -> None:
        letter = session.scalars(select(Letter).where(Letter.number == 3)).one()
        code = session.get(VotingCode, letter.code_id)
        assert code is not None
        code.status = "used"

    transact(db, use)
    with pytest.raises(Invalid, match="al gestemd"):
        transact(db, lambda s: mail_house.revoke_letter(s, actor, round_id, "3"))
    with pytest.raises(Invalid) as refused:
        transact(db, lambda s: mail_house.revoke_letter(s, actor, round_id, "drie"))
    assert refused.value.field == "nummer"
