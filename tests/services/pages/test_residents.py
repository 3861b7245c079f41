"""A resident's own pages: the sign-in link, the profile and "mijn plannen"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from proeftuin.db import Database, transact
from proeftuin.errors import Invalid
from proeftuin.models import Phase, Plan, PlanStatus
from proeftuin.services.pages import residents
from proeftuin.services.pages.declare import perform_now
from tests.factories import add_funded_round, make_plan, make_resident, make_round

SECRET = "s" * 40
BASE_URL = "https://proeftuin.example"
NOW = dt.datetime(2027, 3, 3, 9, 0, tzinfo=dt.UTC)


def _ask_link(db: Database, email: str, next_path: str = "/mijn-plannen") -> str:
    """Request a sign-in link; returns the token from the mail in the outbox."""
    ip_key = residents.hash_key(SECRET, "127.0.0.1")
    perform_now(db, residents.request_sign_in_link, SECRET, BASE_URL, email, ip_key, NOW, next_path)
    mail = perform_now(db, residents.recent_mail)[0]
    assert mail.recipient == email
    link = re.search(rf"{re.escape(BASE_URL)}/inloggen/link\?token=(\S+)", mail.body)
    assert link is not None
    return link.group(1)


def test_a_sign_in_link_works_once_and_remembers_where_to_go(db: Database) -> None:
    token = _ask_link(db, "fatima@example.nl", "/rondes/noord")
    signed_in = perform_now(db, residents.redeem_sign_in_link, SECRET, token, NOW)
    assert signed_in.next_path == "/rondes/noord"
    view = perform_now(db, residents.resident_view, signed_in.resident_id)
    assert view is not None and view.email == "fatima@example.nl"
    with pytest.raises(Invalid):
        perform_now(db, residents.redeem_sign_in_link, SECRET, token, NOW)


def test_a_malformed_address_gets_no_mail(db: Database) -> None:
    ip_key = residents.hash_key(SECRET, "127.0.0.1")
    with pytest.raises(Invalid):
        perform_now(
            db, residents.request_sign_in_link, SECRET, BASE_URL, "geen-adres", ip_key, NOW, "/"
        )
    assert perform_now(db, residents.recent_mail) == []


def test_the_profile_keeps_a_clean_postcode_and_refuses_a_wrong_one(db: Database) -> None:
    resident_id = transact(db, lambda s: make_resident(s).id)
    perform_now(db, residents.update_profile, resident_id, " Fatima  ", "9401ab")
    view = perform_now(db, residents.resident_view, resident_id)
    assert view is not None and (view.display_name, view.postcode) == ("Fatima", "9401 AB")
    with pytest.raises(Invalid):
        perform_now(db, residents.update_profile, resident_id, "Fatima B.", "94O1 AB")
    view = perform_now(db, residents.resident_view, resident_id)
    assert view is not None and (view.display_name, view.postcode) == ("Fatima", "9401 AB")


def test_an_account_that_is_gone_has_no_view(db: Database) -> None:
    assert perform_now(db, residents.resident_view, 999_999) is None


def test_my_plans_are_my_own_newest_first_with_what_i_may_still_do(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        me, other = make_resident(session), make_resident(session)
        submitting = make_round(session, phase=Phase.INDIENEN, plan_prefix="r")
        concept = make_round(session, phase=Phase.CONCEPT, plan_prefix="c")
        make_plan(session, submitting, "mine-open", author=me)
        make_plan(session, submitting, "mine-hidden", author=me, hidden=True)
        make_plan(session, submitting, "mine-gone", author=me, status=PlanStatus.INGETROKKEN)
        make_plan(session, concept, "mine-draft", author=me)
        make_plan(session, submitting, "theirs", author=other)
        return me.id, submitting.slug

    me, slug = transact(db, build)
    mine = perform_now(db, residents.my_plans, me)
    assert [p.public_id for p in mine] == ["mine-draft", "mine-gone", "mine-hidden", "mine-open"]
    shown = {p.public_id: (p.visible, p.can_edit, p.can_withdraw) for p in mine}
    assert shown == {
        "mine-open": (True, True, True),
        "mine-hidden": (False, True, True),
        "mine-gone": (False, False, False),
        "mine-draft": (False, False, False),
    }
    assert mine[-1].round.slug == slug
    assert mine[-1].round.title == "Buurtbudget Noord"


def test_my_plans_say_whether_each_plan_goes_ahead_once_published(db: Database) -> None:
    slug = add_funded_round(db)

    def authored(session):  # type: ignore[no-untyped-def]
        author = make_resident(session)
        for plan in session.scalars(select(Plan).where(Plan.public_id.in_(["plan0", "plan1"]))):
            plan.author_id = author.id
        return author.id

    author_id = transact(db, authored)
    mine = {p.public_id: p.outcome for p in perform_now(db, residents.my_plans, author_id)}
    assert slug and mine == {"plan0": True, "plan1": False}
