"""The XSS and injection corpus.

Payloads (script tags, broken-out attributes with event handlers, SVG onload, ``javascript:``
links in Markdown, template syntax ``{{7*7}}`` and ``{% raw %}``, Python format fields, unicode
direction and look-alike tricks, and strings as long as each field allows) go into every field a
resident, moderator or admin can fill: an area's names, a round's title and description, plan
titles, summaries, descriptions and locations, a resident's name, every moderation reason, a
staff member's name, the council's decision, and the gemeente's name, address, opening hours and
content pages. They are stored through the services, as the
forms would, in rounds that are open for plans, open for voting and published.

Then every page that shows them is checked twice:

- with the test client, every page of every payload object as the public, the author and the
  admin (who sees every staff page a moderator sees) get it, and its htmx fragment: no inline
  script, no event-handler attribute, no ``javascript:``/``data:`` address, no frame or object,
  ``{{7*7}}`` shown as typed (never 49), on both databases;
- in headless Chromium with JavaScript on, every kind of page that shows a payload (SQLite: the
  rendering does not depend on the database) and a vote cast on a ballot full of them (both):
  no dialog opens (the browser fixture fails on any), no script error, no CSP refusal, and the
  DOM holds no handler or script link either.

Query parameters: every GET route gets arbitrary values in every parameter the app reads;
nothing crashes, nothing is reflected unescaped, and the filters take only values from their
allow-lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.config import Settings
from proeftuin.db import Database, transact, utcnow
from proeftuin.models import Area, Phase, Plan, PlanStatus, Round, SitePage
from proeftuin.services import (
    areas,
    codes,
    comments,
    lookup,
    plans,
    residents,
    rounds,
    site_content,
    staff,
)
from proeftuin.services.comments import CommentInput
from proeftuin.services.pages import moderation as moderation_pages
from proeftuin.services.permissions import Actor
from proeftuin.services.plans import PlanInput
from proeftuin.services.rounds import RoundInput
from proeftuin.services.site_content import ContactInput
from proeftuin.web.app import SESSION_COOKIE, create_app
from proeftuin.web.site_cache import site_cache
from tests.browser.conftest import BrowserLog, LiveServer, sqlite_only
from tests.security.conftest import (
    HTMX,
    Client,
    World,
    actor_of,
    build_world,
    cheap_hashing,
    crawl,
    fill,
    published_round,
    routes,
    seeds,
)

# --- the corpus -------------------------------------------------------------------------------

SSTI = "S{{7*7}}E"  # shown as typed; "S49E" would mean a template ran it
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SVG = "<svg/onload=alert(3)>"
ATTR = "' onmouseover='alert(4)' x='"
RAW = "{% raw %}"
FORMAT = "F{0.__class__}{title}"
UNICODE = "\u202eRTL\u200b\ufeff＜script＞alert(5)＜/script＞"
SHORT = f"{SCRIPT}{IMG}{SVG}{SSTI}"  # fits every field of 100 characters or more
LONG = f"{SHORT}{ATTR}{RAW}{FORMAT}${{7*7}}#{{7*7}}{UNICODE}"
MARKDOWN = "\n\n".join(
    [
        LONG,
        "[klik](javascript:alert(11))",
        "[klik](JaVaScRiPt:alert(12))",
        "[klik](javascript&#58;alert(13))",
        '<a href="javascript:alert(14)">html</a>',
        "![plaatje](javascript:alert(15))",
        "![plaatje](https://evil.example/spion.png)",
        "<javascript:alert(16)>",
        "[ref][r]\n\n[r]: javascript:alert(17)",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxOCk8L3NjcmlwdD4=)",
        "[vb](vbscript:msgbox(19))",
        "<iframe src=javascript:alert(20)></iframe>",
        "<object data=javascript:alert(21)></object>",
        '<div style="background:url(javascript:alert(22))">x</div>',
        "```html\n<script>alert(23)</script>\n```",
        "# Kop {{7*7}}\n\n**vet** _schuin_ `code` [goed](https://example.org)",
    ]
)


def fit(text: str, limit: int) -> str:
    return text[:limit]


def long_body() -> str:
    """As long as a description may be (10,000 characters), payloads at both ends."""
    filler = " woord" * 2_000
    return (MARKDOWN + filler)[: 10_000 - len(SHORT)] + SHORT


# --- storing it through the services ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Payloads:
    area_id: int
    staff_id: int
    slugs: tuple[str, ...]  # indienen, stemmen, gepubliceerd
    plan_ids: tuple[str, ...]
    code: str  # a letter code for the round that is open for voting

    def identifiers(self) -> set[str]:
        return {*self.slugs, *self.plan_ids, str(self.area_id), str(self.staff_id)}


def seed_payloads(world: World) -> Payloads:
    pepper = world.settings.code_pepper

    def build(session: Session) -> Payloads:
        admin = actor_of(session, world.admin_id)
        data = areas.AreaInput(
            name=fit(LONG, 200), slug="xss-wijk", kind="wijk", council_name=fit(LONG, 200)
        )
        areas.create_area(session, admin, data)
        area_id = session.scalar(select(Area.id).where(Area.slug == "xss-wijk"))
        assert area_id is not None
        staff.assign_area(session, admin, world.moderator_id, area_id)
        moderator = actor_of(session, world.moderator_id)
        invited = staff.invite(
            session, admin, "xss@gemeente.example", fit(LONG, 200), "moderator", (area_id,)
        )

        proposals = moderation_pages.create_round(
            session,
            moderator,
            RoundInput(
                area_id=str(area_id),
                title=fit(LONG, 200),
                budget="50000",
                description=long_body(),
                rule="greedy",
            ),
        )
        rounds.advance_phase(session, moderator, proposals.id, Phase.INDIENEN)
        residents.update_profile(session, world.resident_id, fit(LONG, 100), "9411 AB")
        made = []
        for n in range(5):
            plan = plans.propose(
                session,
                proposals.slug,
                world.resident_id,
                PlanInput(
                    title=fit(f"{n}{LONG}", 120),
                    summary=fit(LONG, 300),
                    body=long_body() if n == 0 else MARKDOWN,
                    estimated_cost="1000",
                    location=fit(LONG, 200),
                    theme="groen",
                    self_executed=n % 2 == 0,
                ),
            )
            made.append(plan.public_id)
        reason = fit(LONG, 2_000)
        url = "http://testserver/plannen/x"
        moderation_pages.ask_changes(session, moderator, proposals.slug, made[0], reason, url)
        moderation_pages.reject(session, moderator, proposals.slug, made[1], reason, url)
        moderation_pages.accept(session, moderator, proposals.slug, made[2], "1500", reason)
        moderation_pages.merge(session, moderator, proposals.slug, made[3], made[2], reason, url)
        moderation_pages.hide(session, moderator, proposals.slug, made[4], reason)

        voting = Round(
            area_id=area_id,
            slug="xss-stemmen",
            title=fit(LONG, 200),
            description=MARKDOWN,
            budget=50_000,
            phase=Phase.STEMMEN.value,
            ballot_kind="knapsack",
            rule="greedy",
            tie_break_seed="zaad",
            voting_ends_at=utcnow() + dt.timedelta(days=7),
        )
        session.add(voting)
        session.flush()
        for n in range(3):
            session.add(
                Plan(
                    round_id=voting.id,
                    public_id=f"xss-stem-{n}",
                    title=fit(f"{n}{LONG}", 120),
                    summary=fit(LONG, 300),
                    body=MARKDOWN,
                    location=fit(LONG, 200),
                    estimated_cost=1_000 * (n + 1),
                    official_cost=1_000 * (n + 1),
                    cost_explanation=LONG,
                    author_name=fit(LONG, 100),
                    status=PlanStatus.OP_STEMBILJET.value,
                )
            )
        session.flush()
        code = codes.generate_codes(session, voting, pepper, 2)[0]
        for n, public_id in enumerate((made[2], "xss-stem-0")):
            start = utcnow() - dt.timedelta(hours=2 - n)  # apart: the limit per minute
            seed_comments(session, world.resident_id, admin, public_id, start)
        published = published_round(
            session,
            admin,
            pepper,
            slug="xss-uitslag",
            title=fit(LONG, 200),
            plan_titles=tuple(fit(f"{n}{LONG}", 120) for n in range(3)),
            description=MARKDOWN,
            decision=fit(LONG, 500),
            area_slug="xss-wijk",
        )
        # The gemeente's own site: its name and contact details are on every page.
        contact = ContactInput(
            gemeente_name=fit(LONG, 200), address=fit(LONG, 500), opening_hours=fit(LONG, 1_000)
        )
        site_content.update_contact(session, admin, contact)
        for page in SitePage:
            site_content.update_page(session, admin, page, MARKDOWN)
        plan_ids = [*made, *(f"xss-stem-{n}" for n in range(3))]
        plan_ids += list(
            session.scalars(select(Plan.public_id).where(Plan.round_id == published.id))
        )
        return Payloads(
            area_id=area_id,
            staff_id=invited.member.id,
            slugs=(proposals.slug, voting.slug, published.slug),
            plan_ids=tuple(plan_ids),
            code=code,
        )

    payloads = transact(world.db, build)
    site_cache(world.app).forget()  # pages show the gemeente's new details at once
    return payloads


def seed_comments(
    session: Session, resident_id: int, admin: Actor, public_id: str, start: dt.datetime
) -> None:
    """A question, arguments for and against, a staff answer, a report and a hidden comment,
    every text a payload (minutes apart: the resident's limit per minute)."""
    plan = lookup.public_plan(session, public_id)

    def post(n: int, body: str, kind: str) -> int:
        data = CommentInput(fit(body, 2_000), kind)
        moment = start + dt.timedelta(minutes=5 * n)
        made = comments.post_as_resident(
            session, plan, resident_id, data, secret_key="x", ip_key="xss", now=moment
        )
        return made.id

    question = post(0, MARKDOWN, "vraag")
    post(1, LONG, "voor")
    post(2, MARKDOWN, "tegen")
    answer = CommentInput(fit(MARKDOWN, 2_000), "reactie", str(question))
    comments.post_as_staff(session, admin, plan, answer)
    comments.report(session, plan, str(question), resident_id, fit(LONG, 500))
    hidden = post(3, SCRIPT, "reactie")
    comments.decide(session, admin, plan, str(hidden), "verbergen", fit(LONG, 500))


def payload_seeds(world: World, payloads: Payloads) -> list[str]:
    """Every GET route, filled with the payload objects (and the routes without parameters)."""
    wanted = payloads.identifiers()
    return [
        url
        for url in seeds(world, per_round=10)
        if "{" not in url and (set(url.split("/")) & wanted or url.count("/") <= 2)
    ]


@pytest.fixture
def payload_world(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, Payloads]]:
    cheap_hashing(monkeypatch)
    world = build_world(create_app(settings, db), db, settings)
    payloads = seed_payloads(world)
    yield world, payloads
    for client in world.clients:
        client.__exit__(None, None, None)


