"""Letter codes, printable letters, paper ballots and turnout under /beheer/rondes/{slug}, through
the app, on both databases."""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import re
import zipfile

import openpyxl
import pyotp
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proeftuin.config import Settings
from proeftuin.db import Base, Database, read, transact
from proeftuin.errors import Invalid
from proeftuin.models import (
    AuditEvent,
    Ballot,
    BallotChoice,
    Channel,
    Letter,
    PaperVoid,
    Phase,
    RateLimit,
    Round,
    StaffUser,
    VotingCode,
)
from proeftuin.services import address_list, codes, letter_pdf, voting
from proeftuin.services.spreadsheets import XLSX_TYPE
from tests.factories import actions, add_plan_round, count, pdf_text
from tests.web.clients import (
    HTMX,
    PASSWORD,
    World,
    add_staff,
    assert_no_inline_code,
    cheap_hashing,
    csrf,
    post,
)

CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")
TODAY = dt.date(2027, 5, 3)


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashing(monkeypatch)


EXAMPLE = "ABCD-EFGH-JKMN"  # the example in the hints


def shown_codes(html: str) -> list[str]:
    return sorted(set(CODE.findall(html)) - {EXAMPLE})


def everything_stored(db: Database) -> str:
    """Every row of every table, as text: to look for what must never be stored."""

    def dump(session: Session) -> str:
        rows = []
        for table in Base.metadata.sorted_tables:
            rows += [repr(tuple(r)) for r in session.execute(select(table))]
        return "\n".join(rows)

    return read(db, dump)


def generate(client: TestClient, slug: str, number: int | str):  # type: ignore[no-untyped-def]
    return post(client, f"/beheer/rondes/{slug}/codes", {"count": str(number)})


# -- generating codes: shown once, never stored ----------------------------------------------------


def test_codes_page_shows_counts_and_the_forms(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN, codes=3, pepper=settings.code_pepper)
    response = mod_a.get("/beheer/rondes/noord/codes")
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert re.search(r"<dt>Gemaakt</dt><dd>3</dd>", html)
    assert 'action="/beheer/rondes/noord/codes"' in html
    assert 'action="/beheer/rondes/noord/codes/intrekken"' in html
    assert "U ziet de codes maar één keer" in html
    assert shown_codes(html) == []
    assert_no_inline_code(html)


def test_generated_codes_are_shown_once_as_letters_and_never_stored(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN)
    response = generate(mod_a, "noord", 3)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "U ziet deze codes maar één keer." in html
    assert html.count('<article class="letter"') == 3
    assert html.count("<svg") >= 3 and "QR-code: scan om te stemmen" in html
    assert "Gemeente Proeftuin" in html and "Ronde noord" in html and "Noord" in html
    assert "Scan de QR-code met de camera van uw telefoon." in html
    assert re.search(r'href="/static/staff\.[0-9a-f]{12}\.css"', html)  # with the print view
    assert_no_inline_code(html)
    plain = [c for c in shown_codes(html) if c in html.split('name="codes" value="')[1]]
    assert len(plain) == 3
    assert f"http://testserver/stem?code={plain[0]}" in html

    stored = read(db, lambda s: set(s.scalars(select(VotingCode.code_hash))))
    normalised = [codes.normalise(c) or "" for c in plain]
    assert stored == {codes.code_hash(settings.code_pepper, c) for c in normalised}
    dump = everything_stored(db)
    for code in plain + normalised:
        assert code not in dump
    assert actions(db) == ["codes.generate"]
    # ... and nowhere to be seen afterwards.
    assert shown_codes(mod_a.get("/beheer/rondes/noord/codes").text) == []
    assert shown_codes(mod_a.get("/beheer/rondes/noord").text) == []


def test_letters_printed_from_an_english_session_are_in_english(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN)
    mod_a.get("/beheer/rondes/noord/codes?lang=en")  # the choice is kept in the session
    html = generate(mod_a, "noord", 2).text
    assert html.count('<article class="letter" lang="en"') == 2
    assert "Have your say: Ronde noord" in html and "(letter 2 of 2)" in html
    assert "Your personal code" in html and "How to vote" in html
    assert "Scan the QR code with the camera of your phone." in html
    assert "QR code: scan to vote" in html
    assert "Stem mee" not in html and "Zo stemt u" not in html


