from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from proeftuin.db import Database
from proeftuin.web.htmx import hx_redirect, hx_trigger, is_htmx, vary_on_htmx
from proeftuin.web.templating import resource_dir
from tests.factories import add_area
from tests.web.clients import HTMX


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""}
    )


def test_htmx_gets_the_fragment_and_a_browser_the_page(client: TestClient, db: Database) -> None:
    add_area(db, "ter-aa", "Ter Aa", kind="dorp")
    add_area(db, "de-horst", "De Horst")
    page = client.get("/")
    fragment = client.get("/?gebied=ter-aa", headers=HTMX)
    assert page.text.lstrip().startswith("<!doctype html>")
    assert '<div id="gebieden"' in page.text
    assert fragment.text.lstrip().startswith('<div id="gebieden"')
    assert "<html" not in fragment.text and "Ter Aa" in fragment.text
    assert "De Horst" not in fragment.text
    for response in (page, fragment):
        assert "HX-Request" in response.headers["vary"]


@pytest.mark.parametrize("extra", [{"HX-History-Restore-Request": "true"}, {"HX-Boosted": "true"}])
def test_history_restore_and_boosted_requests_get_the_full_page(extra: dict[str, str]) -> None:
    assert is_htmx(_request(HTMX))
    assert not is_htmx(_request(HTMX | extra))
    assert not is_htmx(_request({}))


def test_hx_redirect() -> None:
    htmx = hx_redirect(_request(HTMX), "/plannen/abc")
    assert htmx.status_code == 200 and htmx.headers["hx-redirect"] == "/plannen/abc"
    plain = hx_redirect(_request({}), "/plannen/abc")
    assert plain.status_code == 303 and plain.headers["location"] == "/plannen/abc"
    assert "HX-Request" in plain.headers["vary"]


def test_hx_trigger_merges_events() -> None:
    response = hx_trigger(Response(), "stem-bewaard")
    hx_trigger(response, "melding", {"tekst": "Bewaard"})
    assert json.loads(response.headers["hx-trigger"]) == {
        "stem-bewaard": None,
        "melding": {"tekst": "Bewaard"},
    }
    plain = Response(headers={"HX-Trigger": "a, b"})
    assert json.loads(hx_trigger(plain, "c").headers["hx-trigger"]) == {
        "a": None,
        "b": None,
        "c": None,
    }


def test_vary_keeps_what_is_there() -> None:
    response = vary_on_htmx(vary_on_htmx(Response(headers={"Vary": "Cookie"})))
    assert response.headers["vary"] == "Cookie, HX-Request"


def test_htmx_is_configured_for_our_csp(client: TestClient) -> None:
    html = client.get("/").text
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config["allowEval"] is False  # no 'unsafe-eval' in the CSP
    assert config["includeIndicatorStyles"] is False  # no inline <style>
    assert config["historyCacheSize"] == 0  # nothing of a page left in localStorage
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)  # no inline script
    assert not re.search(r"<[^>]*\sstyle=", html)  # no inline style
    assert not re.search(r"<[^>]*\son[a-z]+=", html)  # no onclick= and the like


def test_every_fragment_is_included_by_a_template() -> None:
    """One markup source: a fragment ``_x.html`` is part of its full page, not a copy of it."""
    root = resource_dir("templates")
    templates = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.html")}
    fragments = [
        name
        for name in templates
        if Path(name).name.startswith("_") and not name.startswith("_macros/")
    ]
    assert fragments
    for fragment in fragments:
        includers = [
            name
            for name, text in templates.items()
            if re.search(r'{%-?\s*include\s+"' + re.escape(fragment) + '"', text)
        ]
        assert includers, f"{fragment} is not included by any page"
