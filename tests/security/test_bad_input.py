"""Bad input, on both databases. Oversized bodies, 10,000 choices on a ballot,
negative and huge amounts, unknown ids, duplicate fields, wrong types, null bytes, invalid UTF-8
and over-long text in every form a resident, moderator or admin can send.

Each probe starts from a form that would be accepted and spoils one thing. The answer is a clear
refusal (4xx, with the message on the page), never a 500 (the test client re-raises any crash),
and the database is exactly as it was (compared table by table; failed code attempts may count
in ``rate_limit``, which is the point of them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from proeftuin.db import read
from proeftuin.models import Area
from proeftuin.web.security import CSRF_FIELD
from tests.security.conftest import (
    HTMX,
    Client,
    World,
    ballot_plans,
    changed_tables,
    form_on,
    open_ballot,
    snapshot,
)

MESSAGES = (
    "utrecht-form-field-error-message",
    'class="proeftuin-error"',
    "utrecht-alert--error",
    "proeftuin-panel--error",
)
TOO_BIG = "Wat u verstuurt is te groot"
NUL = "\x00"
HUGE = "9" * 30
INT32_OVER = str(2**31)
ALLOWED_WRITES = {"rate_limit"}  # failed attempts at codes and passwords are counted

Form = dict[str, str] | list[tuple[str, str]]


@dataclass(frozen=True)
class Probe:
    role: str
    path: str
    form: Form
    why: str
    expect: frozenset[int] = frozenset({422})
    htmx: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    writes: frozenset[str] = frozenset()  # tables it may change besides ALLOWED_WRITES


def clear_message(response: httpx.Response) -> bool:
    return any(marker in response.text for marker in MESSAGES) or (
        response.headers.get("content-type", "").startswith("text/html")
        and response.status_code in (303, 200)
    )


def has_nul(form: Form) -> bool:
    pairs = form.items() if isinstance(form, dict) else form
    return any(NUL in name or NUL in value for name, value in pairs)


def with_token(client: Client, form: Form) -> Form:
    if isinstance(form, dict):
        return {CSRF_FIELD: client.csrf(), **form}
    return [(CSRF_FIELD, client.csrf()), *form]


def send(client: Client, probe: Probe) -> httpx.Response:
    headers = {
        "X-CSRF-Token": client.csrf(),
        "Content-Type": "application/x-www-form-urlencoded",
        **probe.headers,
    }
    if probe.htmx:
        headers |= HTMX
    form = with_token(client, probe.form)
    body = urlencode(list(form.items()) if isinstance(form, dict) else form)
    return client.post(probe.path, content=body, headers=headers, follow_redirects=False)


def run(world: World, probes: Iterable[Probe]) -> None:
    """Send every probe; fail with the list of every probe that was not refused cleanly."""
    clients: dict[str, Client] = {}
    ips = itertools.count(1)
    state = snapshot(world.db)
    problems = []
    for probe in probes:
        if probe.role not in clients or probe.role == "voter":
            # A voter per probe, each from its own address: the limit on wrong codes is not
            # what these probes are about.
            ip = f"192.0.2.{next(ips)}"
            role = "anonymous" if probe.role == "voter" else probe.role
            clients[probe.role] = world.client(role, client=(ip, 50000))
            state = snapshot(world.db)  # signing in writes; the probe must not
        client = clients[probe.role]
        label = f"{probe.role} POST {probe.path}: {probe.why}"[:200]
        try:
            response = send(client, probe)
        except Exception as crash:  # the server crashed: a 500 in real life
            problems.append(f"{label}: crashed with {type(crash).__name__}: {crash}"[:300])
            state = snapshot(world.db)
            continue
        after = snapshot(world.db)
        changed = set(changed_tables(state, after)) - ALLOWED_WRITES - probe.writes
        state = after
        # A null byte may also be refused before any route reads the form (400).
        expect = probe.expect | {400} if has_nul(probe.form) else probe.expect
        if response.status_code not in expect:
            problems.append(f"{label}: {response.status_code}")
        elif not clear_message(response):
            problems.append(f"{label}: no message on the page")
        if changed:
            problems.append(f"{label}: changed {sorted(changed)}")
    assert not problems, f"{len(problems)} probes not refused cleanly:\n" + "\n".join(problems)


def spoil(base: dict[str, str], **changes: str) -> dict[str, str]:
    return {**base, **changes}


# --- the forms that would be accepted ---------------------------------------------------------


def plan_form() -> dict[str, str]:
    return {
        "title": "Een bankje bij de vijver",
        "summary": "Een bankje om te rusten.",
        "body": "Het **liefst** van hout.",
        "estimated_cost": "1200",
        "location": "Vijver",
        "theme": "ontmoeten",
    }


def round_form(world: World) -> dict[str, str]:
    area = read(world.db, lambda s: s.scalar(select(Area.id).where(Area.slug == "ter-aa")))
    return {
        "area_id": str(area),
        "title": "Een nieuwe ronde",
        "budget": "20000",
        "description": "",
        "ballot_kind": "knapsack",
        "min_choices": "0",
        "max_choices": "",
        "min_spend_percent": "0",
        "points_total": "",
        "rule": "greedy",
        "eligibility": "codes",
        "support_threshold": "0",
        "min_age": "",
    }


def area_form() -> dict[str, str]:
    return {"name": "Nieuwe wijk", "slug": "nieuwe-wijk", "kind": "wijk", "council_name": ""}


def invite_form() -> dict[str, str]:
    return {"email": "collega@gemeente.example", "name": "Collega", "role": "moderator"}


# --- the probes -------------------------------------------------------------------------------


def text_probes(role: str, path: str, base: dict[str, str], limits: dict[str, int]) -> list[Probe]:
    """For each text field: one character too many, a hundred times too long, a null byte."""
    probes = []
    for name, limit in limits.items():
        probes += [
            Probe(role, path, spoil(base, **{name: "x" * (limit + 1)}), f"{name} too long"),
            Probe(
                role,
                path,
                spoil(base, **{name: "x" * (limit * 100)}),
                f"{name} far too long",
                frozenset({413, 422}),  # past the body limit the whole request is refused
            ),
            Probe(role, path, spoil(base, **{name: f"ab{NUL}cdefgh"}), f"{name} with a null byte"),
        ]
    return probes


def number_probes(role: str, path: str, base: dict[str, str], names: Iterable[str]) -> list[Probe]:
    bad = ("-1", "-99999", HUGE, INT32_OVER, "1e9", "12,5", "²", "³⁴", "0x10", "veel", NUL)
    return [
        Probe(role, path, spoil(base, **{name: value}), f"{name} = {value!r}")
        for name in names
        for value in bad
    ]


def resident_probes(world: World) -> list[Probe]:
    propose = f"/rondes/{world.proposal_slug}/plannen/nieuw"
    edit = f"/plannen/{world.resident_plan}/aanpassen"
    limits = {"title": 120, "summary": 300, "body": 10_000, "location": 200}
    probes = text_probes("resident", propose, plan_form(), limits)
    probes += text_probes("resident", edit, plan_form(), {"title": 120, "body": 10_000})
    probes += number_probes("resident", propose, plan_form(), ["estimated_cost"])
    probes += [
        Probe("resident", propose, spoil(plan_form(), estimated_cost="30000"), "over the budget"),
        Probe("resident", propose, spoil(plan_form(), theme="<script>"), "an unknown theme"),
        Probe("resident", propose, spoil(plan_form(), theme=NUL), "a null theme"),
        Probe("resident", propose, spoil(plan_form(), title="  \t "), "a blank title"),
        Probe("resident", "/profiel", {"display_name": "x" * 101, "postcode": ""}, "long name"),
        Probe("resident", "/profiel", {"display_name": f"Fa{NUL}", "postcode": ""}, "null name"),
        Probe("resident", "/profiel", {"display_name": "Fa", "postcode": "9" * 500}, "postcode"),
        Probe("resident", "/profiel", {"display_name": "Fa", "postcode": f"9411{NUL}AB"}, "NUL"),
        Probe("resident", "/profiel", {"display_name": "Fa", "postcode": "²²²² AB"}, "superscript"),
    ]
    return probes


def sign_in_probes() -> list[Probe]:
    return [
        Probe("anonymous", "/inloggen", {"email": "a@" + "b" * 400 + ".nl"}, "long address"),
        Probe("anonymous", "/inloggen", {"email": f"fa{NUL}@example.nl"}, "NUL in address"),
        Probe("anonymous", "/inloggen", {"email": "x" * 100_000}, "100,000 characters"),
        Probe(
            "anonymous", "/inloggen/link", {"token": "x" * 10_000}, "a long token", frozenset({400})
        ),
        Probe("anonymous", "/inloggen/link", {"token": NUL}, "a null token", frozenset({400})),
        Probe(
            "anonymous",
            "/beheer/inloggen",
            {"email": f"be{NUL}heer@gemeente.example", "password": NUL * 3},
            "null bytes in the staff sign-in",
        ),
        Probe(
            "anonymous",
            "/beheer/inloggen",
            {"email": "x" * 50_000, "password": "y" * 500_000, "totp": "z" * 10_000},
            "very long sign-in",
            writes=frozenset({"audit_event"}),  # a failed staff sign-in is logged
        ),
    ]


def voting_probes(world: World) -> list[Probe]:
    return [
        Probe("voter", "/stem", {"code": "x" * 100_000}, "a long code"),
        Probe("voter", "/stem", {"code": f"ABCD{NUL}EFGH{NUL}JKMN"}, "a code with NUL"),
        Probe("voter", "/stem", {"code": "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ"}, "full-width letters"),
        Probe("voter", "/stem", [("code", "ABCD-EFGH-JKMN"), ("code", "X")], "the code twice"),
        Probe("resident", "/stem/email", {"ronde": "x" * 10_000}, "long", frozenset({403, 404})),
        Probe("resident", "/stem/email", {"ronde": NUL}, "a null slug", frozenset({400, 404})),
    ]


def moderation_probes(world: World) -> list[Probe]:
    plan = f"/beheer/rondes/{world.proposal_slug}/plannen/{world.resident_plan}"
    accept = {"official_cost": "1200", "cost_explanation": ""}
    reason = {"public_reason": "Dit plan past niet in deze ronde."}
    probes = number_probes("moderator", f"{plan}/accepteren", accept, ["official_cost"])
    probes += [
        Probe("moderator", f"{plan}/accepteren", spoil(accept, official_cost="0"), "zero"),
        Probe("moderator", f"{plan}/accepteren", spoil(accept, official_cost="30000"), "budget"),
        Probe(
            "moderator",
            f"{plan}/accepteren",
            {"official_cost": "1500", "cost_explanation": "x" * 2_001},
            "a long explanation",
        ),
        Probe("moderator", f"{plan}/afwijzen", {"public_reason": "x" * 2_001}, "long reason"),
        Probe("moderator", f"{plan}/afwijzen", {"public_reason": NUL * 12}, "a null reason"),
        Probe("moderator", f"{plan}/aanpassen", {"reason": "kort"}, "a short reason"),
        Probe("moderator", f"{plan}/samenvoegen", {**reason, "into_id": "onbekend"}, "unknown"),
        Probe("moderator", f"{plan}/samenvoegen", {**reason, "into_id": NUL}, "a null plan"),
        Probe("moderator", f"{plan}/verbergen", {"reason": "   "}, "a blank reason"),
    ]
    rounds = "/beheer/rondes"
    base = round_form(world)
    probes += text_probes("moderator", rounds, base, {"title": 200, "description": 10_000})
    probes += number_probes(
        "moderator",
        rounds,
        base,
        ["budget", "min_choices", "support_threshold", "min_spend_percent", "area_id"],
    )
    probes += [
        Probe("moderator", rounds, spoil(base, ballot_kind="points", points_total=v), f"pt {v}")
        for v in ("0", "-3", HUGE, "veel")
    ]
    probes += [
        Probe("moderator", rounds, spoil(base, min_age=v), f"min_age {v}")
        for v in ("-1", "121", HUGE, "oud")
    ]
    probes += [
        Probe("moderator", rounds, spoil(base, voting_starts_at=v), f"a date: {v!r}")
        for v in ("31-02-2027", "2027-13-01 09:00", "gisteren", "9" * 40, NUL, "2027-03-01T25:00")
    ]
    probes += [
        Probe("moderator", rounds, spoil(base, rule="<script>"), "an unknown rule"),
        Probe("moderator", rounds, spoil(base, ballot_kind=NUL), "a null ballot kind"),
        Probe("moderator", rounds, spoil(base, eligibility="iedereen"), "unknown eligibility"),
    ]
    codes = f"/beheer/rondes/{world.voting_slug}/codes"
    probes += [
        Probe("moderator", codes, {"count": v}, f"count {v!r}")
        for v in ("0", "-5", HUGE, "1e3", "²", "veel", NUL, "1001")
    ]
    probes += [
        Probe("moderator", f"{codes}/intrekken", {"code": v}, f"revoke {v!r}")
        for v in ("x" * 10_000, NUL, "ABCD-EFGH-JKMN")
    ]
    return probes


def admin_probes(world: World) -> list[Probe]:
    areas = "/beheer/gebieden"
    probes = text_probes("admin", areas, area_form(), {"name": 200, "council_name": 200})
    probes += [
        Probe("admin", areas, spoil(area_form(), slug=v), f"slug {v!r}")
        for v in ("../../etc", "Hoofd Letters", "x" * 200, NUL, "<b>")
    ]
    probes += [
        Probe("admin", areas, spoil(area_form(), postcodes=v), f"postcodes {v!r}")
        for v in (
            "9999-1000",
            "abcd",
            "9401-" + HUGE,
            ",".join(map(str, range(1000, 9999, 2))),
            NUL,
        )
    ]
    members = "/beheer/medewerkers"
    probes += text_probes("admin", members, invite_form(), {"name": 200, "email": 320})
    probes += [
        Probe("admin", members, spoil(invite_form(), role="god"), "an unknown role"),
        Probe("admin", members, [*invite_form().items(), ("area_ids", HUGE)], "a huge area id"),
        Probe("admin", members, [*invite_form().items(), ("area_ids", "²")], "area id ²"),
    ]
    target = f"/beheer/medewerkers/{world.target_id}"
    probes += [
        Probe("admin", f"{target}/gebieden", {"area_id": v}, f"assign area {v!r}")
        for v in (HUGE, "²", "-1", "0", "veel", NUL)
    ]
    probes += [
        Probe(
            "admin",
            "/beheer/wachtwoord",
            {"current": "fout" * 1000, "new": NUL * 20, "repeat": NUL * 20},
            "a wrong and very long password",
        )
    ]
    return probes


# --- the tests --------------------------------------------------------------------------------


def test_residents_forms(world: World) -> None:
    run(world, resident_probes(world) + sign_in_probes() + voting_probes(world))


def test_staff_forms(world: World) -> None:
    run(world, moderation_probes(world) + admin_probes(world))


def test_oversized_bodies_are_refused_with_413_in_dutch(world: World) -> None:
    limit = world.settings.max_body_bytes
    resident, moderator = world.client("resident"), world.client("moderator")
    before = snapshot(world.db)
    big = {**plan_form(), "body": "x" * (limit + 10)}
    cases: list[tuple[Client, str, dict[str, Any]]] = [
        (resident, f"/rondes/{world.proposal_slug}/plannen/nieuw", {"data": big}),
        (resident, "/profiel", {"data": {"display_name": "x" * (limit + 1)}}),
        (moderator, "/beheer/rondes", {"data": {"title": "x" * limit * 3}}),
        (
            resident,
            f"/rondes/{world.proposal_slug}/plannen/nieuw",
            {"files": {"foto": ("foto.jpg", b"\xff" * (limit + 1), "image/jpeg")}},
        ),
    ]
    for client, path, body in cases:
        for headers in ({}, {"X-CSRF-Token": client.csrf()}, {**HTMX, "X-CSRF-Token": "x"}):
            data = body.get("data")
            response = client.post(
                path,
                data={CSRF_FIELD: client.csrf(), **data} if data else {CSRF_FIELD: client.csrf()},
                files=body.get("files"),
                headers=headers,
                follow_redirects=False,
            )
            assert response.status_code == 413, (path, headers, response.status_code)
            assert TOO_BIG in response.text
            if "HX-Request" in headers:
                assert response.headers["hx-retarget"] == "#meldingen"

    def chunks() -> Iterable[bytes]:  # no Content-Length: counted as it arrives
        yield f"{CSRF_FIELD}={resident.csrf()}&body=".encode()
        for _ in range(limit // 10_000 + 2):
            yield b"x" * 10_000

    response = resident.post(
        "/profiel",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert TOO_BIG in response.text
    assert not changed_tables(before, snapshot(world.db))


# --- ballots ----------------------------------------------------------------------------------


def ballot_form(pas: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("pas", pas), *((f"keuze.{plan}", points) for plan, points in choices)]


@pytest.fixture
def ballot(world: World) -> tuple[Client, str, list[str]]:
    """A voter at an open ballot: the client, the voting pass, the plans on the ballot."""
    client = world.client("anonymous")
    page = open_ballot(client, world.codes[0])
    return (
        client,
        form_on(page, "/stem/controleer")["pas"],
        ballot_plans(world.db, world.voting_slug),
    )


def test_ten_thousand_choices_on_a_ballot(
    world: World, ballot: tuple[Client, str, list[str]]
) -> None:
    client, pas, _plans = ballot
    moderator = world.client("moderator")
    before = snapshot(world.db)
    many = [(f"plan{n}", "1") for n in range(10_000)]
    over = [(f"plan{n}", "1") for n in range(501)]  # just over the limit, under the form's
    for path in ("/stem/controleer", "/stem/uitbrengen", "/stem/stembiljet", "/stem/stand"):
        for choices, statuses in ((many, {400}), (over, {422, 200})):
            for token_in_header in (False, True):
                form = ballot_form(pas, choices)
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                if token_in_header:
                    headers["X-CSRF-Token"] = client.csrf()
                else:
                    form = [(CSRF_FIELD, client.csrf()), *form]
                if path == "/stem/stand":
                    headers |= HTMX
                response = client.post(
                    path, content=urlencode(form), headers=headers, follow_redirects=False
                )
                label = f"{path} with {len(choices)} choices"
                assert response.status_code in statuses, f"{label}: {response.status_code}"
                assert clear_message(response) or path == "/stem/stand", label
    paper = f"/beheer/rondes/{world.voting_slug}/papier"
    for choices in (many, over):
        form = [("code", world.codes[1]), *((f"keuze.{p}", v) for p, v in choices)]
        response = moderator.post(
            paper,
            content=urlencode(form),
            headers={
                "X-CSRF-Token": moderator.csrf(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            follow_redirects=False,
        )
        assert response.status_code in (400, 422), response.status_code
        assert clear_message(response)
    assert not changed_tables(before, snapshot(world.db)), "no ballot was stored"


BAD_CHOICES: list[tuple[str, Callable[[list[str]], list[tuple[str, str]]]]] = [
    ("an unknown plan", lambda plans: [("onbekend", "1")]),
    ("a plan of another round", lambda plans: [("dorpsbud-p0", "1")]),
    ("a plan twice", lambda plans: [(plans[0], "1"), (plans[0], "1")]),
    ("negative points", lambda plans: [(plans[0], "-1")]),
    ("huge points", lambda plans: [(plans[0], HUGE)]),
    ("a fraction", lambda plans: [(plans[0], "1.5")]),
    ("a word", lambda plans: [(plans[0], "ja")]),
    ("a superscript digit", lambda plans: [(plans[0], "²")]),
    ("a null byte", lambda plans: [(plans[0], NUL)]),
    ("a null plan id", lambda plans: [(NUL, "1")]),
    ("every plan: over the budget", lambda plans: [(p, "1") for p in plans]),
]


def test_a_spoilt_ballot_is_refused(world: World, ballot: tuple[Client, str, list[str]]) -> None:
    client, pas, plans = ballot
    before = snapshot(world.db)
    for why, spoilt in BAD_CHOICES:
        choices = spoilt(plans)
        # A null byte is refused before the form is read (400); the rest by the ballot rules.
        status = 400 if has_nul(choices) else 422
        review = client.submit("/stem/controleer", ballot_form(pas, choices))
        assert review.status_code == status, (why, review.status_code)
        assert clear_message(review), why
        cast_form = [*ballot_form(pas, choices), ("inzending", "a" * 32)]
        cast = client.submit("/stem/uitbrengen", cast_form)
        assert cast.status_code == status, (why, cast.status_code)
        assert clear_message(cast), why
    assert not changed_tables(before, snapshot(world.db))


def test_a_forged_or_spoilt_voting_pass_is_refused(
    world: World, ballot: tuple[Client, str, list[str]]
) -> None:
    client, pas, plans = ballot
    before = snapshot(world.db)
    for bad in ("", "x" * 10_000, pas[:-2] + "xx", pas.replace(".", "..", 1), f"{pas}{NUL}"):
        response = client.submit("/stem/uitbrengen", ballot_form(bad, [(plans[0], "1")]))
        if NUL in bad:
            assert response.status_code == 400
            continue
        assert response.status_code == 303, response.status_code
        assert response.headers["location"].startswith("/stem?melding=")
    assert not changed_tables(before, snapshot(world.db))


# --- ids in the address -----------------------------------------------------------------------


def test_unknown_and_absurd_ids_in_the_address_are_404(world: World) -> None:
    admin, resident = world.client("admin"), world.client("resident")
    before = snapshot(world.db)
    for path in (
        f"/beheer/gebieden/{HUGE}",
        f"/beheer/gebieden/{INT32_OVER}",
        f"/beheer/medewerkers/{HUGE}",
        f"/beheer/medewerkers/{world.target_id}/gebieden/{HUGE}/verwijderen",
        "/beheer/rondes/onbekend",
        f"/beheer/rondes/{world.proposal_slug}/plannen/onbekend",
        f"/beheer/rondes/{'x' * 5_000}",
    ):
        method = "POST" if path.endswith("verwijderen") else "GET"
        response = admin.submit(path, {}, method=method) if method == "POST" else admin.get(path)
        assert response.status_code == 404, (path, response.status_code)
    for path in (
        "/plannen/onbekend",
        f"/plannen/{'x' * 5_000}",
        "/rondes/%00",
        "/wijken/%ff%fe",
        f"/rondes/{world.published_slug}%00/uitslag",
    ):
        assert resident.get(path).status_code == 404, path
    for path in ("/plannen/onbekend/steun", "/plannen/onbekend/intrekken"):
        assert resident.submit(path, {"steun": "1"}).status_code == 404, path
    for page in (HUGE, "²", "-1", "0", "x" * 10_000):
        response = admin.get("/beheer/logboek", params={"pagina": page})
        assert response.status_code == 200, (page, response.status_code)
    assert admin.get("/beheer/logboek", params={"pagina": NUL}).status_code == 400
    assert admin.get("/rondes/%00").status_code == 404
    assert not changed_tables(before, snapshot(world.db))


# --- the body itself --------------------------------------------------------------------------


def test_duplicate_fields_wrong_types_and_broken_encodings(world: World) -> None:
    resident = world.client("resident")
    path = f"/rondes/{world.proposal_slug}/plannen/nieuw"
    token = resident.csrf()
    urlencoded = {"Content-Type": "application/x-www-form-urlencoded"}
    shouted = {"Content-Type": "Application/X-WWW-Form-Urlencoded"}  # media types ignore case
    before = snapshot(world.db)
    raw_bodies = [
        b"title=%FF%FE%FD&summary=%C3%28&estimated_cost=%E2%82&theme=groen",  # invalid UTF-8
        b"title=\xff\xfe\xfd&summary=\xc3\x28&estimated_cost=1200&theme=\x80",  # raw bytes
        b"title[]=a&title[]=b&summary[0]=x&estimated_cost[]=1&theme=groen",  # arrays, PHP style
        b"title=%00%00%00%00%00&summary=%00&estimated_cost=%00&theme=%00",  # null bytes
        b"=&&=&title&summary=&estimated_cost&&&",  # no names, no values
        b"title=a&" * 2_000,  # more fields than a form may have
    ]
    for body in raw_bodies:
        for headers in (
            {**urlencoded, "X-CSRF-Token": token},
            {**shouted, "X-CSRF-Token": token},
            urlencoded,
        ):
            content = body if "X-CSRF-Token" in headers else f"csrf_token={token}&".encode() + body
            response = resident.post(path, content=content, headers=headers, follow_redirects=False)
            assert response.status_code in (400, 403, 422), (body[:40], response.status_code)
            assert clear_message(response), body[:40]
    json_body = {"title": ["a", "b"], "estimated_cost": {"$gt": 1}, "theme": None}
    response = resident.post(
        path, json=json_body, headers={"X-CSRF-Token": token}, follow_redirects=False
    )
    assert response.status_code == 422
    multipart = {"Content-Type": "multipart/form-data; boundary=grens", "X-CSRF-Token": token}
    for body in (
        b'--grens\r\nContent-Disposition: form-data; name="title"\r\n\r\n\xff\xfe\r\n--grens--\r\n',
        b'--grens\r\nContent-Disposition: form-data; name="title"\r\n\r\nonafgemaakt',
        b"--grens\r\nContent-Disposition: form-data\r\n\r\nzonder naam\r\n--grens--\r\n",
        b'--grens\r\nContent-Disposition: form-data; name="\x00"\r\n\r\nx\r\n--grens--\r\n',
    ):
        response = resident.post(path, content=body, headers=multipart, follow_redirects=False)
        assert response.status_code in (400, 422), (body[:60], response.status_code)
    duplicated = [
        (CSRF_FIELD, "fout"),
        (CSRF_FIELD, token),
        *plan_form().items(),
        ("title", "Een tweede titel"),
        ("estimated_cost", "-5"),
    ]
    response = resident.post(
        path, content=urlencode(duplicated), headers=urlencoded, follow_redirects=False
    )
    assert response.status_code in (403, 422), response.status_code
    assert not changed_tables(before, snapshot(world.db)), "nothing was stored"
