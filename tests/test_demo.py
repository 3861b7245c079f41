"""The demo gemeente: made as staff and residents make things, through the checked services."""

from __future__ import annotations

import io
import zipfile
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin import demo
from proeftuin.db import Database, read, transact, utcnow
from proeftuin.demo import data
from proeftuin.demo import events as demo_events
from proeftuin.demo import execution as demo_execution
from proeftuin.demo import letters as demo_letters
from proeftuin.demo import results as demo_results
from proeftuin.demo.rounds import demo_admin
from proeftuin.models import (
    AuditEvent,
    Ballot,
    Comment,
    ExecutionUpdate,
    Plan,
    PlanPhoto,
    Round,
    SitePage,
    SiteProfile,
    StaffUser,
    VotingCode,
    VotingEvent,
)
from proeftuin.services import events as services_events
from proeftuin.services import execution, open_data, places, results, site_content, voting
from proeftuin.services.pages import browse
from proeftuin.services.pages import codes as pages_codes
from proeftuin.services.pages.declare import perform_now
from tests.factories import pdf_text

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
    # Every ballot used its own code, and no code was used twice; so did the few blank and
    # invalid paper ballots, which are on the record but not in the count.
    void = sum(times for _, times in demo_letters.VOID_BALLOTS)
    assert view.turnout.blank == 3 and view.turnout.invalid == void - 3
    used = read(db, lambda s: s.scalar(select(func.count()).where(VotingCode.status == "used")))
    assert used == demo_results.BALLOTS + void


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
    # Staff work on a plan of the proposal round: an internal note.
    assert actions["plan.note"] == 1
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


def test_the_demo_plans_carry_a_discussion_with_one_hidden_comment(db: Database) -> None:
    transact(db, demo.seed_demo, PEPPER)
    transact(db, demo.seed_demo, PEPPER)  # a second run adds nothing

    def found(session: Session) -> Counter[tuple[str, str]]:
        return Counter((c.role, c.status) for c in session.scalars(select(Comment)))

    seen = read(db, found)
    assert seen[("wijkraad", "zichtbaar")] >= 2 and seen[("indiener", "zichtbaar")] >= 2
    assert seen[("bewoner", "verborgen")] == 1
    kinds = read(db, lambda s: set(s.scalars(select(Comment.kind))))
    assert {"vraag", "voor", "tegen"} <= kinds
    plans = read(db, lambda s: len(set(s.scalars(select(Comment.plan_id)))))
    assert plans >= 3


def test_the_published_round_shows_funded_plans_at_different_stages_with_updates(
    db: Database,
) -> None:
    transact(db, demo.seed_demo, PEPPER)
    transact(db, demo.seed_demo, PEPPER)  # a second run adds nothing
    slug = demo.PUBLISHED_ROUND_SLUG
    round_id = read(db, lambda s: s.scalar(select(Round.id).where(Round.slug == slug)))
    states = read(db, execution.states, round_id)
    assert {s.status for s in states} >= {"klaar", "uitvoering", "vertraagd", "voorbereiding"}
    assert all(s.spent <= s.cost for s in states)
    late = next(s for s in states if s.status == "vertraagd")
    assert late.reason
    updates = read(db, lambda s: execution.updates(s, round_id=round_id))
    assert len(updates) == sum(len(stage[4]) for stage in demo_execution.STAGES)
    assert len({u.posted_on for u in updates}) > 3
    assert read(db, lambda s: s.scalar(select(func.count(ExecutionUpdate.id)))) == len(updates)


def test_the_demo_gemeente_has_its_contact_details_and_statements(db: Database) -> None:
    transact(db, demo.seed_demo, PEPPER)
    transact(db, demo.seed_demo, PEPPER)  # a second run changes nothing
    contact = read(db, site_content.contact_details)
    assert contact.phone and contact.email and contact.address_lines and contact.hours_lines
    privacy = read(db, site_content.page_text, SitePage.PRIVACY)
    assert privacy is not None and "Functionaris gegevensbescherming" in privacy
    assert "Autoriteit Persoonsgegevens" in privacy  # completed, not replaced
    actions = read(db, lambda s: list(s.scalars(select(AuditEvent.action))))
    assert actions.count("site.contact_update") == 1
    assert actions.count("site.page_update") == 1
    assert read(db, lambda s: s.get(SiteProfile, 1)).colour_button == ""  # the example theme


def test_the_voting_round_prints_letters_and_a_paper_ballot(db: Database) -> None:
    summary = transact(db, demo.seed_demo, PEPPER)
    slug = summary.voting_round_slug
    admin = read(db, demo_admin)
    now = utcnow()
    made = perform_now(
        db,
        pages_codes.make_letters,
        admin,
        slug,
        "adressen.csv",
        demo_letters.SAMPLE_ADDRESSES.encode(),
        PEPPER,
        "https://proeftuin.example",
        "Gemeente Proeftuin",
        "nl",
        now,
    )
    with zipfile.ZipFile(io.BytesIO(made.content)) as archive:
        shown = pdf_text(archive.read("brieven.pdf"))
    assert shown.count("Aan de bewoners van") == 16 and "9403 GH  PROEFTUIN" in shown
    ballot = perform_now(
        db, pages_codes.paper_ballot_pdf, admin, slug, "Gemeente Proeftuin", "nl", now
    )
    assert "Stembiljet: Buurtbudget Centrum-Oost 2027" in pdf_text(ballot)


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
