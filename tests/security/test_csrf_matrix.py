"""The CSRF matrix, on every state-changing route the app has.

The routes come from the app itself; the form for each comes from the pages (what a real browser
would send), so every forged request below would have done something had it been let through:
the last test sends the same requests properly and shows that they get past the check.

For every route and every way a forged request can arrive (no token, a wrong token, another
session's token, a foreign Origin or Referer, no session at all) the answer is 403 with the Dutch
refusal and the database is unchanged; GET (and HEAD) on the same address with the form in the
query string change nothing either; PUT, PATCH and DELETE exist nowhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from proeftuin.web.security import CSRF_FIELD
from proeftuin.web.subscriptions import ONE_CLICK_PATHS
from tests.security.conftest import (
    HTMX,
    Client,
    Endpoint,
    Form,
    World,
    changed_tables,
    crawl,
    fill,
    routes,
    sign_in,
    snapshot,
)

REFUSAL = "Dit formulier is verlopen of kwam niet van deze website"
EVIL = "https://evil.example"


@dataclass(frozen=True)
class Target:
    endpoint: Endpoint
    method: str
    url: str
    form: dict[str, str]
    owner: str  # the role whose session sends it


Forgery = Callable[[Client, Target, str], httpx.Response]


def _send(
    client: Client, target: Target, form: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    return client.request(
        target.method, target.url, data=form, headers=headers, follow_redirects=False
    )


def no_token(client: Client, target: Target, other_token: str) -> httpx.Response:
    return _send(client, target, target.form, {})


def wrong_token(client: Client, target: Target, other_token: str) -> httpx.Response:
    return _send(client, target, {**target.form, CSRF_FIELD: secrets.token_urlsafe(32)}, {})


def empty_token(client: Client, target: Target, other_token: str) -> httpx.Response:
    return _send(client, target, {**target.form, CSRF_FIELD: ""}, {})


def another_sessions_token(client: Client, target: Target, other_token: str) -> httpx.Response:
    return _send(client, target, {**target.form, CSRF_FIELD: other_token}, {})


def wrong_header_token(client: Client, target: Target, other_token: str) -> httpx.Response:
    # As htmx sends it; the form's own (right) token must not rescue a wrong header.
    headers = {**HTMX, "X-CSRF-Token": other_token}
    return _send(client, target, {**target.form, CSRF_FIELD: client.csrf()}, headers)


def foreign_origin(client: Client, target: Target, other_token: str) -> httpx.Response:
    form = {**target.form, CSRF_FIELD: client.csrf()}
    return _send(client, target, form, {"Origin": EVIL})


def null_origin(client: Client, target: Target, other_token: str) -> httpx.Response:
    return _send(client, target, {**target.form, CSRF_FIELD: client.csrf()}, {"Origin": "null"})


def foreign_referer(client: Client, target: Target, other_token: str) -> httpx.Response:
    form = {**target.form, CSRF_FIELD: client.csrf()}
    return _send(client, target, form, {"Referer": f"{EVIL}/formulier.html"})


def sibling_origin(client: Client, target: Target, other_token: str) -> httpx.Response:
    form = {**target.form, CSRF_FIELD: client.csrf()}
    return _send(client, target, form, {"Origin": "http://testserver.evil.example"})


FORGERIES: dict[str, Forgery] = {
    "no token": no_token,
    "wrong token": wrong_token,
    "empty token": empty_token,
    "another session's token": another_sessions_token,
    "wrong token in the htmx header": wrong_header_token,
    "foreign Origin": foreign_origin,
    "Origin null": null_origin,
    "foreign Referer": foreign_referer,
    "look-alike Origin": sibling_origin,
}


def owner_of(endpoint: Endpoint) -> str:
    return "admin" if endpoint.path.startswith("/beheer") else "resident"


def targets(world: World, forms: dict[str, dict[str, Form]]) -> list[Target]:
    """Every (route, unsafe method), filled with seeded objects and its form from the pages;
    but the one-click stop of mail (RFC 8058), which a mail program POSTs without a session:
    tests/web/test_subscriptions.py shows it stops mail and does nothing else."""
    found = []
    for endpoint in routes(world.app):
        if endpoint.path in ONE_CLICK_PATHS:
            continue
        for method in sorted(endpoint.unsafe):
            owner = owner_of(endpoint)
            url = fill(endpoint.path, world.preferred(endpoint))
            form = forms[owner].get(f"{method} {url}")
            data = form.data() if form is not None else {"veld": "waarde"}
            found.append(Target(endpoint, method, url, data, owner))
    return found


def page_forms(world: World, clients: dict[str, Client]) -> dict[str, dict[str, Form]]:
    """The forms each owner finds on the pages of its part of the site (every route, filled)."""
    pages = [
        fill(endpoint.path, world.preferred(endpoint))
        for endpoint in routes(world.app)
        if "GET" in endpoint.methods
    ]
    found = {}
    for role, client in clients.items():
        mine = [p for p in pages if p.startswith("/beheer") == (role != "resident")]
        found[role] = crawl(client, mine, limit=len(mine)).forms
    return found


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    return {role: world.client(role) for role in ("resident", "admin")}


def still_signed_in(client: Client) -> bool:
    return bool(client.session_data().get("resident" if client.role == "resident" else "staff"))


def test_csrf_matrix_on_every_state_changing_route(
    world: World, clients: dict[str, Client]
) -> None:
    all_targets = targets(world, page_forms(world, clients))
    with_forms = [t for t in all_targets if t.form != {"veld": "waarde"}]
    assert len(with_forms) >= len(all_targets) // 2, "most forged forms are real forms"
    forged(world, clients, all_targets)
    fetched_instead(world, clients, all_targets)
    other_methods(world, clients["admin"])
    sent_properly(world, clients, all_targets)


def forged(world: World, clients: dict[str, Client], all_targets: list[Target]) -> None:
    """Every way a forged request can arrive: 403 with the Dutch refusal, nothing changed."""
    other = world.client("moderator").csrf()  # a valid token, of someone else's session
    stranger = world.client("anonymous")
    state = snapshot(world.db)
    for target in all_targets:
        client = clients[target.owner]
        for name, forge in FORGERIES.items():
            response = forge(client, target, other)
            label = f"{target.method} {target.url} with {name}"
            assert response.status_code == 403, f"{label}: {response.status_code}"
            assert REFUSAL in response.text, label
        # Nobody signed in at all (no cookie): a token alone means nothing.
        stranger.cookies.clear()
        response = _send(stranger, target, {**target.form, CSRF_FIELD: other}, {})
        assert response.status_code == 403, f"{target.url} without a session"
        after = snapshot(world.db)
        changed = changed_tables(state, after)
        assert not changed, f"{target.method} {target.url}: forged requests changed {changed}"
        assert still_signed_in(client), f"{target.url}: a forged request ended the session"
        state = after
    paths = {t.url for t in all_targets}
    assert {"/taal", "/stem/uitbrengen", "/beheer/uitloggen", "/beheer/medewerkers"} <= paths


def fetched_instead(world: World, clients: dict[str, Client], all_targets: list[Target]) -> None:
    """Every state-changing address fetched with GET or HEAD, its form in the query string (as
    a link in a mail or an <img src> would), by the signed-in owner: nothing changes."""
    before = snapshot(world.db)
    statuses: set[int] = set()
    for target in all_targets:
        client = clients[target.owner]
        query = {**target.form, CSRF_FIELD: client.csrf()}
        for method in ("GET", "HEAD"):
            for headers in ({}, HTMX):
                response = client.request(
                    method, target.url, params=query, headers=headers, follow_redirects=False
                )
                assert response.status_code < 500, f"{method} {target.url}"
                statuses.add(response.status_code)
        if not still_signed_in(client):
            sign_in(client, target.owner, world.settings)
    changed = changed_tables(before, snapshot(world.db))
    assert not changed, f"GET or HEAD on a state-changing route changed {changed}"
    assert 405 in statuses  # a POST-only route says so


def other_methods(world: World, client: Client) -> None:
    """PUT, PATCH and DELETE, with a valid token: no route takes them."""
    before = snapshot(world.db)
    urls = {fill(endpoint.path, world.preferred(endpoint)) for endpoint in routes(world.app)}
    for url in sorted(urls):
        for method in ("PUT", "PATCH", "DELETE"):
            response = client.submit(url, {"veld": "waarde"}, method=method)
            assert response.status_code == 405, f"{method} {url}: {response.status_code}"
    assert not changed_tables(before, snapshot(world.db))


def sent_properly(world: World, clients: dict[str, Client], all_targets: list[Target]) -> None:
    """The control: sent properly (the session's token, our Origin), each of the requests
    above reaches its route, and some of them change the database."""
    before = snapshot(world.db)
    for target in all_targets:
        client = clients[target.owner]
        response = client.submit(target.url, target.form, method=target.method)
        label = f"{target.method} {target.url}"
        assert response.status_code < 500, label
        assert REFUSAL not in response.text, f"{label} was refused with the right token"
        if not still_signed_in(client):
            sign_in(client, target.owner, world.settings)  # it signed out, say
    assert changed_tables(before, snapshot(world.db)), "the matrix detects a change"


def test_htmx_refusals_go_to_the_message_region(world: World, clients: dict[str, Client]) -> None:
    response = clients["admin"].post(
        "/beheer/rondes",
        data={"title": "Nieuwe ronde"},
        headers={**HTMX, "X-CSRF-Token": "fout"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#meldingen"
    assert REFUSAL in response.text
