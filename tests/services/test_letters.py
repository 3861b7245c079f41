from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy.orm import Session

from proeftuin import i18n
from proeftuin.db import Database, read, transact
from proeftuin.errors import NotAllowed
from proeftuin.models import Phase
from proeftuin.services import codes, letters, rounds, site_content
from proeftuin.services.permissions import Actor
from tests.factories import make_round, make_staff

SVG = ""  # inline SVG in HTML needs no namespace
PRINTED = dt.datetime(2027, 2, 10, 12, 0, tzinfo=dt.UTC)  # before voting starts


def _setup(db: Database) -> tuple[int, Actor, Actor]:
    def build(session: Session) -> tuple[int, Actor, Actor]:
        round_ = make_round(
            session,
            budget=50_000,
            phase=Phase.BEOORDELEN,
            voting_starts_at=dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC),
            voting_ends_at=dt.datetime(2027, 3, 17, 21, 0, tzinfo=dt.UTC),
        )
        other = make_round(session, costs=())
        return (
            round_.id,
            make_staff(session, "moderator", [round_.area_id]),
            make_staff(session, "moderator", [other.area_id]),
        )

    return transact(db, build)


def _letters(
    db: Database, actor: Actor, round_id: int, plain: list[str], language: str | None = None
) -> list[letters.Letter]:
    return read(
        db,
        letters.letters_for_round,
        actor,
        round_id,
        plain,
        "https://stem.veenhoven.nl/",
        "Gemeente Veenhoven",
        language,
        PRINTED,
    )


