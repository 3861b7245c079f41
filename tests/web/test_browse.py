"""Browsing: area → round → plan, on both databases, as a visitor who is not signed in."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin import vocabulary
from proeftuin.db import Database, transact
from proeftuin.models import Phase, Plan, PlanStatus, Round
from tests.factories import add_plan, add_village_round
from tests.web.clients import HTMX

NBSP = "\xa0"


def plan_ids_in_order(html: str) -> list[str]:
    return re.findall(r'class="utrecht-link proeftuin-card__link" href="/plannen/([^"]+)"', html)


# -- Area ------------------------------------------------------------------------------------


def test_area_page_lists_its_public_rounds(client: TestClient, db: Database) -> None:
    add_village_round(db, "ter-aa-2026", title="Dorpsbudget 2026", phase=Phase.GEPUBLICEERD)
    add_village_round(db, "ter-aa-2027", title="Dorpsbudget 2027")
    add_village_round(db, "ter-aa-2028", title="Geheim concept", phase=Phase.CONCEPT)
    html = client.get("/wijken/ter-aa").text
    assert '<h1 class="utrecht-heading-1">Ter Aa</h1>' in html
    assert "Dorpsraad Ter Aa" in html
    assert 'href="/rondes/ter-aa-2027"' in html
    assert 'href="/rondes/ter-aa-2026"' in html
    assert html.index("Dorpsbudget 2027") < html.index("Dorpsbudget 2026")  # newest first
    assert "Geheim concept" not in html
    assert "Plannen indienen" in html and "Uitslag bekend" in html


def test_unknown_area_is_404(client: TestClient, db: Database) -> None:
    response = client.get("/wijken/bestaat-niet")
    assert response.status_code == 404
    assert "Deze pagina bestaat niet." in response.text


def test_home_links_round_titles_to_round_pages(client: TestClient, db: Database) -> None:
    add_village_round(db)
    html = client.get("/").text
    assert 'href="/rondes/ter-aa-2027">Dorpsbudget Ter Aa 2027</a>' in html


# -- Round -----------------------------------------------------------------------------------


def test_round_page_shows_phase_timeline_budget_and_next_step(
    client: TestClient, db: Database
) -> None:
    add_village_round(db, threshold=10)
    response = client.get("/rondes/ter-aa-2027")
    assert response.status_code == 200
    html = response.text
    assert "Dorpsbudget Ter Aa 2027" in html
    assert f"€{NBSP}25.000" in html
    assert "<strong>geld</strong>" in html  # the description is Markdown
    assert "Wat gebeurt er nu?" in html
    assert "Dien uw plan in vóór woensdag 31 maart 2027, 10:00 uur." in html
    assert "Een plan heeft 10 steunbetuigingen nodig om op het stembiljet te komen." in html
    assert 'href="/rondes/ter-aa-2027/plannen/nieuw"' in html
    timeline = html[html.index('class="proeftuin-timeline"') :]
    steps = [
        "Plannen indienen",
        "Plannen worden bekeken",
        "Stemmen",
        "Stemmen is voorbij",
        "Uitslag bekend",
    ]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)
    current = re.search(
        r'<li class="[^"]*--current" aria-current="step">\s*<span[^>]*>([^<]+)', html
    )
    assert current and current.group(1) == "Plannen indienen"
    assert "maandag 1 maart 2027, 09:00 uur tot woensdag 31 maart 2027, 10:00 uur" in timeline
    assert "21 mei 2027" in timeline  # voting ends (and counting starts)
    # The breadcrumb leads back to the area.
    assert 'href="/wijken/ter-aa"' in html


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.BEOORDELEN, "De Dorpsraad Ter Aa bekijkt nu alle plannen"),
        (Phase.STEMMEN, "U kunt stemmen tot vrijdag 21 mei 2027, 10:00 uur."),
        (Phase.GESLOTEN, "De stemmen worden nu geteld."),
        (Phase.GEPUBLICEERD, "De uitslag is bekend."),
    ],
)
def test_round_page_says_what_happens_next_in_every_phase(
    client: TestClient, db: Database, phase: Phase, expected: str
) -> None:
    add_village_round(db, phase=phase)
    html = client.get("/rondes/ter-aa-2027").text
    assert expected in html
    assert "/plannen/nieuw" not in html  # proposing is over
    if phase == Phase.STEMMEN:
        assert 'href="/stem"' in html


def test_round_lists_plans_with_cost_theme_and_status(client: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.BEOORDELEN)
    add_plan(db, "ter-aa-2027", "Bankjes bij de vijver", cost=3_000, theme="ontmoeten")
    add_plan(
        db,
        "ter-aa-2027",
        "Pannaveld",
        cost=9_000,
        official_cost=11_000,
        theme="sport",
        status=PlanStatus.AANPASSEN,
    )
    add_plan(db, "ter-aa-2027", "Ingetrokken idee", status=PlanStatus.INGETROKKEN)
    add_plan(db, "ter-aa-2027", "Verborgen idee", hidden=True)
    html = client.get("/rondes/ter-aa-2027").text
    assert "2 plannen" in html
    assert "Bankjes bij de vijver" in html and "Pannaveld" in html
    assert "Ingetrokken idee" not in html and "Verborgen idee" not in html
    assert f"Geschatte kosten</dt>\n          <dd>€{NBSP}3.000" in html
    assert f"Kosten</dt>\n          <dd>€{NBSP}11.000" in html  # the official cost wins
    assert "Ontmoeten" in html and "Sport en bewegen" in html
    assert "Ingediend" in html and "Aanpassing gevraagd" in html


def test_concept_and_unknown_rounds_are_404(client: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.CONCEPT)
    assert client.get("/rondes/ter-aa-2027").status_code == 404
    assert client.get("/rondes/bestaat-niet").status_code == 404


def test_filter_by_theme_with_and_without_htmx(client: TestClient, db: Database) -> None:
    add_village_round(db)
    add_plan(db, title="Bomen op het plein", theme="groen")
    add_plan(db, title="Speeltoestel", theme="spelen")
    page = client.get("/rondes/ter-aa-2027?thema=groen")
    assert page.text.lstrip().startswith("<!doctype html>")
    assert "Bomen op het plein" in page.text and "Speeltoestel" not in page.text
    assert "1 plan met het thema Groen en natuur" in page.text
    assert '<option value="groen" selected>' in page.text
    fragment = client.get("/rondes/ter-aa-2027?thema=spelen", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="plannen"')
    assert "<html" not in fragment.text
    assert "Speeltoestel" in fragment.text and "Bomen op het plein" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


def test_an_unknown_theme_is_ignored(client: TestClient, db: Database) -> None:
    add_village_round(db)
    add_plan(db, title="Bomen op het plein", theme="groen")
    add_plan(db, title="Speeltoestel", theme="spelen")
    html = client.get("/rondes/ter-aa-2027?thema=<script>").text
    assert "Bomen op het plein" in html and "Speeltoestel" in html
    assert "<script>" not in html


def test_voting_shows_the_ballot_in_an_order_of_your_own(app: Starlette, db: Database) -> None:
    add_village_round(db, phase=Phase.STEMMEN)
    for i in range(12):
        add_plan(db, title=f"Plan nummer {i}", status=PlanStatus.OP_STEMBILJET, cost=1000 + i)
    add_plan(db, title="Afgewezen plan", status=PlanStatus.AFGEWEZEN)
    orders = []
    for _ in range(2):
        with TestClient(app) as visitor:
            first = visitor.get("/rondes/ter-aa-2027").text
            again = visitor.get("/rondes/ter-aa-2027").text
            assert plan_ids_in_order(first) == plan_ids_in_order(again)  # stable per visitor
            orders.append(plan_ids_in_order(first))
    assert len(orders[0]) == 12
    assert "Afgewezen plan" not in first
    assert sorted(orders[0]) == sorted(orders[1])
    assert orders[0] != orders[1]  # 1 in 12! that two visitors see the same order
    assert "willekeurige volgorde" in first


def test_round_page_in_english(client: TestClient, db: Database) -> None:
    add_village_round(db)
    add_plan(db, theme="groen")
    html = client.get("/rondes/ter-aa-2027?lang=en").text
    for text in ("What happens now?", "Submit a plan", "Green and nature", "Estimated cost"):
        assert text in html
    assert "Wat gebeurt er nu?" not in html


# -- Plan ------------------------------------------------------------------------------------


def test_plan_page_shows_everything_a_resident_needs(client: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.BEOORDELEN)
    public_id = add_plan(
        db,
        title="Pannaveld",
        cost=9_000,
        official_cost=11_000,
        theme="sport",
        location="Achter de school",
        author_name="Fatima",
        status=PlanStatus.AFGEWEZEN,
        public_reason="De grond is niet van de gemeente.",
        body="## Waarom\n\nKinderen willen **voetballen**.\n\n<script>alert(1)</script>",
        self_executed=True,
    )
    html = client.get(f"/plannen/{public_id}").text
    assert '<h1 class="utrecht-heading-1">Pannaveld</h1>' in html
    assert f"Kosten (berekend door de gemeente)</dt>\n      <dd>€{NBSP}11.000" in html
    assert f"Schatting van de indiener</dt>\n      <dd>€{NBSP}9.000" in html
    assert "Achter de school" in html
    assert "Sport en bewegen" in html
    assert "Fatima" in html
    assert "Afgewezen" in html
    assert "De grond is niet van de gemeente." in html
    assert "De indieners voeren het plan zelf uit." in html
    assert "<h4>Waarom</h4>" in html
    assert "<strong>voetballen</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="/rondes/ter-aa-2027"' in html


def test_plan_page_labels_the_authors_estimate(client: TestClient, db: Database) -> None:
    add_village_round(db)
    public_id = add_plan(db, cost=3_000)
    html = client.get(f"/plannen/{public_id}").text
    assert f"Geschatte kosten (door de indiener)</dt>\n      <dd>€{NBSP}3.000" in html
    assert "0 steunbetuigingen" in html
    assert 'href="/inloggen?next=/plannen/' in html  # signed out: sign in to support


def test_plans_that_are_not_public_are_404(client: TestClient, db: Database) -> None:
    add_village_round(db)
    add_village_round(db, "concept", phase=Phase.CONCEPT)
    withdrawn = add_plan(db, status=PlanStatus.INGETROKKEN)
    hidden = add_plan(db, hidden=True)
    in_concept = add_plan(db, "concept")
    for public_id in (withdrawn, hidden, in_concept, "bestaat-niet"):
        assert client.get(f"/plannen/{public_id}").status_code == 404


def test_merged_plan_links_to_the_plan_it_became_part_of(client: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.BEOORDELEN)
    target = add_plan(db, title="Groot speelplan")
    merged = add_plan(db, title="Klein speelplan", status=PlanStatus.SAMENGEVOEGD)

    def merge(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == merged))
        into = session.scalar(select(Plan).where(Plan.public_id == target))
        assert plan is not None and into is not None
        plan.merged_into_id = into.id

    transact(db, merge)
    html = client.get(f"/plannen/{merged}").text
    assert f'href="/plannen/{target}">Groot speelplan</a>' in html


def test_my_pages_have_no_inline_script_or_style(client: TestClient, db: Database) -> None:
    add_village_round(db)
    public_id = add_plan(db, body="Tekst")
    for path in ("/wijken/ter-aa", "/rondes/ter-aa-2027", f"/plannen/{public_id}", "/inloggen"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), path
        assert not re.search(r"<[^>]*\sstyle=", html), path
        assert not re.search(r"<[^>]*\son[a-z]+=", html), path


def test_theme_and_status_labels_cover_every_code() -> None:
    from proeftuin.services.plans import THEMES

    assert vocabulary.THEME_LABELS == THEMES
    assert set(vocabulary.STATUS_LABELS) == {s.value for s in PlanStatus}


@pytest.mark.parametrize("phase", [Phase.BEOORDELEN, Phase.STEMMEN, Phase.GESLOTEN])
def test_the_tie_break_seed_is_committed_on_the_round_page_once_voting_opens(
    client: TestClient, db: Database, phase: Phase
) -> None:
    add_village_round(db, phase=phase)
    seed = transact(db, lambda s: s.scalar(select(Round.tie_break_seed)))
    committed = hashlib.sha256(seed.encode()).hexdigest()
    html = client.get("/rondes/ter-aa-2027").text
    assert seed not in html  # revealed with the results, not before
    if phase == Phase.BEOORDELEN:
        assert committed not in html
    else:
        assert f"<code>{committed}</code>" in html
        assert "SHA-256" in html


def test_the_plan_list_is_searched_and_sorted_through_its_address(
    client: TestClient, db: Database
) -> None:
    add_village_round(db)
    add_plan(db, title="Bankjes bij de vijver", cost=3_000, summary="Zes bankjes.")
    add_plan(
        db, title="Appelbomen", cost=9_000, summary="Fruit voor iedereen.", location="Dorpsweide"
    )
    add_plan(db, title="Jeu de boules-baan", cost=1_500, summary="Een baan bij de kerk.")

    def titles(html: str) -> list[str]:
        listed = html[html.index('id="plannen"') :]
        return re.findall(r'proeftuin-card__link" href="/plannen/[^"]+">([^<]+)<', listed)

    page = client.get("/rondes/ter-aa-2027")
    assert 'role="search"' in page.text and 'name="zoek"' in page.text
    assert 'name="sorteer"' in page.text and "Laagste kosten eerst" in page.text
    cheap = client.get("/rondes/ter-aa-2027?sorteer=kosten").text
    assert titles(cheap) == ["Jeu de boules-baan", "Bankjes bij de vijver", "Appelbomen"]
    assert '<option value="kosten" selected>' in cheap
    by_title = client.get("/rondes/ter-aa-2027?sorteer=titel").text
    assert titles(by_title) == ["Appelbomen", "Bankjes bij de vijver", "Jeu de boules-baan"]
    newest = client.get("/rondes/ter-aa-2027?sorteer=nieuwste").text
    assert titles(newest) == ["Jeu de boules-baan", "Appelbomen", "Bankjes bij de vijver"]
    # Search looks in the title, the summary and the place, without regard to case.
    found = client.get("/rondes/ter-aa-2027?zoek=DORPSWEIDE&sorteer=titel").text
    assert titles(found) == ["Appelbomen"]
    assert 'value="dorpsweide"' in found and "met de woorden" in found
    nothing = client.get("/rondes/ter-aa-2027?zoek=zwembad").text
    assert titles(nothing) == [] and "Geen plannen gevonden." in nothing
    # An unknown order is the round's own order, not an error.
    assert client.get("/rondes/ter-aa-2027?sorteer=%3Cscript%3E").status_code == 200
    # htmx gets only the list.
    fragment = client.get("/rondes/ter-aa-2027?zoek=bankjes", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="plannen"')
    assert titles(fragment.text) == ["Bankjes bij de vijver"]
