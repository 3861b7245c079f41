from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import NotAllowed
from proeftuin.models import BallotKind, Phase
from proeftuin.services import ballot_kinds, paper_form
from proeftuin.services.ballot_kinds.spec import RoundRules
from proeftuin.services.permissions import Actor
from tests.factories import make_round, make_staff, pdf_text

NOW = dt.datetime(2027, 3, 4, 9, 0, tzinfo=dt.UTC)


def rules(kind: BallotKind, **settings: int | None) -> RoundRules:
    base: dict[str, int | None] = {
        "budget": 10_000,
        "min_choices": 0,
        "max_choices": None,
        "min_spend_percent": 0,
        "points_total": 0,
    }
    return RoundRules(kind=kind, **(base | settings))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "settings", "says"),
    [
        (BallotKind.APPROVAL, {}, "Zet een kruisje bij elk plan dat u steunt."),
        (BallotKind.K_APPROVAL, {"max_choices": 3}, "Kies hoogstens 3 plannen."),
        (BallotKind.KNAPSACK, {}, "niet meer kosten dan 10.000 euro"),
        (BallotKind.KNAPSACK, {"min_spend_percent": 50}, "minstens 5.000 euro"),
        (BallotKind.POINTS, {"points_total": 10}, "Verdeel 10 punten over de plannen."),
        (BallotKind.APPROVAL, {"min_choices": 2}, "Kies minstens 2 plannen."),
    ],
)
def test_each_kind_says_how_to_fill_in_its_ballot(
    kind: BallotKind, settings: dict[str, int], says: str
) -> None:
    assert any(says in line for line in paper_form.kind_instructions(rules(kind, **settings), "nl"))


def test_every_kind_has_instructions() -> None:
    for spec in ballot_kinds.SPECS:
        kind = spec.kind
        assert paper_form.kind_instructions(rules(kind, points_total=10), "en")


def test_a_points_ballot_in_english_with_the_dates_as_they_stand(db: Database) -> None:
    def build(session: Session) -> tuple[int, Actor]:
        round_ = make_round(
            session,
            ballot_kind="points",
            points_total=10,
            phase=Phase.BEOORDELEN,
            voting_starts_at=NOW + dt.timedelta(days=7),
            voting_ends_at=NOW + dt.timedelta(days=21),
        )
        return round_.id, make_staff(session, area_ids=[round_.area_id])

    round_id, actor = transact(db, build)
    content = read(db, paper_form.paper_ballot_pdf, actor, round_id, "Gemeente Test", "en", NOW)
    shown = pdf_text(content)
    assert "Ballot: Buurtbudget Noord" in shown and "Gemeente Test" in shown
    assert "Share 10 points among the plans." in shown
    assert "You can vote from" in shown and "Plan 2" in shown
    stranger = transact(db, lambda s: make_staff(s, area_ids=[]))
    with pytest.raises(NotAllowed):
        read(db, paper_form.paper_ballot_pdf, stranger, round_id, "G", "nl", NOW)
