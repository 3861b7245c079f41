"""The demo gemeente: made as staff and residents make things, through the checked services."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin import demo
from proeftuin.db import Database, read, transact, utcnow
from proeftuin.demo import data
from proeftuin.demo import events as demo_events
from proeftuin.demo import results as demo_results
from proeftuin.models import AuditEvent, Ballot, Plan, Round, StaffUser, VotingCode, VotingEvent
from proeftuin.services import events as services_events
from proeftuin.services import open_data, results, voting

PEPPER = "demo-test-pepper"


def test_the_published_round_is_counted_and_greedy_differs_from_equal_shares(
    db: Database,
) -> None:
    slug = transact(db, demo_results.seed_published_round, PEPPER, utcnow())
    assert transact(db, demo_results.seed_published_round, PEPPER, utcnow()) == slug
    view = read(db, results.public_view, slug)
    assert view.rule == "equal_shares"
    assert view.turnout.ballots == demo_results.BALLOTS
    assert 0 < view.turnout.paper < view.turnout.online
    assert 0.5 < (view.turnout.share_of_codes_used or 0) < 1
    assert set(view.results["greedy"].selected) != set(view.own.selected)
    assert read(db, lambda s: s.scalar(select(func.count(Round.id)))) == 1
    content = read(db, open_data.pabulib_file, slug).content
    assert open_data.sha256(content) == view.sha256
    # Every ballot used its own code, and no code was used twice.
    used = read(db, lambda s: s.scalar(select(func.count()).where(VotingCode.status == "used")))
    assert used == demo_results.BALLOTS


def _audit(session: Session) -> tuple[int, bool, Counter[tuple[int | None, str]]]:
    admin = session.scalars(select(StaffUser).where(StaffUser.email == data.ADMIN_EMAIL)).one()
    rows = session.execute(select(AuditEvent.actor_id, AuditEvent.action))
    events = Counter((actor, action) for actor, action in rows)
    return admin.id, admin.active, events


def test_the_demo_acts_as_an_admin_of_its_own_through_the_checked_services(
    db: Database,
) -> None:
    summary = transact(db, demo.seed_demo, PEPPER)
    assert summary.created and len(summary.codes) == demo.DEMO_CODE_COUNT
    admin_id, active, events = read(db, _audit)
    assert not active  # it cannot sign in, and the CLI still finds the one real admin
    # Everything in the audit log is the demo admin's doing: nothing happened without a check.
    assert {actor for actor, _ in events} == {admin_id}
    actions = Counter({action: n for (_, action), n in events.items()})
    assert actions["area.create"] == len(data.AREAS) + len(demo_events.AREAS)
    assert actions["round.create"] == 4 + 1 + len(demo_events.DISTRICTS)
    event_plans = sum(len(rows) for rows in demo_events.PLANS.values())
    assert (
        actions["plan.accept"] == len(data.VOTING_PLANS) + len(data.PUBLISHED_PLANS) + event_plans
    )
    assert actions["codes.generate"] == 1
    assert 0 < actions["paper.enter"] < demo_results.BALLOTS
    assert actions["result.count"] == actions["result.sign_off"] == actions["result.publish"] == 1

    plans_before = read(db, lambda s: s.scalar(select(func.count(Plan.id))))
    again = transact(db, demo.seed_demo, PEPPER)
    assert not again.created and again.codes == summary.codes
    assert read(db, lambda s: s.scalar(select(func.count(Plan.id)))) == plans_before
    assert read(db, _audit)[2] == events  # a second run changes nothing


def test_a_code_used_in_the_voting_round_is_no_longer_listed(db: Database) -> None:
    summary = transact(db, demo.seed_demo, PEPPER)

    def vote_with_the_first(session: Session) -> None:
        credential = voting.code_credential(session, PEPPER, summary.codes[0])
        voting.cast(session, credential, {}, today=utcnow().date())

    transact(db, vote_with_the_first)
    again = transact(db, demo.seed_demo, PEPPER)
    assert again.codes == summary.codes[1:]
    ballots = read(db, lambda s: s.scalar(select(func.count(Ballot.id))))
    assert ballots == demo_results.BALLOTS + 1


def test_the_demo_has_a_voting_event_with_a_city_wide_round_and_district_codes(
    db: Database,
) -> None:
    summary = transact(db, demo.seed_demo, PEPPER)
    assert set(summary.event_codes) == {"Westerkwartier", "Oosterbroek"}
    assert all(len(c) == demo_events.CODES_PER_DISTRICT for c in summary.event_codes.values())

    def rounds_of_event(session: Session) -> list[tuple[str, str]]:
        event = session.scalars(select(VotingEvent)).one()
        rows = session.execute(
            select(Round.title, Round.phase).where(Round.event_id == event.id).order_by(Round.id)
        )
        return [(title, phase) for title, phase in rows]

    assert read(db, rounds_of_event) == [
        (demo_events.CITY.title, "stemmen"),
        *((spec.title, "stemmen") for spec in demo_events.DISTRICTS),
    ]
    code = summary.event_codes["Oosterbroek"][0]

    def credentials(session: Session) -> list[int]:
        round_, credential = voting.check_code(session, PEPPER, code)
        assert round_.event_id is not None
        found = services_events.ballot_credentials(session, PEPPER, credential, round_.event_id)
        return [c.round_id for c in found]

    assert len(read(db, credentials)) == 2
    again = transact(db, demo.seed_demo, PEPPER)
    assert again.event_codes == summary.event_codes
