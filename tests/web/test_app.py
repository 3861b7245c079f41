from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database
from proeftuin.errors import (
    Invalid,
    InvalidForm,
    NotAllowed,
    NotFound,
    PhaseClosed,
    TooManyAttempts,
)
from proeftuin.web.app import create_app
from proeftuin.web.templating import resource_dir

ROOT = Path(__file__).resolve().parents[2]


def _raise(error: Exception):
    async def endpoint(request: Request) -> Response:
        raise error

    return endpoint


@pytest.fixture
def failing(settings: Settings, db: Database) -> Starlette:
    """The real app plus routes that raise what services raise."""
    app = create_app(settings, db)
    app.router.routes.extend(
        [
            Route("/not-found", _raise(NotFound())),
            Route("/not-allowed", _raise(NotAllowed())),
            Route("/invalid", _raise(Invalid("title", "Geef uw plan een titel."))),
            Route(
                "/invalid-form",
                _raise(
                    InvalidForm(
                        [
                            Invalid("title", "Geef uw plan een titel."),
                            Invalid(
                                "cost",
                                "Vul een bedrag van minstens {minimum} euro in.",
                                minimum=100,
                            ),
                        ]
                    )
                ),
            ),
            Route("/too-many", _raise(TooManyAttempts(retry_after=600))),
            Route("/closed", _raise(PhaseClosed("Stemmen kan niet meer."))),
            Route("/crash", _raise(RuntimeError("database password is hunter2"))),
        ]
    )
    return app


@pytest.fixture
def failing_client(failing: Starlette):
    with TestClient(failing, raise_server_exceptions=False) as client:
        yield client


def test_routes_come_from_each_web_module(app: Starlette) -> None:
    names = {getattr(route, "name", None) for route in app.routes}
    assert {"home", "healthz", "switch_language"} <= names  # static files: web/assets.py


@pytest.mark.parametrize(
    ("path", "status", "dutch"),
    [
        ("/bestaat-niet", 404, "Pagina niet gevonden"),
        ("/not-found", 404, "Deze pagina bestaat niet."),
        ("/not-allowed", 403, "U heeft geen toegang tot deze pagina."),
        ("/invalid", 422, "Geef uw plan een titel."),
        ("/closed", 409, "Stemmen kan niet meer."),
        ("/too-many", 429, "Probeer het over 10 minuten opnieuw."),
        ("/crash", 500, "Er ging bij ons iets mis."),
    ],
)
def test_errors_become_dutch_pages(failing_client: TestClient, path, status, dutch) -> None:
    response = failing_client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="nl"' in response.text
    assert dutch in response.text


def test_error_pages_follow_the_chosen_language(failing_client: TestClient) -> None:
    failing_client.get("/?lang=en")
    assert "Page not found" in failing_client.get("/bestaat-niet").text
    assert "You do not have access to this page." in failing_client.get("/not-allowed").text
    assert "Something went wrong" in failing_client.get("/crash").text
    assert "Please try again in 10 minutes." in failing_client.get("/too-many").text


def test_a_crash_never_shows_a_traceback(failing_client: TestClient) -> None:
    response = failing_client.get("/crash")
    assert response.status_code == 500
    for leak in ("Traceback", "RuntimeError", "hunter2", ".py"):
        assert leak not in response.text


def test_too_many_attempts_says_when_to_retry(failing_client: TestClient) -> None:
    response = failing_client.get("/too-many")
    assert response.headers["retry-after"] == "600"


def test_invalid_form_lists_every_message(failing_client: TestClient) -> None:
    html = failing_client.get("/invalid-form").text
    assert "Niet alles is goed ingevuld." in html
    assert "Geef uw plan een titel." in html
    assert "Vul een bedrag van minstens 100 euro in." in html


def test_method_not_allowed_keeps_the_allow_header(failing_client: TestClient) -> None:
    response = failing_client.get("/taal")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "Dit kan hier niet" in response.text


def test_htmx_errors_go_to_the_message_region(failing_client: TestClient) -> None:
    response = failing_client.get("/not-allowed", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#meldingen"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in response.text
    assert "U heeft geen toegang tot deze pagina." in response.text
    assert "HX-Request" in response.headers["vary"]


def test_lifespan_connects_and_disposes_its_own_database(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        database = app.state.database
        pool = database.engine.pool
    assert database.engine.pool is not pool  # Engine.dispose() replaced the pool at shutdown


def test_a_given_database_stays_open_after_shutdown(settings: Settings, db: Database) -> None:
    app = create_app(settings, db)
    pool = db.engine.pool
    with TestClient(app) as client:
        client.get("/healthz")
    assert app.state.database is db
    assert db.engine.pool is pool


def test_templates_and_static_come_from_the_checkout_when_not_packaged() -> None:
    # In a wheel they are proeftuin/_templates and proeftuin/_static; this is an editable install.
    assert resource_dir("templates") == ROOT / "templates"
    assert resource_dir("static") == ROOT / "static"
