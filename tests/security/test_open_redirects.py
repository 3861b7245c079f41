"""Open redirects. Every place that takes a ``next`` (found on the pages: links
with ``?next=`` and forms with a ``next`` field, as every role sees them), given an address on
another site in each way a browser would follow one, sends the visitor somewhere on this site:
straight away, after signing in (staff, and residents through the mailed link), and with htmx.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import select

from proeftuin.db import read
from proeftuin.models import OutboxMail
from tests.security.conftest import (
    HTMX,
    MODERATOR_EMAIL,
    PASSWORD,
    STAFF_LOGIN,
    Client,
    World,
    crawl,
    form_on,
    redirect_target,
    resident_link_token,
    seeds,
)

EVIL = [
    "//evil.example",
    "///evil.example/",
    "https://evil.example",
    "HTTPS://evil.example/pad",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",  # browsers drop tabs and newlines from addresses
    "/\n/evil.example",
    " //evil.example",
    "http:evil.example",
    "https:/\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example@testserver",
    "/%2F%2Fevil.example",
    "evil.example",
]


def lands_on(base: str, target: str) -> str:
    """Where a browser goes for this Location: tabs and newlines dropped, backslashes read as
    slashes, leading spaces and control characters stripped (the WHATWG URL standard)."""
    cleaned = re.sub(r"[\t\n\r]", "", target).lstrip("".join(map(chr, range(33))))
    if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", cleaned) or cleaned.lower().startswith("http"):
        cleaned = cleaned.replace("\\", "/")
    return urljoin(base, cleaned)


def assert_stays(base: str, response: httpx.Response, label: str) -> None:
    target = redirect_target(response)
    assert response.status_code < 500, label
    if target is None:
        return
    where = urlsplit(lands_on(base, target))
    assert where.scheme in ("http", "https"), f"{label}: to {target!r}"
    assert where.netloc == urlsplit(base).netloc, f"{label}: to {target!r} ({where.netloc})"


def next_fields(html: str) -> list[str]:
    return re.findall(r'name="next"\s+value="([^"]*)"', html)


@pytest.fixture
def places(world: World) -> dict[str, tuple[list[str], list[tuple[str, dict[str, str]]]]]:
    """Per role: the pages with ``?next=`` links, and the forms (action, fields) with a
    ``next`` field."""
    found = {}
    for role in ("anonymous", "resident", "moderator"):
        client = world.client(role)
        every = seeds(world, per_round=1)
        staff = role == "moderator"
        mine = (
            every if role == "anonymous" else [u for u in every if u.startswith("/beheer") == staff]
        )
        result = crawl(client, mine, limit=len(mine) + 50)
        links = sorted(
            {
                urlsplit(url).path
                for url in result.responses
                if any(name == "next" for name, _ in parse_qsl(urlsplit(url).query))
            }
        )
        forms = [
            (urlsplit(form.action).path, form.data())
            for form in result.forms.values()
            if form.method == "POST" and "next" in form.data()
        ]
        found[role] = (links, forms)
    return found


def test_every_next_parameter_stays_on_the_site(
    world: World, places: dict[str, tuple[list[str], list[tuple[str, dict[str, str]]]]]
) -> None:
    checked: set[str] = set()
    for role, (links, forms) in places.items():
        client = world.client(role)
        base = str(client.base_url)
        for path in links:
            for evil in EVIL:
                for headers in ({}, HTMX):
                    response = client.get(
                        path, params={"next": evil}, headers=headers, follow_redirects=False
                    )
                    assert_stays(base, response, f"{role} GET {path}?next={evil!r}")
                    for shown in next_fields(response.text):
                        assert_stays(
                            base,
                            httpx.Response(303, headers={"location": _unescape(shown)}),
                            f"{role} GET {path}: the form's next {shown!r}",
                        )
                checked.add(f"GET {path}")
        for action, data in forms:
            for evil in EVIL:
                for htmx in (False, True):
                    response = client.submit(action, {**data, "next": evil}, htmx=htmx)
                    assert_stays(base, response, f"{role} POST {action} next={evil!r}")
                checked.add(f"POST {action}")
    assert {"GET /inloggen", "POST /taal", "GET /beheer/inloggen"} <= checked, checked
    assert any(c.startswith("POST /plannen/") for c in checked), "the support form was found"


def _unescape(value: str) -> str:
    return (
        value.replace("&amp;", "&")
        .replace("&#34;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )


def test_signing_in_never_leads_off_the_site(world: World) -> None:
    """Through the whole sign-in: the staff form, and the resident's mail link (where ``next``
    travels inside the signed link)."""
    for n, evil in enumerate(EVIL):
        signing_in(world, evil, f"bewoner{n}@example.nl")


def signing_in(world: World, evil: str, email: str) -> None:
    staff = world.client("anonymous")
    page = staff.get(STAFF_LOGIN, params={"next": evil})
    fields = form_on(page, STAFF_LOGIN) | {"email": MODERATOR_EMAIL, "password": PASSWORD}
    fields["next"] = evil
    response = staff.submit(STAFF_LOGIN, fields)
    assert response.status_code == 303
    assert_stays(str(staff.base_url), response, f"staff sign-in, next={evil!r}")

    resident = world.client("anonymous")
    resident.get("/inloggen", params={"next": evil})
    assert resident.submit("/inloggen", {"email": email, "next": evil}).status_code == 200
    mailed = _mailed_link(world)
    # A link made with the bad address in it, as if the check when sending had missed it.
    crafted = resident_link_token(world.settings, email.replace("@", "+x@"), evil)
    for link in (mailed, crafted):
        fresh = world.client("anonymous")
        fresh.get("/inloggen/link", params={"token": link})
        response = fresh.submit("/inloggen/link", {"token": link})
        assert response.status_code == 303
        assert_stays(str(fresh.base_url), response, f"resident sign-in, next={evil!r}")


def _mailed_link(world: World) -> str:
    body = read(
        world.db,
        lambda s: s.scalar(select(OutboxMail.body).order_by(OutboxMail.id.desc()).limit(1)),
    )
    assert body is not None
    found = re.search(r"token=(\S+)", body)
    assert found is not None
    return found.group(1)


def test_the_guard_sends_a_signed_out_visitor_to_sign_in_on_this_site(world: World) -> None:
    client = world.client("anonymous")
    for path in ("/beheer", "/beheer/rondes", "/mijn-plannen", "/profiel"):
        for headers in ({}, HTMX):
            response = client.get(path, headers=headers, follow_redirects=False)
            target = redirect_target(response)
            assert target is not None and target.startswith("/"), (path, target)
            assert_stays(str(client.base_url), response, path)


def test_a_client_that_follows_every_redirect_ends_on_the_site(world: World) -> None:
    """End to end with redirects followed, as a browser would."""
    client: Client = world.client("resident")
    for evil in EVIL:
        response = client.submit("/taal", {"lang": "nl", "next": evil})
        final = client.get(response.headers["location"]) if response.is_redirect else response
        assert final.url.host == "testserver", evil
