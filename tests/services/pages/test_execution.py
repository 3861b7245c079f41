"""The after-the-vote page functions, through their declared transactions."""

from __future__ import annotations

import pytest

from proeftuin.db import Database, transact
from proeftuin.errors import NotAllowed, NotFound
from proeftuin.services.pages import execution
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.pages.execution import ExecutionInput
from tests.factories import add_area, add_funded_round, make_staff

STATE = ExecutionInput("klaar", "", "2027-05", "4900", "", "")


def test_the_round_page_sums_cost_and_spending_of_the_funded_plans(db: Database) -> None:
    area = add_area(db, "noord", "Noord")
    slug = add_funded_round(db, area)
    actor = transact(db, lambda s: make_staff(s, area_ids=[area]))
    perform_now(db, execution.record, actor, slug, "plan0", STATE)
    view = perform_now(db, execution.round_execution, slug)
    assert [p.public_id for p in view.plans] == ["plan0", "plan2"]
    assert (view.funded_cost, view.spent) == (7_000, 4_900)
    csv = perform_now(db, execution.execution_csv, slug).content.decode("utf-8-sig")
    assert csv.splitlines()[0] == "id,title,cost,status,expected,spent,updated_at"


def test_staff_of_another_area_are_refused_before_anything_is_read(db: Database) -> None:
    area, other = add_area(db, "noord", "Noord"), add_area(db, "zuid", "Zuid")
    slug = add_funded_round(db, area)
    stranger = transact(db, lambda s: make_staff(s, area_ids=[other]))
    with pytest.raises(NotAllowed):
        perform_now(db, execution.record, stranger, slug, "plan0", STATE)
    with pytest.raises(NotAllowed):
        perform_now(db, execution.post_update, stranger, slug, "plan0", "Een bericht hier.")
    with pytest.raises(NotFound):
        perform_now(db, execution.round_execution, "bestaat-niet")
