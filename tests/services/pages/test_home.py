"""The front page's areas and rounds, and the health check."""

from __future__ import annotations

from proeftuin.db import Database, transact
from proeftuin.models import Phase
from proeftuin.services.pages import home
from proeftuin.services.pages.declare import perform_now
from tests.factories import make_round


def test_the_front_page_shows_every_area_but_no_draft_rounds(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        open_ = make_round(session, phase=Phase.STEMMEN, plan_prefix="o")
        draft = make_round(session, phase=Phase.CONCEPT, plan_prefix="d")
        return open_.slug, draft.area.slug

    open_slug, draft_area = transact(db, build)
    areas = {a.slug: a for a in perform_now(db, home.areas_with_rounds)}
    assert len(areas) == 2
    assert areas[draft_area].rounds == ()
    assert [r.slug for a in areas.values() for r in a.rounds] == [open_slug]


def test_the_health_check_reaches_the_database(db: Database) -> None:
    assert perform_now(db, home.ping) is None


def test_voting_is_open_only_while_a_round_is_in_its_voting_phase(db: Database) -> None:
    transact(db, lambda session: make_round(session, phase=Phase.INDIENEN, plan_prefix="i"))
    assert perform_now(db, home.voting_open) is False
    transact(db, lambda session: make_round(session, phase=Phase.STEMMEN, plan_prefix="s"))
    assert perform_now(db, home.voting_open) is True
