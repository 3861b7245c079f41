"""The authorization matrix: every route under /beheer states its policy, and no actor
reaches what is not theirs.

The routes are discovered from the real app, not listed here: a new page under /beheer is tested
the moment it exists. Its path parameters are filled by name from ``FILL`` (objects of area A);
a parameter name this file does not know fails the test, so that the new route gets a row there.

Who may get a 2xx (or a redirect that is not to the sign-in page):
- anonymous: nothing (the sign-in page and the session status in ``EXEMPT`` excepted);
- moderator of area B: nothing with A's objects in the path, no admin page, and never A's names
  in any page, fragment or error;
- moderator of area A: A's objects, no admin page;
- admin: everything.
Nobody ever gets a 5xx. Anonymous requests and B's requests change nothing in the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import (
    PHASE_ORDER,
    Area,
    AuditEvent,
    Ballot,
    Membership,
    OutboxMail,
    Phase,
    Plan,
    PlanStatus,
    Role,
    Round,
    StaffUser,
    VotingCode,
    VotingEvent,
)
from proeftuin.services import codes
from proeftuin.web.policy import LOGIN_PATH, Policy, staff_route
from tests.factories import make_photo
from tests.web.clients import HTMX, add_staff, cheap_hashing, csrf, sign_in

STAFF_PREFIX = "/beheer"
# Reachable without signing in: the sign-in form and its POST, and the session status fragment,
# which must not count as activity (it would keep an unattended session alive; see accounts.py).
EXEMPT = {
    (LOGIN_PATH, "GET"),
    (LOGIN_PATH, "POST"),
    (f"{LOGIN_PATH}/sessie", "GET"),
}
MARKER = {"A": "Alfageheim", "B": "Bravogeheim"}  # in every name and title of that area
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# -- discovering the routes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    path: str  # as declared, with convertors: /beheer/gebieden/{area_id:int}
    path_format: str  # to fill in: /beheer/gebieden/{area_id}
    method: str
    params: tuple[str, ...]
    route: BaseRoute

    @property
    def policy(self) -> Policy | None:
        value = getattr(self.route, "policy", None)
        return value if isinstance(value, Policy) else None


def endpoints(routes: list[BaseRoute], prefix: str = "") -> Iterator[Endpoint]:
    """Every (path, method) of an app, through Mounts; HEAD goes with GET."""
    for route in routes:
        if isinstance(route, Mount):
            children = list(route.routes)
            if children:
                yield from endpoints(children, prefix + route.path)
            else:  # a whole app mounted here: no methods to tell, so one entry
                yield Endpoint(prefix + route.path, prefix + route.path, "*", (), route)
        elif isinstance(route, Route):
            params = tuple(route.param_convertors)
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                yield Endpoint(
                    prefix + route.path, prefix + route.path_format, method, params, route
                )
        else:  # websockets, hosts: nothing of ours, but under /beheer it must be looked at
            path = prefix + str(getattr(route, "path", ""))
            yield Endpoint(path, path, "*", (), route)


def staff_endpoints(app: Starlette) -> list[Endpoint]:
    return [
        e
        for e in endpoints(list(app.routes))
        if e.path == STAFF_PREFIX or e.path.startswith(STAFF_PREFIX + "/")
    ]


def is_guarded(endpoint: Endpoint) -> bool:
    """Built by policy.staff_route: a policy, and the guard that enforces it around the endpoint."""
    route = endpoint.route
    return (
        isinstance(route, Route)
        and endpoint.policy is not None
        and getattr(route.endpoint, "__qualname__", "") == GUARD_QUALNAME
    )


def _guard_qualname() -> str:
    async def page(request: Request) -> Response:
        return PlainTextResponse("")

    route = staff_route("/x", page, policy=Policy.STAFF, name="x")
    return str(getattr(route.endpoint, "__qualname__", ""))


GUARD_QUALNAME = _guard_qualname()


def unguarded(app: Starlette) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in staff_endpoints(app)
        if (e.path, e.method) not in EXEMPT and not is_guarded(e)
    ]


# -- the world: areas A and B, each with a round in every phase ------------------------------------


@dataclass
class World:
    name: str  # "A" or "B"
    area_id: int
    target_staff_id: int  # a second moderator of the area, for the admin's staff pages
    rounds: list[dict[str, object]] = field(default_factory=list)  # slug, round_id, public_id...
    event: str = ""  # the slug of the voting event that holds the area's voting round

    @property
    def identifiers(self) -> set[str]:
        """What in a URL would point at this area's objects."""
        found: set[str] = set()
        for objects in self.rounds:
            found |= {str(objects[key]) for key in ("slug", "public_id", "photo_id")}
        return found | {self.event}


