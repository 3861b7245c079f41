"""Operations on the web: /readyz, and the access log that keeps personal data out."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from proeftuin import migrate
from proeftuin.config import ConfigError, Settings, load_settings
from proeftuin.db import Database, connect
from proeftuin.web.app import create_app

CODE = "ABCD-EFGH-JKMN"


def test_readyz_says_ready_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.text == "ready"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readyz_refuses_traffic_while_the_schema_is_behind(
    settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    database = connect(url)
    with TestClient(create_app(dataclasses.replace(settings, database_url=url), database)) as c:
        response = c.get("/readyz")
        assert c.get("/healthz").status_code == 200  # alive, just not ready
    database.dispose()
    assert response.status_code == 503
    assert "schema" in response.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readyz_refuses_traffic_without_a_database(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'proeftuin.db'}"
    database = connect(url)
    with TestClient(create_app(dataclasses.replace(settings, database_url=url), database)) as c:
        response = c.get("/readyz")
    database.dispose()
    assert response.status_code == 503
    assert response.text == "database unavailable"


# -- The access log --------------------------------------------------------------------------


def log_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def logged_client(settings: Settings, db: Database) -> TestClient:
    app = create_app(dataclasses.replace(settings, access_log=True), db)

    async def boom(request: Request) -> Response:
        raise RuntimeError("broken on purpose")

    app.router.routes.append(Route("/kapot", boom))
    return TestClient(app, raise_server_exceptions=False)


def test_each_request_is_one_json_line_without_personal_data(
    logged_client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    with logged_client as client:
        client.cookies.set("proeftuin_session", "cookie-value-that-must-not-be-logged")
        client.get(f"/stem?code={CODE}", headers={"X-Forwarded-For": "203.0.113.9"})
        client.post("/stem", data={"code": CODE, "csrf_token": "x"})
        client.get("/kapot")
    output = capsys.readouterr().out
    lines = log_lines(output)
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/stem", 200),
        ("POST", "/stem", 403),  # no CSRF token in the session
        ("GET", "/kapot", 500),
    ]
    for line in lines:
        assert set(line) == {"time", "type", "method", "path", "status", "duration_ms"}
        assert isinstance(line["duration_ms"], float)
    for secret in (CODE, "ABCDEFGHJKMN", "cookie-value", "203.0.113.9", "testclient", "code="):
        assert secret not in output


def test_no_access_log_when_turned_off(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/")
    assert log_lines(capsys.readouterr().out) == []


def test_access_log_setting(tmp_path: Path) -> None:
    base = {"PROEFTUIN_INSTANCE_PATH": str(tmp_path)}
    assert load_settings(base).access_log is True
    assert load_settings({**base, "PROEFTUIN_ACCESS_LOG": "0"}).access_log is False
    assert load_settings({**base, "PROEFTUIN_ACCESS_LOG": "1"}).access_log is True
    with pytest.raises(ConfigError, match="PROEFTUIN_ACCESS_LOG"):
        load_settings({**base, "PROEFTUIN_ACCESS_LOG": "json please"})
