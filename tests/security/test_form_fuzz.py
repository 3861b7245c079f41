"""Generated values in every field of every form a resident or staff member can send, on both
databases: whatever is typed, the answer is never a 5xx (the test client re-raises any crash).

The forms are not listed here. Each role (anonymous, resident, moderator, admin) crawls the site
from every GET route (tests/security/conftest.py), and every POST form on the pages it gets is
kept, once per route, with the role that saw it first: a form added to a template later is
fuzzed unseen. Hypothesis then fills each field, or leaves it out, with text of any kind, numbers
far past any column, dates from year 1 to 9999 in each format the forms accept, markup and null
bytes; the session's CSRF token and origin are always right, so each value reaches the route.

Slow (a crawl per role, and a few hundred posts per database): ``-m "not slow"`` leaves it out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proeftuin.web.security import CSRF_FIELD
from tests.security.conftest import (
    ROLES,
    Client,
    Endpoint,
    Form,
    World,
    ballot_plans,
    crawl,
    fill,
    form_on,
    open_ballot,
    parse_page,
    routes,
    seeds,
)

pytestmark = pytest.mark.slow

# Examples per form and database: a few for each field, so that each field gets each kind of
# value now and then, within bounds (the round form has 17 fields).
EXAMPLES_PER_FIELD = 4
EXAMPLES = (8, 80)
FOLLOWED = 150  # pages found through links, per role, on top of every route
ODD = (
    "-1",
    "0",
    "²",
    "1e9",
    "12,5",
    "€ 1.000,-",
    "0x10",
    "NaN",
    "\x00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE round; --",
    "ABCD-EFGH-JKMN",
    "a@b.nl",
)


def _date_text(moment: dt.datetime, style: int) -> str:
    year, month, day = f"{moment.year:04}", f"{moment.month:02}", f"{moment.day:02}"
    clock = f"{moment.hour:02}:{moment.minute:02}"
    return (
        f"{year}-{month}-{day}T{clock}",
        f"{year}-{month}-{day} {clock}",
        f"{day}-{month}-{year} {clock}",
        f"{year}-{month}-{day}",
    )[style]


# The ends of each range are where parsing breaks: they are tried as often as the middle.
MOMENTS = st.one_of(
    st.sampled_from([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59)]),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59)),
)
DATES = st.builds(_date_text, MOMENTS, st.integers(0, 3))
DIGITS = st.one_of(st.sampled_from([4_300, 4_301, 10_000]), st.integers(10, 5_000))
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)


def values(original: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(original),
        TEXT,
        st.integers(-(10**12), 10**12).map(str),
        DIGITS.map(lambda n: "9" * n),
        DATES,
        st.sampled_from(ODD),
    )


@dataclass(frozen=True)
class Target:
    role: str
    route: str  # the route's name
    form: Form
    client: Client | None = None  # one prepared for it (a voter with a code typed in)


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORM_IN_TEMPLATE = re.compile(r"<form\b(.*?)</form>", re.S)
ROUTE_IN_FORM = re.compile(r"""(?:url_for|hx)\(\s*['"](\w+)['"]""")
NAME_IN_FORM = re.compile(
    r"""\bname=["']([\w.]+)["']|\b(?:field|input|textarea|select)\w*\(\s*['"](\w+)['"]"""
)


def template_fields() -> dict[str, list[str]]:
    """Per route name, the field names its forms in the templates have (as far as they can be
    read from the source: names built from data are not)."""
    found: dict[str, list[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for body in FORM_IN_TEMPLATE.findall(path.read_text()):
            route = ROUTE_IN_FORM.search(body.split(">", 1)[0])
            if route is not None:
                names = found.setdefault(route.group(1), [])
                for a, b in NAME_IN_FORM.findall(body):
                    if (a or b) not in names:
                        names.append(a or b)
    return found


def _pattern(endpoint: Endpoint) -> re.Pattern[str]:
    parts = re.split(r"\{\w+\}", endpoint.path)
    return re.compile("[^/]+".join(re.escape(p) for p in parts) + r"\Z")


def discover(world: World) -> list[Target]:
    """Every POST route with a form: the forms a crawl as each role finds (once per route, with
    the role that saw it first); the ballot pages of a voter with a code; and for the routes
    still left, the fields of their forms in the templates."""
    endpoints = [e for e in routes(world.app) if "POST" in e.methods]
    posts = [(e.name, _pattern(e)) for e in endpoints]
    found: dict[str, Target] = {}
    for role in ROLES:
        client = world.client(role)
        every_route = seeds(world, per_round=1)
        pages = crawl(client, every_route, limit=len(every_route) + FOLLOWED)
        for form in pages.forms.values():
            path = form.action.split("?", 1)[0]
            name = next((n for n, pattern in posts if pattern.match(path)), None)
            if form.method == "POST" and name is not None and name not in found:
                found[name] = Target(role, name, form)
    for target in [*voter_targets(world), *event_voter_targets(world)]:
        found.setdefault(target.route, target)
    in_templates = template_fields()
    for endpoint in endpoints:
        if endpoint.name not in found and endpoint.name in in_templates:
            action = fill(endpoint.path, world.preferred(endpoint))
            names = in_templates[endpoint.name]
            role = "admin" if endpoint.path.startswith("/beheer") else "resident"
            found[endpoint.name] = Target(role, endpoint.name, Form("POST", action, [], names))
    return list(found.values())


def voter_targets(world: World) -> list[Target]:
    """The ballot form (code typed in), and the cast and back forms (ballot reviewed)."""
    plan = ballot_plans(world.db, world.voting_slug)[0]
    voters = iter(world.codes[-3:])
    targets = []
    for route in ("vote_review", "vote_cast", "vote_ballot"):
        action = str(world.app.url_path_for(route))
        client = world.client("anonymous", client=(f"203.0.113.{len(targets) + 1}", 50000))
        page = open_ballot(client, next(voters))
        if route != "vote_review":
            review = form_on(page, "/stem/controleer")
            form = {"pas": review["pas"], f"keuze.{plan}": "1"}
            page = client.submit("/stem/controleer", form)
        for form in parse_page(page.text).forms:
            if form.method == "POST" and form.action.split("?", 1)[0] == action:
                targets.append(Target("voter", route, form, client))
                break
    return targets


def event_voter_targets(world: World) -> list[Target]:
    """The ballot forms of a voting event (a district code of the demo's event): the step and
    live-state forms of the first ballot, and the cast form of the review page."""
    [codes, *_] = world.demo.event_codes.values()
    targets = []
    for number, (route, on_review) in enumerate(
        (("event_ballot", False), ("event_state", False), ("event_cast", True))
    ):
        action = str(world.app.url_path_for(route))
        client = world.client("anonymous", client=(f"203.0.113.{20 + number}", 50000))
        page = open_ballot(client, codes[-1 - number])
        if on_review:
            fields = form_on(page, "/stem/stemming/stembiljet")
            page = client.submit("/stem/stemming/stembiljet", {"pas": fields["pas"], "stap": "1"})
        # The live state is the ballot form itself, posted by htmx (its hx-post).
        wanted = "/stem/stemming/stembiljet" if route == "event_state" else action
        for form in parse_page(page.text).forms:
            if form.method == "POST" and form.action.split("?", 1)[0] == wanted:
                form = Form("POST", action, form.fields, form.names)
                targets.append(Target("voter", route, form, client))
                break
    return targets


def fuzz(world: World, target: Target, client: Client) -> list[str]:
    """Post generated values into the form's fields; the crashes and 5xx answers found."""
    fields = dict.fromkeys(target.form.names, "") | dict(target.form.fields)
    fields.pop(CSRF_FIELD, None)
    problems: list[str] = []

    @settings(
        max_examples=min(max(EXAMPLES[0], EXAMPLES_PER_FIELD * len(fields)), EXAMPLES[1]),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({}, optional={n: values(v) for n, v in fields.items()}))
    def post(form: dict[str, str]) -> None:
        try:
            response = client.submit(target.form.action, form)
        except Exception as crash:  # the server crashed: a 500 in real life
            raise AssertionError(f"crashed with {type(crash).__name__}: {crash}") from crash
        assert response.status_code < 500, f"answered {response.status_code}"

    try:
        post()
    except AssertionError as failure:
        problems.append(f"{target.role} POST {target.form.action}: {failure}"[:600])
    return problems


def test_no_generated_value_in_any_form_gets_a_5xx(world: World) -> None:
    clients: dict[str, Client] = {}
    problems: list[str] = []
    targets = discover(world)
    # The fuzzing is only as good as the discovery: every POST route must have its form.
    missing = {e.name for e in routes(world.app) if "POST" in e.methods}
    missing -= {t.route for t in targets}
    assert not missing, f"POST routes without a form to fuzz: {sorted(missing)}"
    # One client per role, each from its own address (the limit on failed sign-ins is per
    # address); signing out comes last, so that it does not end the session of the others.
    targets.sort(key=lambda t: "sign_out" in t.route)
    for number, target in enumerate(targets, start=1):
        if target.client is None and target.role not in clients:
            address = (f"198.51.100.{number}", 50000)
            clients[target.role] = world.client(target.role, client=address)
        problems += fuzz(world, target, target.client or clients[target.role])
    assert not problems, f"{len(problems)} forms answered 5xx:\n" + "\n".join(problems)
