"""What the open-data API serves: public rounds, and a result only once it is published."""

from __future__ import annotations

import datetime as dt

import pytest

from proeftuin.db import Database, transact
from proeftuin.errors import NotFound
from proeftuin.models import Phase
from proeftuin.services import results
from proeftuin.services.pages import api
from proeftuin.services.pages.declare import perform_now
from tests.factories import add_event, make_round, make_staff

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def test_public_rounds_leave_out_drafts(db: Database) -> None:
    def build(session):  # type: ignore[no-untyped-def]
        make_round(session, phase=Phase.CONCEPT, plan_prefix="d")
        return make_round(session, phase=Phase.INDIENEN, plan_prefix="o", budget=7_000).slug

    slug = transact(db, build)
    found = [
        (r.slug, r.phase, r.budget) for a in perform_now(db, api.public_rounds) for r in a.rounds
    ]
    assert found == [(slug, Phase.INDIENEN, 7_000)]


def test_a_result_is_served_only_once_published(db: Database) -> None:
    def closed(session):  # type: ignore[no-untyped-def]
        round_ = make_round(session, phase=Phase.GESLOTEN, rule="greedy")
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        return round_.slug, actor

    slug, actor = transact(db, closed)
    with pytest.raises(NotFound):
        perform_now(db, api.published_result, slug)  # counted and signed off, not published
    with pytest.raises(NotFound):
        perform_now(db, api.published_result, "nergens")
    transact(db, results.publish, actor, slug, NOW)
    view = perform_now(db, api.published_result, slug)
    assert (view.slug, view.rule, view.budget) == (slug, "greedy", 10_000)
    assert len(view.sha256) == 64


def test_the_listing_names_the_event_of_each_round_in_one(db: Database) -> None:
    world = add_event(db)
    loose = transact(db, lambda s: make_round(s, phase=Phase.INDIENEN, plan_prefix="los").slug)
    listing = perform_now(db, api.rounds_listing)
    slugs = [r.slug for a in listing.areas for r in a.rounds]
    assert loose in slugs and loose not in listing.events
    assert sorted(set(listing.events.values())) == [world.slug] and len(listing.events) == 3
