"""Proposing, editing, withdrawing and supporting plans, through the web, on both databases."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email.message import Message

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import Phase, Plan, PlanStatus, Round, Support
from proeftuin.web.app import create_app
from tests.factories import add_plan, add_village_round
from tests.smtp import Inbox
from tests.web.clients import HTMX, csrf_of, sign_in_resident

NEW = "/rondes/ter-aa-2027/plannen/nieuw"
GOOD = {
    "title": "Bankjes bij de vijver",
    "summary": "Zes bankjes, zodat ouderen onderweg kunnen uitrusten.",
    "body": "## Waarom\n\nEr is nergens een plek om te zitten.",
    "estimated_cost": "€ 4.500,-",
    "location": "De vijver",
    "theme": "ontmoeten",
    "self_executed": "1",
}


@pytest.fixture
def other(app: Starlette) -> Iterator[TestClient]:
    """A second resident, in a browser of their own."""
    with TestClient(app) as client:
        yield client


def post_form(client: TestClient, path: str, data: dict[str, str], **kwargs: object):
    token = csrf_of(client.get("/").text)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)  # type: ignore[arg-type]


def plan_row(db: Database, public_id: str) -> Plan:
    plan = read(db, lambda s: s.scalar(select(Plan).where(Plan.public_id == public_id)))
    assert plan is not None
    return plan


def set_phase(db: Database, phase: Phase, slug: str = "ter-aa-2027") -> None:
    def change(session: Session) -> None:
        round_ = session.scalar(select(Round).where(Round.slug == slug))
        assert round_ is not None
        round_.phase = phase.value

    transact(db, change)


def set_status(db: Database, public_id: str, status: PlanStatus, reason: str = "") -> None:
    def change(session: Session) -> None:
        plan = session.scalar(select(Plan).where(Plan.public_id == public_id))
        assert plan is not None
        plan.status = status.value
        plan.public_reason = reason
        if status == PlanStatus.OP_STEMBILJET:
            plan.official_cost = plan.estimated_cost

    transact(db, change)


# -- Propose ---------------------------------------------------------------------------------


def test_signed_out_residents_are_sent_to_sign_in_and_come_back(
    client: TestClient, db: Database
) -> None:
    add_village_round(db)
    response = client.get(NEW, follow_redirects=False)
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/inloggen?next=%2Frondes%2Fter-aa-2027%2Fplannen%2Fnieuw"
    )
    assert (
        'value="/rondes/ter-aa-2027/plannen/nieuw"' in client.get(response.headers["location"]).text
    )


def test_a_resident_without_a_name_gives_one_first(client: TestClient, db: Database) -> None:
    add_village_round(db)
    sign_in_resident(client, db, name="")
    response = client.get(NEW, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/profiel?next=%2Frondes%2Fter-aa-2027%2Fplannen%2Fnieuw"


def test_the_form_has_every_field_with_a_label(client: TestClient, db: Database) -> None:
    add_village_round(db)
    sign_in_resident(client, db)
    html = client.get(NEW).text
    for name in (
        "title",
        "summary",
        "body",
        "estimated_cost",
        "location",
        "theme",
        "self_executed",
    ):
        assert f'for="{name}"' in html, name
        assert f'name="{name}"' in html, name
    assert 'aria-describedby="title-hint"' in html
    assert "(niet verplicht)" in html
    assert '<option value="groen">Groen en natuur</option>' in html
    assert "Hoogstens €\xa025.000." in html
    assert "novalidate" in html


def test_proposing_a_plan(client: TestClient, db: Database) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db, name="Anna")
    response = post_form(client, NEW, GOOD, follow_redirects=False)
    assert response.status_code == 303
    public_id = response.headers["location"].removeprefix("/plannen/")
    plan = plan_row(db, public_id)
    assert plan.author_id == resident_id
    assert plan.author_name == "Anna"
    assert plan.estimated_cost == 4_500
    assert plan.self_executed is True
    assert plan.status == PlanStatus.INGEDIEND
    html = client.get(response.headers["location"]).text
    assert "Dit is uw plan" in html
    assert "Uw plan is ingediend." in html
    assert f'href="/plannen/{public_id}/aanpassen"' in html
    assert f'href="/plannen/{public_id}/intrekken"' in html


def test_proposing_with_htmx_redirects_with_a_header(client: TestClient, db: Database) -> None:
    add_village_round(db)
    sign_in_resident(client, db)
    response = post_form(client, NEW, GOOD, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-redirect"].startswith("/plannen/")


def test_missing_fields_each_get_a_message_and_the_form_keeps_what_was_typed(
    client: TestClient, db: Database
) -> None:
    add_village_round(db)
    sign_in_resident(client, db)
    typed = {"title": "Kort", "location": "Bij de <kerk>", "body": "Mijn **idee**", "theme": "x"}
    response = post_form(client, NEW, typed)
    assert response.status_code == 422
    html = response.text
    assert "<title>Fout: Dien een plan in" in html
    for field, message in (
        ("title", "Geef uw plan een titel van minstens 5 tekens."),
        ("summary", "Schrijf in een paar zinnen wat u wilt doen."),
        ("estimated_cost", "Vul de kosten in als een heel bedrag in euro&#39;s, zoals 2500."),
        ("theme", "Kies een thema."),
    ):
        assert message in html, field
        assert f'id="{field}-error"' in html
        assert f'href="#{field}"' in html  # the error summary links to the field
    assert 'aria-invalid="true"' in html
    assert 'value="Kort"' in html
    assert 'value="Bij de &lt;kerk&gt;"' in html
    assert ">Mijn **idee**</textarea>" in html
    assert read(db, lambda s: s.scalar(select(Plan.id))) is None


def test_a_plan_cannot_cost_more_than_the_budget(client: TestClient, db: Database) -> None:
    add_village_round(db, budget=25_000)
    sign_in_resident(client, db)
    response = post_form(client, NEW, {**GOOD, "estimated_cost": "25001"})
    assert response.status_code == 422
    assert "Een plan kan hoogstens het hele budget kosten: € 25.000." in response.text
    assert 'value="25001"' in response.text


def test_form_errors_in_english(client: TestClient, db: Database) -> None:
    add_village_round(db)
    sign_in_resident(client, db)
    client.get("/?lang=en")
    response = post_form(client, NEW, {**GOOD, "title": "Kort"})
    assert response.status_code == 422
    assert "Give your plan a title of at least 5 characters." in response.text


@pytest.mark.parametrize("phase", [Phase.BEOORDELEN, Phase.STEMMEN, Phase.GESLOTEN])
def test_proposing_outside_indienen_is_409(client: TestClient, db: Database, phase: Phase) -> None:
    add_village_round(db, phase=phase)
    sign_in_resident(client, db)
    for response in (client.get(NEW), post_form(client, NEW, GOOD)):
        assert response.status_code == 409
        assert "Plannen indienen kan nu niet in deze ronde." in response.text
    assert read(db, lambda s: s.scalar(select(Plan.id))) is None


def test_proposing_in_unknown_or_concept_rounds_is_404(client: TestClient, db: Database) -> None:
    add_village_round(db, "concept", phase=Phase.CONCEPT)
    sign_in_resident(client, db)
    assert client.get("/rondes/concept/plannen/nieuw").status_code == 404
    assert client.get("/rondes/bestaat-niet/plannen/nieuw").status_code == 404


# -- Edit ------------------------------------------------------------------------------------


def test_the_author_edits_the_plan(client: TestClient, db: Database) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db)
    public_id = add_plan(db, title="Oude titel", author_id=resident_id, theme="groen")
    edit = f"/plannen/{public_id}/aanpassen"
    html = client.get(edit).text
    assert 'value="Oude titel"' in html
    assert '<option value="groen" selected>' in html
    response = post_form(client, edit, {**GOOD, "title": "Nieuwe titel"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/plannen/{public_id}"
    assert plan_row(db, public_id).title == "Nieuwe titel"


def test_edit_errors_keep_what_was_typed(client: TestClient, db: Database) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db)
    public_id = add_plan(db, author_id=resident_id)
    response = post_form(client, f"/plannen/{public_id}/aanpassen", {**GOOD, "summary": ""})
    assert response.status_code == 422
    assert "Schrijf in een paar zinnen wat u wilt doen." in response.text
    assert 'value="Bankjes bij de vijver"' in response.text


def test_another_resident_cannot_edit_or_withdraw(
    client: TestClient, other: TestClient, db: Database
) -> None:
    add_village_round(db)
    author = sign_in_resident(client, db, "anna@example.nl")
    sign_in_resident(other, db, "bob@example.nl", "Bob")
    public_id = add_plan(db, author_id=author)
    for path in (f"/plannen/{public_id}/aanpassen", f"/plannen/{public_id}/intrekken"):
        assert other.get(path).status_code == 403
        response = post_form(other, path, GOOD)
        assert response.status_code == 403
        assert "Alleen de indiener kan dit plan aanpassen." in response.text
    assert plan_row(db, public_id).status == PlanStatus.INGEDIEND
    assert "Dit is uw plan" not in other.get(f"/plannen/{public_id}").text


def test_editing_stops_when_review_starts_and_opens_again_when_asked(
    client: TestClient, db: Database
) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db)
    public_id = add_plan(db, author_id=resident_id)
    edit = f"/plannen/{public_id}/aanpassen"
    set_phase(db, Phase.BEOORDELEN)
    assert client.get(edit).status_code == 409
    response = post_form(client, edit, GOOD)
    assert response.status_code == 409
    assert "Dit plan kan niet meer worden aangepast." in response.text
    assert f'href="{edit}"' not in client.get(f"/plannen/{public_id}").text

    set_status(db, public_id, PlanStatus.AANPASSEN, "Zet er een prijsopgave bij.")
    page = client.get(edit)
    assert page.status_code == 200
    assert "Zet er een prijsopgave bij." in page.text
    assert post_form(client, edit, GOOD, follow_redirects=False).status_code == 303
    assert plan_row(db, public_id).status == PlanStatus.INGEDIEND  # back in the review queue


def test_edit_needs_sign_in(client: TestClient, db: Database) -> None:
    add_village_round(db)
    public_id = add_plan(db)
    response = client.get(f"/plannen/{public_id}/aanpassen", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/inloggen?next=")


# -- Withdraw --------------------------------------------------------------------------------


def test_withdrawing_asks_first_and_works_without_javascript(
    client: TestClient, db: Database
) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db)
    public_id = add_plan(db, title="Mijn bankjes", author_id=resident_id)
    page = client.get(f"/plannen/{public_id}/intrekken")
    assert page.status_code == 200
    assert "Wilt u het plan “Mijn bankjes” intrekken?" in page.text
    assert f'action="/plannen/{public_id}/intrekken"' in page.text
    assert plan_row(db, public_id).status == PlanStatus.INGEDIEND  # asking changes nothing
    response = post_form(client, f"/plannen/{public_id}/intrekken", {}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/mijn-plannen"
    assert plan_row(db, public_id).status == PlanStatus.INGETROKKEN
    assert client.get(f"/plannen/{public_id}").status_code == 404
    assert "Ingetrokken" in client.get("/mijn-plannen").text


def test_withdrawing_during_voting_is_409(client: TestClient, db: Database) -> None:
    add_village_round(db)
    resident_id = sign_in_resident(client, db)
    public_id = add_plan(db, author_id=resident_id, status=PlanStatus.OP_STEMBILJET)
    set_phase(db, Phase.STEMMEN)
    assert client.get(f"/plannen/{public_id}/intrekken").status_code == 409
    response = post_form(client, f"/plannen/{public_id}/intrekken", {})
    assert response.status_code == 409
    assert "Dit plan kan niet meer worden ingetrokken." in response.text


# -- Support ---------------------------------------------------------------------------------


def support_count(db: Database) -> int:
    return len(read(db, lambda s: list(s.scalars(select(Support)))))


def test_support_without_javascript_goes_back_to_the_page(client: TestClient, db: Database) -> None:
    add_village_round(db, threshold=3)
    public_id = add_plan(db)
    sign_in_resident(client, db)
    page = client.get("/rondes/ter-aa-2027")
    assert "nog 3 steunbetuigingen nodig voor het stembiljet" in page.text
    data = {"steun": "1", "next": "/rondes/ter-aa-2027"}
    response = post_form(client, f"/plannen/{public_id}/steun", data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/rondes/ter-aa-2027#steun-{public_id}"
    assert post_form(client, f"/plannen/{public_id}/steun", data).status_code == 200
    assert support_count(db) == 1  # once per resident
    html = client.get(f"/plannen/{public_id}").text
    assert "1 steunbetuiging" in html
    assert "nog 2 steunbetuigingen nodig voor het stembiljet" in html
    assert "U steunt dit plan." in html
    assert "Steun intrekken" in html
    post_form(client, f"/plannen/{public_id}/steun", {"steun": "0"})
    assert support_count(db) == 0


def test_support_with_htmx_swaps_the_count_and_button(
    client: TestClient, other: TestClient, db: Database
) -> None:
    add_village_round(db, threshold=2)
    public_id = add_plan(db)
    sign_in_resident(client, db, "anna@example.nl")
    sign_in_resident(other, db, "bob@example.nl", "Bob")
    post_form(other, f"/plannen/{public_id}/steun", {"steun": "1"})
    response = post_form(
        client, f"/plannen/{public_id}/steun", {"steun": "1", "next": "/x"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith(f'<div id="steun-{public_id}"')
    assert "<html" not in html
    assert "2 steunbetuigingen" in html
    assert "genoeg steun voor het stembiljet" in html
    assert f'id="steun-knop-{public_id}"' in html  # the same id: htmx keeps the focus on it
    assert 'name="steun" value="0"' in html
    assert '<input type="hidden" name="next" value="/x">' in html
    assert "HX-Request" in response.headers["vary"]


def test_support_signed_out_goes_to_sign_in(client: TestClient, db: Database) -> None:
    add_village_round(db)
    public_id = add_plan(db)
    response = post_form(
        client, f"/plannen/{public_id}/steun", {"steun": "1"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/inloggen?next=%2Fplannen%2F{public_id}"
    assert support_count(db) == 0


def test_support_next_never_leaves_the_site(client: TestClient, db: Database) -> None:
    add_village_round(db)
    public_id = add_plan(db)
    sign_in_resident(client, db)
    data = {"steun": "1", "next": "//evil.example/"}
    response = post_form(client, f"/plannen/{public_id}/steun", data, follow_redirects=False)
    assert response.headers["location"] == f"/plannen/{public_id}#steun-{public_id}"


def test_support_outside_indienen_is_409(client: TestClient, db: Database) -> None:
    add_village_round(db, phase=Phase.BEOORDELEN)
    public_id = add_plan(db)
    sign_in_resident(client, db)
    assert "Steun dit plan" not in client.get(f"/plannen/{public_id}").text
    response = post_form(client, f"/plannen/{public_id}/steun", {"steun": "1"})
    assert response.status_code == 409
    assert "Steunen kan alleen zolang er plannen worden ingediend." in response.text
    assert support_count(db) == 0


def test_support_for_a_withdrawn_plan_is_404(client: TestClient, db: Database) -> None:
    add_village_round(db)
    public_id = add_plan(db, status=PlanStatus.INGETROKKEN)
    sign_in_resident(client, db)
    assert post_form(client, f"/plannen/{public_id}/steun", {"steun": "1"}).status_code == 404


# -- The form macros (templates/_macros/forms.html), which other pages use too --------------


def test_every_form_macro_ties_label_hint_and_error_to_its_control(app: Starlette) -> None:
    env = app.state.templates.env
    html = env.from_string(
        """{% import "_macros/forms.html" as f %}
        {{ f.text("naam", "Naam", "Anna", error="Te kort", hint="Uw voornaam") }}
        {{ f.number("aantal", "Aantal", "3", attrs={"data-x": "1"}) }}
        {{ f.euro("bedrag", "Bedrag", "2500", optional=true) }}
        {{ f.textarea("tekst", "Tekst", "<b>hoi</b>", error="Te lang") }}
        {{ f.select("soort", "Soort", [("a", "Een"), ("b", "Twee")], "b", placeholder="Kies") }}
        {{ f.checkbox("zelf", "Zelf doen", true, hint="Met buren") }}
        {{ f.radios("regel", "Regel", [("x", "Iks", "Uitleg"), ("y", "IJ")], "y", error="Kies") }}
        {{ f.error_summary({"naam": "Te kort"}, {"naam": "Naam"}) }}
        {{ f.error_summary({}) }}"""
    ).render(lang="nl")
    assert (
        '<label class="utrecht-form-label proeftuin-field__label" for="naam">Naam</label>' in html
    )
    assert 'aria-describedby="naam-hint naam-error" aria-invalid="true"' in html
    assert 'id="naam-hint">Uw voornaam<' in html
    assert '<span class="proeftuin-visually-hidden">Fout: </span>Te kort' in html
    assert 'inputmode="numeric"' in html and 'data-x="1"' in html
    assert 'id="bedrag"' in html and "(niet verplicht)" in html
    assert "&lt;b&gt;hoi&lt;/b&gt;</textarea>" in html
    assert '<option value="b" selected>Twee</option>' in html
    assert '<option value="">Kies</option>' in html
    assert (
        'type="checkbox" id="zelf" name="zelf" value="1" checked aria-describedby="zelf-hint"'
        in html
    )
    assert 'type="radio" id="regel" name="regel" value="x" aria-describedby="regel-uitleg"' in html
    assert 'type="radio" id="regel-2" name="regel" value="y" checked>' in html
    assert (
        '<fieldset class="utrecht-form-fieldset' in html
        and 'aria-describedby="regel-error"' in html
    )
    assert html.count('role="alert"') == 1  # an empty summary shows nothing
    assert '<a class="utrecht-link" href="#naam">Naam: Te kort</a>' in html


def test_mails_name_the_gemeente_and_round_and_the_author_gets_a_confirmation(
    db: Database, settings: Settings, smtp_inbox: tuple[Inbox, int]
) -> None:
    """Against a real SMTP server: the sign-in mail (asked for from a round's page) and the
    confirmation of a handed-in plan, with its link."""
    inbox, port = smtp_inbox
    mailing = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    add_village_round(db)
    with TestClient(create_app(mailing, db)) as client:
        page = client.get(f"/inloggen?next={NEW}").text
        client.post(
            "/inloggen", data={"email": "anna@example.nl", "next": NEW, "csrf_token": csrf_of(page)}
        )
        [sign_in] = inbox.messages
        body = _text(sign_in)
        assert sign_in["Subject"] == f"{settings.site_name}: uw link om in te loggen"
        assert f"burgerbegroting van {settings.site_name}, voor de ronde" in body
        assert "Dorpsbudget Ter Aa 2027" in body
        assert "Daarom krijgt u deze e-mail." in body
        assert "Heeft u dit niet gevraagd? Klik dan niet op de link en doe niets." in body
        inbox.messages.clear()
        sign_in_resident(client, db, name="Anna")
        inbox.messages.clear()
        response = post_form(client, NEW, GOOD, follow_redirects=False)
        public_id = response.headers["location"].removeprefix("/plannen/")
        [confirmation] = inbox.messages
    assert confirmation["To"] == "anna@example.nl"
    assert confirmation["Subject"] == f"Uw plan is ingediend: {GOOD['title']}"
    body = _text(confirmation)
    assert f"{settings.base_url}/plannen/{public_id}" in body
    assert "Hallo Anna," in body and "Dorpsbudget Ter Aa 2027" in body
    assert "Dorpsraad Ter Aa bekijkt alle plannen" in body


def _text(message: Message) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[union-attr]
