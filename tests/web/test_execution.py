"""After the vote, through the app: outcomes on the public pages, what happened to funded plans
(page, CSV, Atom feeds, API), and staff recording it for their own area only."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from proeftuin import demo
from proeftuin.db import Database, read, transact
from proeftuin.models import ExecutionUpdate, PlanExecution
from tests.factories import add_funded_round
from tests.web.clients import World, post

PLAN = "/beheer/rondes/noord-2027/uitvoering/plan0"
STATE = {
    "status": "vertraagd",
    "reason": "De grond moet eerst worden onderzocht.",
    "expected": "2027-K3",
    "spent": "1200",
    "spent_explanation": "",
    "co_executors": "",
}
ATOM = "{http://www.w3.org/2005/Atom}"


def test_a_published_round_labels_every_plan_and_keeps_the_others_findable(
    db: Database, client: TestClient
) -> None:
    add_funded_round(db)
    html = client.get("/rondes/noord-2027").text
    assert html.count("Gaat door") == 2 and html.count("Gaat niet door") == 1
    assert "/rondes/noord-2027/uitslag" in html
    assert "Niet op het stembiljet" in html
    assert "Dit mag niet op deze plek." in html and "Hetzelfde idee als plan0." in html
    merged = client.get("/plannen/plan4").text
    assert 'href="/plannen/plan0"' in merged
    assert "Gaat niet door" in client.get("/plannen/plan1").text
    funded = client.get("/plannen/plan0").text
    assert "Gaat door" in funded and "Op het stembiljet" not in funded
    assert "Uitvoering" in funded


def test_staff_record_the_execution_and_residents_see_it_everywhere(
    db: Database, world: World, mod_a: TestClient, client: TestClient
) -> None:
    add_funded_round(db, world.area_a)
    assert ">Plan 0</a>" in mod_a.get("/beheer/rondes/noord-2027/uitvoering").text
    assert post(mod_a, f"{PLAN}/stand", STATE).status_code == 303
    text = "De aannemer begint op maandag met het werk."
    assert post(mod_a, f"{PLAN}/bericht", {"body": text}).status_code == 303

    page = client.get("/rondes/noord-2027/uitvoering").text
    assert "Wat is er met de plannen gebeurd?" in page
    assert "Vertraagd" in page and "De grond moet eerst worden onderzocht." in page
    assert "kwartaal 3 van 2027" in page and text in page
    assert text in client.get("/plannen/plan0").text

    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/rondes/noord-2027/uitvoering.csv").text.lstrip("\ufeff"))
        )
    )
    assert [(r["id"], r["status"], r["spent"], r["expected"]) for r in rows] == [
        ("plan0", "vertraagd", "1200", "2027-Q3"),
        ("plan2", "voorbereiding", "0", ""),
    ]
    for feed in ("/rondes/noord-2027/uitvoering.atom", "/wijken/noord/uitvoering.atom"):
        response = client.get(feed)
        assert response.headers["content-type"].startswith("application/atom+xml")
        entries = ElementTree.fromstring(response.content).findall(f"{ATOM}entry")
        assert [e.findtext(f"{ATOM}content") for e in entries] == [text]

    plans = {p["id"]: p for p in client.get("/api/v1/rounds/noord-2027/results").json()["plans"]}
    assert plans["plan0"]["execution"]["status"] == "vertraagd"
    assert plans["plan0"]["execution"]["spent"] == 1200
    assert plans["plan0"]["execution"]["expected"] == "2027-Q3"
    assert plans["plan1"]["execution"] is None


def test_bad_input_shows_a_dutch_message_and_changes_nothing(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_funded_round(db, world.area_a)
    response = post(mod_a, f"{PLAN}/stand", {**STATE, "spent": "-5"})
    assert response.status_code == 422
    assert "Vul een heel bedrag in euro" in response.text
    response = post(mod_a, f"{PLAN}/stand", {**STATE, "spent": "9000"})
    assert response.status_code == 422 and "Leg uit waarom" in response.text
    assert post(mod_a, f"{PLAN}/bericht", {"body": ""}).status_code == 422
    assert read(db, lambda s: s.scalar(select(PlanExecution.id))) is None
    assert read(db, lambda s: s.scalar(select(ExecutionUpdate.id))) is None


@pytest.mark.parametrize("path", ["/stand", "/bericht"])
def test_staff_of_another_area_cannot_update_the_plans(
    db: Database, world: World, mod_b: TestClient, path: str
) -> None:
    add_funded_round(db, world.area_a)
    assert mod_b.get(PLAN).status_code in (403, 404)
    response = post(mod_b, PLAN + path, {**STATE, "body": "Een bericht van iemand anders."})
    assert response.status_code in (403, 404)
    assert read(db, lambda s: s.scalar(select(PlanExecution.id))) is None
    assert read(db, lambda s: s.scalar(select(ExecutionUpdate.id))) is None


def test_before_publication_there_is_nothing_to_show(db: Database, client: TestClient) -> None:
    assert client.get("/rondes/bestaat-niet/uitvoering").status_code == 404
    assert client.get("/rondes/bestaat-niet/uitvoering.csv").status_code == 404


def test_the_demo_round_page_links_its_atom_feed(db: Database, client: TestClient) -> None:
    transact(db, demo.seed_demo, "demo-pepper")
    slug = demo.PUBLISHED_ROUND_SLUG
    html = client.get(f"/rondes/{slug}").text
    assert (
        '<link rel="alternate" type="application/atom+xml"' in html
        and f'href="/rondes/{slug}/uitvoering.atom"' in html
    )
    page = client.get(f"/rondes/{slug}/uitvoering").text
    for label in ("Klaar", "In uitvoering", "Vertraagd", "In voorbereiding"):
        assert label in page
    feed = ElementTree.fromstring(client.get(f"/rondes/{slug}/uitvoering.atom").content)
    assert len(feed.findall(f"{ATOM}entry")) >= 5