def test_the_csv_has_one_code_per_row_in_4_4_4(
    db: Database, world: World, mod_a: TestClient
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN)
    html = generate(mod_a, "noord", 4).text
    field = re.search(r'name="codes" value="([^"]*)"', html)
    assert field
    response = post(mod_a, "/beheer/rondes/noord/codes/csv", {"codes": field.group(1)})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="codes-noord-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["content-disposition"],
    )
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Dutch Excel needs
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "code"
    assert len(lines) == 5
    assert all(CODE.fullmatch(line) for line in lines[1:])
    assert sorted(lines[1:]) == sorted(field.group(1).split())
    assert count(db, VotingCode.id) == 4  # the download made no new codes
    xlsx = post(
        mod_a, "/beheer/rondes/noord/codes/csv", {"codes": field.group(1), "formaat": "xlsx"}
    )
    assert xlsx.headers["content-type"] == XLSX_TYPE
    assert xlsx.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == lines


def test_the_csv_only_repeats_codes_of_this_round(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN, codes=1, pepper=settings.code_pepper)
    other = add_plan_round(
        db, world.area_a, "ander", Phase.INDIENEN, codes=1, pepper=settings.code_pepper
    )
    url = "/beheer/rondes/noord/codes/csv"
    made_up = post(mod_a, url, {"codes": EXAMPLE})
    assert made_up.status_code == 422
    assert "Deze codes horen niet (allemaal) bij deze ronde." in made_up.text
    assert post(mod_a, url, {"codes": codes.display(other[0])}).status_code == 422
    assert post(mod_a, url, {"codes": "geen code"}).status_code == 422
    assert post(mod_a, url, {}).status_code == 422


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Kies een aantal van 1 tot en met 100.000."),
        ("veel", "Kies een aantal van 1 tot en met 100.000."),
        ("1001", "Maak hier hoogstens 1.000 codes tegelijk."),
        # Past Python's 4,300-digit limit for int(): it crashed with a ValueError.
        ("9" * 4_301, "Maak hier hoogstens 1.000 codes tegelijk."),
    ],
)
def test_a_wrong_number_of_codes_is_refused(
    db: Database, world: World, mod_a: TestClient, typed: str, message: str
) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.INDIENEN)
    response = generate(mod_a, "noord", typed)
    assert response.status_code == 422
    assert message in response.text
    assert f'value="{typed}"' in response.text
    assert count(db, VotingCode.id) == 0


def test_no_codes_for_closed_or_email_rounds(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "dicht", Phase.GESLOTEN)
    add_plan_round(db, world.area_a, "email", Phase.INDIENEN, eligibility="email")
    assert "Codes maken of intrekken kan niet meer." in mod_a.get("/beheer/rondes/dicht/codes").text
    closed = generate(mod_a, "dicht", 2)
    assert closed.status_code == 422
    assert "Deze ronde is gesloten. Er kunnen geen codes meer bij." in closed.text
    email = generate(mod_a, "email", 2)
    assert "Codes zijn hier niet nodig." in email.text
    assert count(db, VotingCode.id) == 0


def test_revoking_a_code(db: Database, world: World, mod_a: TestClient, settings: Settings) -> None:
    plain = add_plan_round(
        db, world.area_a, "noord", Phase.STEMMEN, codes=2, pepper=settings.code_pepper
    )
    url = "/beheer/rondes/noord/codes/intrekken"
    typed = codes.display(plain[0]).lower().replace("-", " ")
    response = post(mod_a, url, {"code": typed})
    assert response.status_code == 303
    assert response.headers["location"] == "/beheer/rondes/noord/codes?melding=ingetrokken"
    page = mod_a.get(response.headers["location"]).text
    assert "De code is ingetrokken." in page
    assert re.search(r"<dt>Ingetrokken</dt><dd>1</dd>", page)
    again = post(mod_a, url, {"code": plain[0]})
    assert again.status_code == 422
    assert "Deze code is al ingetrokken." in again.text
    wrong = post(mod_a, url, {"code": "123"})
    assert "Een code heeft 12 tekens" in wrong.text
    assert actions(db) == ["code.revoke"]
    assert plain[0] not in everything_stored(db)


