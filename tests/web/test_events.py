"""A voting event on the web: one code, the district's ballot and the city-wide one, one review,
one cast; the public event page; the staff pages. On both databases."""

from __future__ import annotations

import io
import re
import zipfile

import httpx
from sqlalchemy import select
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import Ballot, Phase, Round, VoterDeclaration, VotingEvent
from proeftuin.services import residents
from tests.factories import EventWorld, add_event, publish_event
from tests.web.clients import World, csrf_of, sign_in_resident


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no field {name} on the page"
    return match.group(1)


def _enter(client: TestClient, code: str) -> httpx.Response:
    token = csrf_of(client.get("/stem").text)
    return client.post("/stem", data={"code": code, "csrf_token": token})


def _post(
    client: TestClient, path: str, page: httpx.Response, data: dict[str, str]
) -> httpx.Response:
    form = {"csrf_token": csrf_of(page.text), "pas": _field(page.text, "pas"), **data}
    return client.post(path, data=form)


def _world(db: Database, settings: Settings) -> EventWorld:
    return add_event(db, pepper=settings.code_pepper)


def _ballots(db: Database) -> list[int]:
    return sorted(read(db, lambda s: s.scalars(select(Ballot.round_id)).all()))


def test_one_code_fills_both_ballots_reviews_them_and_casts_both(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    north = world.district_round_ids[0]
    first = _enter(client, world.codes[north][0])
    assert first.status_code == 200
    assert "Stembiljet 1 van 2" in first.text and 'name="keuze.noord0"' in first.text
    assert 'name="keuze.stad0"' not in first.text
    second = _post(client, "/stem/stemming/stembiljet", first, {"stap": "0", "keuze.noord0": "1"})
    assert "Stembiljet 2 van 2" in second.text and 'name="keuze.stad0"' in second.text
    # The first ballot's choice travels along.
    assert 'type="hidden" name="keuze.noord0" value="1"' in second.text
    review = _post(
        client,
        "/stem/stemming/stembiljet",
        second,
        {"stap": "1", "keuze.noord0": "1", "keuze.stad1": "1"},
    )
    assert review.status_code == 200 and "Controleer uw keuze" in review.text
    token = _field(review.text, "inzending")
    done = _post(
        client,
        "/stem/stemming/uitbrengen",
        review,
        {"inzending": token, "keuze.noord0": "1", "keuze.stad1": "1"},
    )
    assert done.status_code == 200 and "Uw stembonnen" in done.text
    assert len(re.findall(r"voting-receipt\">[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}<", done.text)) == 2
    assert _ballots(db) == sorted([north, world.city_round_id])


def test_a_crafted_plan_of_another_district_stores_nothing(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    page = _enter(client, world.codes[world.district_round_ids[0]][0])
    answer = _post(
        client,
        "/stem/stemming/uitbrengen",
        page,
        {"keuze.noord0": "1", "keuze.zuid0": "1", "inzending": "x" * 20},
    )
    assert answer.status_code == 422
    assert "niet op uw stembiljetten" in answer.text
    assert _ballots(db) == []


def test_one_wrong_ballot_stores_neither_and_shows_the_wrong_one(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    page = _enter(client, world.codes[world.district_round_ids[0]][0])
    answer = _post(
        client,
        "/stem/stemming/uitbrengen",
        page,
        {
            "keuze.noord0": "1",
            "keuze.stad0": "1",
            "keuze.stad1": "1",
            "keuze.stad2": "1",
            "inzending": "y" * 20,
        },
    )
    assert answer.status_code == 422
    assert "Er is niets opgeslagen" in answer.text and "Stembiljet 2 van 2" in answer.text
    assert _ballots(db) == []


def test_a_tampered_event_pass_goes_back_to_the_start(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    page = _enter(client, world.codes[world.district_round_ids[0]][0])
    forged = _field(page.text, "pas").replace(str(world.district_round_ids[0]), "999", 1)
    answer = client.post(
        "/stem/stemming/uitbrengen",
        data={"csrf_token": csrf_of(page.text), "pas": forged, "keuze.zuid0": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "melding=ongeldig" in answer.headers["location"]
    assert _ballots(db) == []


def test_the_event_page_shows_its_rounds_and_who_may_vote(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    page = client.get(f"/stemmingen/{world.slug}")
    assert page.status_code == 200
    assert "Wie mag stemmen?" in page.text and "twee stembiljetten" in page.text
    assert client.get("/stemmingen/bestaat-niet").status_code == 404


def test_an_admin_makes_an_event_and_a_moderator_sees_only_their_areas_round(
    admin: TestClient, mod_a: TestClient, mod_b: TestClient, world: World, db: Database
) -> None:
    page = admin.get("/beheer/stemmingen")
    created = admin.post(
        "/beheer/stemmingen",
        data={"csrf_token": csrf_of(page.text), "title": "Stadsbudget 2027", "citywide_area": ""},
        follow_redirects=False,
    )
    assert created.status_code == 303
    slug = read(db, lambda s: s.scalar(select(VotingEvent.slug)))
    assert created.headers["location"] == f"/beheer/stemmingen/{slug}"

    def add_rounds(session):  # type: ignore[no-untyped-def]
        for area_id, title in ((world.area_a, "Noord 2027"), (world.area_b, "Zuid 2027")):
            session.add(
                Round(
                    area_id=area_id,
                    slug=title.lower().replace(" ", "-"),
                    title=title,
                    budget=5000,
                    phase=Phase.BEOORDELEN.value,
                    tie_break_seed="s",
                )
            )

    transact(db, add_rounds)
    event_page = admin.get(f"/beheer/stemmingen/{slug}")
    for round_slug in ("noord-2027", "zuid-2027"):
        added = admin.post(
            f"/beheer/stemmingen/{slug}/rondes",
            data={"csrf_token": csrf_of(event_page.text), "round": round_slug},
            follow_redirects=False,
        )
        assert added.status_code == 303
    again = admin.post(
        f"/beheer/stemmingen/{slug}/rondes",
        data={"csrf_token": csrf_of(event_page.text), "round": "noord-2027"},
    )
    assert again.status_code == 422 and "hoort al bij een stemming" in again.text
    seen_by_a = mod_a.get(f"/beheer/stemmingen/{slug}").text
    assert "Noord 2027" in seen_by_a and "Zuid 2027" not in seen_by_a
    refused = mod_a.post(
        "/beheer/stemmingen",
        data={"csrf_token": csrf_of(mod_a.get("/beheer/stemmingen").text), "title": "X"},
    )
    assert refused.status_code == 403


def test_the_round_page_says_who_may_vote_and_links_its_event(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)

    def with_age(session):  # type: ignore[no-untyped-def]
        round_ = session.get(Round, world.city_round_id)
        round_.min_age, round_.eligibility = 16, "codes_or_email"
        return round_.slug

    slug = transact(db, with_age)
    page = client.get(f"/rondes/{slug}").text
    assert "Wie mag stemmen?" in page and "Die lijst bepaalt wie mag stemmen" in page
    assert "16 jaar of ouder. Dat verklaart u" in page
    assert f'href="/stemmingen/{world.slug}"' in page


def test_the_paper_form_of_a_district_round_has_the_city_wide_part_too(
    admin: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    north = world.district_round_ids[0]
    slug = read(db, lambda s: s.get(Round, north).slug)
    page = admin.get(f"/beheer/rondes/{slug}/papier")
    assert 'name="keuze.noord0"' in page.text and 'name="keuze.stad0"' in page.text
    entered = admin.post(
        f"/beheer/rondes/{slug}/papier",
        data={
            "csrf_token": csrf_of(page.text),
            "code": world.codes[north][0],
            "keuze.noord0": "1",
            "keuze.stad1": "1",
        },
        follow_redirects=False,
    )
    assert entered.status_code == 303
    assert _ballots(db) == sorted([north, world.city_round_id])


def test_the_results_are_published_together_with_one_archive_and_one_record(
    client: TestClient, admin: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    assert client.get(f"/stemmingen/{world.slug}/uitslag").status_code == 404
    transact(db, publish_event, world, settings.code_pepper)
    page = client.get(f"/stemmingen/{world.slug}/uitslag")
    assert page.status_code == 200
    assert page.text.count('class="results-event-round"') == 3
    assert "stemming.zip" in page.text and "<svg" in page.text
    archive = client.get(f"/stemmingen/{world.slug}/uitslag/stemming.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        names = opened.namelist()
        slugs = read(db, lambda s: [s.get(Round, r).slug for r in world.district_round_ids])
        north_pb = opened.read(f"{slugs[0]}/stemmen.pb").decode()
    assert len(names) == 12 and all(n.count("/") == 1 for n in names)
    # The archive holds the very bytes of the round's own download.
    assert north_pb == client.get(f"/rondes/{slugs[0]}/uitslag/stemmen.pb").text
    assert "\ndistrict;Noord\nsubunit;Noord\n" in north_pb
    record = admin.get(f"/beheer/stemmingen/{world.slug}/proces-verbaal")
    assert record.status_code == 200 and record.text.count("<code>") == 3


def _email_event(db: Database, settings: Settings, *, area_choice: bool = False) -> EventWorld:
    world = add_event(db, pepper=settings.code_pepper, eligibility="codes_or_email")

    def places(session):  # type: ignore[no-untyped-def]
        north, south = (session.get(Round, r) for r in world.district_round_ids)
        north.area.postcodes, south.area.postcodes = "9401-9403", "9404-9406"
        session.get(VotingEvent, world.event_id).area_choice = area_choice

    transact(db, places)
    return world


def _open_by_email(client: TestClient, round_slug: str) -> httpx.Response:
    start = client.get("/stem").text
    form = {"ronde": round_slug, "verklaring": "1", "csrf_token": csrf_of(start)}
    return client.post("/stem/email", data=form)


def test_an_email_voter_is_placed_in_their_district_by_postcode(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _email_event(db, settings)
    resident = sign_in_resident(client, db)
    transact(db, residents.update_profile, resident, "Anna", "9405 AB")
    city, north, _south = read(
        db,
        lambda s: [s.get(Round, r).slug for r in (world.city_round_id, *world.district_round_ids)],
    )
    first = _open_by_email(client, city)
    assert first.status_code == 200 and "Stembiljet 1 van 2" in first.text
    assert 'name="keuze.zuid0"' in first.text  # 9405 is in the south's range
    done = _post(
        client,
        "/stem/stemming/uitbrengen",
        first,
        {"keuze.zuid0": "1", "keuze.stad1": "1", "inzending": "z" * 20},
    )
    assert done.status_code == 200 and "Uw stembonnen" in done.text
    assert _ballots(db) == sorted([world.district_round_ids[1], world.city_round_id])
    # Not in the north's range: that district is refused, unless the event lets residents choose.
    refused = _open_by_email(client, north)
    assert refused.status_code == 403 and "Uw postcode hoort niet bij" in refused.text
    declarations = read(db, lambda s: len(s.scalars(select(VoterDeclaration)).all()))
    assert declarations == 2


def test_with_area_choice_an_email_voter_may_choose_another_district(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _email_event(db, settings, area_choice=True)
    resident = sign_in_resident(client, db)
    transact(db, residents.update_profile, resident, "Anna", "9405 AB")
    north = read(db, lambda s: s.get(Round, world.district_round_ids[0]).slug)
    first = _open_by_email(client, north)
    assert first.status_code == 200 and 'name="keuze.noord0"' in first.text
    done = _post(
        client,
        "/stem/stemming/uitbrengen",
        first,
        {"keuze.noord0": "1", "inzending": "n" * 20},
    )
    assert done.status_code == 200
    south = read(db, lambda s: s.get(Round, world.district_round_ids[1]).slug)
    second = _open_by_email(client, south)
    assert second.status_code == 403 and "al gestemd voor een andere wijk" in second.text


def test_the_expiry_warning_of_an_event_ballot_renews_the_event_pass(
    client: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    page = _enter(client, world.codes[world.district_round_ids[0]][0])
    assert 'hx-get="/stem/verloopt?stemming=1"' in page.text
    warning = client.get("/stem/verloopt?stemming=1", headers={"HX-Request": "true"}).text
    assert 'hx-post="/stem/stemming/stand"' in warning
    live = _post(client, "/stem/stemming/stand", page, {"stap": "0", "keuze.noord0": "1"})
    assert live.status_code == 200 and 'id="pas"' in live.text


def test_letters_of_a_district_round_say_the_code_also_votes_city_wide(
    admin: TestClient, db: Database, settings: Settings
) -> None:
    world = _world(db, settings)
    slug = read(db, lambda s: s.get(Round, world.district_round_ids[0]).slug)
    page = admin.get(f"/beheer/rondes/{slug}/codes")
    made = admin.post(
        f"/beheer/rondes/{slug}/codes", data={"csrf_token": csrf_of(page.text), "count": "2"}
    )
    assert made.status_code == 200
    assert made.text.count("Met dezelfde code stemt u ook voor de hele gemeente") == 2
