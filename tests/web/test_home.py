from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, connect
from proeftuin.models import Phase
from proeftuin.web.app import create_app
from tests.factories import add_area, add_round

NBSP = "\xa0"


def _demo(db: Database) -> None:
    ter_aa = add_area(db, "ter-aa", "Ter Aa", kind="dorp")
    oost = add_area(db, "centrum-oost", "Centrum-Oost")
    add_area(db, "de-horst", "De Horst")
    add_round(
        db, ter_aa, "ter-aa-2027", "Dorpsbudget Ter Aa 2027", budget=25_000, phase=Phase.INDIENEN
    )
    add_round(
        db,
        oost,
        "oost-2027",
        "Buurtbudget Oost 2027",
        budget=60_000,
        phase=Phase.STEMMEN,
        voting_ends_at=dt.datetime(2027, 3, 2, 23, 30, tzinfo=dt.UTC),
    )
    add_round(db, oost, "oost-2028", "Geheim concept 2028", budget=70_000, phase=Phase.CONCEPT)


def test_home_lists_areas_rounds_phase_and_budget_in_dutch(
    client: TestClient, db: Database
) -> None:
    _demo(db)
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="nl"' in html
    for text in (
        "Ter Aa",
        "Centrum-Oost",
        "De Horst",
        "Dorpsbudget Ter Aa 2027",
        "Buurtbudget Oost 2027",
        "Plannen indienen",
        "Stemmen",
    ):
        assert text in html
    assert f"€{NBSP}25.000" in html
    assert f"€{NBSP}60.000" in html
    # 23:30 UTC on 2 March is 00:30 on 3 March in the Netherlands.
    assert "3 maart 2027" in html
    assert "Hier is nog geen ronde." in html  # De Horst
    assert "Geheim concept 2028" not in html  # moderators' draft
    listed = html[html.index('id="gebieden"') :]
    assert listed.index("Centrum-Oost") < listed.index("De Horst") < listed.index("Ter Aa")


def _nav(html: str) -> str:
    return html[html.index('aria-label="Hoofdmenu"') : html.index("</nav>")]


def test_while_a_round_is_voting_every_page_offers_stemmen_and_home_says_what_is_open(
    client: TestClient, db: Database
) -> None:
    _demo(db)
    html = client.get("/").text
    assert 'href="/stem">Stemmen</a>' in _nav(html)
    assert 'href="/stem">Stemmen</a>' in _nav(client.get("/inloggen").text)
    open_now = html[html.index('id="nu-open"') : html.index("</section>")]
    assert "Buurtbudget Oost 2027" in open_now and "Dorpsbudget Ter Aa 2027" in open_now
    assert "u kunt stemmen tot woensdag 3 maart 2027, 00:30 uur." in open_now
    assert "Geheim concept 2028" not in open_now


def test_without_a_round_in_voting_the_nav_has_no_stemmen(client: TestClient, db: Database) -> None:
    area = add_area(db, "ter-aa", "Ter Aa", kind="dorp")
    add_round(db, area, "ter-aa-2026", "Dorpsbudget 2026", budget=1_000, phase=Phase.GESLOTEN)
    html = client.get("/").text
    assert "Stemmen" not in _nav(html) and 'id="nu-open"' not in html


def test_a_deadline_today_says_vandaag(client: TestClient, db: Database) -> None:
    area = add_area(db, "noord", "Noord")
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)
    add_round(db, area, "noord", "Noord", budget=1_000, phase=Phase.STEMMEN, voting_ends_at=soon)
    local = soon.astimezone(ZoneInfo("Europe/Amsterdam"))
    expected = "vandaag" if local.date() == dt.datetime.now(local.tzinfo).date() else "morgen"
    assert f"u kunt stemmen tot {expected}, " in client.get("/").text


def test_home_in_english(client: TestClient, db: Database) -> None:
    _demo(db)
    html = client.get("/?lang=en").text
    assert '<html lang="en"' in html
    for text in (
        "Submit plans",
        "Voting",
        "€25,000",
        "€60,000",
        "3 March 2027",
        "There is no round here yet.",
        "Participatory budget",
    ):
        assert text in html
    assert "Plannen indienen" not in html


def test_home_filters_on_one_area(client: TestClient, db: Database) -> None:
    _demo(db)
    html = client.get("/?gebied=ter-aa").text
    listed = html[html.index('id="gebieden"') :]
    assert "Dorpsbudget Ter Aa 2027" in listed
    assert "Buurtbudget Oost 2027" not in listed
    assert '<option value="ter-aa" selected>' in html
    # An unknown area shows everything rather than an empty page.
    html = client.get("/?gebied=bestaat-niet").text
    assert "Dorpsbudget Ter Aa 2027" in html and "Buurtbudget Oost 2027" in html


def test_home_without_areas(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Er zijn nog geen wijken of dorpen." in response.text
    assert "Kies uw wijk of dorp" not in response.text  # no filter for nothing


def test_healthz_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


def test_healthz_503_when_the_database_is_gone(settings: Settings, tmp_path) -> None:
    broken = connect(f"sqlite:///{tmp_path / 'missing-folder' / 'proeftuin.db'}")
    app: Starlette = create_app(settings, broken)
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert "Traceback" not in response.text
    broken.dispose()