# -- paper ballots ---------------------------------------------------------------------------------


def paper_round(
    db: Database, world: World, settings: Settings, **round_settings: object
) -> list[str]:
    return add_plan_round(
        db,
        world.area_a,
        "noord",
        Phase.STEMMEN,
        codes=3,
        pepper=settings.code_pepper,
        **round_settings,
    )


def enter(client: TestClient, code: str, *plans: str, htmx: bool = False, **extra: str):  # type: ignore[no-untyped-def]
    form = {"code": code, **{f"keuze.noord-{p}": "1" for p in plans}, **extra}
    return post(client, "/beheer/rondes/noord/papier", form, htmx=htmx)


def paper_ballots(db: Database) -> list[tuple[str, list[str]]]:
    def load(session: Session) -> list[tuple[str, list[str]]]:
        out = []
        for ballot in session.scalars(select(Ballot).order_by(Ballot.id)):
            plans = session.execute(
                text(
                    "SELECT plan.public_id FROM ballot_choice JOIN plan ON plan.id = "
                    "ballot_choice.plan_id WHERE ballot_choice.ballot_id = :b ORDER BY 1"
                ),
                {"b": ballot.id},
            )
            out.append((ballot.channel, [p for (p,) in plans]))
        return out

    return read(db, load)


def assert_no_online_vote(db: Database, settings: Settings, code: str) -> None:
    """A code that voted on paper cannot vote online."""

    def online(session: Session) -> None:
        _, credential = voting.check_code(session, settings.code_pepper, code)
        voting.cast(session, credential, {"noord-bankjes": 1}, today=TODAY)

    with pytest.raises(Invalid, match="al op papier gestemd"):
        transact(db, online)


