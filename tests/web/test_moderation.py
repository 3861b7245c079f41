"""Rounds and the review queue under /beheer/rondes, through the app, on both databases."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.db import Database, read, transact, utcnow
from proeftuin.models import (
    Ballot,
    OutboxMail,
    Phase,
    Plan,
    PlanStatus,
    Round,
    Support,
)
from proeftuin.services import rounds, voting
from tests.factories import (
    DEFAULT_PLANS,
    PEPPER,
    PlanSpec,
    actions,
    add_plan_round,
    count,
    make_resident,
)
from tests.web.clients import (
    HTMX,
    World,
    assert_no_inline_code,
    cheap_hashing,
    post,
)

FROZEN = "Dit kan niet meer: het stemmen is begonnen."
NBSP = "\xa0"


# -- helpers ---------------------------------------------------------------------------------------


def round_row(db: Database, slug: str) -> Round:
    return read(db, lambda s: s.scalar(select(Round).where(Round.slug == slug)))


def plan_row(db: Database, public_id: str) -> Plan:
    return read(db, lambda s: s.scalar(select(Plan).where(Plan.public_id == public_id)))


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


ROUND_FORM = {
    "area_id": "",
    "title": "Buurtbudget Noord 2027",
    "description": "Wat wilt u in uw buurt?",
    "budget": "€ 50.000",
    "ballot_kind": "knapsack",
    "min_choices": "1",
    "max_choices": "",
    "min_spend_percent": "50",
    "points_total": "",
    "rule": "greedy",
    "eligibility": "codes",
    "support_threshold": "2",
    "min_age": "16",
    "submission_starts_at": "2030-03-01T09:00",
    "review_starts_at": "2030-04-01T09:00",
    "voting_starts_at": "2030-05-01T09:00",
    "voting_ends_at": "2030-05-15T17:00",  # far ahead: a date already past is refused
    "paper_check": "1",
}


# -- the list of rounds and a new round ------------------------------------------------------------


def test_round_list_shows_a_moderator_only_their_areas(
    db: Database, world: World, mod_a: TestClient, admin: TestClient
) -> None:
    add_plan_round(db, world.area_a, "n27", Phase.INDIENEN)
    add_plan_round(db, world.area_b, "z27", Phase.CONCEPT)
    html = mod_a.get("/beheer/rondes").text
    assert 'href="/beheer/rondes/n27"' in html
    assert "z27" not in html and "Zuid" not in html
    assert 'href="/beheer/nieuwe-ronde"' in html
    assert_no_inline_code(html)
    everything = admin.get("/beheer/rondes").text
    assert "n27" in everything and "z27" in everything


def test_new_round_form_has_every_field_with_dutch_labels(world: World, mod_a: TestClient) -> None:
    html = mod_a.get("/beheer/nieuwe-ronde").text
    for name in ROUND_FORM:
        assert f'name="{name}"' in html, name
    for label in ("Gebied", "Budget", "Soort stembiljet", "Hoe het budget wordt verdeeld"):
        assert label in html
    assert 'type="datetime-local"' in html
    assert f'<option value="{world.area_a}"' in html
    assert f'<option value="{world.area_b}"' not in html  # not this moderator's area
    assert "csrf_token" in html
    assert_no_inline_code(html)


def test_create_a_round_with_every_field(db: Database, world: World, mod_a: TestClient) -> None:
    response = post(mod_a, "/beheer/rondes", ROUND_FORM | {"area_id": str(world.area_a)})
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/beheer/rondes/buurtbudget-noord-2027?melding=aangemaakt"
    )
    round_ = round_row(db, "buurtbudget-noord-2027")
    assert (round_.budget, round_.ballot_kind, round_.rule) == (50_000, "knapsack", "greedy")
    assert (round_.min_choices, round_.max_choices, round_.min_spend_percent) == (1, None, 50)
    assert (round_.support_threshold, round_.min_age, round_.paper_check) == (2, 16, True)
    assert round_.phase == "concept"
    assert round_.submission_starts_at == dt.datetime(2030, 3, 1, 8, 0, tzinfo=dt.UTC)  # CET
    assert round_.voting_ends_at == dt.datetime(2030, 5, 15, 15, 0, tzinfo=dt.UTC)  # CEST
    assert actions(db) == ["round.create"]
    page = mod_a.get(response.headers["location"]).text
    assert "De ronde is aangemaakt." in page


def test_round_form_errors_are_shown_per_field_and_keep_what_was_typed(
    db: Database, world: World, mod_a: TestClient
) -> None:
    bad = ROUND_FORM | {
        "area_id": str(world.area_a),
        "title": "Ok",
        "budget": "veel",
        "ballot_kind": "k_approval",
        "voting_ends_at": "2030-04-15T17:00",
        "description": "Mijn <b>uitleg</b>",
    }
    response = post(mod_a, "/beheer/rondes", bad)
    assert response.status_code == 422
    html = response.text
    assert "Geef de ronde een titel van 5 tot 200 tekens." in html
    assert "Vul het budget in als een heel bedrag in euro&#39;s, zoals 50000." in html
    assert "Vul in hoeveel plannen een kiezer mag kiezen." in html
    assert "Deze datum moet na het begin van het stemmen liggen." in html
    assert 'href="#budget"' in html  # the summary links to the field
    assert 'aria-describedby="budget-hint budget-error" aria-invalid="true"' in html
    assert 'value="veel"' in html and 'value="Ok"' in html
    assert "Mijn &lt;b&gt;uitleg&lt;/b&gt;" in html
    assert count(db, Round.id) == 0


def test_a_round_in_another_area_is_refused(db: Database, world: World, mod_a: TestClient) -> None:
    response = post(mod_a, "/beheer/rondes", ROUND_FORM | {"area_id": str(world.area_b)})
    assert response.status_code == 403
    assert count(db, Round.id) == 0


def test_edit_a_round(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN, paper_check=True)
    form = mod_a.get("/beheer/rondes/noord/wijzigen").text
    assert 'value="Ronde noord"' in form
    assert 'name="paper_check" value="1" checked' in form
    data = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    data |= {"title": "Nieuwe titel", "budget": "12000", "ballot_kind": "knapsack"}
    data |= {"rule": "equal_shares", "eligibility": "codes", "area_id": str(world.area_a)}
    data.pop("paper_check", None)  # unticked
    data.pop("greedy_no_skip", None)  # unticked (the pattern finds every box, ticked or not)
    data.pop("csrf_token", None)
    response = post(mod_a, "/beheer/rondes/noord/wijzigen", data)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/beheer/rondes/noord?melding=gewijzigd"
    round_ = round_row(db, "noord")
    assert (round_.title, round_.budget, round_.paper_check) == ("Nieuwe titel", 12_000, False)


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "01-01-0001 00:00", "9999-12-31T23:59"])
def test_a_date_out_of_range_is_refused_on_create_and_edit(
    db: Database, world: World, mod_a: TestClient, typed: str
) -> None:
    # Year 1 in Dutch local time is before year 1 in UTC: it crashed with an OverflowError.
    add_plan_round(db, world.area_a, "noord", Phase.CONCEPT)
    before = round_row(db, "noord").submission_starts_at
    form = ROUND_FORM | {"area_id": str(world.area_a), "submission_starts_at": typed}
    for url in ("/beheer/rondes", "/beheer/rondes/noord/wijzigen"):
        response = post(mod_a, url, form)
        assert response.status_code == 422
        assert "Vul een datum in tussen het jaar 2000 en 2200." in response.text
    assert count(db, Round.id) == 1
    assert round_row(db, "noord").submission_starts_at == before
    assert actions(db) == []


MOVES = "Deze datum is al voorbij. Dan gaat de ronde vanzelf naar de fase {phase}"


def _local(moment: dt.datetime) -> str:
    return rounds.local_time_text(moment)


def test_a_new_round_starting_in_the_past_is_refused_not_made_public_at_the_next_tick(
    db: Database, world: World, mod_a: TestClient
) -> None:
    yesterday = _local(utcnow() - dt.timedelta(days=1))
    form = ROUND_FORM | {"area_id": str(world.area_a), "submission_starts_at": yesterday}
    response = post(mod_a, "/beheer/rondes", form)
    assert response.status_code == 422
    assert MOVES.format(phase="indienen") in response.text
    assert count(db, Round.id) == 0
    assert actions(db) == []


def test_closing_by_date_during_voting_is_refused_and_the_phase_page_closes_instead(
    db: Database, world: World, mod_a: TestClient
) -> None:
    now = utcnow()
    ends = now + dt.timedelta(days=5)
    add_plan_round(
        db,
        world.area_a,
        "noord",
        Phase.STEMMEN,
        voting_starts_at=now - dt.timedelta(days=2),
        voting_ends_at=ends,
    )
    form = _frozen_form(mod_a, "noord") | {"voting_ends_at": _local(now - dt.timedelta(hours=1))}
    response = post(mod_a, "/beheer/rondes/noord/wijzigen", form)
    assert response.status_code == 422
    assert MOVES.format(phase="gesloten") in response.text
    assert round_row(db, "noord").voting_ends_at == ends
    assert transact(db, rounds.tick, utcnow()) == []  # the scheduler has nothing to do
    assert round_row(db, "noord").phase == Phase.STEMMEN
    # Extending voting is fine; closing now is a step on the phase page, confirmed.
    later = _frozen_form(mod_a, "noord") | {"voting_ends_at": _local(now + dt.timedelta(days=9))}
    assert post(mod_a, "/beheer/rondes/noord/wijzigen", later).status_code == 303
    assert post(mod_a, "/beheer/rondes/noord/fase", {"naar": "gesloten"}).status_code == 303
    assert round_row(db, "noord").phase == Phase.GESLOTEN


def test_a_date_already_past_does_not_block_other_changes(
    db: Database, world: World, mod_a: TestClient
) -> None:
    """Voting should have opened, but the scheduler could not take the step (a plan waits for
    a decision): the round can still be edited, and the date is not refused again."""
    past = utcnow() - dt.timedelta(days=1)
    plans = (*DEFAULT_PLANS, ("wacht", PlanStatus.INGEDIEND, 1_000))
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=plans, voting_starts_at=past)
    html = mod_a.get("/beheer/rondes/noord/wijzigen").text
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    form.pop("csrf_token")
    form |= {"title": "Een nieuwe titel", "description": "", "area_id": str(world.area_a)}
    form |= {"ballot_kind": "knapsack", "rule": "greedy", "eligibility": "codes"}
    response = post(mod_a, "/beheer/rondes/noord/wijzigen", form)
    assert response.status_code == 303, response.text
    assert round_row(db, "noord").title == "Een nieuwe titel"


def _frozen_form(mod_a: TestClient, slug: str) -> dict[str, str]:
    html = mod_a.get(f"/beheer/rondes/{slug}/wijzigen").text
    data = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    data.pop("csrf_token")
    data["description"] = ""
    return data


def test_a_round_in_voting_shows_its_rules_as_fixed(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.STEMMEN)
    html = mod_a.get("/beheer/rondes/noord/wijzigen").text
    assert "Deze regels liggen vast" in html
    assert 'type="hidden" name="budget" value="10000"' in html
    assert 'id="budget"' not in html  # no box to type a budget in
    page = mod_a.get("/beheer/rondes/noord").text
    assert "Ligt vast." in page and "ligt vast" in page


def test_changing_the_budget_in_voting_is_refused_with_a_clear_message(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.STEMMEN)
    data = _frozen_form(mod_a, "noord")
    response = post(mod_a, "/beheer/rondes/noord/wijzigen", data | {"budget": "20000"})
    assert response.status_code == 422
    assert FROZEN in response.text
    assert round_row(db, "noord").budget == 10_000
    switched = post(mod_a, "/beheer/rondes/noord/wijzigen", data | {"paper_check": "1"})
    assert switched.status_code == 422
    assert FROZEN in switched.text
    assert round_row(db, "noord").paper_check is False
    # The title (and the dates) may still change.
    renamed = post(mod_a, "/beheer/rondes/noord/wijzigen", data | {"title": "Noord, verlengd"})
    assert renamed.status_code == 303
    assert round_row(db, "noord").title == "Noord, verlengd"


def test_a_greedy_round_takes_its_options_and_shows_them(
    db: Database, world: World, mod_a: TestClient
) -> None:
    options = {"greedy_no_skip": "1", "min_vote_percent": "10"}
    response = post(mod_a, "/beheer/rondes", ROUND_FORM | options | {"area_id": str(world.area_a)})
    assert response.status_code == 303
    round_ = round_row(db, "buurtbudget-noord-2027")
    assert (round_.rule, round_.greedy_no_skip, round_.min_vote_percent) == ("greedy", True, 10)
    page = mod_a.get(response.headers["location"]).text
    assert (
        "Meeste stemmen eerst (zonder overslaan, een plan heeft minstens 10 procent van de "
        "stemmen nodig)"
    ) in page
    form = mod_a.get("/beheer/rondes/buurtbudget-noord-2027/wijzigen").text
    assert 'name="greedy_no_skip" value="1" checked' in form
    assert re.search(r'name="min_vote_percent"[^>]*value="10"', form)
    assert "Stoppen bij het eerste plan dat niet past" in form
    english = mod_a.get("/beheer/rondes/buurtbudget-noord-2027?lang=en").text
    assert "without skipping, a plan needs at least 10 percent of the votes" in english


def test_greedys_options_with_another_rule_are_refused(
    db: Database, world: World, mod_a: TestClient
) -> None:
    form = ROUND_FORM | {"area_id": str(world.area_a), "rule": "equal_shares"}
    response = post(mod_a, "/beheer/rondes", form | {"min_vote_percent": "10"})
    assert response.status_code == 422
    assert "Dit kan alleen als het budget wordt verdeeld met" in response.text
    assert re.search(r'name="min_vote_percent"[^>]*value="10"', response.text)
    too_much = post(
        mod_a,
        "/beheer/rondes",
        ROUND_FORM | {"area_id": str(world.area_a)} | {"min_vote_percent": "150"},
    )
    assert too_much.status_code == 422
    assert "Vul een percentage in van 0 tot en met 100." in too_much.text
    assert count(db, Round.id) == 0


def test_greedys_options_are_fixed_once_voting_opens(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.STEMMEN, rule="greedy", min_vote_percent=10)
    html = mod_a.get("/beheer/rondes/noord/wijzigen").text
    assert 'type="hidden" name="min_vote_percent" value="10"' in html
    data = _frozen_form(mod_a, "noord")
    for changed in ({"min_vote_percent": "0"}, {"greedy_no_skip": "1"}):
        response = post(mod_a, "/beheer/rondes/noord/wijzigen", data | changed)
        assert response.status_code == 422
        assert FROZEN in response.text
    round_ = round_row(db, "noord")
    assert (round_.greedy_no_skip, round_.min_vote_percent) == (False, 10)
    assert post(mod_a, "/beheer/rondes/noord/wijzigen", data).status_code == 303


# -- the round page and its phases -----------------------------------------------------------------


def test_round_page_shows_the_timeline_rules_plans_and_next_step(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(
        db,
        world.area_a,
        "noord",
        Phase.BEOORDELEN,
        voting_starts_at=dt.datetime(2027, 5, 1, 7, 0, tzinfo=dt.UTC),
    )
    html = mod_a.get("/beheer/rondes/noord").text
    assert '<ol class="proeftuin-timeline">' in html
    assert 'aria-current="step"' in html
    assert "vanaf zaterdag 1 mei 2027, 09:00 uur" in html
    assert "Naar de volgende fase: Stemmen" in html
    assert 'href="/beheer/rondes/noord/fase"' in html
    assert "Plan noord-speeltuin" in html and re.search(r"€\s4\.000", html)
    assert "Ronde terugzetten" not in html  # a moderator cannot, and it is not voting
    assert_no_inline_code(html)


def test_round_page_says_why_the_next_phase_cannot_start(
    db: Database, world: World, mod_a: TestClient
) -> None:
    plans = (*DEFAULT_PLANS, ("nieuw", PlanStatus.INGEDIEND, 1_000))
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=plans)
    html = mod_a.get("/beheer/rondes/noord").text
    assert "De ronde kan nog niet naar Stemmen." in html
    assert "Beoordeel eerst alle plannen. Nog 1 plannen wachten op een besluit." in html
    assert 'href="/beheer/rondes/noord/fase"' not in html


def test_moving_to_the_next_phase_is_confirmed_first(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN)
    confirm = mod_a.get("/beheer/rondes/noord/fase").text
    assert "Het stemmen begint." in confirm and "liggen daarna vast" in confirm
    assert 'name="naar" value="stemmen"' in confirm
    assert round_row(db, "noord").phase == "beoordelen"  # a GET changes nothing
    response = post(mod_a, "/beheer/rondes/noord/fase", {"naar": "stemmen"})
    assert response.status_code == 303
    assert response.headers["location"] == "/beheer/rondes/noord?melding=fase"
    assert round_row(db, "noord").phase == "stemmen"
    assert actions(db) == ["round.phase"]


def test_a_refused_phase_step_says_why(db: Database, world: World, mod_a: TestClient) -> None:
    plans = (*DEFAULT_PLANS, ("nieuw", PlanStatus.INGEDIEND, 1_000))
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=plans)
    response = post(mod_a, "/beheer/rondes/noord/fase", {"naar": "stemmen"})
    assert response.status_code == 422
    assert "Beoordeel eerst alle plannen." in response.text
    skipped = post(mod_a, "/beheer/rondes/noord/fase", {"naar": "gesloten"})
    assert skipped.status_code == 422
    assert "Een ronde gaat één stap tegelijk: van beoordelen naar stemmen." in skipped.text
    back = post(mod_a, "/beheer/rondes/noord/fase", {"naar": "indienen"})
    assert "Een ronde kan niet terug." in back.text
    assert round_row(db, "noord").phase == "beoordelen"
    assert actions(db) == []


def test_only_an_admin_resets_a_round_and_ballots_are_voided(
    db: Database, world: World, mod_a: TestClient, admin: TestClient
) -> None:
    codes = add_plan_round(db, world.area_a, "noord", Phase.STEMMEN, codes=1)

    def vote(session: Session) -> None:
        _, credential = voting.check_code(session, PEPPER, codes[0])
        voting.cast(session, credential, {"noord-bankjes": 1}, today=dt.date(2027, 5, 2))

    transact(db, vote)
    assert "Ronde terugzetten" not in mod_a.get("/beheer/rondes/noord").text
    assert mod_a.get("/beheer/rondes/noord/terugzetten").status_code == 403
    assert post(mod_a, "/beheer/rondes/noord/terugzetten", {"reason": "x" * 20}).status_code == 403

    assert 'href="/beheer/rondes/noord/terugzetten"' in admin.get("/beheer/rondes/noord").text
    warning = admin.get("/beheer/rondes/noord/terugzetten").text
    assert "Let op: alle stemmen vervallen" in warning
    short = post(admin, "/beheer/rondes/noord/terugzetten", {"reason": "fout"})
    assert short.status_code == 422
    assert "Leg in minstens 10 tekens uit waarom de ronde terug moet." in short.text
    assert count(db, Ballot.id) == 1
    done = post(
        admin, "/beheer/rondes/noord/terugzetten", {"reason": "Verkeerd bedrag op het stembiljet"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/beheer/rondes/noord?melding=teruggezet"
    assert count(db, Ballot.id) == 0
    assert round_row(db, "noord").phase == "beoordelen"
    assert actions(db)[-1] == "round.reset"


# -- the review queue ------------------------------------------------------------------------------

QUEUE_PLANS: tuple[PlanSpec, ...] = (
    ("speeltuin", PlanStatus.INGEDIEND, 4_000),
    ("speeltuin2", PlanStatus.INGEDIEND, 4_500),
    ("bankjes", PlanStatus.OP_STEMBILJET, 3_000),
    ("hek", PlanStatus.AFGEWEZEN, 2_000),
)


def test_the_queue_shows_plans_by_status(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    html = mod_a.get("/beheer/rondes/noord/plannen").text
    sections = re.findall(r'<section class="moderation-status" id="status-(\w+)"', html)
    assert sections == [
        s.value
        for s in (
            PlanStatus.INGEDIEND,
            PlanStatus.AANPASSEN,
            PlanStatus.OP_STEMBILJET,
            PlanStatus.AFGEWEZEN,
            PlanStatus.SAMENGEVOEGD,
            PlanStatus.INGETROKKEN,
        )
    ]
    waiting = html.split('id="status-ingediend"')[1].split("<section")[0]
    assert "Plan noord-speeltuin" in waiting and "Plan noord-speeltuin2" in waiting
    assert "Plan noord-bankjes" not in waiting
    assert "Te beoordelen (2)" in html
    assert 'href="/beheer/rondes/noord/plannen/noord-speeltuin"' in html
    assert_no_inline_code(html)


def test_accepting_a_plan_with_the_estimate_prefilled(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    page = mod_a.get("/beheer/rondes/noord/plannen/noord-speeltuin").text
    assert 'id="official_cost" name="official_cost" value="4000"' in page
    assert 'hx-post="/beheer/rondes/noord/plannen/noord-speeltuin/accepteren"' in page
    assert_no_inline_code(page)
    response = post(
        mod_a, "/beheer/rondes/noord/plannen/noord-speeltuin/accepteren", {"official_cost": "4000"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/beheer/rondes/noord/plannen/noord-speeltuin?melding=accept"
    )
    plan = plan_row(db, "noord-speeltuin")
    assert (plan.status, plan.official_cost) == ("op_stembiljet", 4_000)
    assert "Het plan staat op het stembiljet." in mod_a.get(response.headers["location"]).text


def test_a_different_official_cost_needs_a_public_explanation(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    url = "/beheer/rondes/noord/plannen/noord-speeltuin/accepteren"
    response = post(mod_a, url, {"official_cost": "6.500", "cost_explanation": ""})
    assert response.status_code == 422
    assert "Leg uit waarom de officiële kosten anders zijn" in response.text
    assert 'value="6.500"' in response.text  # kept
    too_dear = post(mod_a, url, {"official_cost": "20000", "cost_explanation": "Duurder"})
    assert "hoger dan het budget" in too_dear.text
    assert plan_row(db, "noord-speeltuin").status == "ingediend"
    ok = post(mod_a, url, {"official_cost": "6500", "cost_explanation": "Inclusief hekwerk."})
    assert ok.status_code == 303
    assert plan_row(db, "noord-speeltuin").cost_explanation == "Inclusief hekwerk."


def test_decisions_work_in_place_with_htmx(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    url = "/beheer/rondes/noord/plannen/noord-speeltuin"
    failed = post(mod_a, f"{url}/afwijzen", {"public_reason": "kort"}, htmx=True)
    assert failed.status_code == 422
    assert failed.text.lstrip().startswith('<section class="moderation-decisions" id="besluit"')
    assert "<html" not in failed.text
    assert "Schrijf een reden van minstens 10 tekens." in failed.text
    assert 'value="kort"' not in failed.text and ">kort</textarea>" in failed.text
    assert "HX-Request" in failed.headers["vary"]
    done = post(
        mod_a, f"{url}/afwijzen", {"public_reason": "Dit kan niet op deze plek."}, htmx=True
    )
    assert done.status_code == 200
    assert "Het plan is afgewezen." in done.text
    assert 'role="status" tabindex="-1" autofocus' in done.text  # htmx moves focus there
    assert "<html" not in done.text
    assert plan_row(db, "noord-speeltuin").status == "afgewezen"


def test_asking_for_changes_mails_the_author(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN, plans=QUEUE_PLANS)
    url = "/beheer/rondes/noord/plannen/noord-speeltuin/aanpassen"
    response = post(mod_a, url, {"reason": "Noem ook waar de speeltuin moet komen."})
    assert response.status_code == 303
    assert plan_row(db, "noord-speeltuin").status == "aanpassen"
    mail = read(db, lambda s: s.scalar(select(OutboxMail)))
    assert "Noem ook waar de speeltuin moet komen." in mail.body
    assert "http://testserver/plannen/noord-speeltuin/aanpassen" in mail.body


def test_merging_a_duplicate_into_a_plan_of_the_round(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    add_plan_round(db, world.area_a, "ander", Phase.BEOORDELEN, plans=QUEUE_PLANS)

    def support(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == "noord-speeltuin2"))
        assert plan is not None
        session.add(Support(plan_id=plan.id, resident_id=make_resident(session).id))

    transact(db, support)
    page = mod_a.get("/beheer/rondes/noord/plannen/noord-speeltuin2").text
    assert '<option value="noord-speeltuin">Plan noord-speeltuin</option>' in page
    assert "ander-speeltuin" not in page  # only plans of this round
    url = "/beheer/rondes/noord/plannen/noord-speeltuin2/samenvoegen"
    other_round = post(
        mod_a, url, {"into_id": "ander-speeltuin", "public_reason": "Zelfde plan, twee keer."}
    )
    assert other_round.status_code == 422
    assert "Alleen plannen uit dezelfde ronde kunnen samen." in other_round.text
    missing = post(mod_a, url, {"into_id": "", "public_reason": "Zelfde plan, twee keer."})
    assert "Kies het plan waarmee u dit plan samenvoegt." in missing.text
    typed = {"into_id": "noord-speeltuin", "public_reason": "Zelfde plan, twee keer."}
    confirm = post(mod_a, url, typed)
    assert confirm.status_code == 200 and "Samenvoegen bevestigen" in confirm.text
    assert plan_row(db, "noord-speeltuin2").status == "ingediend"  # nothing merged yet
    done = post(mod_a, url, {**typed, "bevestigd": "ja"})
    assert done.status_code == 303
    duplicate = plan_row(db, "noord-speeltuin2")
    assert duplicate.status == "samengevoegd"
    target = plan_row(db, "noord-speeltuin")
    supporters = read(
        db, lambda s: s.scalar(select(func.count(Support.id)).where(Support.plan_id == target.id))
    )
    assert supporters == 1
    assert "Samengevoegd met" in mod_a.get("/beheer/rondes/noord/plannen/noord-speeltuin2").text


def test_a_merge_shows_both_plans_in_full_first_and_can_be_undone(
    db: Database, world: World, mod_a: TestClient, mod_b: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)

    def bodies(session: Session) -> None:
        for plan in session.scalars(select(Plan)):
            plan.body = f"Het hele verhaal van {plan.public_id}, met **details**."

    transact(db, bodies)
    url = "/beheer/rondes/noord/plannen/noord-speeltuin2"
    typed = {"into_id": "noord-speeltuin", "public_reason": "Zelfde plan, twee keer."}
    confirm = post(mod_a, f"{url}/samenvoegen", typed).text
    for public_id in ("noord-speeltuin2", "noord-speeltuin"):
        assert f"Het hele verhaal van {public_id}, met <strong>details</strong>." in confirm
    assert 'name="bevestigd" value="ja"' in confirm
    post(mod_a, f"{url}/samenvoegen", {**typed, "bevestigd": "ja"})
    page = mod_a.get(url).text
    assert "Samenvoegen ongedaan maken" in page and "De indiener krijgt een e-mail op" in page
    assert post(mod_b, f"{url}/samenvoegen/ongedaan").status_code in (403, 404)
    undone = post(mod_a, f"{url}/samenvoegen/ongedaan")
    assert undone.status_code == 303
    assert plan_row(db, "noord-speeltuin2").status == "ingediend"
    assert "Het samenvoegen is ongedaan gemaakt." in mod_a.get(undone.headers["location"]).text
    assert post(mod_a, f"{url}/samenvoegen/ongedaan").status_code == 422  # nothing to undo
    assert "plan.merge_undo" in actions(db)


def test_internal_notes_and_the_cost_check_on_the_staff_plan_page(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    url = "/beheer/rondes/noord/plannen/noord-speeltuin"
    assert post(mod_a, f"{url}/notitie", {"note": " "}).status_code == 422
    saved = post(mod_a, f"{url}/notitie", {"note": "Offerte van de aannemer opvragen."})
    assert saved.status_code == 303
    page = mod_a.get(url).text
    assert "Offerte van de aannemer opvragen." in page and "Intern (alleen medewerkers)" in page
    checker = re.search(r'<option value="(\d+)">([^<]+)</option>', page.split('id="nakijker"')[1])
    assert checker
    assert post(mod_a, f"{url}/kosten-nakijken", {"checker": checker.group(1)}).status_code == 303
    assert f'<option value="{checker.group(1)}" selected>' in mod_a.get(url).text
    assert post(mod_a, f"{url}/kosten-nakijken", {"checker": "999999"}).status_code == 422
    assert "plan.note" in actions(db) and "plan.cost_check" in actions(db)


def test_hiding_and_showing_abusive_text(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN, plans=QUEUE_PLANS)
    url = "/beheer/rondes/noord/plannen/noord-speeltuin"
    assert post(mod_a, f"{url}/verbergen", {"reason": ""}).status_code == 422
    assert post(mod_a, f"{url}/verbergen", {"reason": "Scheldwoorden"}).status_code == 303
    assert plan_row(db, "noord-speeltuin").hidden is True
    page = mod_a.get(url).text
    assert "verborgen" in page and "Weer zichtbaar maken" in page
    assert 'action="/beheer/rondes/noord/plannen/noord-speeltuin/accepteren"' not in page
    assert post(mod_a, f"{url}/zichtbaar", {}).status_code == 303
    assert plan_row(db, "noord-speeltuin").hidden is False
    assert actions(db) == ["plan.hide", "plan.unhide"]


def test_decisions_in_a_round_in_voting_are_refused(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.STEMMEN)
    url = "/beheer/rondes/noord/plannen/noord-bankjes"
    page = mod_a.get(url).text
    assert "Ligt vast." in page
    assert "/afwijzen" not in page
    response = post(mod_a, f"{url}/afwijzen", {"public_reason": "Toch maar niet doen."})
    assert response.status_code == 422
    assert FROZEN in response.text
    assert plan_row(db, "noord-bankjes").status == "op_stembiljet"
    hide = post(mod_a, f"{url}/verbergen", {"reason": "Scheldwoorden"})
    assert FROZEN in hide.text
    assert actions(db) == []


# -- another area's rounds and plans ---------------------------------------------------------------

ROUND_PAGES = ("", "/wijzigen", "/fase", "/plannen", "/plannen/noord-speeltuin")
ROUND_ACTIONS = {
    "/wijzigen": ROUND_FORM,
    "/fase": {"naar": "stemmen"},
    "/plannen/noord-speeltuin/accepteren": {"official_cost": "4000"},
    "/plannen/noord-speeltuin/aanpassen": {"reason": "Graag aanpassen, dank u."},
    "/plannen/noord-speeltuin/afwijzen": {"public_reason": "Past niet in de wijk."},
    "/plannen/noord-speeltuin/samenvoegen": {
        "into_id": "noord-bankjes",
        "public_reason": "Zelfde plan, twee keer.",
    },
    "/plannen/noord-speeltuin/verbergen": {"reason": "Scheldwoorden"},
    "/plannen/noord-speeltuin/zichtbaar": {},
}


@pytest.mark.parametrize("htmx", [False, True])
def test_a_moderator_of_another_area_sees_and_changes_nothing(
    db: Database, world: World, mod_b: TestClient, htmx: bool
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    headers = HTMX if htmx else {}
    for page in ROUND_PAGES:
        response = mod_b.get(f"/beheer/rondes/noord{page}", headers=headers)
        assert response.status_code in (403, 404), page
        assert "Ronde noord" not in response.text and "Plan noord" not in response.text
    for action, form in ROUND_ACTIONS.items():
        response = post(mod_b, f"/beheer/rondes/noord{action}", form, htmx=htmx)
        assert response.status_code in (403, 404), action
        assert "Ronde noord" not in response.text and "Plan noord" not in response.text
    assert mod_b.get("/beheer/rondes/bestaat-niet").status_code == 404
    assert actions(db) == []
    assert plan_row(db, "noord-speeltuin").status == "ingediend"


def test_a_plan_of_another_area_cannot_be_reached_through_ones_own_round(
    db: Database, world: World, mod_b: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    add_plan_round(db, world.area_b, "zuid", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    assert mod_b.get("/beheer/rondes/zuid/plannen/zuid-speeltuin").status_code == 200
    mixed = "/beheer/rondes/zuid/plannen/noord-speeltuin"
    assert mod_b.get(mixed).status_code == 404
    assert post(mod_b, f"{mixed}/accepteren", {"official_cost": "4000"}).status_code == 404
    merged = post(
        mod_b,
        "/beheer/rondes/zuid/plannen/zuid-speeltuin/samenvoegen",
        {"into_id": "noord-speeltuin", "public_reason": "Zelfde plan, twee keer."},
    )
    assert merged.status_code == 422
    assert "Plan noord" not in merged.text
    assert plan_row(db, "noord-speeltuin").status == "ingediend"
    assert plan_row(db, "zuid-speeltuin").status == "ingediend"


def test_pages_are_in_english_too(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.BEOORDELEN, plans=QUEUE_PLANS)
    post(mod_a, "/taal", {"lang": "en", "next": "/"})
    html = mod_a.get("/beheer/rondes/noord").text
    assert "Budget and rules" in html
    queue = mod_a.get("/beheer/rondes/noord/plannen").text
    assert "To be reviewed" in queue