def seed(db: Database, name: str, pepper: str) -> World:
    marker, prefix = MARKER[name], name.lower()

    def build(session: Session) -> World:
        area = Area(slug=f"{prefix}-gebied", name=f"{marker} gebied", kind="wijk")
        session.add(area)
        session.flush()
        world = World(name=name, area_id=area.id, target_staff_id=0, event=f"{prefix}-stemming")
        event = VotingEvent(slug=world.event, title=f"{marker} stemming")
        session.add(event)
        session.flush()
        for phase in PHASE_ORDER:
            round_ = Round(
                area_id=area.id,
                slug=f"{prefix}-{phase.value}",
                title=f"{marker} ronde {phase.value}",
                description=f"{marker} omschrijving",
                budget=10_000,
                phase=phase.value,
                tie_break_seed="seed",
                event_id=event.id if phase == Phase.STEMMEN else None,
            )
            session.add(round_)
            session.flush()
            plans = []
            for n, status in enumerate(
                (PlanStatus.INGEDIEND, PlanStatus.OP_STEMBILJET, PlanStatus.AFGEWEZEN)
            ):
                plan = Plan(
                    round_id=round_.id,
                    public_id=f"{prefix}{phase.value[:4]}{n}",
                    title=f"{marker} plan {n}",
                    summary=f"{marker} samenvatting",
                    estimated_cost=2_000,
                    official_cost=2_000 if status == PlanStatus.OP_STEMBILJET else None,
                    status=status.value,
                    public_reason=f"{marker} reden" if status == PlanStatus.AFGEWEZEN else "",
                )
                session.add(plan)
                plans.append(plan)
            session.flush()
            codes.generate_codes(session, round_, pepper, 3)
            world.rounds.append(
                {
                    "slug": round_.slug,
                    "round_id": round_.id,
                    "public_id": plans[0].public_id,
                    "plan_id": plans[0].id,
                    "photo_id": make_photo(session, plans[0], f"{marker} foto"),
                }
            )
        return world

    world = transact(db, build)
    world.target_staff_id = add_staff(
        db, f"doel-{prefix}@gemeente.nl", area_ids=[world.area_id], name=f"{marker} doelwit"
    )
    return world


# -- filling in path parameters --------------------------------------------------------------------

# Path parameter name -> how to take it from an area's objects. A route with any other name fails
# the test: add the name here, taking the value from ``World`` (extend ``seed`` if need be).
ROUND_KEYS = {"slug", "round_id"}
PLAN_KEYS = {"public_id", "plan_id", "photo_id"}
AREA_KEYS = {"area_id"}
STAFF_KEYS = {"staff_id"}
EVENT_KEYS = {"event"}
SIZE_KEYS = {"size"}  # of a photo
FILL = ROUND_KEYS | PLAN_KEYS | AREA_KEYS | STAFF_KEYS | EVENT_KEYS | SIZE_KEYS