def test_the_paper_ballot_form_and_its_total(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    paper_round(db, world, settings)
    response = mod_a.get("/beheer/rondes/noord/papier")
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert 'name="keuze.noord-speeltuin"' in html and 'name="code"' in html
    assert 'hx-post="/beheer/rondes/noord/papier/totaal"' in html
    assert 'name="controle_wachtwoord"' not in html  # this round has no second-person check
    assert_no_inline_code(html)
    chosen = {"keuze.noord-speeltuin": "1", "keuze.noord-bankjes": "1"}
    fragment = post(mod_a, "/beheer/rondes/noord/papier/totaal", chosen, htmx=True)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<p class="utrecht-paragraph moderation-total__line">')
    assert "€\xa07.000" in fragment.text
    over = post(
        mod_a,
        "/beheer/rondes/noord/papier/totaal",
        chosen | {"keuze.noord-fietspad": "1"},
        htmx=True,
    )
    assert "Dat is meer dan het budget" in over.text
    # Without JavaScript the same button gives the whole form back, with the ticks kept.
    page = post(mod_a, "/beheer/rondes/noord/papier/totaal", chosen | {"code": "ABCD"})
    assert "<html" in page.text and "€\xa07.000" in page.text
    assert 'id="keuze-noord-speeltuin" name="keuze.noord-speeltuin" value="1" checked' in page.text
    assert 'value="ABCD"' in page.text


def test_a_paper_ballot_counts_and_is_marked_as_paper(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings)
    response = enter(mod_a, codes.display(plain[0]), "speeltuin", "bankjes")
    assert response.status_code == 303
    assert response.headers["location"] == "/beheer/rondes/noord/papier?melding=opgeslagen"
    assert "Het papieren stembiljet is opgeslagen" in mod_a.get(response.headers["location"]).text
    assert paper_ballots(db) == [("paper", ["noord-bankjes", "noord-speeltuin"])]
    status = read(db, lambda s: sorted(s.scalars(select(VotingCode.status))))
    assert status == ["unused", "unused", "used"]
    assert actions(db) == ["paper.enter"]
    # The same code again, on paper or online: refused.
    again = enter(mod_a, plain[0], "bankjes")
    assert again.status_code == 422
    assert "Voor deze code is al een papieren stembiljet ingevoerd." in again.text

    assert_no_online_vote(db, settings, plain[0])
    assert paper_ballots(db) == [("paper", ["noord-bankjes", "noord-speeltuin"])]


def test_a_code_that_voted_online_cannot_vote_on_paper(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings)

    def online(session: Session) -> None:
        _, credential = voting.check_code(session, settings.code_pepper, plain[0])
        voting.cast(session, credential, {"noord-fietspad": 1}, channel=Channel.ONLINE, today=TODAY)

    transact(db, online)
    response = enter(mod_a, plain[0], "speeltuin")
    assert response.status_code == 422
    assert "Deze code heeft al online gestemd." in response.text
    assert 'aria-describedby="code-hint code-error" aria-invalid="true"' in response.text
    assert paper_ballots(db) == [("online", ["noord-fietspad"])]


def test_a_paper_ballot_that_breaks_the_rules_is_refused(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings)
    over = enter(mod_a, plain[0], "speeltuin", "bankjes", "fietspad")
    assert over.status_code == 422
    assert "Dat is meer dan het budget" in over.text
    assert 'name="keuze.noord-fietspad" value="1" checked' in over.text  # kept
    wrong = enter(mod_a, EXAMPLE, "bankjes")
    assert "Deze code klopt niet." in wrong.text
    assert count(db, Ballot.id) == 0
    assert count(db, RateLimit.id) == 0  # staff typing is not a resident guessing


def test_blank_and_invalid_paper_ballots_count_in_turnout_only(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings)
    form = mod_a.get("/beheer/rondes/noord/papier").text
    assert '<option value="te-veel-geld">te veel geld uitgegeven</option>' in form
    # An overspent ballot is refused as a vote, and stored as invalid with its reason.
    over = enter(mod_a, plain[0], "speeltuin", "bankjes", "fietspad", reden="te-veel-geld")
    assert over.status_code == 303, over.text
    assert over.headers["location"] == "/beheer/rondes/noord/papier?melding=niet-geteld"
    blank = enter(mod_a, plain[1], reden="blanco")
    assert blank.status_code == 303
    unknown = enter(mod_a, plain[2], reden="zomaar")
    assert unknown.status_code == 422
    assert "Kies waarom het stembiljet niet meetelt." in unknown.text
    assert count(db, Ballot.id) == 0 and count(db, PaperVoid.id) == 2
    voids = read(db, lambda s: sorted((v.kind, v.reason) for v in s.scalars(select(PaperVoid))))
    assert voids == [("blank", "blanco"), ("invalid", "te-veel-geld")]
    assert actions(db) == ["paper.void", "paper.void"]
    # The code is taken: no second ballot on paper or online.
    again = enter(mod_a, plain[0], "bankjes")
    assert "Voor deze code is al een papieren stembiljet ingevoerd." in again.text

    assert_no_online_vote(db, settings, plain[1])
    turnout = mod_a.get("/beheer/rondes/noord/opkomst").text
    assert "<dt>Blanco op papier</dt><dd>1</dd>" in turnout
    assert "<dt>Ongeldig op papier</dt><dd>1</dd>" in turnout
    assert "<dt>Opkomst in totaal</dt><dd>2</dd>" in turnout


def test_a_blank_ballot_needs_the_second_person_too(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings, paper_check=True)
    add_staff(db, "tweede@gemeente.nl", area_ids=[world.area_a])
    alone = enter(mod_a, plain[0], reden="blanco")
    assert alone.status_code == 422
    assert "Vul het e-mailadres van de tweede medewerker in." in alone.text
    assert count(db, PaperVoid.id) == 0
    checked = enter(
        mod_a,
        plain[0],
        reden="onleesbaar",
        controle_email="tweede@gemeente.nl",
        controle_wachtwoord=PASSWORD,
    )
    assert checked.status_code == 303, checked.text
    assert count(db, PaperVoid.id) == 1


def test_the_printable_paper_ballot(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    paper_round(db, world, settings)
    response = mod_a.get("/beheer/rondes/noord/papier/stembiljet.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    shown = pdf_text(response.content)
    assert "Plan noord-speeltuin" in shown and "€ 4.000" in shown
    assert "Zet een kruisje bij de plannen die u wilt." in shown
    assert "Uw code (van uw brief):" in shown
    assert "Het stemmen is begonnen. U kunt nu stemmen." in shown


def test_paper_ballots_only_while_voting(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = add_plan_round(
        db, world.area_a, "noord", Phase.BEOORDELEN, codes=1, pepper=settings.code_pepper
    )
    assert "alleen zolang het stemmen loopt" in mod_a.get("/beheer/rondes/noord/papier").text
    response = enter(mod_a, plain[0], "bankjes")
    assert response.status_code == 422
    assert count(db, Ballot.id) == 0


def test_the_second_person_check(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings, paper_check=True)
    checker_id = add_staff(db, "tweede@gemeente.nl", area_ids=[world.area_a], name="Tessa")
    form = mod_a.get("/beheer/rondes/noord/papier").text
    assert 'name="controle_wachtwoord"' in form and 'type="password"' in form

    missing = enter(mod_a, plain[0], "bankjes")
    assert missing.status_code == 422
    assert "Vul het e-mailadres van de tweede medewerker in." in missing.text
    myself = enter(
        mod_a, plain[0], "bankjes", controle_email="mod-a@gemeente.nl", controle_wachtwoord=PASSWORD
    )
    assert "Een andere medewerker moet het stembiljet controleren." in myself.text
    wrong = enter(
        mod_a,
        plain[0],
        "bankjes",
        controle_email="tweede@gemeente.nl",
        controle_wachtwoord="raden-123",
    )
    assert wrong.status_code == 422
    assert "Het e-mailadres of het wachtwoord klopt niet." in wrong.text
    assert 'value="tweede@gemeente.nl"' in wrong.text and "raden-123" not in wrong.text
    assert count(db, RateLimit.id) > 0  # counted like a failed sign-in
    outsider = add_staff(db, "zuid2@gemeente.nl", area_ids=[world.area_b])
    other_area = enter(
        mod_a, plain[0], "bankjes", controle_email="zuid2@gemeente.nl", controle_wachtwoord=PASSWORD
    )
    assert "Deze medewerker kan stembiljetten van deze ronde niet controleren." in other_area.text
    assert outsider and count(db, Ballot.id) == 0

    ok = enter(
        mod_a,
        plain[0],
        "bankjes",
        controle_email="tweede@gemeente.nl",
        controle_wachtwoord=PASSWORD,
    )
    assert ok.status_code == 303, ok.text
    assert paper_ballots(db) == [("paper", ["noord-bankjes"])]
    details = read(
        db,
        lambda s: s.scalar(select(AuditEvent.details).where(AuditEvent.action == "paper.enter")),
    )
    assert f'"checked_by": {checker_id}' in details
    assert PASSWORD not in everything_stored(db)


def test_a_checker_with_a_second_factor_types_its_code(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings, paper_check=True)
    add_staff(db, "tweede@gemeente.nl", area_ids=[world.area_a])
    secret = pyotp.random_base32()
    transact(
        db,
        lambda s: s.execute(
            update(StaffUser)
            .where(StaffUser.email == "tweede@gemeente.nl")
            .values(totp_secret=secret)
        ),
    )
    checker = {"controle_email": "tweede@gemeente.nl", "controle_wachtwoord": PASSWORD}
    without = enter(mod_a, plain[0], "bankjes", **checker)
    assert without.status_code == 422
    assert "De code uit uw app klopt niet." in without.text
    assert 'id="controle_code-error"' in without.text
    ok = enter(mod_a, plain[0], "bankjes", **checker, controle_code=pyotp.TOTP(secret).now())
    assert ok.status_code == 303
    assert count(db, Ballot.id) == 1


# -- turnout, without a tally ----------------------------------------------------------------------


def test_turnout_per_day_without_any_count_per_plan(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    plain = paper_round(db, world, settings)

    def vote(session: Session) -> None:
        for code, day, channel in (
            (plain[0], dt.date(2027, 5, 2), Channel.ONLINE),
            (plain[1], dt.date(2027, 5, 3), Channel.ONLINE),
            (plain[2], dt.date(2027, 5, 3), Channel.PAPER),
        ):
            _, credential = voting.check_code(session, settings.code_pepper, code)
            voting.cast(session, credential, {"noord-bankjes": 1}, channel=channel, today=day)

    transact(db, vote)
    response = mod_a.get("/beheer/rondes/noord/opkomst")
    html = response.text
    assert re.search(r"<dt>Stemmen</dt><dd>3</dd>", html)
    assert re.search(r"<dt>Online</dt><dd>2</dd>", html)
    assert re.search(r"<dt>Op papier</dt><dd>1</dd>", html)
    assert "3 van 3 (100%)" in html
    assert "2 mei 2027" in html and "3 mei 2027" in html
    assert '<svg class="moderation-chart__svg" role="img" aria-labelledby="grafiek-titel"' in html
    assert "ziet niemand voordat het stemmen voorbij is" in html
    # No tally: not a plan named, so nothing can be counted per plan.
    for plan in ("speeltuin", "bankjes", "fietspad"):
        assert plan not in html
    assert_no_inline_code(html)
    assert count(db, BallotChoice.id) == 3  # the choices exist; the page just never reads them


def test_turnout_before_anyone_voted(db: Database, world: World, mod_a: TestClient) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.STEMMEN)
    html = mod_a.get("/beheer/rondes/noord/opkomst").text
    assert "Er is nog niet gestemd." in html
    assert "<svg" not in html


# -- another area's codes, letters, paper ballots and turnout --------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_a_moderator_of_another_area_gets_nothing(
    db: Database, world: World, mod_b: TestClient, settings: Settings, htmx: bool
) -> None:
    plain = paper_round(db, world, settings)
    headers = HTMX if htmx else {}
    for page in ("codes", "papier", "opkomst"):
        response = mod_b.get(f"/beheer/rondes/noord/{page}", headers=headers)
        assert response.status_code == 403, page
        assert "Ronde noord" not in response.text
    for action, form in (
        ("codes", {"count": "5"}),
        ("codes/csv", {"codes": codes.display(plain[0])}),
        ("codes/intrekken", {"code": plain[0]}),
        ("papier", {"code": plain[1], "keuze.noord-bankjes": "1"}),
        ("papier/totaal", {"keuze.noord-bankjes": "1"}),
    ):
        response = post(mod_b, f"/beheer/rondes/noord/{action}", form, htmx=htmx)
        assert response.status_code == 403, action
        assert "Ronde noord" not in response.text and "Plan noord" not in response.text
        assert shown_codes(response.text) == []
    assert count(db, VotingCode.id) == 3
    assert count(db, Ballot.id) == 0
    assert actions(db) == []


# -- letters for the mail house ------------------------------------------------------------------

STREET = "Zonnebloemstraat"
ADDRESSES = (
    "straat;huisnummer;postcode;plaats\n"
    f"{STREET};12;1234 AB;Veenhoven\n"
    f"{STREET};14 a;1234ab;Veenhoven\n"
    "Kerkweg;3;5678 CD;Veenhoven\n"
)


def upload(client: TestClient, content: bytes | str, name: str = "adressen.csv"):  # type: ignore[no-untyped-def]
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/beheer/rondes/noord/brieven",
        data={"csrf_token": csrf(client)},
        files={"adressen": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def letter_round(db: Database, world: World, settings: Settings) -> None:
    add_plan_round(db, world.area_a, "noord", Phase.STEMMEN, pepper=settings.code_pepper)


def test_an_address_list_gives_letters_and_a_merge_file_and_is_not_kept(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    letter_round(db, world, settings)
    response = upload(mod_a, ADDRESSES)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    files = unzip(response.content)
    assert sorted(files) == ["brieven.pdf", "samenvoegbestand.csv"]
    merge = files["samenvoegbestand.csv"].decode("utf-8-sig").splitlines()
    assert merge[0] == "briefnummer;straat;huisnummer;postcode;plaats;code;qr_url"
    rows = [line.split(";") for line in merge[1:]]
    assert [row[:5] for row in rows] == [
        ["1", STREET, "12", "1234 AB", "Veenhoven"],
        ["2", STREET, "14 a", "1234 AB", "Veenhoven"],
        ["3", "Kerkweg", "3", "5678 CD", "Veenhoven"],
    ]
    assert all(CODE.fullmatch(row[5]) and row[6].endswith(f"/stem?code={row[5]}") for row in rows)
    shown = pdf_text(files["brieven.pdf"])
    assert shown.count("Aan de bewoners van") == 3
    assert f"{STREET} 12" in shown and "1234 AB  VEENHOVEN" in shown
    assert "Briefnummer 2" in shown and f"Uw code: {rows[1][5]}" in shown
    # One code per letter, the four digits of each postcode, and no address anywhere.
    letters = read(db, lambda s: [(x.number, x.pc4) for x in s.scalars(select(Letter))])
    assert sorted(letters) == [(1, "1234"), (2, "1234"), (3, "5678")]
    assert count(db, VotingCode.id) == 3
    stored = everything_stored(db)
    for secret in (STREET, "Kerkweg", "1234 AB", rows[0][5]):
        assert secret not in stored
    assert actions(db) == ["codes.generate", "letters.make"]
    # More letters later go on numbering.
    more = upload(mod_a, "straat,huisnummer,postcode,plaats\nMolenlaan,1,9999 ZZ,Veenhoven\n")
    merge = unzip(more.content)["samenvoegbestand.csv"].decode("utf-8-sig").splitlines()
    assert merge[1].startswith("4;Molenlaan;1;9999 ZZ;")


def test_an_excel_address_list(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    letter_round(db, world, settings)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Straat", "Huisnummer", "Postcode", "Plaats"])
    sheet.append([STREET, 12, "1234AB", "Veenhoven"])
    saved = io.BytesIO()
    book.save(saved)
    response = upload(mod_a, saved.getvalue(), "adressen.xlsx")
    assert response.status_code == 200, response.text
    merge = unzip(response.content)["samenvoegbestand.csv"].decode("utf-8-sig").splitlines()
    assert merge[1].startswith(f"1;{STREET};12;1234 AB;Veenhoven;")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("naam;adres\nJan;Dorp 1\n", "Regel 1: de kopregel klopt niet."),
        (
            ADDRESSES + f"{STREET};12;1234 AB;Veenhoven\n",
            "Regel 5: dit adres staat ook op regel 2.",
        ),
        (
            "straat;huisnummer;postcode;plaats\nKerkweg;3;;Veenhoven\n",
            "Regel 2: de postcode ontbreekt.",
        ),
        (
            "straat;huisnummer;postcode;plaats\nKerkweg;3;;Veenhoven\nKerkweg;4;12345;Veenhoven\n",
            "Regel 2: de postcode ontbreekt.",
        ),
        (
            "straat;huisnummer;postcode;plaats\nKerkweg;3;0123 AB;Veenhoven\n",
            "Regel 2: de postcode",
        ),
        ("", "Het bestand is leeg."),
        ("straat;huisnummer;postcode;plaats\n", "Er staan geen adressen in het bestand"),
        (b"PK\x03\x04 not really a workbook", "Dit bestand kunnen we niet lezen."),
    ],
)
def test_a_bad_address_list_names_the_line_and_makes_nothing(
    db: Database,
    world: World,
    mod_a: TestClient,
    settings: Settings,
    content: str | bytes,
    message: str,
) -> None:
    letter_round(db, world, settings)
    response = upload(mod_a, content)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert count(db, VotingCode.id) == 0 and count(db, Letter.id) == 0
    assert actions(db) == []


def test_too_many_addresses_are_refused_with_the_limit(
    db: Database,
    world: World,
    mod_a: TestClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    letter_round(db, world, settings)
    monkeypatch.setattr(address_list, "MAX_ROWS", 2)
    response = upload(mod_a, ADDRESSES)
    assert response.status_code == 422
    assert "Regel 4: het bestand heeft meer dan 2 adressen." in response.text
    assert count(db, VotingCode.id) == 0


def test_codes_and_letters_are_made_together_or_not_at_all(
    db: Database,
    world: World,
    mod_a: TestClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    letter_round(db, world, settings)

    def broken(*args: object) -> bytes:
        raise RuntimeError("the printer caught fire")

    monkeypatch.setattr(letter_pdf, "render", broken)
    with pytest.raises(RuntimeError):
        upload(mod_a, ADDRESSES)
    assert count(db, VotingCode.id) == 0 and count(db, Letter.id) == 0
    assert actions(db) == []


def test_a_lost_letter_is_revoked_by_its_number_and_replaced(
    db: Database, world: World, mod_a: TestClient, settings: Settings
) -> None:
    letter_round(db, world, settings)
    upload(mod_a, ADDRESSES)
    wrong = post(mod_a, "/beheer/rondes/noord/brieven/intrekken", {"nummer": "99"})
    assert wrong.status_code == 422
    assert "Brief 99 hoort niet bij deze ronde." in wrong.text
    revoked = post(mod_a, "/beheer/rondes/noord/brieven/intrekken", {"nummer": "2"})
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/beheer/rondes/noord/codes?melding=brief-ingetrokken"
    again = post(mod_a, "/beheer/rondes/noord/brieven/intrekken", {"nummer": "2"})
    assert "Deze code is al ingetrokken." in again.text
    address = {"straat": STREET, "huisnummer": "12", "postcode": "1234 ab", "plaats": "Veenhoven"}
    bad = post(
        mod_a, "/beheer/rondes/noord/brieven/vervangen", {"nummer": "1", **address, "postcode": "x"}
    )
    assert bad.status_code == 422 and "Deze postcode klopt niet." in bad.text
    assert 'id="vervang-nummer" name="nummer" value="1"' in bad.text  # kept, on its own form
    new = post(mod_a, "/beheer/rondes/noord/brieven/vervangen", {"nummer": "1", **address})
    assert new.status_code == 200, new.text
    assert new.headers["content-type"] == "application/pdf"
    shown = pdf_text(new.content)
    assert "Deze brief vervangt brief 1." in shown and "Briefnummer 4" in shown
    assert f"{STREET} 12" in shown
    status = read(
        db,
        lambda s: sorted(
            (x.number, x.replaces, s.get(VotingCode, x.code_id).status)  # type: ignore[union-attr]
            for x in s.scalars(select(Letter))
        ),
    )
    assert status == [
        (1, None, "revoked"),
        (2, None, "revoked"),
        (3, None, "unused"),
        (4, 1, "unused"),
    ]
    log = read(db, lambda s: [e.details for e in s.scalars(select(AuditEvent))])
    assert any('"letter": 2' in details for details in log)
    assert any('"replaces": 1' in details for details in log)
    assert STREET not in everything_stored(db) and STREET not in "".join(log)


def test_turnout_per_postcode_area_once_voting_has_closed(
    db: Database,
    world: World,
    mod_a: TestClient,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    letter_round(db, world, settings)
    caplog.set_level(logging.DEBUG)
    response = upload(mod_a, ADDRESSES)
    assert STREET not in caplog.text and "1234 AB" not in caplog.text
    merge = unzip(response.content)["samenvoegbestand.csv"].decode("utf-8-sig").splitlines()
    first_code = merge[1].split(";")[5]

    def vote_and_close(session: Session) -> None:
        _, credential = voting.check_code(session, settings.code_pepper, first_code)
        voting.cast(session, credential, {"noord-bankjes": 1}, today=TODAY)
        session.execute(update(Round).values(phase=Phase.GESLOTEN.value))

    assert "Per postcodegebied" not in mod_a.get("/beheer/rondes/noord/opkomst").text
    transact(db, vote_and_close)
    page = mod_a.get("/beheer/rondes/noord/opkomst").text
    assert "Per postcodegebied" in page
    cells = re.findall(
        r'<th class="utrecht-table__header-cell" scope="row">(\d{4})</th>\s*'
        r'<td class="utrecht-table__cell">(\d+)</td>\s*'
        r'<td class="utrecht-table__cell">(\d+)</td>',
        page,
    )
    assert cells == [("1234", "2", "1"), ("5678", "1", "0")]
