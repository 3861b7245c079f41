from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact, utcnow
from proeftuin.errors import Invalid, PhaseClosed
from proeftuin.models import Phase
from proeftuin.services.pages import voting
from proeftuin.services.pages.declare import perform_now
from tests.factories import PEPPER, make_codes, make_round

SECRET = "test-secret-key-" + "x" * 32


def _round_with_codes(
    db: Database, phase: Phase = Phase.STEMMEN, prefix: str = "plan"
) -> list[str]:
    def build(session: Session) -> list[str]:
        return make_codes(session, make_round(session, phase=phase, plan_prefix=prefix), 2)

    return transact(db, build)


def test_a_code_opens_its_ballot_and_a_cast_replaces_the_earlier_choice(db: Database) -> None:
    code = _round_with_codes(db)[0]
    credential, page = perform_now(
        db, voting.enter_with_code, PEPPER, SECRET, code, "192.0.2.1", utcnow()
    )
    assert not page.voted and page.choices == {}
    first = perform_now(db, voting.cast, credential, {"plan0": 1}, None, utcnow().date())
    again = perform_now(db, voting.ballot_page, credential, None)
    assert again.voted and again.choices == {"plan0": 1}
    second = perform_now(db, voting.cast, credential, {"plan1": 1}, None, utcnow().date())
    assert second.replaced and not first.replaced
    assert perform_now(db, voting.ballot_page, credential, None).choices == {"plan1": 1}


def test_an_overspent_ballot_is_refused_and_nothing_is_stored(db: Database) -> None:
    code = _round_with_codes(db)[0]
    credential, _ = perform_now(
        db, voting.enter_with_code, PEPPER, SECRET, code, "192.0.2.1", utcnow()
    )
    everything = {"plan0": 1, "plan1": 1, "plan2": 1}  # 12,000 of a budget of 10,000
    with pytest.raises(Invalid):
        perform_now(db, voting.cast, credential, everything, None, utcnow().date())
    assert not perform_now(db, voting.ballot_page, credential, None).voted


def test_a_wrong_code_is_refused_and_a_closed_round_cannot_be_entered(db: Database) -> None:
    _round_with_codes(db)
    with pytest.raises(Invalid):
        perform_now(
            db, voting.enter_with_code, PEPPER, SECRET, "AAAA-BBBB-CCCC", "192.0.2.1", utcnow()
        )
    closed = _round_with_codes(db, Phase.GESLOTEN, "dicht")[0]
    with pytest.raises(PhaseClosed):
        perform_now(db, voting.enter_with_code, PEPPER, SECRET, closed, "192.0.2.1", utcnow())


def test_codes_are_read_in_any_form_and_shown_in_groups_of_four() -> None:
    normalised = voting.normalise_code(" abcd efgh-jkmn ")
    assert normalised is not None
    assert voting.display_code(normalised) == "ABCD-EFGH-JKMN"


def test_the_receipt_names_the_public_round_it_belongs_to(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        open_ = make_round(session, phase=Phase.STEMMEN, plan_prefix="o")
        open_.area.council_name = "Wijkraad Noord"
        draft = make_round(session, phase=Phase.CONCEPT, plan_prefix="d")
        return open_.id, open_.slug, draft.id

    open_id, open_slug, draft_id = transact(db, build)
    found = perform_now(db, voting.receipt_round, open_id)
    assert found is not None and (found.slug, found.council) == (open_slug, "Wijkraad Noord")
    assert perform_now(db, voting.receipt_round, draft_id) is None
    assert perform_now(db, voting.receipt_round, 10**8) is None
