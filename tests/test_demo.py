"""The demo gemeente: made as staff and residents make things, through the checked services."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin import demo
from proeftuin.db import Database, read, transact, utcnow
from proeftuin.demo import data
from proeftuin.demo import results as demo_results
from proeftuin.models import AuditEvent, Ballot, Plan, PlanPhoto, Round, StaffUser, VotingCode
from proeftuin.services import open_data, places, results, voting
from proeftuin.services.pages import browse

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
    assert actions["area.create"] == len(data.AREAS)
    assert actions["round.create"] == 4
    assert actions["plan.accept"] == len(data.VOTING_PLANS) + len(data.PUBLISHED_PLANS)
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


def test_the_demo_plans_carry_photos_without_metadata(db: Database) -> None:
    transact(db, demo.seed_demo, PEPPER)
    transact(db, demo.seed_demo, PEPPER)  # a second run adds none

    def photos_per_plan(session: Session) -> dict[str, int]:
        rows = session.execute(
            select(Round.title, Plan.id, func.count(PlanPhoto.id))
            .join(Plan, Plan.round_id == Round.id)
            .outerjoin(PlanPhoto, PlanPhoto.plan_id == Plan.id)
            .group_by(Round.title, Plan.id)
        )
        found: dict[str, int] = {}
        for title, _, count in rows:
            assert count <= 1
            found[title] = found.get(title, 0) + count
        return found

    counts = read(db, photos_per_plan)
    assert counts[data.VOTING_ROUND.title] == len(data.VOTING_PLANS)
    assert counts[data.PROPOSAL_ROUND.title] == len(data.PROPOSAL_PLANS)
    small = read(db, lambda s: s.scalars(select(PlanPhoto.small)).first())
    assert small is not None and small.startswith(b"\xff\xd8") and b"Exif" not in small


def test_the_demo_plans_stand_on_the_map_of_the_demo_town(db: Database) -> None:
    transact(db, demo.seed_demo, PEPPER)
    view = read(db, browse.round_view, demo.VOTING_ROUND_SLUG)
    assert len(view.pins) == len(data.VOTING_PLANS)
    assert [pin["n"] for pin in view.pins] == list(range(1, len(data.VOTING_PLANS) + 1))
    assert view.boundary  # Centrum-Oost's outline
    assert all(card.photo is not None for card in view.plans)
    boundary = view.boundary
    assert all(
        places.warnings(card.point, boundary) == [] for card in view.plans
    )  # in the Netherlands, inside the area
