"""Voting on the web: code → ballot → review → cast → receipt, on both databases.

Every refusal is checked twice: the page says why (422 with the choices kept), and nothing was
stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import (
    Area,
    Ballot,
    BallotChoice,
    CodeStatus,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Round,
    VoterDeclaration,
    VotingCode,
)
from proeftuin.services import codes, residents, voting
from proeftuin.web import voting as voting_web
from tests.factories import make_round
from tests.web.clients import csrf_of, sign_in_resident

NBSP = "\xa0"


# -- Helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    round_id: int
    slug: str
    codes: list[str]


def setup_round(
    db: Database,
    settings: Settings,
    *,
    costs: Sequence[int] = (4_000, 3_000, 5_000),
    code_count: int = 3,
    **round_settings: object,
) -> Setup:
    """A round in its voting phase with plans plan0, plan1, … (the costs) and letter codes."""

    def build(session: Session) -> Setup:
        round_ = make_round(session, costs=costs, **round_settings)  # type: ignore[arg-type]
        plain = codes.generate_codes(session, round_, settings.code_pepper, code_count)
        return Setup(round_.id, round_.slug, plain)

    return transact(db, build)


def field_value(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no field {name} on the page"
    return match.group(1)


def enter(client: TestClient, code: str) -> httpx.Response:
    token = csrf_of(client.get("/stem").text)
    return client.post("/stem", data={"code": code, "csrf_token": token})


def choice_fields(choices: dict[str, int] | Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    items = choices.items() if isinstance(choices, dict) else choices
    return [(f"keuze.{pid}", str(points)) for pid, points in items]


def post_ballot(
    client: TestClient,
    path: str,
    page_html: str,
    choices: dict[str, int] | Sequence[tuple[str, str]],
    *,
    pas: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    data = [
        ("csrf_token", csrf_of(page_html)),
        ("pas", pas if pas is not None else field_value(page_html, "pas")),
        *choice_fields(choices),
        *extra,
    ]
    return client.post(
        path,
        content=httpx.QueryParams(data).__str__().encode(),
        headers={"content-type": "application/x-www-form-urlencoded", **(headers or {})},
        follow_redirects=False,
    )


def cast_from_review(client: TestClient, review_html: str) -> httpx.Response:
    """Press "Stem uitbrengen": the review page's first form, as the browser would send it."""
    form = review_html[review_html.index('action="/stem/uitbrengen"') :]
    form = form[: form.index("</form>")]
    fields = re.findall(r'<input type="hidden"[^>]* name="([^"]+)" value="([^"]*)"', form)
    return client.post(
        "/stem/uitbrengen",
        content=httpx.QueryParams(fields).__str__().encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def vote(client: TestClient, code: str, choices: dict[str, int]) -> str:
    """The whole flow; returns the receipt."""
    ballot = enter(client, code)
    assert ballot.status_code == 200, ballot.text
    review = post_ballot(client, "/stem/controleer", ballot.text, choices)
    assert review.status_code == 200, review.text
    cast = cast_from_review(client, review.text)
    assert cast.status_code == 303, cast.text
    return parse_qs(urlsplit(cast.headers["location"]).query)["bon"][0]


def stored(db: Database) -> list[list[tuple[str, int]]]:
    """Every stored ballot as its sorted (plan public id, points)."""

    def load(session: Session) -> list[list[tuple[str, int]]]:
        out = []
        for ballot in session.scalars(select(Ballot).order_by(Ballot.id)):
            picks = session.execute(
                select(Plan.public_id, BallotChoice.points)
                .join(Plan, Plan.id == BallotChoice.plan_id)
                .where(BallotChoice.ballot_id == ballot.id)
            ).all()
            out.append(sorted((pid, points) for pid, points in picks))
        return out

    return read(db, load)


def set_phase(db: Database, round_id: int, phase: Phase) -> None:
    def change(session: Session) -> None:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        round_.phase = phase.value

    transact(db, change)


def checked(html: str) -> set[str]:
    return set(re.findall(r'name="keuze\.([^"]+)" value="1" checked', html))


# -- The entrance ----------------------------------------------------------------------------


def test_the_start_page_has_a_labelled_code_field(client: TestClient, db: Database) -> None:
    response = client.get("/stem")
    assert response.status_code == 200
    html = response.text
    assert '<label class="utrecht-form-label proeftuin-field__label" for="code">' in html
    assert 'name="code"' in html
    assert 'aria-describedby="code-hint"' in html
    assert response.headers["cache-control"] == "no-store"


def test_the_qr_link_prefills_the_code(client: TestClient, db: Database) -> None:
    html = client.get("/stem?code=abcdefghjkmn").text
    assert 'value="ABCD-EFGH-JKMN"' in html
    # Something that cannot be a code is shown as it came, escaped.
    html = client.get('/stem?code="><script>').text
    assert "<script>" not in html.split("<main", 1)[1]


def test_a_code_typed_in_lower_case_without_dashes_opens_the_ballot(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    response = enter(client, setup.codes[0].lower())
    assert response.status_code == 200
    html = response.text
    assert "Buurtbudget Noord" in html
    for title in ("Plan 0", "Plan 1", "Plan 2"):
        assert title in html
    assert f"€{NBSP}4.000" in html
    # The code itself is nowhere on the page, and not in the cookie: only the signed pass is.
    code = setup.codes[0]
    assert code not in html.upper().replace("-", "")
    assert codes.display(code) not in html
    assert all(code not in value.upper() for value in client.cookies.values())


def test_the_pass_holds_the_round_the_voter_key_and_the_code_id_only(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    pas = field_value(enter(client, setup.codes[0]).text, "pas")
    data = TimestampSigner(settings.secret_key, salt=voting_web.PASS_SALT).unsign(pas).decode()
    round_id, voter_key, code_id = data.split(".")
    assert int(round_id) == setup.round_id
    assert voting_web.read_pass(settings, pas) == voting.Credential(
        setup.round_id, voter_key, int(code_id)
    )
    assert setup.codes[0] not in data.upper()


@pytest.mark.parametrize("typed", ["", "ABC", "0000-0000-0000", "ABCD-EFGH-JKMU"])
def test_a_wrong_code_is_refused_at_the_field(
    client: TestClient, db: Database, settings: Settings, typed: str
) -> None:
    setup_round(db, settings)
    response = enter(client, typed)
    assert response.status_code == 422
    html = response.text
    assert "<title>Fout:" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="code-hint code-error"' in html
    assert 'id="code-error"' in html
    assert "code" in html.split('id="code-error"')[1].split("</p>")[0].lower()
    assert f'value="{typed}"' in html  # kept, to correct
    assert stored(db) == []


def test_a_revoked_code_is_refused(client: TestClient, db: Database, settings: Settings) -> None:
    setup = setup_round(db, settings)

    def revoke(session: Session) -> None:
        hashed = codes.code_hash(settings.code_pepper, setup.codes[0])
        row = session.scalar(select(VotingCode).where(VotingCode.code_hash == hashed))
        assert row is not None
        row.status = CodeStatus.REVOKED.value

    transact(db, revoke)
    response = enter(client, setup.codes[0])
    assert response.status_code == 422
    assert "Deze code is ingetrokken" in response.text


def test_a_code_of_a_round_that_is_not_voting_is_refused(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    set_phase(db, setup.round_id, Phase.GESLOTEN)
    response = enter(client, setup.codes[0])
    assert response.status_code == 409
    assert "Stemmen kan nu niet in deze ronde." in response.text


def test_after_ten_wrong_codes_even_a_good_one_waits_429_in_dutch(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    for _ in range(10):
        assert enter(client, "0000-0000-0000").status_code == 422
    client.cookies.clear()  # a fresh cookie does not help
    response = enter(client, setup.codes[0])
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Te veel pogingen. Probeer het over" in response.text
    assert stored(db) == []


def test_good_codes_do_not_count_towards_the_limit(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, code_count=12)
    for code in setup.codes:
        assert enter(client, code).status_code == 200


def test_the_start_page_without_a_csrf_token_is_refused(client: TestClient, db: Database) -> None:
    client.get("/stem")
    assert client.post("/stem", data={"code": "x"}).status_code == 403


# -- The whole flow, per ballot kind ---------------------------------------------------------


@pytest.mark.parametrize(
    ("round_settings", "choices", "expected", "review_total"),
    [
        (
            {"ballot_kind": "knapsack"},
            {"plan0": 1, "plan1": 1},
            [("plan0", 1), ("plan1", 1)],
            "7.000",
        ),
        (
            {"ballot_kind": "approval"},
            {"plan0": 1, "plan2": 1},
            [("plan0", 1), ("plan2", 1)],
            "9.000",
        ),
        (
            {"ballot_kind": "k_approval", "max_choices": 2},
            {"plan1": 1, "plan2": 1},
            [("plan1", 1), ("plan2", 1)],
            "8.000",
        ),
        (
            {"ballot_kind": "points", "points_total": 10},
            {"plan0": 6, "plan1": 0, "plan2": 4},
            [("plan0", 6), ("plan2", 4)],
            ">10<",
        ),
    ],
)
def test_the_whole_flow_for_each_ballot_kind(
    client: TestClient,
    db: Database,
    settings: Settings,
    round_settings: dict[str, object],
    choices: dict[str, int],
    expected: list[tuple[str, int]],
    review_total: str,
) -> None:
    setup = setup_round(db, settings, **round_settings)
    ballot = enter(client, setup.codes[0])
    assert ballot.status_code == 200
    points_ballot = round_settings["ballot_kind"] == "points"
    input_type = 'type="text" inputmode="numeric"' if points_ballot else 'type="checkbox"'
    assert input_type in ballot.text

    review = post_ballot(client, "/stem/controleer", ballot.text, choices)
    assert review.status_code == 200
    assert "Controleer uw keuze" in review.text
    for pid, points in choices.items():
        assert (f"Plan {pid[-1]}" in review.text) == (points > 0)
    assert review_total in review.text
    assert "Stem uitbrengen" in review.text and "Keuze aanpassen" in review.text
    assert stored(db) == []  # reviewing stores nothing

    cast = cast_from_review(client, review.text)
    assert cast.status_code == 303
    assert cast.headers["location"].startswith("/stem/bedankt?bon=")
    assert stored(db) == [expected]

    receipt = client.get(cast.headers["location"])
    assert receipt.status_code == 200
    bon = parse_qs(urlsplit(cast.headers["location"]).query)["bon"][0]
    assert bon in receipt.text
    # Anyone with the URL sees the tracker, never the choices.
    assert "Plan 0" not in receipt.text and "Plan 2" not in receipt.text
    assert read(db, lambda s: s.scalar(select(Ballot.receipt))) == bon


def test_the_ballot_page_shows_the_live_budget_region(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, budget=10_000)
    html = enter(client, setup.codes[0]).text
    region = html[html.index('id="stand"') - 60 :]
    assert 'aria-live="polite"' in region[:200]
    assert f"€{NBSP}10.000" in region
    assert 'hx-post="/stem/stand"' in html and 'hx-trigger="change"' in html
    assert 'id="verder"' in html and "disabled" not in html.split('id="verder"')[1].split(">")[0]


# -- The live fragment -----------------------------------------------------------------------


def test_the_live_fragment_shows_what_is_left_and_disables_continue_when_over(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, budget=8_000)
    ballot = enter(client, setup.codes[0]).text
    htmx = {"HX-Request": "true", "X-CSRF-Token": csrf_of(ballot)}

    fits = post_ballot(client, "/stem/stand", ballot, {"plan0": 1}, headers=htmx)
    assert fits.status_code == 200
    assert "<html" not in fits.text
    assert f"€{NBSP}4.000" in fits.text  # left of 8,000
    assert "hx-request" in fits.headers["vary"].lower()
    button = re.search(r'<button[^>]*id="verder"[^>]*>', fits.text)
    assert button and 'hx-swap-oob="true"' in button.group(0)
    assert "disabled" not in button.group(0)
    assert 'id="pas"' in fits.text and 'hx-swap-oob="true"' in fits.text  # the pass renewed

    over = post_ballot(client, "/stem/stand", ballot, {"plan0": 1, "plan2": 1}, headers=htmx)
    assert "meer dan het budget" in over.text
    button = re.search(r'<button[^>]*id="verder"[^>]*>', over.text)
    assert button and "disabled" in button.group(0)
    assert 'aria-describedby="stand-probleem"' in button.group(0)
    assert stored(db) == []


def test_the_live_fragment_counts_points_and_refuses_words(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, ballot_kind="points", points_total=5)
    ballot = enter(client, setup.codes[0]).text
    htmx = {"HX-Request": "true"}
    ok = post_ballot(client, "/stem/stand", ballot, {"plan0": 2}, headers=htmx)
    assert "Nog te verdelen:" in ok.text and "3 punten" in ok.text
    too_many = post_ballot(client, "/stem/stand", ballot, {"plan0": 4, "plan1": 3}, headers=htmx)
    assert "hoogstens 5 punten" in too_many.text
    word = post_ballot(client, "/stem/stand", ballot, [("plan0", "veel")], headers=htmx)
    assert "heel getal" in word.text


def test_one_point_too_many_is_named_live_and_on_the_page_without_javascript(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, ballot_kind="points", points_total=10)
    ballot = enter(client, setup.codes[0]).text
    eleven = {"plan0": 6, "plan1": 5}
    live = post_ballot(client, "/stem/stand", ballot, eleven, headers={"HX-Request": "true"})
    review = post_ballot(client, "/stem/controleer", ballot, eleven)
    assert review.status_code == 422
    for html in (live.text, review.text):
        assert "Te veel gegeven:" in html and "<strong>1 punt</strong>" in html
        assert "Nog te verdelen:" not in html


def test_an_expired_pass_sends_htmx_back_to_the_start(
    client: TestClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    monkeypatch.setattr(voting_web, "PASS_MAX_AGE_SECONDS", -1)
    response = post_ballot(
        client, "/stem/stand", ballot, {"plan0": 1}, headers={"HX-Request": "true"}
    )
    assert response.headers["hx-redirect"] == "/stem?melding=verlopen"


# -- Refused ballots: nothing stored, the choices kept ---------------------------------------


def test_over_budget_without_javascript_is_422_with_the_choices_kept(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, budget=8_000)
    ballot = enter(client, setup.codes[0]).text
    response = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1, "plan2": 1})
    assert response.status_code == 422
    html = response.text
    assert "<title>Fout:" in html
    assert "Uw keuze kost €" in html and "meer dan het budget" in html
    assert checked(html) == {"plan0", "plan2"}
    assert 'href="#keuzes"' in html  # the error summary links to the choices
    assert "stand-probleem" in html.split('id="keuzes"')[1].split(">")[0]
    assert stored(db) == []


@pytest.mark.parametrize(
    ("round_settings", "choices", "message"),
    [
        ({"budget": 8_000}, {"plan0": 1, "plan2": 1}, "meer dan het budget"),
        ({"min_spend_percent": 50}, {"plan1": 1}, "Kies plannen voor minstens"),
        (
            {"ballot_kind": "k_approval", "max_choices": 1},
            {"plan0": 1, "plan1": 1},
            "Het maximum is 1.",
        ),
        ({"ballot_kind": "approval", "min_choices": 2}, {"plan0": 1}, "Het minimum is 2."),
        ({}, {"elders": 1}, "staat niet op dit stembiljet"),
        ({"ballot_kind": "points", "points_total": 5}, {"plan0": 6}, "hoogstens 5 punten"),
    ],
)
def test_a_forged_cast_that_breaks_the_rules_stores_nothing(
    client: TestClient,
    db: Database,
    settings: Settings,
    round_settings: dict[str, object],
    choices: dict[str, int],
    message: str,
) -> None:
    """Skipping the review step (a stale page, a forged form): casting checks everything again."""
    setup = setup_round(db, settings, **round_settings)
    ballot = enter(client, setup.codes[0]).text
    response = post_ballot(
        client, "/stem/uitbrengen", ballot, choices, extra=[("inzending", "t" * 32)]
    )
    assert response.status_code == 422
    assert message in response.text
    assert stored(db) == []
    statuses = read(db, lambda s: set(s.scalars(select(VotingCode.status))))
    assert statuses == {CodeStatus.UNUSED.value}


def test_a_plan_taken_off_the_ballot_after_review_cannot_be_cast(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan1": 1})
    assert review.status_code == 200

    def reject(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == "plan1"))
        assert plan is not None
        plan.status = PlanStatus.AFGEWEZEN.value

    transact(db, reject)
    response = cast_from_review(client, review.text)
    assert response.status_code == 422
    assert "staat niet op dit stembiljet" in response.text
    assert stored(db) == []


def test_a_round_closed_after_review_stores_nothing(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1})
    set_phase(db, setup.round_id, Phase.GESLOTEN)
    response = cast_from_review(client, review.text)
    assert response.status_code == 409
    assert "gesloten" in response.text
    assert stored(db) == []


def test_points_that_are_not_whole_numbers_are_refused_at_their_field(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, ballot_kind="points", points_total=10)
    ballot = enter(client, setup.codes[0]).text
    for typed in ("twee", "1.5", "-1", "9" * 50):
        fields = [("plan0", "3"), ("plan1", typed)]
        response = post_ballot(client, "/stem/uitbrengen", ballot, fields)
        assert response.status_code == 422, typed
        html = response.text
        assert "Vul een heel getal in" in html
        assert 'id="keuze-plan1-fout"' in html
        field = re.search(r'<input[^>]*id="keuze-plan1"[^>]*>', html)
        assert field and 'aria-invalid="true"' in field.group(0)
        assert "keuze-plan1-fout" in field.group(0)
        kept = re.search(r'<input[^>]*id="keuze-plan0"[^>]*>', html)
        assert kept and 'value="3"' in kept.group(0)
    assert stored(db) == []


def test_unknown_fields_are_ignored_and_empty_points_are_zero(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, ballot_kind="points", points_total=10)
    ballot = enter(client, setup.codes[0]).text
    response = post_ballot(
        client,
        "/stem/controleer",
        ballot,
        [("plan0", "4"), ("plan1", "")],
        extra=[("admin", "1"), ("keuze", "plan2"), ("round_id", "999")],
    )
    assert response.status_code == 200
    assert "Controleer uw keuze" in response.text


def test_duplicate_fields_are_refused_cleanly(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings, ballot_kind="points", points_total=10)
    ballot = enter(client, setup.codes[0]).text
    response = post_ballot(client, "/stem/uitbrengen", ballot, [("plan0", "3"), ("plan0", "7")])
    assert response.status_code == 422
    assert "twee keer" in response.text
    assert stored(db) == []


@pytest.mark.parametrize("count", [600, 10_000])
def test_thousands_of_selections_are_refused_without_a_crash(
    client: TestClient, db: Database, settings: Settings, count: int
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    choices = [(f"p{i}", "1") for i in range(count)]
    response = post_ballot(client, "/stem/uitbrengen", ballot, choices)
    # Past the form parser's own limit the CSRF check cannot read the form (400); below it the
    # ballot says it has too many choices (422). Either way: a page, no crash, nothing stored.
    assert response.status_code in (400, 422)
    assert "te veel keuzes" in response.text or "kon niet worden gelezen" in response.text
    assert stored(db) == []


def test_too_many_selections_over_htmx_are_refused_too(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    choices = [(f"p{i}", "1") for i in range(600)]
    response = post_ballot(
        client,
        "/stem/stand",
        ballot,
        choices,
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(ballot)},
    )
    assert response.status_code == 200
    assert "te veel keuzes" in response.text


# -- The voting pass -------------------------------------------------------------------------


def test_a_forged_pass_goes_back_to_the_start_with_a_message(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    pas = field_value(ballot, "pas")
    forged = [
        pas[:-2] + ("AA" if not pas.endswith("AA") else "BB"),
        "nonsense",
        "",
        # Signed with the right key, but for another purpose.
        URLSafeTimedSerializer(settings.secret_key, salt="resident-sign-in").dumps(
            {"r": setup.round_id, "k": "x", "c": 1}
        ),
        # Signed right, but not what a pass holds.
        TimestampSigner(settings.secret_key, salt=voting_web.PASS_SALT).sign("r.1"),
        URLSafeTimedSerializer(settings.secret_key, salt=voting_web.PASS_SALT).dumps(["r", 1]),
    ]
    for bad in forged:
        response = post_ballot(client, "/stem/uitbrengen", ballot, {"plan0": 1}, pas=bad)
        assert response.status_code == 303
        assert response.headers["location"] == "/stem?melding=ongeldig"
    page = client.get("/stem?melding=ongeldig")
    assert "Deze stempagina klopt niet" in page.text
    assert stored(db) == []


def test_an_expired_pass_goes_back_to_the_start(
    client: TestClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1})
    monkeypatch.setattr(voting_web, "PASS_MAX_AGE_SECONDS", -1)
    response = cast_from_review(client, review.text)
    assert response.status_code == 303
    assert response.headers["location"] == "/stem?melding=verlopen"
    assert "Uw stempagina is verlopen" in client.get(response.headers["location"]).text
    assert stored(db) == []


def test_a_code_revoked_while_voting_cannot_cast(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1})

    def revoke(session: Session) -> None:
        for row in session.scalars(select(VotingCode)):
            row.status = CodeStatus.REVOKED.value

    transact(db, revoke)
    response = cast_from_review(client, review.text)
    assert response.status_code == 422
    assert "ingetrokken" in response.text
    assert stored(db) == []


@pytest.mark.parametrize("path", ["/stem/stembiljet", "/stem/controleer", "/stem/uitbrengen"])
def test_a_get_on_a_step_starts_again(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/stem"


# -- Revoting, retries and the receipt -------------------------------------------------------


def test_coming_back_shows_the_ballot_and_replacing_it_leaves_one(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    first = vote(client, setup.codes[0], {"plan0": 1, "plan1": 1})

    again = enter(client, setup.codes[0])
    assert again.status_code == 200
    assert "U heeft al gestemd. U kunt uw keuze nog veranderen" in again.text
    assert checked(again.text) == {"plan0", "plan1"}

    second = vote(client, setup.codes[0], {"plan2": 1})
    assert second != first
    assert stored(db) == [[("plan2", 1)]]
    assert read(db, lambda s: s.scalar(select(Ballot.receipt))) == second


def test_the_revote_notice_names_the_closing_date(
    client: TestClient, db: Database, settings: Settings
) -> None:
    import datetime as dt

    ends = dt.datetime(2027, 3, 2, 23, 30, tzinfo=dt.UTC)  # 3 March in the Netherlands
    setup = setup_round(db, settings, voting_ends_at=ends)
    vote(client, setup.codes[0], {"plan0": 1})
    html = enter(client, setup.codes[0]).text
    assert "U kunt uw keuze nog veranderen tot woensdag 3 maart 2027, 00:30 uur." in html


def test_the_same_submission_twice_gives_the_same_receipt(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1}).text
    first = cast_from_review(client, review)
    retry = cast_from_review(client, review)  # a double click, or a retry after a lost answer
    assert first.status_code == retry.status_code == 303
    assert first.headers["location"] == retry.headers["location"]
    assert stored(db) == [[("plan0", 1)]]


def test_a_new_review_page_is_a_new_submission(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review_one = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1}).text
    review_two = post_ballot(client, "/stem/controleer", ballot, {"plan1": 1}).text
    assert field_value(review_one, "inzending") != field_value(review_two, "inzending")
    cast_from_review(client, review_one)
    cast_from_review(client, review_two)
    assert stored(db) == [[("plan1", 1)]]  # the last one counts


def test_change_my_choice_goes_back_to_the_ballot_with_the_choices(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1, "plan1": 1}).text
    form = review[review.index('action="/stem/stembiljet"') :]
    form = form[: form.index("</form>")]
    fields = re.findall(r'<input type="hidden"[^>]* name="([^"]+)" value="([^"]*)"', form)
    back = client.post(
        "/stem/stembiljet",
        content=httpx.QueryParams(fields).__str__().encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert back.status_code == 200
    assert checked(back.text) == {"plan0", "plan1"}
    assert stored(db) == []


def test_the_receipt_says_when_and_where_the_result_comes_and_how_to_check_the_tracker(
    client: TestClient, db: Database, settings: Settings
) -> None:
    import datetime as dt

    ends = dt.datetime(2027, 3, 2, 17, 0, tzinfo=dt.UTC)  # Tuesday 2 March, 18:00 in Amsterdam
    setup = setup_round(db, settings, voting_ends_at=ends)
    ballot = enter(client, setup.codes[0])
    review = post_ballot(client, "/stem/controleer", ballot.text, {"plan0": 1})
    cast = cast_from_review(client, review.text)
    location = cast.headers["location"]
    assert f"ronde={setup.round_id}" in location
    receipt = parse_qs(urlsplit(location).query)["bon"][0]
    html = client.get(location).text
    assert "Wat gebeurt er nu?" in html
    assert "Het stemmen sluit dinsdag 2 maart 2027, 18:00 uur." in html
    assert f'href="/rondes/{setup.slug}"' in html
    assert f'href="/rondes/{setup.slug}/uitslag/stembonnen?stembon={receipt}"' in html
    # A round id that is not a round (or not a number) shows the receipt without the next steps.
    for other in ("999999", "abc", ""):
        page = client.get(f"/stem/bedankt?bon={receipt}&ronde={other}")
        assert page.status_code == 200 and "Wat gebeurt er nu?" not in page.text


def test_the_receipt_page_needs_a_well_formed_tracker(client: TestClient) -> None:
    assert client.get("/stem/bedankt?bon=ABCD-1234-EF56").status_code == 200
    for bad in ("", "abcd-1234-ef56", "<script>", "ABCD-1234-EF5"):
        assert client.get(f"/stem/bedankt?bon={bad}").status_code == 404


def test_the_ballot_pages_are_not_cached(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0])
    assert ballot.headers["cache-control"] == "no-store"
    review = post_ballot(client, "/stem/controleer", ballot.text, {"plan0": 1})
    assert review.headers["cache-control"] == "no-store"


def test_the_flow_in_english(client: TestClient, db: Database, settings: Settings) -> None:
    setup = setup_round(db, settings, budget=8_000)
    start = client.get("/stem?lang=en").text
    assert "Your voting code" in start
    ballot = enter(client, setup.codes[0]).text
    assert "Choose plans" in ballot
    over = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1, "plan2": 1}).text
    assert "more than the budget" in over
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1}).text
    assert "Check your choice" in review and "Cast your vote" in review


