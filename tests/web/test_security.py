from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database
from proeftuin.web.app import SESSION_COOKIE, create_app
from proeftuin.web.assets import load_manifest
from proeftuin.web.security import CSRFMiddleware, client_ip, local_path, origin_of
from proeftuin.web.subscriptions import ONE_CLICK_PATHS

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EXPECTED_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: http://127.0.0.1:9; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def token_of(client: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert match
    return match.group(1)


def assert_security_headers(response, production: bool = False) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "camera=()" in response.headers["permissions-policy"]
    assert ("strict-transport-security" in response.headers) is production


def crashing_app(settings: Settings, db: Database) -> Starlette:
    app = create_app(settings, db)

    async def crash(request: Request) -> PlainTextResponse:
        raise RuntimeError("secret internals")

    app.router.routes.append(Route("/crash", crash))
    return app


# --- headers ---------------------------------------------------------------------------------


def test_security_headers_on_every_kind_of_response(settings: Settings, db: Database) -> None:
    with TestClient(crashing_app(settings, db), raise_server_exceptions=False) as client:
        responses = {
            "page": client.get("/"),
            "404": client.get("/bestaat-niet"),
            "static": client.get("/static/" + load_manifest()["resident.css"]),
            "static 404": client.get("/static/bestaat-niet.css"),
            "csrf 403": client.post("/taal", data={"lang": "en"}),
            "405": client.get("/taal"),
            "500": client.get("/crash"),
        }
    assert [r.status_code for r in responses.values()] == [200, 404, 200, 404, 403, 405, 500]
    for kind, response in responses.items():
        try:
            assert_security_headers(response)
        except AssertionError as error:
            raise AssertionError(f"{kind}: {error}") from None


def test_hsts_and_secure_cookie_only_in_production(settings: Settings, db: Database) -> None:
    production = dataclasses.replace(settings, env="production")
    with TestClient(crashing_app(production, db), raise_server_exceptions=False) as client:
        page, crash = client.get("/"), client.get("/crash")
    assert_security_headers(page, production=True)
    assert_security_headers(crash, production=True)
    assert "secure" in page.headers["set-cookie"].lower()


# --- session cookie --------------------------------------------------------------------------


def test_session_cookie_is_named_httponly_lax_short_and_holds_only_nonces(
    client: TestClient,
) -> None:
    response = client.get("/?lang=en")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "max-age=43200", "path=/"} <= attributes
    assert "secure" not in attributes  # http in tests; production adds it
    payload = cookie.split(";")[0].split("=", 1)[1].split(".")[0]
    data = json.loads(base64.b64decode(payload))
    assert set(data) == {"csrf", "lang"}


# --- CSRF ------------------------------------------------------------------------------------


def test_post_without_token_is_refused_with_a_dutch_page(client: TestClient) -> None:
    client.get("/")
    response = client.post("/taal", data={"lang": "en", "next": "/"}, follow_redirects=False)
    assert response.status_code == 403
    assert "Dit formulier is verlopen" in response.text
    assert client.cookies.get(SESSION_COOKIE)  # the session existed: the token was missing


