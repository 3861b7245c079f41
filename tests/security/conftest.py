"""A fully seeded app for the security tests, on both databases.

``world`` is the demo gemeente plus an admin, a moderator of every area, a second moderator (the
object of the admin's actions), a resident with a plan of their own, and a small round that went
all the way to a published result through the services. ``world.client(role)`` is a TestClient
signed in as ``anonymous``, ``resident``, ``moderator`` or ``admin``.

Every response any of these clients receives is checked on arrival (``check_response``): the
security headers, the flags of any cookie it sets, and that nothing publicly cacheable sets a
cookie. So each test also proves the headers for every response it provokes.

Routes are discovered from the app (``routes``), never listed here, and their path parameters are
filled from the seeded objects (``World.fillings``): a route added later is covered unseen.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.testclient import TestClient

from proeftuin import demo
from proeftuin.config import Settings
from proeftuin.db import Base, Database, read, transact, utcnow
from proeftuin.demo import DemoSummary
from proeftuin.models import (
    Area,
    Membership,
    Phase,
    Plan,
    PlanPhoto,
    PlanStatus,
    Resident,
    Role,
    Round,
    StaffSession,
    StaffUser,
    VotingEvent,
)
from proeftuin.services import accounts, codes, plans, results, rounds, voting
from proeftuin.services.permissions import Actor
from proeftuin.services.plans import PlanInput
from proeftuin.web.app import SESSION_COOKIE, create_app
from proeftuin.web.security import CSRF_FIELD, CSRF_SESSION_KEY
from tests.factories import make_photo
from tests.web.clients import HTMX, PASSWORD, cheap_hashing

ADMIN_EMAIL = "beheer@gemeente.example"
MODERATOR_EMAIL = "moderator@gemeente.example"
TARGET_EMAIL = "doelwit@gemeente.example"
RESIDENT_EMAIL = "fatima.dekker@example.nl"
ROLES = ("anonymous", "resident", "moderator", "admin")
STAFF_LOGIN = "/beheer/inloggen"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COOKIE_DOMAIN = "testserver.local"  # where httpx keeps the cookies of http://testserver

PUBLISHED_SLUG = "dorpsbudget-zuid-2025"
RESIDENT_PLAN_TITLE = "Bloembakken aan de Dorpsstraat"

# --- what every response must carry ---------------------------------------------------------

REFERRER_POLICIES = frozenset(
    {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
)
UNSAFE_SCRIPT_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:")
HSTS_MIN_SECONDS = 180 * 24 * 60 * 60


def csp_directives(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


def header_problems(response: httpx.Response, *, production: bool) -> list[str]:
    """What is missing or wrong in the security headers of one response."""
    headers = response.headers
    found: list[str] = []
    csp = csp_directives(headers.get("content-security-policy", ""))
    script = csp.get("script-src", csp.get("default-src"))
    if script is None:
        found.append("no script-src (nor default-src) in the CSP")
    else:
        found += [f"script-src allows {s}" for s in UNSAFE_SCRIPT_SOURCES if s in script]
    if csp.get("frame-ancestors") != ["'none'"]:
        found.append(f"frame-ancestors is {csp.get('frame-ancestors')}, not 'none'")
    if csp.get("object-src") != ["'none'"]:
        found.append("object-src is not 'none'")
    if headers.get("x-content-type-options") != "nosniff":
        found.append("no X-Content-Type-Options: nosniff")
    if headers.get("referrer-policy") not in REFERRER_POLICIES:
        found.append(f"Referrer-Policy is {headers.get('referrer-policy')!r}")
    if headers.get("x-frame-options") != "DENY":
        found.append("no X-Frame-Options: DENY")
    hsts = headers.get("strict-transport-security")
    if production:
        age = re.search(r"max-age=(\d+)", hsts or "")
        if age is None or int(age.group(1)) < HSTS_MIN_SECONDS:
            found.append(f"HSTS missing or too short in production: {hsts!r}")
    elif hsts is not None:
        found.append("HSTS outside production")
    if response.content and not headers.get("content-type"):
        found.append("a body without a Content-Type")
    return found


def cookie_problems(response: httpx.Response, *, production: bool) -> list[str]:
    found: list[str] = []
    cookies = response.headers.get_list("set-cookie")
    for cookie in cookies:
        name = cookie.split("=", 1)[0]
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        if "httponly" not in flags:
            found.append(f"cookie {name} without HttpOnly")
        if "samesite=lax" not in flags and "samesite=strict" not in flags:
            found.append(f"cookie {name} without SameSite=Lax")
        if ("secure" in flags) is not production:
            found.append(f"cookie {name}: Secure is {'secure' in flags} (production {production})")
    cache = response.headers.get("cache-control", "").lower()
    if cookies and "public" in cache:
        found.append(f"sets a cookie and is publicly cacheable ({cache})")
    return found


def check_response(response: httpx.Response, *, production: bool = False) -> None:
    problems = header_problems(response, production=production)
    problems += cookie_problems(response, production=production)
    request = response.request
    assert not problems, f"{request.method} {request.url} -> {response.status_code}: " + "; ".join(
        problems
    )


# --- a client that checks every response ---------------------------------------------------


class Client(TestClient):
    """A TestClient that checks every response it receives and keeps them in ``responses``."""

    def __init__(self, app: Starlette, *, production: bool = False, **options: Any) -> None:
        super().__init__(app, **options)
        self.production = production
        self.role = "anonymous"
        self.responses: list[httpx.Response] = []
        self.event_hooks = {"request": [], "response": [self._received]}

    def _received(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)
        check_response(response, production=self.production)

    @property
    def cookie(self) -> str | None:
        return self.cookies.get(SESSION_COOKIE)

    def use_cookie(self, value: str) -> Client:
        """Send ``value`` as the session cookie from now on (a stolen or old cookie, say)."""
        self.cookies.clear()
        self.cookies.set(SESSION_COOKIE, value, domain=COOKIE_DOMAIN)
        return self

    def session_data(self) -> dict[str, Any]:
        return session_of(self.cookie)

    def csrf(self) -> str:
        """This session's CSRF token (a page is fetched first when the session has none)."""
        token = self.session_data().get(CSRF_SESSION_KEY)
        if not token:
            self.get("/")
            token = self.session_data().get(CSRF_SESSION_KEY)
        assert isinstance(token, str) and token
        return token

    def submit(
        self,
        path: str,
        data: Any = None,
        *,
        htmx: bool = False,
        headers: dict[str, str] | None = None,
        method: str = "POST",
        **options: Any,
    ) -> httpx.Response:
        """A form as our own pages send it: with this session's token, from our origin. A list
        of pairs may name a field more than once."""
        form: Any = data if data is not None else {}
        all_headers = {"Origin": str(self.base_url).rstrip("/"), **(headers or {})}
        if htmx:
            all_headers |= {**HTMX, "X-CSRF-Token": self.csrf()}
        if isinstance(form, list):
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            options["content"] = urlencode([(CSRF_FIELD, self.csrf()), *form])
        elif isinstance(form, dict):
            options["data"] = {CSRF_FIELD: self.csrf(), **form}
        return self.request(method, path, headers=all_headers, follow_redirects=False, **options)


