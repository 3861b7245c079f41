"""Internal notes on a plan and its cost check: for staff of the plan's area, audited, and never
in anything residents or the public can read (the pages, the API, the downloads)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed
from proeftuin.models import Plan
from proeftuin.services import audit, lookup, plan_notes
from proeftuin.services.permissions import Actor
from proeftuin.web.app import create_app
from tests.factories import make_staff, published_round

SECRET = "Intern: de aannemer rekende eerder te laag, bel Jan eerst."


def _published(db: Database) -> tuple[str, Actor, Actor, Actor]:
    def build(session: Session) -> tuple[str, Actor, Actor, Actor]:
        round_, moderator = published_round(session, [{"plan0": 1}, {"plan1": 1}])
        colleague = make_staff(session, area_ids=[round_.area_id])
        stranger = make_staff(session, area_ids=[])
        return round_.slug, moderator, colleague, stranger

    return transact(db, build)


def _note(session: Session, actor: Actor, text: str = SECRET) -> None:
    plan_notes.add_note(session, actor, lookup.staff_plan(session, actor, "plan0"), text)


def test_staff_of_the_area_write_and_read_notes_and_others_cannot(db: Database) -> None:
    _, moderator, colleague, stranger = _published(db)
    transact(db, _note, moderator)
    with pytest.raises(Invalid, match="Schrijf eerst"):
        transact(db, _note, moderator, "   ")
    with pytest.raises(NotAllowed):
        transact(db, _note, stranger)

    def seen_by(session: Session, actor: Actor) -> list[str]:
        return [
            n.text for n in plan_notes.notes(session, lookup.staff_plan(session, actor, "plan0"))
        ]

    assert read(db, seen_by, colleague) == [SECRET]
    with pytest.raises(NotAllowed):
        read(db, seen_by, stranger)
    entry = read(db, audit.events)[0]
    assert entry.action == "plan.note" and SECRET not in str(entry.details)


def test_the_cost_check_goes_to_a_named_member_of_staff_of_the_area(db: Database) -> None:
    _, moderator, colleague, stranger = _published(db)

    def assign(session: Session, staff_id: str) -> plan_notes.StaffChoice | None:
        plan = lookup.staff_plan(session, moderator, "plan0")
        plan_notes.assign_cost_check(session, moderator, plan, staff_id)
        return plan_notes.cost_checker(session, plan)

    checker = transact(db, assign, str(colleague.staff_id))
    assert checker is not None and checker.id == colleague.staff_id and checker.name
    with pytest.raises(Invalid, match="medewerker van dit gebied"):
        transact(db, assign, str(stranger.staff_id))
    assert transact(db, assign, "") is None
    assert read(db, audit.events)[0].action == "plan.cost_check"


def test_notes_are_never_on_public_pages_in_the_api_or_in_downloads(
    db: Database, settings: Settings
) -> None:
    slug, moderator, _, _ = _published(db)
    transact(db, _note, moderator)
    public_id = read(
        db, lambda s: s.scalar(select(Plan.public_id).where(Plan.public_id == "plan0"))
    )
    with TestClient(create_app(settings, db)) as client:
        pages = [
            f"/plannen/{public_id}",
            f"/rondes/{slug}",
            f"/rondes/{slug}/uitslag",
            f"/rondes/{slug}/uitslag/uitleg",
            f"/rondes/{slug}/uitslag/stembonnen",
            "/api/v1/rounds",
            f"/api/v1/rounds/{slug}/results",
        ]
        downloads = [
            link
            for link in _links(client.get(f"/rondes/{slug}/uitslag").text)
            if link.startswith(f"/rondes/{slug}/uitslag/")
        ]
        assert len(downloads) >= 3  # Pabulib, CSV, JSON (and the receipts)
        for path in pages + downloads:
            response = client.get(path)
            assert response.status_code == 200, path
            assert "aannemer" not in response.text, path


def _links(html: str) -> list[str]:
    import re

    return re.findall(r'href="([^"]+)"', html)
