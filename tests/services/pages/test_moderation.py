from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, NotFound
from proeftuin.models import Notice, Phase, PlanStatus, Round, Subscription
from proeftuin.services.pages import moderation
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.permissions import Actor
from tests.factories import make_plan, make_resident, make_round, make_staff


def _setup(db: Database) -> tuple[str, str, Actor, Actor]:
    """A round in review with plans a and b, its moderator, and a moderator of another round's
    area (whose round has plan x)."""

    def build(session: Session) -> tuple[str, str, Actor, Actor]:
        round_ = make_round(session, phase=Phase.BEOORDELEN, costs=())
        make_plan(session, round_, "a", estimated_cost=2_000)
        make_plan(session, round_, "b", estimated_cost=1_000)
        other = make_round(session, phase=Phase.BEOORDELEN, costs=())
        make_plan(session, other, "x")
        moderator = make_staff(session, area_ids=[round_.area_id])
        stranger = make_staff(session, area_ids=[other.area_id])
        return round_.slug, other.slug, moderator, stranger

    return transact(db, build)


def test_the_round_page_shows_the_next_phase_and_the_counts(db: Database) -> None:
    slug, _, moderator, stranger = _setup(db)
    page = perform_now(db, moderation.round_page, moderator, slug)
    assert page.round.slug == slug
    assert page.next_phase == Phase.STEMMEN
    assert page.plan_counts[PlanStatus.INGEDIEND] == 2
    assert [s.state for s in page.steps if s.phase == Phase.BEOORDELEN] == ["current"]
    with pytest.raises(NotAllowed):
        perform_now(db, moderation.round_page, stranger, slug)


def test_a_decision_on_a_plan_of_another_round_is_not_found(db: Database) -> None:
    slug, other, moderator, _ = _setup(db)
    with pytest.raises(NotFound):
        perform_now(db, moderation.accept, moderator, slug, "x", "500", "")
    with pytest.raises(NotAllowed):
        perform_now(db, moderation.accept, moderator, other, "x", "500", "")
    plan = perform_now(db, moderation.accept, moderator, slug, "a", "2000", "")
    assert plan.status == PlanStatus.OP_STEMBILJET


def test_the_plan_review_offers_only_the_decisions_its_status_allows(db: Database) -> None:
    slug, _, moderator, _ = _setup(db)
    before = perform_now(db, moderation.plan_review, moderator, slug, "a")
    assert before.reviewable and not before.frozen
    assert before.can == {"accept": True, "ask_changes": True, "reject": True, "merge": True}
    assert [p.public_id for p in before.merge_targets] == ["b"]
    perform_now(db, moderation.reject, moderator, slug, "a", "Dit past niet in de wijk.", "")
    after = perform_now(db, moderation.plan_review, moderator, slug, "a")
    assert after.can["reject"] is False and after.can["accept"] is True


def test_a_merge_needs_a_plan_of_the_same_round(db: Database) -> None:
    slug, _, moderator, _ = _setup(db)
    reason = "Deze plannen gaan over hetzelfde."
    with pytest.raises(Invalid, match="Kies het plan"):
        perform_now(db, moderation.merge, moderator, slug, "a", "", reason, "")
    with pytest.raises(Invalid, match="dezelfde ronde"):
        perform_now(db, moderation.merge, moderator, slug, "a", "x", reason, "")
    merged = perform_now(db, moderation.merge, moderator, slug, "a", "b", reason, "")
    assert merged.status == PlanStatus.SAMENGEVOEGD


def test_only_an_admin_may_reset_a_round(db: Database) -> None:
    slug, _, moderator, _ = _setup(db)
    with pytest.raises(NotAllowed):
        perform_now(db, moderation.reset, moderator, slug, "Een fout in het budget.")


def _set_phase(db: Database, slug: str, phase: Phase) -> None:
    def set_phase(session: Session) -> None:
        session.execute(update(Round).where(Round.slug == slug).values(phase=phase.value))

    transact(db, set_phase)


def test_the_round_form_keeps_greedys_options_and_freezes_them_with_the_vote(
    db: Database,
) -> None:
    slug, _, moderator, _ = _setup(db)
    form = perform_now(db, moderation.round_form, moderator, slug)
    assert form.round is not None
    data = dataclasses.replace(
        moderation.RoundInput.from_round(form.round),
        rule="greedy",
        greedy_no_skip="1",
        min_vote_percent="10",
    )
    perform_now(db, moderation.update_round, moderator, slug, data)
    stored = perform_now(db, moderation.round_form, moderator, slug).round
    assert stored is not None
    assert (stored.rule, stored.greedy_no_skip, stored.min_vote_percent) == ("greedy", True, 10)
    assert {"greedy_no_skip", "min_vote_percent"} <= set(moderation.FROZEN_FIELDS)

    _set_phase(db, slug, Phase.STEMMEN)
    assert perform_now(db, moderation.round_form, moderator, slug).frozen
    changed = dataclasses.replace(data, min_vote_percent="0")
    with pytest.raises(InvalidForm) as refused:
        perform_now(db, moderation.update_round, moderator, slug, changed)
    assert set(refused.value.errors) == {"min_vote_percent"}
    still = perform_now(db, moderation.round_form, moderator, slug).round
    assert still is not None and still.min_vote_percent == 10


def test_accepting_a_plan_tells_its_author(db: Database) -> None:
    def build(session: Session) -> tuple[str, Actor]:
        round_ = make_round(session, phase=Phase.BEOORDELEN, costs=())
        make_plan(session, round_, "a", estimated_cost=2_000, author=make_resident(session))
        make_plan(session, round_, "b", estimated_cost=1_000)  # no author: nobody to tell
        return round_.slug, make_staff(session, area_ids=[round_.area_id])

    slug, moderator = transact(db, build)
    perform_now(db, moderation.accept, moderator, slug, "a", "2000", "")
    perform_now(db, moderation.accept, moderator, slug, "b", "1000", "")
    notices = read(db, lambda s: s.execute(select(Notice.subject, Notice.public)).all())
    assert notices == [("Uw plan \u201cPlan a\u201d is goedgekeurd", False)]
    followers = read(db, lambda s: s.scalars(select(Subscription.plan_id)).all())
    assert len(followers) == 1  # the author now hears about the plan
