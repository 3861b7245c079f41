"""The results embargo (docs/decisions.md): while voting runs, nothing shows how many votes a
plan has, to anyone, moderators and admins included; and the public sees nothing until publication.

The routes are discovered from the real app, so a page added later is checked the moment it
exists. The round's plans get vote counts no other number on a page is likely to share (1,237,
1,033 and 459, with 1,408 ballots in all); a count found in any response, written in any of the
ways the site writes numbers, is a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from proeftuin.db import Database, read, transact
from proeftuin.models import Phase, Plan, Result, Role, Round, StaffUser, VotingEvent
from proeftuin.services import results
from tests.factories import NOW, closed_round, make_photo, make_staff
from tests.web.clients import HTMX, add_staff, cheap_hashing, csrf, signed_in

# plan0: 459 + 403 + 375 = 1,237; plan1: 459 + 403 + 171 = 1,033; plan2: 459.
BALLOTS = (
    [{"plan0": 1, "plan1": 1, "plan2": 1}] * 459
    + [{"plan0": 1, "plan1": 1}] * 403
    + [{"plan0": 1}] * 375
    + [{"plan1": 1}] * 171
)
COUNTS = (1_237, 1_033, 459)
KNOWN_PARAMETERS = {"slug", "public_id", "area_id", "staff_id", "event", "photo_id", "size"}


def leaks(text: str) -> list[int]:
    """The counts that appear in ``text`` as numbers (1237, 1.237, 1,237, 1 237), not as part of
    a longer number or a token."""
    found = []
    for count in COUNTS:
        digits = str(count)
        written = digits if count < 1000 else digits[:-3] + r"[.,\s\u00a0\u202f]?" + digits[-3:]
        if re.search(rf"(?<![\w.,]){written}(?![\w]|[.,]\d)", text):
            found.append(count)
    return found


@dataclass(frozen=True)
class World:
    slug: str
    area_id: int
    public_id: str
    staff_id: int
    event: str  # the voting event the round is part of, so the event's pages are walked too
    photo_id: str  # a photo of plan0


def seed(db: Database, phase: Phase) -> World:
    def build(session: Session) -> World:
        round_ = closed_round(
            session, BALLOTS, costs=(4_000, 3_000, 5_000), budget=10_000, phase=phase
        )
        other = make_staff(session, area_ids=[round_.area_id])
        event = VotingEvent(slug="stemming-2027", title="Stemming 2027")
        session.add(event)
        session.flush()
        round_.event_id = event.id
        photo = make_photo(session, next(p for p in round_.plans if p.public_id == "plan0"))
        return World(round_.slug, round_.area_id, "plan0", other.staff_id, event.slug, photo)

    return transact(db, build)


def get_routes(app: Starlette) -> Iterator[tuple[str, tuple[str, ...]]]:
    for route in app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            yield route.path_format, tuple(route.param_convertors)


def fill(path: str, params: tuple[str, ...], world: World) -> str:
    unknown = set(params) - KNOWN_PARAMETERS
    assert not unknown, f"{path}: add {sorted(unknown)} to KNOWN_PARAMETERS and fill()"
    return path.format(
        slug=world.slug,
        public_id=world.public_id,
        area_id=world.area_id,
        staff_id=world.staff_id,
        event=world.event,
        photo_id=world.photo_id,
        size="klein",
    )


def walk(client: TestClient, app: Starlette, world: World) -> tuple[list[str], int]:
    problems, seen = [], 0
    for path, params in get_routes(app):
        url = fill(path, params, world)
        for headers in ({}, HTMX):
            response = client.get(url, headers=headers, follow_redirects=True)
            seen += 1
            if response.status_code >= 500:
                problems.append(f"GET {url}: {response.status_code}")
            found = leaks(response.text)
            if found:
                problems.append(f"GET {url} {'(htmx) ' if headers else ''}shows {found}")
    return problems, seen


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


def test_the_detector_finds_counts_however_they_are_written() -> None:
    assert leaks("Dit plan kreeg 1.237 stemmen") == [1_237]
    assert leaks("1,033 votes; 459 supporters") == [1_033, 459]
    assert leaks("1\u00a0237") == [1_237]
    assert leaks("<td>459</td>") == [459]
    assert leaks("token=aB1237xy 14590 4.459 1237.5 €1.2375") == []


def test_no_page_shows_a_tally_while_voting_runs(app: Starlette, db: Database) -> None:
    world = seed(db, Phase.STEMMEN)
    add_staff(db, "admin@gemeente.nl", role=Role.ADMIN)
    problems, seen = [], 0
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        found, count = walk(anonymous, app, world)
        problems += [f"anonymous: {p}" for p in found]
        seen += count
    with TestClient(app, raise_server_exceptions=False) as admin:
        signed_in(admin, "admin@gemeente.nl")
        assert admin.get("/beheer").status_code == 200
        found, count = walk(admin, app, world)
        problems += [f"admin: {p}" for p in found]
        seen += count
        # Counting, signing off and publishing are refused, and leave nothing behind.
        token = csrf(admin)
        base = f"/beheer/rondes/{world.slug}/uitslag"
        for step in ("tellen", "vaststellen", "publiceren"):
            response = admin.post(
                f"{base}/{step}",
                data={"confirmed": "1", "decision": ""},
                headers={"X-CSRF-Token": token},
                follow_redirects=True,
            )
            assert response.status_code in (409, 422), (step, response.status_code)
            assert not leaks(response.text), step
    assert not problems, "\n".join(problems)
    assert seen > 100
    assert read(db, lambda s: s.scalar(select(func.count(Result.id)))) == 0


def test_the_public_sees_no_tally_after_the_count_until_publication(
    app: Starlette, db: Database
) -> None:
    world = seed(db, Phase.GESLOTEN)

    def count_and_sign_off(session: Session) -> None:
        actor = results.Actor(
            staff_id=session.scalar(select(StaffUser.id)) or 0,
            role="moderator",
            area_ids=frozenset({world.area_id}),
        )
        results.count(session, actor, world.slug, NOW)
        results.sign_off(session, actor, world.slug, confirmed=True, decision="", now=NOW)

    transact(db, count_and_sign_off)
    counted = read(
        db,
        lambda s: s.scalar(select(func.count(Plan.id)).join(Round).where(Round.slug == world.slug)),
    )
    assert counted == 3
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        problems, _ = walk(anonymous, app, world)
        assert anonymous.get(f"/rondes/{world.slug}/uitslag").status_code == 404
    assert not problems, "\n".join(problems)
    # The moderators, after the close, do see it: the detector is not blind.
    with TestClient(app, raise_server_exceptions=False) as client:
        add_staff(db, "mod@gemeente.nl", area_ids=[world.area_id])
        signed_in(client, "mod@gemeente.nl")
        page = client.get(f"/beheer/rondes/{world.slug}/uitslag/vergelijken")
        assert leaks(page.text) == list(COUNTS)