def fillings(params: tuple[str, ...], world: World) -> list[dict[str, str]]:
    """One set of values per round of the area when the path names a round or a plan."""
    unknown = set(params) - FILL
    if unknown:
        raise LookupError(
            f"path parameter(s) {sorted(unknown)} are unknown to the authorization test: "
            "add them to FILL in tests/web/test_authorization.py"
        )
    fixed = {
        "area_id": str(world.area_id),
        "staff_id": str(world.target_staff_id),
        "event": world.event,
        "size": "klein",
    }
    if not set(params) & (ROUND_KEYS | PLAN_KEYS):
        return [{p: fixed[p] for p in params}]
    return [
        {p: str(objects[p]) if p in objects else fixed[p] for p in params}
        for objects in world.rounds
    ]


def mixed_fillings(params: tuple[str, ...], own: World, other: World) -> list[dict[str, str]]:
    """The actor's own round with the other area's plan: a route that looks the plan up without
    checking that it belongs to the round would let the actor in."""
    if not (set(params) & ROUND_KEYS and set(params) & PLAN_KEYS):
        return []
    mixed = []
    for mine, theirs in zip(own.rounds, other.rounds, strict=True):
        values = fillings(params, own)[0] | {p: str(mine[p]) for p in params if p in ROUND_KEYS}
        values |= {p: str(theirs[p]) for p in params if p in PLAN_KEYS}
        mixed.append(values)
    return mixed


# -- judging one response --------------------------------------------------------------------------


def redirect_target(response) -> str | None:  # type: ignore[no-untyped-def]
    if 300 <= response.status_code < 400:
        return str(response.headers.get("location", ""))
    return response.headers.get("hx-redirect")


def to_sign_in(target: str | None) -> bool:
    return target is not None and urlsplit(target).path == LOGIN_PATH