def session_of(cookie: str | None) -> dict[str, Any]:
    """The data in Starlette's signed session cookie: base64 JSON before the first dot."""
    if not cookie:
        return {}
    payload = cookie.strip('"').split(".", 1)[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert isinstance(data, dict)
    return data


def redirect_target(response: httpx.Response) -> str | None:
    if 300 <= response.status_code < 400:
        return response.headers.get("location")
    return response.headers.get("hx-redirect")


# --- routes, discovered from the app ---------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    path: str  # with {name} placeholders, converters removed
    params: tuple[str, ...]
    methods: frozenset[str]
    name: str

    @property
    def unsafe(self) -> frozenset[str]:
        return self.methods & UNSAFE_METHODS


def routes(app: Starlette) -> list[Endpoint]:
    """Every route of the app (a route added later is found without touching the tests)."""

    def walk(found: list[BaseRoute], prefix: str) -> Iterator[Endpoint]:
        for route in found:
            if isinstance(route, Route):
                yield Endpoint(
                    prefix + route.path_format,
                    tuple(route.param_convertors),
                    frozenset(route.methods or ()),
                    route.name,
                )
            elif isinstance(route, Mount) and isinstance(route.app, Router):
                yield from walk(route.app.routes, prefix + route.path)

    return list(walk(app.routes, ""))


def fill(path: str, values: dict[str, str]) -> str:
    return path.format(**values)


# --- the seeded world ------------------------------------------------------------------------


@dataclass
class World:
    app: Starlette
    db: Database
    settings: Settings
    demo: DemoSummary
    admin_id: int
    moderator_id: int
    target_id: int
    resident_id: int
    resident_plan: str  # public id of the resident's own plan (in the proposals round)
    voting_slug: str
    proposal_slug: str
    concept_slug: str
    published_slug: str = PUBLISHED_SLUG
    clients: list[Client] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """Unused letter codes of the demo's voting round."""
        return self.demo.codes

    def client(self, role: str = "anonymous", **options: Any) -> Client:
        """A client signed in as ``role``; closed at the end of the test."""
        client = Client(self.app, **options)
        client.__enter__()
        self.clients.append(client)
        sign_in(client, role, self.settings)
        return client

    # -- path parameters ---------------------------------------------------------------------

    def fillings(self, endpoint: Endpoint, *, per_round: int = 2) -> list[dict[str, str]]:
        """Values for the path parameters from the seeded objects: every round (or area), and
        for a plan the resident's own plus ``per_round`` plans of every round."""
        known = {"slug", "public_id", "area_id", "staff_id", "event", "photo_id", "size"}
        unknown = set(endpoint.params) - known
        if unknown:
            raise LookupError(
                f"{endpoint.path}: path parameter(s) {sorted(unknown)} are unknown to the "
                "security tests: teach World.fillings in tests/security/conftest.py"
            )
        objects = read(self.db, _objects)
        params = set(endpoint.params)
        options: list[dict[str, str]] = [{}]
        if "slug" in params and "public_id" in params:
            options = [
                {"slug": slug, "public_id": public_id}
                for slug, public_id in self._plans(objects, per_round)
            ]
        elif "public_id" in params:
            options = [{"public_id": p} for _, p in self._plans(objects, per_round)]
        elif "slug" in params:
            slugs = objects["area_slugs"] if endpoint.path.startswith("/wijken/") else None
            options = [{"slug": s} for s in slugs or self._round_slugs(objects)]
        for name, key in (("area_id", "area_ids"), ("staff_id", "staff_ids"), ("event", "events")):
            if name in params:
                options = [o | {name: str(v)} for o in options for v in objects[key]]
        if "photo_id" in params:  # every photo, or those of the plan in the path
            photos: dict[str, list[str]] = objects["photos"]
            options = [
                o | {"photo_id": photo}
                for o in options
                for plan, ids in photos.items()
                if o.get("public_id", plan) == plan
                for photo in ids[:per_round]
            ]
        if "size" in params:
            options = [o | {"size": "klein"} for o in options]
        return options

    def preferred(self, endpoint: Endpoint) -> dict[str, str]:
        """One filling: the proposals round and the resident's own plan, the target staff
        member, an area of the demo; where an action would succeed if it were allowed."""
        objects = read(self.db, _objects)
        resident_photos = objects["photos"].get(self.resident_plan, [])
        values = {
            "slug": self.proposal_slug,
            "public_id": self.resident_plan,
            "area_id": str(objects["proposal_area"]),
            "staff_id": str(self.target_id),
            "event": objects["events"][0],
            "photo_id": resident_photos[0] if resident_photos else "geen-foto",
            "size": "klein",
        }
        if endpoint.path.startswith("/wijken/"):
            values["slug"] = "ter-aa"
        self.fillings(endpoint)  # fails for an unknown parameter
        return {name: values[name] for name in endpoint.params}

    def _round_slugs(self, objects: dict[str, Any]) -> list[str]:
        first = [self.proposal_slug, self.voting_slug, self.published_slug, self.concept_slug]
        return first + [s for s in objects["round_slugs"] if s not in first]

    def _plans(self, objects: dict[str, Any], per_round: int) -> list[tuple[str, str]]:
        chosen = [(self.proposal_slug, self.resident_plan)]
        for slug, public_ids in objects["plans"].items():
            chosen += [(slug, p) for p in public_ids[:per_round] if p != self.resident_plan]
        return chosen


def _objects(session: Session) -> dict[str, Any]:
    by_round: dict[str, list[str]] = {}
    for slug, public_id in session.execute(
        select(Round.slug, Plan.public_id).join(Plan, Plan.round_id == Round.id).order_by(Plan.id)
    ):
        by_round.setdefault(slug, []).append(public_id)
    by_plan: dict[str, list[str]] = {}
    for plan_id, photo_id in session.execute(
        select(Plan.public_id, PlanPhoto.public_id)
        .join(PlanPhoto, PlanPhoto.plan_id == Plan.id)
        .order_by(PlanPhoto.id)
    ):
        by_plan.setdefault(plan_id, []).append(photo_id)
    return {
        "round_slugs": list(session.scalars(select(Round.slug).order_by(Round.id))),
        "area_slugs": list(session.scalars(select(Area.slug).order_by(Area.id))),
        "area_ids": list(session.scalars(select(Area.id).order_by(Area.id))),
        "staff_ids": list(session.scalars(select(StaffUser.id).order_by(StaffUser.id))),
        "plans": by_round,
        "photos": by_plan,
        "proposal_area": session.scalar(select(Area.id).where(Area.slug == "ter-aa")),
        "events": list(session.scalars(select(VotingEvent.slug).order_by(VotingEvent.id))),
    }


# --- signing in ------------------------------------------------------------------------------


def sign_in(client: Client, role: str, settings: Settings) -> None:
    client.role = role
    if role == "anonymous":
        client.get("/")
        return
    if role == "resident":
        sign_in_resident(client, settings, RESIDENT_EMAIL)
        return
    email = {"admin": ADMIN_EMAIL, "moderator": MODERATOR_EMAIL, "target": TARGET_EMAIL}[role]
    sign_in_staff(client, email)


def sign_in_staff(client: Client, email: str, password: str = PASSWORD) -> httpx.Response:
    client.get(STAFF_LOGIN)
    response = client.submit(STAFF_LOGIN, {"email": email, "password": password, "next": ""})
    assert response.status_code == 303, response.text
    return response


def resident_link_token(settings: Settings, email: str, next_path: str = "/") -> str:
    """The token a sign-in mail carries (as services.residents makes it)."""
    from proeftuin.services import residents

    serializer = URLSafeTimedSerializer(settings.secret_key, salt=residents.SIGN_IN_PURPOSE)
    return serializer.dumps({"email": email, "next": next_path})


def sign_in_resident(client: Client, settings: Settings, email: str) -> httpx.Response:
    """Through the link page, as a resident who opened the mail (without sending one: the
    send limit per address would get in the way of tests that sign in often)."""
    token = resident_link_token(settings, email)
    client.get("/inloggen/link", params={"token": token})
    response = client.submit("/inloggen/link", {"token": token})
    assert response.status_code == 303, response.text
    return response


# --- building the world ----------------------------------------------------------------------


def add_staff(
    session: Session, email: str, name: str, role: Role, area_ids: list[int]
) -> StaffUser:
    user = accounts.create_staff(session, email, name, PASSWORD, role)
    session.add_all(Membership(staff_id=user.id, area_id=a) for a in area_ids)
    session.flush()
    return user


def actor_of(session: Session, user_id: int) -> Actor:
    user = session.get(StaffUser, user_id)
    assert user is not None
    areas = session.scalars(select(Membership.area_id).where(Membership.staff_id == user_id))
    return Actor(staff_id=user.id, role=user.role, area_ids=frozenset(areas))


def published_round(
    session: Session,
    admin: Actor,
    pepper: str,
    *,
    slug: str = PUBLISHED_SLUG,
    title: str = "Dorpsbudget Zuid 2025",
    plan_titles: tuple[str, ...] = ("Speelveld bij de school", "Bankjes bij de kerk", "Een AED"),
    description: str = "Een afgeronde ronde.",
    decision: str = "Vastgesteld in de vergadering van de gebiedscommissie.",
    area_slug: str = "buitengebied-zuid",
    now: dt.datetime | None = None,
) -> Round:
    """A round taken through voting, counting, sign-off and publication by the services."""
    now = now or utcnow()
    area_id = session.scalar(select(Area.id).where(Area.slug == area_slug))
    assert area_id is not None
    round_ = Round(
        area_id=area_id,
        slug=slug,
        title=title,
        description=description,
        budget=10_000,
        phase=Phase.STEMMEN.value,
        ballot_kind="knapsack",
        rule="greedy",
        tie_break_seed="zaadje",
        voting_starts_at=now - dt.timedelta(days=30),
        voting_ends_at=now - dt.timedelta(days=2),
    )
    session.add(round_)
    session.flush()
    made = []
    for n, plan_title in enumerate(plan_titles):
        plan = Plan(
            round_id=round_.id,
            public_id=f"{slug[:8]}-p{n}",
            title=plan_title,
            summary=f"Samenvatting van {plan_title}",
            body=f"Toelichting bij {plan_title}",
            estimated_cost=3_000 + 1_000 * n,
            official_cost=3_000 + 1_000 * n,
            status=PlanStatus.OP_STEMBILJET.value,
            author_name="Een bewoner",
        )
        session.add(plan)
        made.append(plan)
    session.flush()
    plain = codes.generate_codes(session, round_, pepper, 6)
    choices = [[0], [0, 1], [2], [1, 2]]
    for code, picks in zip(plain, choices, strict=False):
        _, credential = voting.check_code(session, pepper, code)
        chosen = {made[i].public_id: 1 for i in picks if i < len(made)}
        voting.cast(session, credential, chosen, today=(now - dt.timedelta(days=5)).date())
    rounds.advance_phase(session, admin, round_.id, Phase.GESLOTEN)
    results.count(session, admin, slug, now)
    results.sign_off(session, admin, slug, confirmed=True, decision=decision, now=now)
    results.publish(session, admin, slug, now)
    return round_


def build_world(app: Starlette, db: Database, settings: Settings) -> World:
    summary = transact(db, demo.seed_demo, settings.code_pepper)

    def people(session: Session) -> dict[str, Any]:
        area_ids = list(session.scalars(select(Area.id).order_by(Area.id)))
        admin = add_staff(session, ADMIN_EMAIL, "Ada Beheer", Role.ADMIN, [])
        moderator = add_staff(session, MODERATOR_EMAIL, "Mo Derator", Role.MODERATOR, area_ids)
        target = add_staff(session, TARGET_EMAIL, "Tim Doelwit", Role.MODERATOR, area_ids[:1])
        resident = Resident(
            email=RESIDENT_EMAIL,
            display_name="Fatima",
            postcode="9411 AB",
            verified_at=utcnow(),
        )
        session.add(resident)
        session.flush()
        proposal = session.scalar(select(Round).where(Round.phase == Phase.INDIENEN))
        concept = session.scalar(select(Round).where(Round.phase == Phase.CONCEPT))
        assert proposal is not None and concept is not None
        plan = plans.propose(
            session,
            proposal.slug,
            resident.id,
            PlanInput(
                RESIDENT_PLAN_TITLE,
                "Bloembakken met vaste planten langs de hele straat.",
                "Wij zorgen er **zelf** voor.",
                "1200",
                "Dorpsstraat",
                "groen",
                True,
            ),
        )
        make_photo(session, plan, "De Dorpsstraat met lege plantenbakken.")
        other = session.scalar(
            select(Plan.public_id).where(Plan.round_id == proposal.id, Plan.id != plan.id)
        )
        assert other is not None
        plans.set_support(session, other, resident.id, True)
        published_round(session, actor_of(session, admin.id), settings.code_pepper)
        return {
            "admin": admin.id,
            "moderator": moderator.id,
            "target": target.id,
            "resident": resident.id,
            "plan": plan.public_id,
            "proposal": proposal.slug,
            "concept": concept.slug,
        }

    made = transact(db, people)
    return World(
        app=app,
        db=db,
        settings=settings,
        demo=summary,
        admin_id=made["admin"],
        moderator_id=made["moderator"],
        target_id=made["target"],
        resident_id=made["resident"],
        resident_plan=made["plan"],
        voting_slug=summary.voting_round_slug,
        proposal_slug=made["proposal"],
        concept_slug=made["concept"],
    )


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


@pytest.fixture
def world(settings: Settings, db: Database) -> Iterator[World]:
    app = create_app(settings, db)
    built = build_world(app, db, settings)
    yield built
    for client in built.clients:
        client.__exit__(None, None, None)


@pytest.fixture
def production_world(settings: Settings, db: Database) -> Iterator[World]:
    """The same world served as in production: https, HSTS, Secure cookies."""
    production = dataclasses.replace(settings, env="production", base_url="https://testserver")
    app = create_app(production, db)
    built = build_world(app, db, production)
    yield built
    for client in built.clients:
        client.__exit__(None, None, None)


def production_client(world: World, role: str) -> Client:
    client = Client(world.app, production=True, base_url="https://testserver")
    client.__enter__()
    world.clients.append(client)
    if role == "admin":
        raise ValueError("an admin in production must set up a second factor first")
    sign_in(client, role, world.settings)
    return client


# --- the database, as a fingerprint ---------------------------------------------------------

# Columns a read may touch on purpose: a staff session's last activity (staff_sessions.TOUCH_EVERY).
VOLATILE = {("staff_session", "last_seen_at")}


def snapshot(db: Database) -> dict[str, str]:
    """Per table, a hash of every row (a change anywhere shows; row order does not matter)."""

    def take(session: Session) -> dict[str, str]:
        out: dict[str, str] = {}
        connection = session.connection()
        postgres = connection.dialect.name == "postgresql"
        for table in Base.metadata.sorted_tables:
            names = [f'"{c.name}"' for c in table.columns if (table.name, c.name) not in VOLATILE]
            # Each table's rows as one text, made by the database: fast enough to run around
            # every single request of a test. (Our own table and column names only.)
            if postgres:
                row = f"ROW({', '.join(names)})::text"
                sql = f"SELECT string_agg({row}, '|' ORDER BY id) FROM \"{table.name}\""
            else:
                row = " || ',' || ".join(f"quote({n})" for n in names)
                sql = (
                    f"SELECT group_concat(r, '|') FROM "
                    f'(SELECT {row} AS r FROM "{table.name}" ORDER BY id)'
                )
            text = connection.exec_driver_sql(sql).scalar() or ""
            out[table.name] = hashlib.sha256(str(text).encode()).hexdigest()
        return out

    return read(db, take)


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def row_counts(db: Database) -> dict[str, int]:
    def take(session: Session) -> dict[str, int]:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }

    return read(db, take)