def test_a_letter_has_everything_a_resident_needs(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    plain = [codes.generate_code() for _ in range(2)]
    first, second = _letters(db, moderator, round_id, plain)
    shown = codes.display(plain[0])
    assert (first.gemeente, first.area, first.round_title, first.code) == (
        "Gemeente Veenhoven",
        "Noord",
        "Buurtbudget Noord",
        shown,
    )
    assert first.url == f"https://stem.veenhoven.nl/stem?code={shown}"
    assert second.code == codes.display(plain[1]) and second.url != first.url
    text = " ".join(first.instructions)
    assert f"stem.veenhoven.nl/stem en typ uw code: {shown}" in text
    assert "50.000 euro voor Noord" in text
    # Dutch local time: 1 March 09:00 and 17 March 22:00 (UTC+1).
    assert "Stemmen kan vanaf maandag 1 maart 2027, 09:00 uur." in first.instructions
    assert "Stem op tijd: het kan tot woensdag 17 maart 2027, 22:00 uur." in first.instructions


def test_a_letter_printed_after_voting_was_opened_by_hand_says_it_is_open(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    transact(db, lambda s: rounds.advance_phase(s, moderator, round_id, Phase.STEMMEN))
    [letter] = _letters(db, moderator, round_id, [codes.generate_code()])
    assert "Het stemmen is begonnen. U kunt nu stemmen." in letter.instructions
    assert not any("1 maart" in step for step in letter.instructions)
    assert "Stem op tijd: het kan tot woensdag 17 maart 2027, 22:00 uur." in letter.instructions
    # Printed after the end date (closing by hand comes later): no date that has passed.
    late = read(
        db,
        letters.letters_for_round,
        moderator,
        round_id,
        [codes.generate_code()],
        "https://stem.veenhoven.nl/",
        "Gemeente Veenhoven",
        "nl",
        dt.datetime(2027, 3, 18, tzinfo=dt.UTC),
    )
    assert not any("17 maart" in step for step in late[0].instructions)


def test_a_letter_printed_in_english_is_english_throughout(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    [letter] = _letters(db, moderator, round_id, [codes.generate_code()], "en")
    assert letter.language == "en"
    assert letter.instructions[0] == "You can help decide how 50,000 euros are spent in Noord."
    assert "You can vote from Monday 1 March 2027, 09:00." in letter.instructions
    assert "Vote in time: you can vote until Wednesday 17 March 2027, 22:00." in letter.instructions
    assert not any("stemmen" in step.lower() for step in letter.instructions)
    assert ET.fromstring(letter.qr_svg).find(f"{SVG}title").text == "QR code: scan to vote"


def test_without_a_language_a_letter_is_in_that_of_the_request(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    [dutch] = _letters(db, moderator, round_id, [codes.generate_code()])
    token = i18n.current_language.set("en")  # as the web's language middleware sets it
    try:
        [english] = _letters(db, moderator, round_id, [codes.generate_code()])
    finally:
        i18n.current_language.reset(token)
    assert (dutch.language, english.language) == ("nl", "en")
    assert dutch.instructions[-1] == "Vragen? Neem contact op met de gemeente."
    assert english.instructions[-1] == "Questions? Contact the municipality."


def test_instructions_are_short_sentences(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    [letter] = _letters(db, moderator, round_id, [codes.generate_code()])
    assert 5 <= len(letter.instructions) <= 10
    for sentence in letter.instructions:
        assert sentence.endswith(".")
        for part in sentence.split(". "):
            assert len(part.split()) <= 15, part  # B1: short sentences


def test_the_qr_code_is_inline_svg_with_a_name_for_screen_readers(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    one, two = _letters(db, moderator, round_id, [codes.generate_code() for _ in range(2)])
    assert one.qr_svg.startswith("<svg ") and "<?xml" not in one.qr_svg
    root = ET.fromstring(one.qr_svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "30.0mm"
    assert root.find(f"{SVG}title").text == letters.QR_TITLE
    assert root.find(f"{SVG}path") is not None
    assert one.qr_svg != two.qr_svg  # each code its own QR


def test_the_qr_code_encodes_the_voting_url() -> None:
    import segno

    url = letters.voting_url("https://stem.veenhoven.nl", "ABCD-EFGH-JKMN")
    svg = letters.qr_svg(url)
    expected = segno.make(url, error="m", micro=False)
    other = segno.make(url + "X", error="m", micro=False)
    path = ET.fromstring(svg).find(f"{SVG}path").get("d")
    assert path == _path(expected) and path != _path(other)


def _path(qr: object) -> str:
    svg = qr.svg_inline(lineclass=None)  # type: ignore[attr-defined]
    return ET.fromstring(svg).find(f"{SVG}path").get("d")


def test_letters_only_for_rounds_of_the_moderators_areas(db: Database) -> None:
    round_id, _, stranger = _setup(db)
    with pytest.raises(NotAllowed):
        _letters(db, stranger, round_id, [codes.generate_code()])


def test_something_that_is_not_a_code_gets_no_letter(db: Database) -> None:
    round_id, moderator, _ = _setup(db)
    with pytest.raises(ValueError):
        _letters(db, moderator, round_id, ["geen-code"])


def test_letters_and_ballots_come_from_the_gemeente_as_its_admin_set_it(db: Database) -> None:
    assert read(db, letters.sender, "Gemeente X") == letters.Sender("Gemeente X", (), None)
    admin = transact(db, lambda s: make_staff(s, role="admin"))
    contact = site_content.ContactInput(
        gemeente_name="Gemeente Veenhoven",
        phone="14 0123",
        email="info@veenhoven.nl",
        address="Markt 1\n1234 AB Veenhoven",
        opening_hours="maandag tot vrijdag 9:00 tot 17:00 uur",
    )
    transact(db, lambda s: site_content.update_contact(s, admin, contact))
    found = read(db, letters.sender, "Gemeente X")
    assert found.gemeente == "Gemeente Veenhoven"
    assert found.contact == (
        "14 0123",
        "info@veenhoven.nl",
        "Markt 1",
        "1234 AB Veenhoven",
        "maandag tot vrijdag 9:00 tot 17:00 uur",
    )
    assert found.logo is None
