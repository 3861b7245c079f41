from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.errors import Invalid, NotAllowed
from proeftuin.models import Phase
from proeftuin.services.pages import codes
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.permissions import Actor
from tests.factories import PEPPER, make_round, make_staff

BASE_URL = "https://stem.veenhoven.example"


def _setup(db: Database, phase: Phase = Phase.STEMMEN) -> tuple[str, Actor, Actor]:
    def build(session: Session) -> tuple[str, Actor, Actor]:
        round_ = make_round(session, phase=phase)
        other = make_round(session, plan_prefix="ander")
        moderator = make_staff(session, area_ids=[round_.area_id])
        return round_.slug, moderator, make_staff(session, area_ids=[other.area_id])

    return transact(db, build)


def test_generated_codes_come_back_with_their_letters_and_only_they_make_a_csv(
    db: Database,
) -> None:
    slug, moderator, stranger = _setup(db, Phase.BEOORDELEN)
    made = perform_now(db, codes.generate, moderator, slug, "3", PEPPER, BASE_URL, "Veenhoven")
    assert len(made.codes) == len(made.letters) == 3
    found = perform_now(db, codes.codes_csv, moderator, slug, made.codes, PEPPER)
    csv = found.content.decode("utf-8-sig")
    assert found.extension == "csv" and all(codes.display(code) in csv for code in made.codes)
    with pytest.raises(Invalid):
        perform_now(db, codes.codes_csv, moderator, slug, ["ABCD-EFGH-JKMN"], PEPPER)
    with pytest.raises(NotAllowed):
        perform_now(db, codes.codes_page, stranger, slug)
    page = perform_now(db, codes.codes_page, moderator, slug)
    assert page.uses_codes and page.counts.issued == 3


def test_the_web_makes_at_most_a_batch_of_letters_at_once(db: Database) -> None:
    slug, moderator, _ = _setup(db, Phase.BEOORDELEN)
    too_many = str(codes.WEB_BATCH_LIMIT + 1)
    with pytest.raises(Invalid, match="hoogstens"):
        perform_now(db, codes.generate, moderator, slug, too_many, PEPPER, BASE_URL, "Veenhoven")


def test_the_paper_ballot_adds_up_what_is_ticked(db: Database) -> None:
    slug, moderator, _ = _setup(db)
    ballot = perform_now(db, codes.paper_ballot, moderator, slug, {"plan0": 1, "plan1": 1})
    assert ballot.voting
    assert [p.public_id for p in ballot.plans] == ["plan0", "plan1", "plan2"]
    assert ballot.state.spent == 7_000


def test_turnout_counts_no_plan(db: Database) -> None:
    slug, moderator, _ = _setup(db)
    page = perform_now(db, codes.turnout_page, moderator, slug)
    assert page.round.slug == slug
    assert page.days == () and page.busiest == 0
    assert page.postcodes == ()  # only once voting has closed


NOW = dt.datetime(2027, 2, 10, 12, 0, tzinfo=dt.UTC)
LIST = b"straat;huisnummer;postcode;plaats\nKerkweg;3;1234 AB;Veenhoven\n"


def test_letters_from_a_list_and_a_replacement(db: Database) -> None:
    slug, moderator, stranger = _setup(db)
    args = (PEPPER, BASE_URL, "Veenhoven", "nl", NOW)
    made = perform_now(db, codes.make_letters, moderator, slug, "a.csv", LIST, *args)
    assert (made.first, made.last, made.media_type) == (1, 1, "application/zip")
    with pytest.raises(NotAllowed):
        perform_now(db, codes.make_letters, stranger, slug, "a.csv", LIST, *args)
    typed = {"straat": "Kerkweg", "huisnummer": "3", "postcode": "1234AB", "plaats": "Veenhoven"}
    new = perform_now(db, codes.replace_letter, moderator, slug, "1", typed, *args)
    assert (new.first, new.media_type) == (2, "application/pdf")
    with pytest.raises(Invalid, match="al ingetrokken"):
        perform_now(db, codes.revoke_letter, moderator, slug, "1")
    assert perform_now(db, codes.revoke_letter, moderator, slug, "2").slug == slug


def test_the_printable_paper_ballot_is_a_pdf(db: Database) -> None:
    slug, moderator, stranger = _setup(db)
    content = perform_now(db, codes.paper_ballot_pdf, moderator, slug, "Veenhoven", "nl", NOW)
    assert content.startswith(b"%PDF-")
    with pytest.raises(NotAllowed):
        perform_now(db, codes.paper_ballot_pdf, stranger, slug, "Veenhoven", "nl", NOW)