# --- judging markup ---------------------------------------------------------------------------

DANGEROUS_TAGS = frozenset({"iframe", "frame", "object", "embed", "applet", "base"})
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster"})
BAD_SCHEMES = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.addresses += [v for name, v in values.items() if name in URL_ATTRIBUTES]
        if tag == "script" and not values.get("src", "").startswith("/static/"):
            self.problems.append(f"<script> without a script file of ours: {values}")
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and "http-equiv" in values:
            self.problems.append(f"<meta http-equiv={values['http-equiv']}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            cleaned = re.sub(r"[\x00-\x20]", "", value)
            if name in URL_ATTRIBUTES and BAD_SCHEMES.match(cleaned) and cleaned != "data:,":
                self.problems.append(f"<{tag} {name}={value!r}>")


def parsed(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


def unsafe_markup(html: str) -> list[str]:
    problems = parsed(html).problems
    if "S49E" in html:
        problems.append("{{7*7}} was evaluated")
    if "F<class" in html or "F&lt;class" in html:
        problems.append("a format field was filled in")
    return problems


def signed_in_clients(world: World) -> dict[str, Client]:
    """The public, the author, and the admin (who sees every staff page a moderator sees)."""
    return {role: world.client(role) for role in ("anonymous", "resident", "admin")}


def test_every_page_shows_the_payloads_as_text(
    payload_world: tuple[World, Payloads],
) -> None:
    world, payloads = payload_world
    shown: dict[str, int] = {}
    pages = 0
    for role, client in signed_in_clients(world).items():
        urls = payload_seeds(world, payloads)
        found = crawl(client, urls, limit=len(urls) + 50)
        for url, response in list(found.html().items()):
            if re.search(r"\shx-(get|post|target)=", response.text):  # it has fragments
                fragment = client.get(url, headers=HTMX, follow_redirects=False)
                found.responses[f"{url} (htmx)"] = fragment
        for url, response in found.html().items():
            pages += 1
            problems = unsafe_markup(response.text)
            assert not problems, f"{role} {url}: {problems[:5]}"
            if SSTI in response.text:
                shown[role] = shown.get(role, 0) + 1
    assert pages > 250
    # Payloads reach every kind of reader: the public, the author and staff.
    assert all(shown.get(role, 0) >= 5 for role in ("anonymous", "resident", "admin")), shown


def test_markdown_is_sanitised_and_javascript_links_are_neutralised(
    payload_world: tuple[World, Payloads],
) -> None:
    world, payloads = payload_world
    client = world.client("anonymous")
    page = client.get(f"/plannen/{payloads.plan_ids[2]}")  # accepted: public
    assert page.status_code == 200
    html = page.text
    assert not unsafe_markup(html)
    hrefs = parsed(html).addresses
    assert all(re.match(r"(/|#|https?://|mailto:|data:,$)", h) for h in hrefs), hrefs
    assert "[klik](javascript:alert(11))" in html  # a refused link stays as text
    assert "<strong>vet</strong>" in html and "<em>schuin</em>" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer ugc">goed</a>' in html
    assert "evil.example/spion.png" not in html or "<img" not in html.split("proeftuin-markdown")[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    # The comments on it are payloads too: shown as text, the hidden one only as its reason.
    assert html.count("proeftuin-comment__body") >= 4 and "Verborgen door de wijkraad: " in html
    round_page = client.get(f"/rondes/{payloads.slugs[0]}").text
    assert not unsafe_markup(round_page)
    assert "<h3>Kop {{7*7}}</h3>" in round_page  # headings moved down, the braces as typed
    for path in ("/privacy", "/toegankelijkheid", "/hoe-werkt-het"):  # the gemeente's pages
        content = client.get(path).text
        assert not unsafe_markup(content), path
        assert "<h2>Kop {{7*7}}</h2>" in content and "[klik](javascript:alert(11))" in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content, path


def test_unknown_filter_values_are_ignored_and_never_reflected_raw(
    payload_world: tuple[World, Payloads],
) -> None:
    """Every GET route, with arbitrary values in every query parameter the app reads (found in
    the source and on the pages)."""
    world, _payloads = payload_world
    client = world.client("admin")
    names = query_parameters(world, client)
    assert {"next", "thema", "gebied", "melding", "pagina", "code", "bon", "stembon"} <= names
    # Every parameter at once, in each of these ways: each is read on its own, so one request
    # per way and route tries them all.
    values = [f"{LONG}' OR '1'='1' --../../etc/passwd%ff%fe[]{{}}-1\x7f", "x" * 2_000]
    for endpoint in routes(world.app):
        if "GET" not in endpoint.methods:
            continue
        url = fill(endpoint.path, world.preferred(endpoint))
        for value, headers in ((values[0], {}), (values[0], HTMX), (values[1], {})):
            params = {name: value for name in names}
            response = client.get(url, params=params, headers=headers, follow_redirects=False)
            assert response.status_code < 500, url
            if response.headers.get("content-type", "").startswith("text/html"):
                problems = unsafe_markup(response.text)
                assert not problems, (url, problems[:3])
                assert SCRIPT not in response.text, url
    # The filters keep to their allow-lists: an unknown value filters nothing.
    round_url = f"/rondes/{world.proposal_slug}"
    everything = plan_links(client.get(round_url).text)
    assert everything
    for value in ("<script>", "groen' OR '1'='1", "GROEN", "onbekend"):
        assert plan_links(client.get(round_url, params={"thema": value}).text) == everything
    assert plan_links(client.get(round_url, params={"thema": "groen"}).text) < everything
    home = area_links(client.get("/").text)
    for value in ("<script>", "' OR 1=1 --", "onbekend"):
        assert area_links(client.get("/", params={"gebied": value}).text) == home


def query_parameters(world: World, client: Client) -> set[str]:
    source = Path(__file__).resolve().parents[2] / "proeftuin" / "web"
    names = {"lang"}
    for module in source.glob("*.py"):
        names |= set(re.findall(r'query_params\.get\(\s*"([a-z_]+)"', module.read_text()))
        names |= set(re.findall(r'^[A-Z_]*PARAMETER = "([a-z_]+)"', module.read_text(), re.M))
    pages = seeds(world, per_round=1)
    found = crawl(client, pages, limit=len(pages))
    for url in found.responses:
        names |= set(re.findall(r"[?&]([a-z_]+)=", url))
    for form in found.forms.values():
        if form.method == "GET":
            names |= {name for name, _ in form.fields}
    return names


def plan_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/plannen/[^"/]+)"', html))


def area_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/(?:wijken|rondes)/[^"/]+)"', html))


# --- in the browser ---------------------------------------------------------------------------

DOM_CHECK = """() => {
  const handlers = [];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      if (a.name.startsWith("on")) handlers.push(el.tagName + " " + a.name);
    }
  }
  const links = [...document.querySelectorAll("[href],[src],[action],[formaction]")]
    .map(el => el.getAttribute("href") || el.getAttribute("src") || el.getAttribute("action")
               || el.getAttribute("formaction") || "")
    .filter(v => /^\\s*(javascript|vbscript|data):/i.test(v) && v !== "data:,");
  return {
    inline: [...document.scripts].filter(s => !s.src).length,
    handlers, links,
    text: document.body ? document.body.innerText : "",
  };
}"""


@pytest.fixture
def live_payloads(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, World, Payloads]]:
    """The payload world in the live server's database; ``world.client`` talks to a second app
    on the same database (to sign in and to find the pages quickly)."""
    cheap_hashing(monkeypatch)
    settings = dataclasses.replace(live_server.settings, base_url="http://testserver")
    world = build_world(create_app(settings, live_server.database), live_server.database, settings)
    payloads = seed_payloads(world)
    yield live_server, world, payloads
    for client in world.clients:
        client.__exit__(None, None, None)


def browse(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    found: dict[str, Any] = page.evaluate(DOM_CHECK)
    assert found["inline"] == 0, path
    assert not found["handlers"], (path, found["handlers"][:5])
    assert not found["links"], (path, found["links"][:5])
    if SSTI in page.content():
        assert "S49E" not in found["text"], path


# Whose eyes each part of the site is for: the public pages as anyone sees them, a resident's
# own pages, and the staff pages as the admin (who sees everything a moderator sees) sees them.
PARTS = {
    "anonymous": lambda url: not url.startswith("/beheer"),
    "resident": lambda url: url.startswith(("/mijn-plannen", "/profiel", "/plannen/")),
    "admin": lambda url: url.startswith("/beheer"),
}


def pages_with_payloads(
    world: World, payloads: Payloads, client: Client, seen: set[tuple[str, frozenset[str]]]
) -> list[str]:
    """The pages of this client's part that show a payload: one of each kind (the same route
    with the same markup classes is the same template branch)."""
    urls = [url for url in payload_seeds(world, payloads) if PARTS[client.role](url)]
    found = crawl(client, urls, limit=len(urls) + 50)
    ids = sorted(payloads.identifiers() | {world.resident_plan}, key=len, reverse=True)
    chosen = []
    for url, response in found.html().items():
        if SSTI not in response.text or url.startswith("/inloggen/link"):
            continue
        route = re.sub("|".join(map(re.escape, ids)), "{id}", url.split("?")[0])
        classes = frozenset(re.findall(r'class="([^"]+)"', response.text))
        classes -= {c for c in classes if "nav" in c}  # the menu differs per role
        if (route, classes) not in seen:
            seen.add((route, classes))
            chosen.append(url)
    return chosen


@sqlite_only
def test_no_payload_runs_in_the_browser(
    live_payloads: tuple[LiveServer, World, Payloads],
    new_page: Callable[..., Page],
) -> None:
    """Each role opens every kind of page that shows a payload (one of each, across roles); the
    browser fixture fails the test on any dialog, script error or CSP refusal. Rendering does
    not depend on the database: SQLite only (the test-client pass above runs on both)."""
    server, world, payloads = live_payloads
    visited = 0
    seen: set[tuple[str, frozenset[str]]] = set()
    for role in PARTS:
        client = world.client(role)
        page = new_page(viewport={"width": 1024, "height": 768}, is_mobile=False)
        cookie = client.cookies.get(SESSION_COOKIE)
        assert cookie
        page.context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server.url}])
        log = BrowserLog.of(page)
        for path in pages_with_payloads(world, payloads, client, seen):
            browse(page, server, path)
            visited += 1
        assert not log.dialogs
    assert visited > 25


def test_voting_on_a_ballot_full_of_payloads(
    live_payloads: tuple[LiveServer, World, Payloads], page: Page
) -> None:
    """The ballot, the live budget (htmx), the review and the receipt, with payload titles."""
    server, _world, payloads = live_payloads
    page.goto(f"{server.url}/stem")
    page.get_by_label("Uw stemcode").fill(codes.display(payloads.code))
    page.get_by_role("button", name="Verder").click()
    page.wait_for_selector("input[type=checkbox]")
    browse_current(page)
    page.locator("input[type=checkbox]").first.check()
    page.wait_for_timeout(300)  # the htmx request for the live budget
    browse_current(page)
    page.locator("form.voting-ballot button[type=submit]").last.click()
    browse_current(page)
    page.get_by_role("button", name="Stem uitbrengen").click()
    page.wait_for_url(re.compile(r"/stem/bedankt"))
    browse_current(page)
    assert not BrowserLog.of(page).dialogs


def browse_current(page: Page) -> None:
    found: dict[str, Any] = page.evaluate(DOM_CHECK)
    assert found["inline"] == 0 and not found["handlers"] and not found["links"], found
    assert "S49E" not in found["text"]
