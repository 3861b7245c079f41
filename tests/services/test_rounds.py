from __future__ import annotations

import datetime as dt

from proeftuin.db import Database, read
from proeftuin.models import Phase
from proeftuin.services.rounds import list_areas_with_rounds
from tests.web.conftest import add_area, add_round


def test_areas_by_name_with_public_rounds_newest_first(db: Database) -> None:
    dorp = add_area(db, "ter-aa", "Ter Aa", kind="dorp")
    wijk = add_area(db, "centrum", "Centrum")
    ends = dt.datetime(2027, 3, 17, 22, 0, tzinfo=dt.UTC)
    add_round(db, wijk, "c-2026", "Centrum 2026", budget=40_000, phase=Phase.GEPUBLICEERD)
    add_round(
        db, wijk, "c-2027", "Centrum 2027", budget=50_000, phase=Phase.STEMMEN, voting_ends_at=ends
    )
    add_round(db, wijk, "c-2028", "Centrum 2028", budget=60_000, phase=Phase.CONCEPT)

    areas = read(db, list_areas_with_rounds)

    assert [(a.name, a.kind) for a in areas] == [("Centrum", "wijk"), ("Ter Aa", "dorp")]
    centrum, ter_aa = areas
    assert [(r.title, r.phase, r.budget) for r in centrum.rounds] == [
        ("Centrum 2027", Phase.STEMMEN, 50_000),
        ("Centrum 2026", Phase.GEPUBLICEERD, 40_000),
    ]
    assert centrum.rounds[0].voting_ends_at == ends
    assert ter_aa.rounds == ()
    assert dorp  # the id exists; the public view does not need it


def test_no_areas(db: Database) -> None:
    assert read(db, list_areas_with_rounds) == []
