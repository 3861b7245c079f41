"""The result pages: counting, signing off and publishing for staff; the published result, the
trackers and the downloads for everyone."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.errors import NotAllowed, NotFound, PhaseClosed
from proeftuin.models import Ballot, BallotChoice, Channel, Phase, Plan, ResultStatus, Round
from proeftuin.services.pages import results
from proeftuin.services.pages.declare import Transaction, perform_now, transaction_of
from proeftuin.services.permissions import Actor
from tests.factories import make_round, make_staff

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
# plan0 (4,000) and plan1 (3,000) fit the budget of 10,000 together.
BALLOTS = [("plan0", "plan1")] * 3 + [("plan2",)] * 2


def _receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def _closed_round(db: Database, **settings: object) -> tuple[str, Actor, Actor, list[str]]:
    """A closed round with BALLOTS; a moderator of its area, one of another area, the receipts."""

    def build(session: Session) -> tuple[str, Actor, Actor, list[str]]:
        round_ = make_round(session, ballot_kind="approval", **settings)
        other = make_round(session, costs=(), plan_prefix="ander")
        plans = session.scalars(select(Plan).where(Plan.round_id == round_.id))
        ids = {plan.public_id: plan.id for plan in plans}
        receipts = []
        for chosen in BALLOTS:
            receipts.append(_receipt())
            session.add(
                Ballot(
                    round_id=round_.id,
                    voter_key=secrets.token_hex(32),
                    receipt=receipts[-1],
                    channel=Channel.ONLINE.value,
                    cast_on=NOW.date(),
                    choices=[BallotChoice(plan_id=ids[p], points=1) for p in chosen],
                )
            )
        round_.phase = Phase.GESLOTEN.value
        session.flush()
        ours = make_staff(session, area_ids=[round_.area_id])
        theirs = make_staff(session, area_ids=[other.area_id])
        return round_.slug, ours, theirs, receipts

    return transact(db, build)


def _published(db: Database) -> tuple[str, list[str]]:
    slug, actor, _, receipts = _closed_round(db)
    perform_now(db, results.count, actor, slug, NOW)
    perform_now(db, results.sign_off, actor, slug, confirmed=True, decision="", now=NOW)
    perform_now(db, results.publish, actor, slug, NOW)
    return slug, receipts


def test_the_pages_read_and_the_staff_steps_write() -> None:
    reads = (
        results.public_result,
        results.trackers_page,
        results.pabulib_file,
        results.plans_csv,
        results.result_json,
        results.trackers_file,
        results.staff_result,
        results.proces_verbaal,
    )
    for page in reads:
        assert transaction_of(page) == Transaction.READ
    for step in (results.count, results.sign_off, results.publish):
        assert transaction_of(step) == Transaction.WRITE


def test_staff_of_another_area_see_and_do_nothing(db: Database) -> None:
    slug, _, theirs, _ = _closed_round(db)
    for page in (results.staff_result, results.proces_verbaal):
        with pytest.raises(NotAllowed):
            perform_now(db, page, theirs, slug)
    with pytest.raises(NotAllowed):
        perform_now(db, results.count, theirs, slug, NOW)
    with pytest.raises(NotFound):
        perform_now(db, results.staff_result, theirs, "geen-ronde")


def test_counting_waits_for_the_close_and_shows_the_tally_after(db: Database) -> None:
    slug, ours, _, _ = _closed_round(db)
    before = perform_now(db, results.staff_result, ours, slug)
    assert (before.can_count, before.view) == (True, None)
    with pytest.raises(NotFound):
        perform_now(db, results.proces_verbaal, ours, slug)

    def reopen(session: Session) -> None:
        session.execute(update(Round).where(Round.slug == slug).values(phase=Phase.STEMMEN))

    transact(db, reopen)
    with pytest.raises(PhaseClosed):
        perform_now(db, results.count, ours, slug, NOW)

    def close(session: Session) -> None:
        session.execute(update(Round).where(Round.slug == slug).values(phase=Phase.GESLOTEN))

    transact(db, close)
    perform_now(db, results.count, ours, slug, NOW)
    counted = perform_now(db, results.staff_result, ours, slug)
    assert counted.view is not None
    assert counted.view.status == ResultStatus.CONCEPT
    assert counted.view.turnout.ballots == len(BALLOTS)
    assert {p.id: p.votes for p in counted.view.own.plans} == {"plan0": 3, "plan1": 3, "plan2": 2}
    assert perform_now(db, results.proces_verbaal, ours, slug).view == counted.view


def test_nothing_is_public_until_published(db: Database) -> None:
    slug, ours, _, receipts = _closed_round(db)
    perform_now(db, results.count, ours, slug, NOW)
    perform_now(db, results.sign_off, ours, slug, confirmed=True, decision="Akkoord", now=NOW)
    assert perform_now(db, results.staff_result, ours, slug).decision == "Akkoord"
    for page in (
        results.public_result,
        results.pabulib_file,
        results.plans_csv,
        results.result_json,
        results.trackers_file,
    ):
        with pytest.raises(NotFound):
            perform_now(db, page, slug)
    with pytest.raises(NotFound):
        perform_now(db, results.trackers_page, slug, receipts[0])


def test_the_published_result_and_its_files(db: Database) -> None:
    slug, _ = _published(db)
    view = perform_now(db, results.public_result, slug)
    assert (view.slug, view.status, view.turnout.ballots) == (
        slug,
        ResultStatus.GEPUBLICEERD,
        len(BALLOTS),
    )
    pabulib = perform_now(db, results.pabulib_file, slug)
    assert pabulib.filename == f"{slug}.pb"
    assert pabulib.content.startswith(b"META")
    assert perform_now(db, results.result_json, slug).media_type == "application/json"
    assert b"plan0" in perform_now(db, results.plans_csv, slug).content


def test_a_voter_finds_their_tracker_in_the_published_list(db: Database) -> None:
    slug, receipts = _published(db)
    page = perform_now(db, results.trackers_page, slug, receipts[0].lower().replace("-", " "))
    assert (page.found, page.valid) == (True, True)
    assert sorted(page.trackers) == sorted(receipts)

    unknown = "0000-0000-0000" if "0000-0000-0000" not in receipts else "FFFF-FFFF-FFFF"
    assert perform_now(db, results.trackers_page, slug, unknown).found is False
    garbage = perform_now(db, results.trackers_page, slug, "geen stembon")
    assert (garbage.found, garbage.valid) == (None, False)
    nothing = perform_now(db, results.trackers_page, slug, "")
    assert (nothing.found, nothing.valid) == (None, True)


def test_a_count_with_greedys_options_shows_and_exports_them(db: Database) -> None:
    # Half of the 5 ballots, rounded up: a plan needs 3 votes, and plan2 has 2.
    slug, ours, _, _ = _closed_round(db, rule="greedy", greedy_no_skip=True, min_vote_percent=50)
    perform_now(db, results.count, ours, slug, NOW)
    view = perform_now(db, results.staff_result, ours, slug).view
    assert view is not None
    options = view.own.options
    assert (options.rule, options.min_vote_percent, options.threshold) == ("greedy-no-skip", 50, 3)
    assert set(view.own.selected) == {"plan0", "plan1"}
    assert view.results["greedy"] is view.own
    perform_now(db, results.sign_off, ours, slug, confirmed=True, decision="", now=NOW)
    perform_now(db, results.publish, ours, slug, NOW)
    meta = perform_now(db, results.pabulib_file, slug).content.decode().split("PROJECTS")[0]
    assert "\nrule;greedy-no-skip\n" in meta
    assert "\nmin_project_score_threshold;3\n" in meta