def test_post_with_wrong_token_is_refused(client: TestClient) -> None:
    token_of(client)
    response = client.post(
        "/taal", data={"lang": "en", "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert response.status_code == 403


def test_post_with_a_token_from_another_session_is_refused(app: Starlette) -> None:
    with TestClient(app) as other, TestClient(app) as client:
        stolen = token_of(other)
        token_of(client)
        response = client.post(
            "/taal", data={"lang": "en", "csrf_token": stolen}, follow_redirects=False
        )
    assert response.status_code == 403


def test_post_without_a_session_is_refused(app: Starlette) -> None:
    with TestClient(app) as client:
        response = client.post(
            "/taal", data={"lang": "en", "csrf_token": "anything"}, follow_redirects=False
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {"Referer": "https://evil.example/form"},
    ],
)
def test_post_from_a_foreign_origin_is_refused_even_with_the_token(
    client: TestClient, headers: dict[str, str]
) -> None:
    token = token_of(client)
    response = client.post(
        "/taal", data={"lang": "en", "csrf_token": token}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver"},
        {"Origin": "http://TESTSERVER:80"},
        {"Referer": "http://testserver/some/page"},
    ],
)
def test_post_with_the_token_from_our_origin_passes(
    client: TestClient, headers: dict[str, str]
) -> None:
    token = token_of(client)
    response = client.post(
        "/taal",
        data={"lang": "en", "next": "/", "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_token_in_the_htmx_header_passes(client: TestClient) -> None:
    html = client.get("/").text
    hx_headers = json.loads(re.search(r"hx-headers='([^']+)'", html).group(1))
    response = client.post("/taal", data={"lang": "en"}, headers=hx_headers, follow_redirects=False)
    assert response.status_code == 303


def test_multipart_form_token_passes_and_the_route_still_reads_the_form(
    client: TestClient,
) -> None:
    token = token_of(client)
    response = client.post(
        "/taal",
        data={"lang": "en", "next": "/?gebied=x", "csrf_token": token},
        files={"bijlage": ("a.txt", b"hallo", "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/?gebied=x"  # the route saw the replayed body


def test_json_body_without_header_is_refused(client: TestClient) -> None:
    token = token_of(client)
    response = client.post(
        "/taal", json={"lang": "en", "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 403


def _walk(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, set[str] | None]]:
    found: list[tuple[str, set[str] | None]] = []
    for route in routes:
        if isinstance(route, Route):
            found.append((prefix + route.path, route.methods))
        elif isinstance(route, Mount):
            inner = route.app
            if isinstance(inner, Router):
                found += _walk(inner.routes, prefix + route.path)
            else:  # any other ASGI app takes every method
                found.append((prefix + route.path + "/x", None))
    return found


def test_every_state_changing_route_is_csrf_protected(app: Starlette) -> None:
    """Walks every route of the real app; each one that accepts a state-changing method must
    refuse it without a token. A route added later is covered without touching this test."""
    csrf = [m for m in app.user_middleware if m.cls is CSRFMiddleware]
    assert len(csrf) == 1
    # The one exemption: the one-click stop of mail (RFC 8058), which a mail program POSTs
    # without a session; the secret token in its address allows the stop and nothing else.
    exempt = csrf[0].kwargs.get("exempt_paths", frozenset())
    assert exempt == ONE_CLICK_PATHS == frozenset({"/berichten/stoppen"})

    checked = []
    with TestClient(app) as client:
        client.get("/")  # a session with a token exists; the request just does not carry it
        for path, methods in _walk(app.routes):
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            for method in sorted(UNSAFE if methods is None else methods & UNSAFE):
                if path in exempt:
                    continue
                response = client.request(method, concrete, data={"x": "1"}, follow_redirects=False)
                assert response.status_code == 403, (method, path, response.status_code)
                checked.append((method, path))
    assert ("POST", "/taal") in checked  # the walk found the real form routes


# --- body limit ------------------------------------------------------------------------------


def test_body_over_the_limit_is_refused_with_413_in_dutch(settings: Settings, db: Database) -> None:
    small = dataclasses.replace(settings, max_body_bytes=1000)
    with TestClient(create_app(small, db)) as client:
        token = token_of(client)
        too_big = client.post(
            "/taal",
            data={"lang": "en", "csrf_token": token, "pad": "x" * 2000},
            follow_redirects=False,
        )
        fits = client.post(
            "/taal",
            data={"lang": "en", "csrf_token": token, "pad": "x" * 100},
            follow_redirects=False,
        )
    assert too_big.status_code == 413
    assert "Wat u verstuurt is te groot" in too_big.text
    assert_security_headers(too_big)
    assert fits.status_code == 303


def test_streamed_body_without_length_is_counted(settings: Settings, db: Database) -> None:
    small = dataclasses.replace(settings, max_body_bytes=1000)
    with TestClient(create_app(small, db)) as client:
        token = token_of(client)

        def chunks():
            yield f"lang=en&csrf_token={token}&pad=".encode()
            for _ in range(20):
                yield b"x" * 100

        response = client.post(
            "/taal",
            content=chunks(),
            follow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413


# --- client address and redirects ------------------------------------------------------------


def _request(app: Starlette, peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": (peer, 1234),
        "app": app,
        "query_string": b"",
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ((), "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # no proxy: the header is ignored
        (("10.0.0.1",), "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # peer is no proxy
        (("10.0.0.1",), "10.0.0.1", "198.51.100.1", "198.51.100.1"),
        (("10.0.0.1",), "10.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # forged left part
        (("10.0.0.0/8",), "10.0.0.1", "198.51.100.1, 10.0.0.2", "198.51.100.1"),  # two proxies
        (("10.0.0.1",), "10.0.0.1", "garbage", "10.0.0.1"),
        (("10.0.0.1",), "10.0.0.1", None, "10.0.0.1"),
        (("::1",), "::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_ip(settings: Settings, db: Database, proxies, peer, forwarded, expected) -> None:
    app = create_app(dataclasses.replace(settings, trusted_proxies=proxies), db)
    assert client_ip(_request(app, peer, forwarded)) == expected


def test_a_bad_trusted_proxy_setting_fails_at_start(settings: Settings, db: Database) -> None:
    with pytest.raises(ValueError):
        create_app(dataclasses.replace(settings, trusted_proxies=("not-an-address",)), db)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/", "/"),
        ("/plannen?x=1", "/plannen?x=1"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("plannen", "/"),
        (None, "/"),
        ("/a\nb", "/"),
    ],
)
def test_local_path_never_leaves_the_site(value, expected) -> None:
    assert local_path(value) == expected


def test_origin_of() -> None:
    assert (
        origin_of("https://Burgerbegroting.Example.nl:443/x?y")
        == "https://burgerbegroting.example.nl"
    )
    assert origin_of("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert origin_of("null") == ""


def test_a_refused_form_tells_the_developer_why_in_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The page only says the form expired; the log names the cause and, for the origin, the
    setting to change (a newcomer serving on another port got a 403 on every form)."""
    token = token_of(client)
    form = {"lang": "en", "csrf_token": token}
    cases = [
        ({"Origin": "http://testserver:8765"}, form, "http://testserver:8765"),
        ({}, {"lang": "en"}, "no CSRF token"),
        ({}, {"lang": "en", "csrf_token": "x" * 40}, "not this session's"),
    ]
    for headers, data, why in cases:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="proeftuin.web.security"):
            response = client.post("/taal", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403
        [record] = [r for r in caplog.records if r.name == "proeftuin.web.security"]
        assert why in record.getMessage()
        if "Origin" in headers:
            assert "PROEFTUIN_BASE_URL is 'http://testserver'" in record.getMessage()