def live_sessions(db: Database, staff_id: int) -> int:
    def take(session: Session) -> int:
        return int(
            session.scalar(
                select(func.count(StaffSession.id)).where(
                    StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None)
                )
            )
            or 0
        )

    return read(db, take)


# --- crawling --------------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str  # a path on this site, with its query
    fields: list[tuple[str, str]]
    names: list[str] = field(default_factory=list)  # every named control, ticked or not

    def data(self) -> dict[str, str]:
        return {name: value for name, value in self.fields if name != CSRF_FIELD}


class _Page(HTMLParser):
    """Links (a, link, script, img, form, hx-get/hx-post) and forms with their values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._submitted = False
        self._textarea: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in ("href", "src", "hx-get", "hx-post", "action"):
            if name in a and (tag != "form" or name != "action"):
                self.links.append(a[name])
        if "hx-post" in a and tag != "form":  # a form is kept with its fields below
            self.forms.append(Form("POST", a["hx-post"], []))
        if tag == "form":
            method = a.get("method", "get").upper()
            self._form = Form(method, a.get("action", ""), [])
            self._submitted = False
            if method == "GET":
                self.links.append(a.get("action", ""))
        elif self._form is not None:
            self._field(tag, a)

    def _field(self, tag: str, a: dict[str, str]) -> None:
        assert self._form is not None
        name = a.get("name")
        kind = a.get("type", "text").lower()
        if name and tag in ("input", "textarea", "select") and name not in self._form.names:
            self._form.names.append(name)
        if tag == "input" and name:
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "image"):
                if not self._submitted:
                    self._form.fields.append((name, a.get("value", "")))
                    self._submitted = True
                return
            self._form.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            if name and not self._submitted:
                self._form.fields.append((name, a.get("value", "")))
            self._submitted = True
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif (
            tag == "option"
            and self._select is not None
            and (self._select_value is None or "selected" in a)
        ):
            self._select_value = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def parse_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def on_site(base: str, link: str) -> str | None:
    """``link`` as a path with query on this site, or None for another site or scheme."""
    absolute = urljoin(base, link.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(base).netloc:
        return None
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


@dataclass
class Crawl:
    responses: dict[str, httpx.Response] = field(default_factory=dict)  # path -> response
    forms: dict[str, Form] = field(default_factory=dict)  # "METHOD path" -> first form seen

    def html(self) -> dict[str, httpx.Response]:
        return {
            url: r
            for url, r in self.responses.items()
            if r.headers.get("content-type", "").startswith("text/html")
        }


def crawl(client: Client, seeds: list[str], *, limit: int) -> Crawl:
    """GET every seed and every page on this site linked from what was fetched, up to
    ``limit`` addresses; redirects are followed one hop at a time."""
    found = Crawl()
    queue = list(dict.fromkeys(seeds))
    queued = set(queue)
    base = str(client.base_url)
    while queue and len(found.responses) < limit:
        url = queue.pop(0)
        response = client.get(url, follow_redirects=False)
        found.responses[url] = response
        links: list[str] = []
        target = redirect_target(response)
        if target:
            links.append(target)
        if response.headers.get("content-type", "").startswith("text/html"):
            page = parse_page(response.text)
            links += page.links
            for form in page.forms:
                action = on_site(urljoin(base, url), form.action or url)
                if action is not None:
                    found.forms.setdefault(f"{form.method} {urlsplit(action).path}", form)
                    form.action = action
        for link in links:
            path = on_site(urljoin(base, url), link)
            if path is not None and path not in queued:
                queued.add(path)
                queue.append(path)
    return found


def seeds(world: World, *, per_round: int = 2) -> list[str]:
    """Every GET route, with its path parameters filled from the seeded objects."""
    found = []
    for endpoint in routes(world.app):
        if "GET" in endpoint.methods:
            found += [fill(endpoint.path, v) for v in world.fillings(endpoint, per_round=per_round)]
    return found


# --- voting through the pages ----------------------------------------------------------------


def form_on(response: httpx.Response, action: str) -> dict[str, str]:
    """The fields of the form on this page that posts to ``action``."""
    for form in parse_page(response.text).forms:
        if urlsplit(form.action).path == action and form.method == "POST":
            return dict(form.fields)
    raise AssertionError(f"no form to {action} on the page:\n{response.text[:2000]}")


def open_ballot(client: Client, code: str) -> httpx.Response:
    client.get("/stem")
    response = client.submit("/stem", {"code": code})
    assert response.status_code == 200, response.text
    return response


def vote(client: Client, code: str, choices: dict[str, int]) -> str:
    """Vote with a letter code as a resident does: code, ballot, review, cast. The receipt."""
    ballot = open_ballot(client, code)
    fields = form_on(ballot, "/stem/controleer")
    form = {"pas": fields["pas"], **{f"keuze.{p}": str(n) for p, n in choices.items()}}
    review = client.submit("/stem/controleer", form)
    assert review.status_code == 200, review.text
    cast = form_on(review, "/stem/uitbrengen")
    response = client.submit("/stem/uitbrengen", cast)
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    assert target.startswith("/stem/bedankt?bon=")
    return target.split("=", 1)[1]


def ballot_plans(db: Database, slug: str) -> list[str]:
    """Public ids of the plans on a round's ballot."""

    def take(session: Session) -> list[str]:
        return list(
            session.scalars(
                select(Plan.public_id)
                .join(Round, Round.id == Plan.round_id)
                .where(Round.slug == slug, Plan.status == PlanStatus.OP_STEMBILJET)
                .order_by(Plan.id)
            )
        )

    return read(db, take)
