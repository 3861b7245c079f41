"""The security headers on every response of a crawl of the whole site.

Every GET route, its path parameters filled from the seeded objects, is fetched as anonymous, a
resident, a moderator and an admin; every page on the site they link to is fetched too (up to a
bound); every route once more as htmx asks for a fragment, and once with HEAD; and the error
pages (404, 405, 413, 422, 429) on top. The client checks each response as it arrives
(conftest.check_response): a CSP without inline or eval'd script, frame-ancestors 'none',
nosniff, a Referrer-Policy, X-Frame-Options, no HSTS outside production, cookie flags. A second
app, built as in production, must add HSTS and mark its cookie Secure.

The crawl also proves that no GET changes the database.
"""

from __future__ import annotations

from collections import Counter

import pyotp
import pytest
from sqlalchemy import update

from proeftuin.db import transact
from proeftuin.models import StaffUser
from proeftuin.web.results import DOWNLOADS
from tests.security.conftest import (
    ADMIN_EMAIL,
    HTMX,
    PASSWORD,
    ROLES,
    STAFF_LOGIN,
    Client,
    World,
    changed_tables,
    check_response,
    crawl,
    fill,
    routes,
    seeds,
    sign_in,
    snapshot,
)

FOLLOWED = 150  # pages found through links, per role, on top of every route
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def error_pages(world: World, client: Client) -> None:
    """Provoke each kind of refusal once, as this client."""
    client.get("/bestaat-niet")
    client.get("/rondes/bestaat-niet/uitslag")
    client.get("/static/css/bestaat-niet.css")
    client.get("/taal")  # POST only: 405
    client.options("/")
    too_big = b"x" * (world.settings.max_body_bytes + 1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/taal", content=too_big, headers=form).status_code == 413
    broken = {"Content-Type": "multipart/form-data; boundary=grens"}
    body = b"--grens\r\nContent-Type: text/plain\r\n\r\nx\r\n--grens--\r\n"  # no name
    assert client.post("/taal", content=body, headers=broken).status_code == 400
    invalid = {
        "anonymous": ("/inloggen", {"email": "geen-adres"}),
        "resident": ("/profiel", {"display_name": "", "postcode": ""}),
        "moderator": ("/beheer/rondes", {"title": ""}),
        "admin": ("/beheer/gebieden", {"name": ""}),
    }[client.role]
    response = client.submit(*invalid)
    assert response.status_code == 422, response.text
    if client.role == "anonymous":
        for _ in range(11):
            response = client.submit("/stem", {"code": "AAAA-BBBB-CCCC"})
        assert response.status_code == 429


def test_every_response_of_a_crawl_carries_the_security_headers(world: World) -> None:
    clients = [world.client(role) for role in ROLES]
    before = snapshot(world.db)
    statuses: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    for client in clients:
        every_route = seeds(world, per_round=1)
        crawl(client, every_route, limit=len(every_route) + FOLLOWED)
        for endpoint in routes(world.app):
            if "GET" in endpoint.methods:
                url = fill(endpoint.path, world.preferred(endpoint))
                client.get(url, headers=HTMX, follow_redirects=False)
        for url in ("/", f"/rondes/{world.voting_slug}", "/beheer", "/api/v1/rounds"):
            client.head(url, follow_redirects=False)
        error_pages(world, client)
        for response in client.responses:  # each was checked on arrival; counted here
            statuses[response.status_code] += 1
            kinds[response.headers.get("content-type", "").split(";")[0]] += 1
    # Only the attempts at wrong codes and the invalid forms wrote anything.
    changed = set(changed_tables(before, snapshot(world.db)))
    assert changed <= {"rate_limit"}, f"a GET changed {changed}"
    assert sum(statuses.values()) > 800
    assert {200, 303, 400, 403, 404, 405, 409, 413, 422, 429} <= set(statuses), statuses
    assert {"text/html", "text/css", "application/json", "text/csv", "text/plain"} <= set(kinds)
    assert {"text/javascript", "application/javascript"} & set(kinds), kinds


def test_a_first_visit_to_a_cached_page_is_not_publicly_cacheable(world: World) -> None:
    """The results page and the open data may be kept by shared caches; the visit that starts a
    session gets a cookie, and a cache must never hand that to the next visitor."""
    for url in (f"/rondes/{world.published_slug}/uitslag", "/api/v1/rounds"):
        with Client(world.app) as client:  # no cookie yet
            response = client.get(url)
            check_response(response)
            assert response.status_code == 200
    public = (f"/rondes/{world.published_slug}/uitslag/{DOWNLOADS['csv']}", "/api/v1/rounds")
    for url in public:
        with Client(world.app) as client:  # "?lang=en" is kept in the session: a cookie is set
            response = client.get(url, params={"lang": "en"})
            assert response.status_code == 200 and "set-cookie" in response.headers
            cache = response.headers["cache-control"]
            assert "public" not in cache and "private" in cache, cache


@sqlite_only
def test_production_adds_hsts_and_secure_cookies(production_world: World) -> None:
    """Headers do not depend on the database: SQLite only. Every response of a crawl as
    anonymous, moderator and admin (with a second factor, as production requires) carries HSTS,
    and every cookie is Secure (checked on arrival with ``production=True``)."""
    world = production_world
    secret = pyotp.random_base32()
    transact(
        world.db,
        lambda s: s.execute(
            update(StaffUser).where(StaffUser.email == ADMIN_EMAIL).values(totp_secret=secret)
        ),
    )
    count = 0
    for role in ("anonymous", "moderator", "admin"):
        client = Client(world.app, production=True, base_url="https://testserver")
        client.__enter__()
        world.clients.append(client)
        client.role = role
        if role == "moderator":
            sign_in(client, role, world.settings)
        elif role == "admin":
            client.get(STAFF_LOGIN)
            form = {"email": ADMIN_EMAIL, "password": PASSWORD, "totp": pyotp.TOTP(secret).now()}
            response = client.submit(STAFF_LOGIN, form)
            assert response.status_code == 303, response.text
            assert "secure" in response.headers["set-cookie"].lower()
        pages = [
            fill(endpoint.path, world.preferred(endpoint))
            for endpoint in routes(world.app)
            if "GET" in endpoint.methods
        ]
        crawl(client, pages, limit=len(pages) + 50)
        error_pages(world, client)
        count += len(client.responses)
        assert all("strict-transport-security" in r.headers for r in client.responses)
    assert count > 200
