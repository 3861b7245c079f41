from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact, utcnow
from proeftuin.errors import NotAllowed
from proeftuin.models import Eligibility, VoterDeclaration
from proeftuin.services import eligibility
from tests.factories import make_resident, make_round


@pytest.mark.parametrize(
    ("ranges", "postcode", "inside"),
    [
        ("", "9401 AB", True),
        ("9401-9403", "9403 ZZ", True),
        ("9401-9403, 9410", "9410 AA", True),
        ("9401-9403", "9404 AA", False),
        ("9401-9403", "", False),
        ("nonsense,9401", "9401 AA", True),
    ],
)
def test_postcode_in_area(ranges: str, postcode: str, inside: bool) -> None:
    assert eligibility.postcode_in_area(ranges, postcode) is inside


def test_an_email_voter_needs_a_verified_address_and_a_postcode_in_the_area(
    db: Database,
) -> None:
    def check(session: Session) -> list[str | None]:
        round_ = make_round(session, eligibility=Eligibility.EMAIL.value, costs=())
        round_.area.postcodes = "9401-9403"
        resident = make_resident(session)
        problems = [eligibility.email_problem(round_, resident)]
        resident.verified_at = utcnow()
        problems.append(eligibility.email_problem(round_, resident))
        resident.postcode = "9500 AA"
        problems.append(eligibility.email_problem(round_, resident))
        resident.postcode = "9402 AB"
        problems.append(eligibility.email_problem(round_, resident))
        round_.eligibility = Eligibility.CODES.value
        problems.append(eligibility.email_problem(round_, resident))
        return [p.message if p else None for p in problems]

    not_verified, no_postcode, elsewhere, allowed, codes_only = transact(db, check)
    assert "niet bevestigd" in not_verified
    assert "postcode" in no_postcode
    assert "hoort niet bij" in elsewhere
    assert allowed is None
    assert "code uit uw brief" in codes_only


def test_an_email_voter_must_declare_and_the_declaration_is_kept_once(db: Database) -> None:
    def run(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, min_age=16)
        with pytest.raises(NotAllowed) as refused:
            eligibility.require_declaration(round_, declared=False)
        assert refused.value.params == {"age": 16, "area": "Noord"}
        eligibility.require_declaration(round_, declared=True)
        for _ in range(2):
            eligibility.record_declaration(session, round_, "k" * 64, dt.date(2027, 3, 3))
        return session.scalars(select(VoterDeclaration.min_age)).all()

    assert transact(db, run) == [16]
