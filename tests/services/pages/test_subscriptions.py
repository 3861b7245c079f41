"""The news-by-e-mail page functions, through their declared transactions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from proeftuin.db import Database, read
from proeftuin.errors import NotFound
from proeftuin.models import Notice, Subscription
from proeftuin.services.pages import subscriptions
from proeftuin.services.pages.declare import perform_now
from tests.factories import add_funded_round

BASE = "https://burgerbegroting.example"


def test_confirming_starts_from_what_is_news_after_it(db: Database) -> None:
    slug = add_funded_round(db)
    perform_now(db, subscriptions.subscribe, "ronde", slug, "anna@example.nl", BASE)
    token = read(db, lambda s: s.scalars(select(Subscription.token)).one())
    perform_now(db, subscriptions.confirm, token)
    # The round was published before: that notice exists, and is not mailed to a newcomer.
    latest = read(db, lambda s: s.scalar(select(Notice.id).order_by(Notice.id.desc())))
    sub = read(db, lambda s: s.scalars(select(Subscription)).one())
    assert latest is not None and sub.last_notice_id == latest and sub.confirmed_at is not None


def test_an_unknown_round_or_area_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        perform_now(db, subscriptions.subject, "ronde", "nergens")
    with pytest.raises(NotFound):
        perform_now(db, subscriptions.subscribe, "wijk", "nergens", "a@b.nl", BASE)
