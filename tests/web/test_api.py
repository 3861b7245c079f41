"""The read-only JSON API and its OpenAPI description."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from proeftuin.db import Database, read, transact
from proeftuin.models import Phase, Plan, Round
from proeftuin.services import results
from proeftuin.web.api import PREFIX
from tests.factories import (
    SPLIT,
    SPLIT_COSTS,
    add_area,
    add_event,
    add_round,
    closed_round,
    published_round,
)


def test_rounds_lists_every_public_round(client: TestClient, db: Database) -> None:
    area = add_area(db, "noord", "Noord")
    add_round(db, area, "open", "Open ronde", budget=5_000, phase=Phase.STEMMEN)
    add_round(db, area, "klad", "Klad", budget=1_000, phase=Phase.CONCEPT)
    response = client.get(f"{PREFIX}/rounds")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert len(response.json()) == 1
    # From voting on, the SHA-256 of the tie-break seed (add_round's is "seed") is public: the
    # seed cannot be chosen after the ballots are in. Before voting there is none yet.
    add_round(db, area, "later", "Later", budget=1_000, phase=Phase.INDIENEN)
    response = client.get(f"{PREFIX}/rounds")
    committed = hashlib.sha256(b"seed").hexdigest()
    assert sorted(response.json(), key=lambda r: r["slug"]) == [
        {"slug": "later", "title": "Later", "area": "Noord", "phase": "indienen", "budget": 1000,
         "tie_break_sha256": None, "event": None},
        {"slug": "open", "title": "Open ronde", "area": "Noord", "phase": "stemmen", "budget": 5000,
         "tie_break_sha256": committed, "event": None},
    ]  # fmt: skip


def test_results_are_404_until_published(client: TestClient, db: Database) -> None:
    slug = transact(db, lambda s: closed_round(s, SPLIT, costs=SPLIT_COSTS).slug)
    response = client.get(f"{PREFIX}/rounds/{slug}/results")
    assert response.status_code == 404
    assert set(response.json()) == {"error"}
    assert client.get(f"{PREFIX}/rounds/nergens/results").status_code == 404


def test_published_results_point_at_the_exact_pabulib_bytes(
    client: TestClient, db: Database
) -> None:
    slug = transact(db, lambda s: published_round(s, SPLIT, costs=SPLIT_COSTS)[0].slug)
    response = client.get(f"{PREFIX}/rounds/{slug}/results")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "rule",
        "budget",
        "selected",
        "plans",
        "turnout",
        "pabulib_url",
        "sha256",
        "tie_break",
    }
    seed = read(db, lambda s: s.scalar(select(Round.tie_break_seed).where(Round.slug == slug)))
    assert data["tie_break"] == {
        "seed": seed,
        "sha256": hashlib.sha256(seed.encode()).hexdigest(),
        "matches_commitment": True,
    }
    view = read(db, results.public_view, slug)
    assert data["rule"] == "equal_shares"
    assert data["budget"] == 10_000
    assert data["selected"] == list(view.own.selected)
    assert {p["id"] for p in data["plans"]} == {"plan0", "plan1", "plan2", "plan3"}
    assert data["turnout"]["ballots"] == 10
    assert data["pabulib_url"] == f"http://testserver/rondes/{slug}/uitslag/stemmen.pb"
    served = client.get(data["pabulib_url"]).content
    assert hashlib.sha256(served).hexdigest() == data["sha256"]
    # The ids in "selected" are the project ids of the .pb.
    projects = served.decode().split("PROJECTS\n", 1)[1].split("VOTES\n", 1)[0].splitlines()[1:]
    assert set(data["selected"]) <= {line.split(";")[0] for line in projects}
    assert client.get(f"{PREFIX}/rounds/{slug}/results").content == response.content


def test_published_results_give_each_plan_its_place(client: TestClient, db: Database) -> None:
    def build(session: Session) -> str:
        round_ = published_round(session, SPLIT, costs=SPLIT_COSTS)[0]
        plan = session.scalars(select(Plan).where(Plan.public_id == "plan2")).one()
        plan.latitude_e6, plan.longitude_e6 = 52_992_500, 6_564_900
        return round_.slug

    slug = transact(db, build)
    plans = {p["id"]: p for p in client.get(f"{PREFIX}/rounds/{slug}/results").json()["plans"]}
    assert (plans["plan2"]["latitude"], plans["plan2"]["longitude"]) == (52.9925, 6.5649)
    assert (plans["plan0"]["latitude"], plans["plan0"]["longitude"]) == (None, None)


def test_openapi_describes_every_api_route(app: Starlette, client: TestClient) -> None:
    document = client.get(f"{PREFIX}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    described = {
        (PREFIX + path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith(PREFIX + "/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert served
    assert served == described
    schemas = document["components"]["schemas"]
    assert set(schemas["Results"]["required"]) == {
        "rule",
        "budget",
        "selected",
        "plans",
        "turnout",
        "pabulib_url",
        "sha256",
        "tie_break",
    }
    assert schemas["Round"]["properties"]["phase"]["enum"] == [p.value for p in Phase]


def test_rounds_name_their_event_and_the_event_lists_its_rounds(
    client: TestClient, db: Database
) -> None:
    world = add_event(db)
    listed = client.get(f"{PREFIX}/rounds").json()
    assert len(listed) == 3 and {r["event"] for r in listed} == {world.slug}
    event = client.get(f"{PREFIX}/events/{world.slug}")
    assert event.status_code == 200
    body = event.json()
    assert body["slug"] == world.slug and len(body["rounds"]) == 3
    assert [r["citywide"] for r in body["rounds"]] == [False, False, True]
    assert {r["phase"] for r in body["rounds"]} == {"stemmen"}
    assert client.get(f"{PREFIX}/events/bestaat-niet").status_code == 404