def test_pages_have_no_inline_script_or_style(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    review = post_ballot(client, "/stem/controleer", ballot, {"plan0": 1}).text
    for html in (client.get("/stem").text, ballot, review):
        assert not re.search(r"<script(?![^>]*\ssrc=)", html)
        assert not re.search(r"<[^>]*\sstyle=", html)
        assert not re.search(r"<[^>]*\son[a-z]+=", html)


# -- Voting with a verified e-mail address ---------------------------------------------------


def email_round(db: Database, settings: Settings, eligibility: Eligibility) -> Setup:
    setup = setup_round(db, settings, eligibility=eligibility.value)

    def area(session: Session) -> None:
        round_ = session.get(Round, setup.round_id)
        assert round_ is not None
        found = session.get(Area, round_.area_id)
        assert found is not None
        found.postcodes = "9401-9403"

    transact(db, area)
    return setup


def test_a_verified_resident_in_the_area_votes_by_email(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = email_round(db, settings, Eligibility.CODES_OR_EMAIL)
    resident = sign_in_resident(client, db)
    transact(db, residents.update_profile, resident, "Anna", "9402 AB")
    start = client.get("/stem").text
    assert "minder veilig dan de code uit uw brief" in start
    assert "Stem met mijn e-mailadres" in start
    undeclared = client.post(
        "/stem/email", data={"ronde": setup.slug, "csrf_token": csrf_of(start)}
    )
    assert undeclared.status_code == 403 and "Verklaar eerst dat u in" in undeclared.text
    assert read(db, lambda s: s.scalars(select(VoterDeclaration)).all()) == []
    declared = {"ronde": setup.slug, "verklaring": "1", "csrf_token": csrf_of(start)}
    ballot = client.post("/stem/email", data=declared)
    assert ballot.status_code == 200
    [declaration] = read(db, lambda s: s.scalars(select(VoterDeclaration)).all())
    assert declaration.round_id == setup.round_id and declaration.min_age is None
    review = post_ballot(client, "/stem/controleer", ballot.text, {"plan0": 1})
    assert cast_from_review(client, review.text).status_code == 303
    assert stored(db) == [[("plan0", 1)]]
    # Coming back by e-mail shows the same ballot.
    again = client.post("/stem/email", data=declared)
    assert "U heeft al gestemd" in again.text and checked(again.text) == {"plan0"}


def test_a_postcode_outside_the_area_cannot_vote_by_email(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = email_round(db, settings, Eligibility.EMAIL)
    resident = sign_in_resident(client, db)
    transact(db, residents.update_profile, resident, "Anna", "9501 AB")
    start = client.get("/stem").text
    assert "Uw postcode hoort niet bij" in start
    response = client.post("/stem/email", data={"ronde": setup.slug, "csrf_token": csrf_of(start)})
    assert response.status_code == 403
    assert "Uw postcode hoort niet bij" in response.text
    assert stored(db) == []


def test_a_codes_only_round_offers_no_email_voting(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = email_round(db, settings, Eligibility.CODES)
    resident = sign_in_resident(client, db)
    transact(db, residents.update_profile, resident, "Anna", "9402 AB")
    start = client.get("/stem").text
    assert "Stem met mijn e-mailadres" not in start
    response = client.post("/stem/email", data={"ronde": setup.slug, "csrf_token": csrf_of(start)})
    assert response.status_code == 403
    assert "alleen stemmen met de code" in response.text


def test_signed_out_email_voting_asks_to_sign_in(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = email_round(db, settings, Eligibility.EMAIL)
    start = client.get("/stem").text
    assert "/inloggen?next=%2Fstem" in start
    response = client.post(
        "/stem/email",
        data={"ronde": setup.slug, "csrf_token": csrf_of(start)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen?next=%2Fstem"


def test_with_javascript_a_warning_comes_before_the_pass_expires(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = setup_round(db, settings)
    ballot = enter(client, setup.codes[0]).text
    placeholder = re.search(r'<div id="verloopt"[^>]*>', ballot)
    assert placeholder
    wait = voting_web.PASS_MAX_AGE_SECONDS - voting_web.WARN_BEFORE_SECONDS
    assert f'hx-trigger="load delay:{wait}s"' in placeholder.group(0)
    assert 'hx-get="/stem/verloopt"' in placeholder.group(0)

    warning = client.get("/stem/verloopt", headers={"HX-Request": "true"}).text
    assert 'role="alert"' in warning and "verloopt over 10 minuten" in warning
    assert 'hx-post="/stem/stand"' in warning and "Ik heb meer tijd nodig" in warning

    # The live update (which the button asks for) renews the pass and re-arms the warning.
    live = post_ballot(client, "/stem/stand", ballot, {}, headers={"HX-Request": "true"}).text
    rearmed = re.search(r'<div id="verloopt"[^>]*>', live)
    assert rearmed and 'hx-swap-oob="true"' in rearmed.group(0)


def test_an_email_voter_declares_the_minimum_age_and_the_start_page_says_who_may_vote(
    client: TestClient, db: Database, settings: Settings
) -> None:
    setup = email_round(db, settings, Eligibility.EMAIL)

    def with_age(session: Session) -> None:
        round_ = session.get(Round, setup.round_id)
        assert round_ is not None
        round_.min_age = 16

    transact(db, with_age)
    resident = sign_in_resident(client, db)
    transact(db, residents.update_profile, resident, "Anna", "9402 AB")
    start = client.get("/stem").text
    assert "die lijst bepaalt wie mag stemmen" in start
    assert "Ik ben 16 jaar of ouder en ik woon in Noord." in start
    refused = client.post("/stem/email", data={"ronde": setup.slug, "csrf_token": csrf_of(start)})
    assert refused.status_code == 403 and "16 jaar of ouder" in refused.text
    form = {"ronde": setup.slug, "verklaring": "1", "csrf_token": csrf_of(start)}
    assert client.post("/stem/email", data=form).status_code == 200
    assert client.post("/stem/email", data=form).status_code == 200  # recorded once
    [declaration] = read(db, lambda s: s.scalars(select(VoterDeclaration)).all())
    assert declaration.min_age == 16