def problem(
    actor: str,
    endpoint: Endpoint,
    response,  # type: ignore[no-untyped-def]
    *,
    about_a: bool,
    world_a: World,
    world_b: World,
) -> str | None:
    """What is wrong with this response for this actor, or None."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    target = redirect_target(response)
    # Exempt pages are open to all, but may not show anything of an area either (checked below).
    exempt = (endpoint.path, endpoint.method) in EXEMPT
    let_in = 200 <= status < 400 and not to_sign_in(target) and not exempt
    if actor == "anonymous":
        if let_in:
            return f"reachable without signing in ({status}, to {target})"
    elif actor in ("moderator_a", "moderator_b") and endpoint.policy is Policy.ADMIN and let_in:
        return f"admin page open to a moderator ({status}, to {target})"
    elif actor == "moderator_b" and about_a and let_in:
        return f"moderator of B reached area A's object ({status}, to {target})"
    if target and not to_sign_in(target):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/"):
            return f"redirects off the site, to {target}"
        foreign = world_a if actor == "moderator_b" else world_b
        if actor == "moderator_a" and any(i in target for i in foreign.identifiers):
            return f"redirects a moderator of A to area B's pages ({target})"
        if actor == "moderator_b" and any(i in target for i in foreign.identifiers):
            return f"redirects a moderator of B to area A's pages ({target})"
    if actor in ("anonymous", "moderator_b") and MARKER["A"] in response.text:
        return f"shows area A's data ({status})"
    return None


# -- the actors ------------------------------------------------------------------------------------


class Actor:
    """A TestClient that stays signed in: when a request ended the session (signing out, say),
    the next one signs in again, so that a refusal is never mistaken for a lost session."""

    def __init__(self, app: Starlette, name: str, email: str | None) -> None:
        self.name, self.email = name, email
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()
        self.token = ""
        self.renew()

    def renew(self) -> None:
        if self.email is not None:
            response = sign_in(self.client, self.email)
            assert response.status_code == 303, f"{self.name} cannot sign in: {response.text}"
        self.token = csrf(self.client)

    def alive(self) -> bool:
        if self.email is None:
            return True
        return self.client.get(STAFF_PREFIX, follow_redirects=False).status_code == 200

    def send(self, method: str, url: str, form: dict[str, str], htmx: bool):  # type: ignore[no-untyped-def]
        headers = {"X-CSRF-Token": self.token, **(HTMX if htmx else {})}
        if method in UNSAFE_METHODS:
            response = self.client.request(
                method, url, data=form, headers=headers, follow_redirects=False
            )
            if not self.alive():
                self.renew()
            return response
        return self.client.request(method, url, headers=headers, follow_redirects=False)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def snapshot(db: Database) -> str:
    """A fingerprint of everything a staff action could change."""

    def take(session: Session) -> str:
        # Signing in is logged too (the matrix signs in again as sessions end): not a change.
        signing_in = AuditEvent.action.like("staff.sign\\_in%", escape="\\") | (
            AuditEvent.action == "staff.locked_out"
        )
        parts = [
            session.scalar(select(func.count(AuditEvent.id)).where(~signing_in)),
            session.scalar(select(func.count(Ballot.id))),
            session.scalar(select(func.count(OutboxMail.id))),
            session.scalar(select(func.count(Area.id))),
            session.execute(select(Round.id, Round.phase, Round.budget, Round.title)).all(),
            session.execute(
                select(Plan.id, Plan.status, Plan.hidden, Plan.official_cost, Plan.title)
            ).all(),
            session.execute(select(VotingCode.id, VotingCode.status)).all(),
            session.execute(select(Membership.staff_id, Membership.area_id)).all(),
            session.execute(
                select(StaffUser.id, StaffUser.active, StaffUser.password_hash, StaffUser.role)
            ).all(),
        ]
        # Row order is not stable (PostgreSQL moves updated rows): sort within each part.
        text = repr([sorted(map(repr, p)) if isinstance(p, list) else p for p in parts])
        return hashlib.sha256(text.encode()).hexdigest()

    return read(db, take)


# -- the tests -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


def test_every_staff_route_has_a_policy(app: Starlette) -> None:
    found = staff_endpoints(app)
    assert found, "no routes under /beheer at all"
    assert unguarded(app) == []
    exempt_found = {(e.path, e.method) for e in found} & EXEMPT
    assert exempt_found == EXEMPT, "an exemption no longer exists: remove it from EXEMPT"


def test_the_policy_check_fails_for_a_route_without_one(app: Starlette) -> None:
    async def leak(request: Request) -> Response:
        return PlainTextResponse("geheim")

    faked = Route("/beheer/nep", leak)
    faked.policy = Policy.STAFF  # type: ignore[attr-defined]  # a label without the guard
    app.router.routes.extend(
        [
            Route("/beheer/lek", leak, methods=["GET", "POST"]),
            Mount("/beheer/extra", routes=[Route("/x", leak)]),
            faked,
            Mount("/beheer/app", app=PlainTextResponse("geheim")),
            Route("/beheerder", leak),  # not under /beheer: not our business
        ]
    )
    assert unguarded(app) == [
        "GET /beheer/lek",
        "POST /beheer/lek",
        "GET /beheer/extra/x",
        "GET /beheer/nep",
        "* /beheer/app",
    ]
    # ... and the matrix would refuse it too: anonymous gets a 2xx there.
    with TestClient(app) as client:
        response = client.get("/beheer/lek")
    endpoint = next(e for e in staff_endpoints(app) if e.path == "/beheer/lek")
    dummy = World("A", 0, 0)
    assert problem("anonymous", endpoint, response, about_a=False, world_a=dummy, world_b=dummy)


def test_unknown_path_parameters_fail_loudly() -> None:
    world = World("A", 1, 2, [{"slug": "s", "round_id": 3, "public_id": "p", "plan_id": 4}])
    assert fillings(("slug", "public_id"), world) == [{"slug": "s", "public_id": "p"}]
    assert fillings(("staff_id", "area_id"), world) == [{"staff_id": "2", "area_id": "1"}]
    with pytest.raises(LookupError, match="add them to FILL"):
        fillings(("slug", "batch"), world)


@dataclass
class Matrix:
    """Sends every request of the matrix and collects what is wrong."""

    app: Starlette
    world_a: World
    world_b: World
    routes: list[Endpoint]
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def run(self, actor: Actor, *, mixed: bool = False) -> None:
        for endpoint in self.routes:
            if mixed:
                sets = [
                    (v, True) for v in mixed_fillings(endpoint.params, self.world_b, self.world_a)
                ]
            elif endpoint.params:
                sets = [(v, True) for v in fillings(endpoint.params, self.world_a)]
            else:
                sets = [({}, False)]
            for values, about_a in sets:
                url = endpoint.path_format.format(**values)
                # The form names A's objects too, for routes that take them from the body.
                form = fillings(tuple(FILL), self.world_a)[0] | values
                for htmx in (False, True):
                    response = actor.send(endpoint.method, url, form, htmx)
                    self.requests += 1
                    found = problem(
                        actor.name,
                        endpoint,
                        response,
                        about_a=about_a,
                        world_a=self.world_a,
                        world_b=self.world_b,
                    )
                    if found:
                        kind = "htmx " if htmx else ""
                        self.problems.append(
                            f"{actor.name}: {kind}{endpoint.method} {url}: {found}"
                        )

    def run_outsiders(self) -> None:
        """Anonymous and B's moderator: refused everywhere on A's objects."""
        anonymous = Actor(self.app, "anonymous", None)
        moderator_b = Actor(self.app, "moderator_b", "mod-b@gemeente.nl")
        try:
            self.run(anonymous)
            self.run(moderator_b)
            self.run(moderator_b, mixed=True)
        finally:
            anonymous.close()
            moderator_b.close()

    def report(self) -> str:
        return "\n".join(self.problems[:60])


def build_matrix(app: Starlette, db: Database, settings: Settings) -> Matrix:
    world_a = seed(db, "A", settings.code_pepper)
    world_b = seed(db, "B", settings.code_pepper)
    add_staff(db, "mod-a@gemeente.nl", area_ids=[world_a.area_id])
    add_staff(db, "mod-b@gemeente.nl", area_ids=[world_b.area_id])
    add_staff(db, "admin@gemeente.nl", Role.ADMIN)
    routes = [e for e in staff_endpoints(app) if e.method != "*"]
    for endpoint in routes:  # fail before sending anything when a parameter is unknown
        fillings(endpoint.params, world_a)
    return Matrix(app, world_a, world_b, routes)


def test_authorization_matrix(app: Starlette, db: Database, settings: Settings) -> None:
    matrix = build_matrix(app, db, settings)
    before = snapshot(db)
    matrix.run_outsiders()
    assert not matrix.problems, matrix.report()
    assert snapshot(db) == before, "an anonymous request or one by B's moderator changed data"

    for name, email in (("moderator_a", "mod-a@gemeente.nl"), ("admin", "admin@gemeente.nl")):
        actor = Actor(app, name, email)
        try:
            assert actor.client.get(STAFF_PREFIX).status_code == 200
            matrix.run(actor)
        finally:
            actor.close()
    assert not matrix.problems, matrix.report()
    assert matrix.requests >= 8 * len(matrix.routes)


def test_the_matrix_catches_a_page_that_forgets_the_area_check(
    app: Starlette, db: Database, settings: Settings
) -> None:
    """A staff route with a policy, but whose service does not call require_area."""

    async def careless(request: Request) -> Response:
        slug = request.path_params["slug"]
        title = read(db, lambda s: s.scalar(select(Round.title).where(Round.slug == slug)))
        return PlainTextResponse(str(title))

    app.router.routes.append(
        staff_route("/beheer/slordig/{slug}", careless, policy=Policy.STAFF, name="careless")
    )
    matrix = build_matrix(app, db, settings)
    matrix.routes = [e for e in matrix.routes if e.path.startswith("/beheer/slordig/")]
    matrix.run_outsiders()
    assert any(
        p.startswith("moderator_b: GET /beheer/slordig/a-concept: moderator of B reached")
        for p in matrix.problems
    ), matrix.report()
    assert not any(p.startswith("anonymous") for p in matrix.problems)
