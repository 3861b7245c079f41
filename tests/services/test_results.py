"""Counting, comparing, signing off and publishing a round's result."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from proeftuin.allocation import parse_pb
from proeftuin.allocation.official import run_official
from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, NotFound, PhaseClosed
from proeftuin.models import (
    PHASE_ORDER,
    AuditEvent,
    Ballot,
    BallotChoice,
    Phase,
    Plan,
    Result,
    ResultStatus,
    Round,
)
from proeftuin.services import audit, open_data, result_record, results, rounds
from proeftuin.services.permissions import Actor
from tests.factories import (
    NOW,
    SPLIT,
    SPLIT_COSTS,
    STOPPING,
    STOPPING_COSTS,
    add_ballots,
    closed_round,
    make_round,
    make_staff,
    published_round,
)

# -- counting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [p for p in PHASE_ORDER if p != Phase.GESLOTEN])
def test_counting_is_refused_unless_the_round_is_closed(db: Database, phase: Phase) -> None:
    def attempt(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}], phase=phase)
        actor = make_staff(session, role="admin")
        with pytest.raises(PhaseClosed):
            results.count(session, actor, round_.slug, NOW)
        assert session.scalar(select(func.count(Result.id))) == 0
        assert results.staff_view(session, actor, round_.slug).view is None

    transact(db, attempt)


def test_count_stores_the_result_with_support_and_the_export_checksum(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1, "plan1": 1}, {"plan1": 1}, {}], rule="greedy")
        actor = make_staff(session, area_ids=[round_.area_id])
        result = results.count(session, actor, round_.slug, NOW)
        assert result.status == ResultStatus.CONCEPT
        assert result.rule == "greedy"
        assert result.tie_break_seed == round_.tie_break_seed
        record = result_record.read(result)
        report = record.results["greedy"].report
        assert {p.id: p.support for p in report.projects} == {
            "plan0": 1,
            "plan1": 2,
            "plan2": 0,
        }
        assert report.selected == ("plan1", "plan0")  # most support first
        assert set(record.results) == {"optimal", "greedy", "equal_shares"}
        assert record.export.ballots == 3  # the empty ballot counts as a voter
        export = open_data.pabulib_content(session, round_.id, result, record)
        assert open_data.sha256(export) == result.ballots_sha256 == record.export.sha256
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "result.count"))
        assert event is not None and event.actor_id == actor.staff_id
        assert json.loads(event.details)["sha256"] == result.ballots_sha256

    transact(db, run)


def test_points_ballots_count_points(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(
            session,
            [{"plan0": 3, "plan2": 2}, {"plan2": 5}],
            ballot_kind="points",
            points_total=5,
            rule="greedy",
        )
        actor = make_staff(session, role="admin")
        record = result_record.read(results.count(session, actor, round_.slug, NOW))
        report = record.results["greedy"].report
        assert [p.support for p in report.projects] == [3, 0, 7]
        assert [p.supporters for p in report.projects] == [1, 0, 2]
        election = parse_pb(open_data.pabulib_content(session, round_.id, _row(session), record))
        assert election.points.tolist() == [3, 0, 7]

    transact(db, run)


def _row(session: Session) -> Result:
    row = session.scalar(select(Result))
    assert row is not None
    return row


def test_loading_makes_no_ballot_objects(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}, {"plan1": 1, "plan2": 1}, {}])
        session.expunge_all()
        snap = open_data.snapshot(session, session.get(Round, round_.id))  # type: ignore[arg-type]
        election = open_data.build_election(session, round_.id, snap, "seed")
        assert not [o for o in session.identity_map.values() if isinstance(o, Ballot)]
        assert election.voter_count == 3
        assert sorted(map(len, election.ballots)) == [0, 1, 2]

    transact(db, run)


def test_a_recount_before_sign_off_keeps_the_checksum(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        first = results.count(session, actor, round_.slug, NOW).ballots_sha256
        again = results.count(session, actor, round_.slug, NOW + dt.timedelta(hours=1))
        assert again.ballots_sha256 == first
        assert session.scalar(select(func.count(Result.id))) == 1

    transact(db, run)


def test_the_three_rules_are_compared_and_the_rounds_rule_counts(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        view = results.staff_view(session, actor, round_.slug).view
        assert view is not None
        assert view.rule == "equal_shares"
        assert set(view.results["greedy"].selected) == {"plan0", "plan1", "plan3"}
        assert set(view.own.selected) == {"plan1", "plan2", "plan3"}
        assert view.own.metrics.voters_with_funded_choice == 10
        assert view.own.metrics.budget_used == 8_000
        assert {p.id for p in view.own.funded} == set(view.own.selected)
        assert all(p.why for p in view.own.plans)

    transact(db, run)


def test_the_rule_cannot_change_once_voting_opened(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}])
        actor = make_staff(session, role="admin")
        data = rounds.RoundInput.from_round(round_)
        changed = rounds.RoundInput(**{**data.__dict__, "rule": "greedy"})
        with pytest.raises(InvalidForm) as refused:
            rounds.update_round(session, actor, round_.id, changed)
        assert "rule" in refused.value.errors

    transact(db, run)


def test_staff_of_another_area_see_and_do_nothing(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}])
        other = make_staff(session)
        for attempt in (
            lambda: results.count(session, other, round_.slug, NOW),
            lambda: results.staff_view(session, other, round_.slug),
            lambda: results.sign_off(
                session, other, round_.slug, confirmed=True, decision="", now=NOW
            ),
            lambda: results.publish(session, other, round_.slug, NOW),
        ):
            with pytest.raises(NotAllowed):
                attempt()
        assert session.scalar(select(func.count(Result.id))) == 0

    transact(db, run)


# -- sign-off -----------------------------------------------------------------------------------


def test_sign_off_needs_a_count_and_a_confirmation(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}])
        actor = make_staff(session, area_ids=[round_.area_id])
        with pytest.raises(Invalid, match="Tel eerst"):
            results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        results.count(session, actor, round_.slug, NOW)
        with pytest.raises(Invalid) as refused:
            results.sign_off(session, actor, round_.slug, confirmed=False, decision="", now=NOW)
        assert refused.value.field == "confirmed"
        assert _row(session).status == ResultStatus.CONCEPT

    transact(db, run)


def test_sign_off_records_who_when_and_the_decision(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(
            session,
            actor,
            round_.slug,
            confirmed=True,
            decision="Wijkraad, 12 maart 2027, besluit 4",
            now=NOW,
        )
        result = _row(session)
        assert result.status == ResultStatus.VASTGESTELD
        assert result.signed_off_by_id == actor.staff_id
        assert result.signed_off_at == NOW
        assert result.decision == "Wijkraad, 12 maart 2027, besluit 4"
        # Kept with the result, not read back from the audit log.
        session.execute(delete(AuditEvent).where(AuditEvent.action == "result.sign_off"))
        record = results.proces_verbaal(session, actor, round_.slug)
        assert record.decision == "Wijkraad, 12 maart 2027, besluit 4"
        assert record.view is not None
        assert record.view.signed_off_by.startswith("Medewerker")
        assert record.view.sha256 == result.ballots_sha256
        assert not record.can_count

    transact(db, run)


def test_a_count_after_sign_off_is_refused_and_the_refusal_audited(db: Database) -> None:
    def setup(session: Session) -> tuple[str, Actor, str]:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        return round_.slug, actor, _row(session).data

    slug, actor, data = transact(db, setup)
    with pytest.raises(Invalid, match="al vastgesteld"):
        transact(db, results.count, actor, slug, NOW)
    refused = read(
        db,
        lambda s: s.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "result.recount_refused")
        ),
    )
    assert refused == 1  # committed although the count itself was refused
    assert read(db, lambda s: _row(s).data) == data


def test_sign_off_is_refused_when_the_ballots_changed_since_the_count(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        plan0 = session.scalar(select(Plan.id).where(Plan.public_id == "plan0"))
        session.execute(delete(BallotChoice).where(BallotChoice.plan_id == plan0))
        with pytest.raises(Invalid, match="veranderd"):
            results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)

    transact(db, run)


def test_a_signed_off_result_cannot_be_changed_or_deleted(db: Database) -> None:
    def setup(session: Session) -> None:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)

    transact(db, setup)

    def change(what: str):  # type: ignore[no-untyped-def]
        def run(session: Session) -> None:
            result = _row(session)
            if what == "delete":
                session.delete(result)
            elif what == "status":
                result.status = ResultStatus.CONCEPT.value
            elif what == "signer":
                result.signed_off_by_id = None
            elif what == "decision":
                result.decision = "Een ander besluit"
            else:
                setattr(result, what, "0" * 64 if what == "ballots_sha256" else "{}")
            session.flush()

        return run

    for what in ("data", "ballots_sha256", "status", "signer", "decision", "delete"):
        with pytest.raises(results.ResultLocked):
            transact(db, change(what))
    assert read(db, lambda s: _row(s).status) == ResultStatus.VASTGESTELD


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE result SET data = '{}'",
        "UPDATE result SET ballots_sha256 = '0000'",
        "UPDATE result SET tie_break_seed = 'gekozen'",
        "UPDATE result SET status = 'concept'",
        "UPDATE result SET signed_off_by_id = NULL",
        "UPDATE result SET published_at = computed_at",
        "DELETE FROM result",
    ],
)
def test_the_database_itself_refuses_to_change_a_signed_off_result(
    db: Database, statement: str
) -> None:
    """Plain SQL, past the ORM's guard: a trigger on both databases refuses it."""

    def setup(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}, {"plan1": 1}])
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)

    transact(db, setup)
    before = read(db, lambda s: s.execute(text("SELECT * FROM result")).all())
    with pytest.raises(DBAPIError, match="signed-off result"):
        transact(db, lambda s: s.execute(text(statement)))
    assert read(db, lambda s: s.execute(text("SELECT * FROM result")).all()) == before


def test_the_trigger_lets_a_concept_change_and_a_signed_off_result_be_published(
    db: Database,
) -> None:
    def setup(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}, {"plan1": 1}])
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)

    transact(db, setup)
    transact(db, lambda s: s.execute(text("UPDATE result SET data = data")))  # a concept
    transact(db, lambda s: s.execute(text("UPDATE result SET status = 'vastgesteld'")))
    transact(
        db,
        lambda s: s.execute(
            text("UPDATE result SET status = 'gepubliceerd', published_at = :now"), {"now": NOW}
        ),
    )
    assert read(db, lambda s: _row(s).status) == ResultStatus.GEPUBLICEERD


@pytest.mark.parametrize("swapped", [False, True])
def test_the_revealed_seed_is_checked_against_the_hash_committed_when_voting_opened(
    db: Database, swapped: bool
) -> None:
    def run(session: Session) -> tuple[str, str]:
        round_ = make_round(session, phase=Phase.BEOORDELEN, ballot_kind="approval")
        actor = make_staff(session, area_ids=[round_.area_id])
        committed = rounds.tie_break_commitment(round_.tie_break_seed)
        rounds.advance_phase(session, actor, round_.id, Phase.STEMMEN)
        add_ballots(session, round_, [{"plan0": 1}, {"plan1": 1}])
        rounds.advance_phase(session, actor, round_.id, Phase.GESLOTEN)
        if swapped:  # someone with the database picks another seed after seeing the ballots
            round_.tie_break_seed = "gekozen"
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        results.publish(session, actor, round_.slug, NOW)
        return round_.slug, committed

    slug, committed = transact(db, run)
    opened = [e.details for e in read(db, audit.events) if e.details.get("to_phase") == "stemmen"]
    assert opened == [{"from_phase": "beoordelen", "to_phase": "stemmen", "automatic": False,
                       "tie_break_sha256": committed}]  # fmt: skip
    view = read(db, results.public_view, slug)
    assert view.tie_break_committed == committed
    assert view.tie_break_matches is not swapped


# -- publishing ---------------------------------------------------------------------------------


def test_publish_needs_a_signed_off_result(db: Database) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, [{"plan0": 1}])
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        with pytest.raises(Invalid, match="Stel eerst"):
            results.publish(session, actor, round_.slug, NOW)
        with pytest.raises(NotFound):
            results.public_view(session, round_.slug)

    transact(db, run)


def test_publish_makes_the_result_public(db: Database) -> None:
    def run(session: Session) -> None:
        round_, actor = published_round(session, SPLIT, costs=SPLIT_COSTS)
        assert round_.phase == Phase.GEPUBLICEERD
        result = _row(session)
        assert result.status == ResultStatus.GEPUBLICEERD
        assert result.published_at == NOW
        view = results.public_view(session, round_.slug)
        assert set(view.own.selected) == {"plan1", "plan2", "plan3"}
        assert view.turnout.ballots == 10
        with pytest.raises(Invalid):
            results.count(session, make_staff(session, role="admin"), round_.slug, NOW)
        with pytest.raises(PhaseClosed):
            results.publish(session, actor, round_.slug, NOW)

    transact(db, run)


def test_a_round_published_through_the_phase_step_shows_its_signed_off_result(
    db: Database,
) -> None:
    def run(session: Session) -> None:
        round_ = closed_round(session, SPLIT, costs=SPLIT_COSTS)
        actor = make_staff(session, area_ids=[round_.area_id])
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        rounds.advance_phase(session, actor, round_.id, Phase.GEPUBLICEERD)
        assert results.public_view(session, round_.slug).status == ResultStatus.VASTGESTELD

    transact(db, run)


# -- greedy's options ---------------------------------------------------------------------------


def _count_greedy(
    session: Session, ballots: Sequence[Mapping[str, int]], **settings: object
) -> tuple[result_record.ResultRecord, results.ResultView]:
    round_ = closed_round(session, ballots, costs=STOPPING_COSTS, rule="greedy", **settings)
    actor = make_staff(session, area_ids=[round_.area_id])
    result = results.count(session, actor, round_.slug, NOW)
    view = results.staff_view(session, actor, round_.slug).view
    assert view is not None
    return result_record.read(result), view


def _reasons(record: result_record.ResultRecord) -> dict[str, str]:
    return {
        p.id: p.explanation.reason if p.explanation is not None else ""
        for p in record.own.report.projects
    }


def test_plain_greedy_skips_a_plan_that_does_not_fit(db: Database) -> None:
    def run(session: Session) -> None:
        record, _ = _count_greedy(session, STOPPING)
        assert record.own.report.selected == ("plan0", "plan2")
        assert record.own.options == result_record.Options("greedy", "lottery", "seed")
        stored = json.loads(result_record.to_json(record))["results"]["greedy"]["options"]
        assert set(stored) == {"rule", "tie_break", "seed"}  # as before greedy had options

    transact(db, run)


def test_greedy_without_skipping_stops_at_the_first_plan_that_does_not_fit(db: Database) -> None:
    def run(session: Session) -> None:
        record, view = _count_greedy(session, STOPPING, greedy_no_skip=True)
        assert record.own.report.selected == ("plan0",)
        assert _reasons(record) == {
            "plan0": "funded",
            "plan1": "did_not_fit",
            "plan2": "not_reached",
        }
        assert record.own.options.rule == "greedy-no-skip"
        assert record.own.options.threshold is None
        assert record.own.facts["stopped_at"] == "plan1"
        # The other rules are compared as they are.
        assert "plan2" in record.results["optimal"].report.selected
        why = {p.id: p.why for p in view.own.plans}
        assert why["plan1"][2].msgid.endswith(
            "plannen met minder steun kwamen niet meer aan de beurt."
        )
        assert why["plan2"][1].msgid.startswith("Het verdelen was al gestopt bij {other}")
        assert why["plan2"][1].params["other"] == "\u201ePlan 1\u201d"

    transact(db, run)


def test_a_minimum_share_of_the_ballots_counts_votes(db: Database) -> None:
    def run(session: Session) -> None:
        # 20 % of 6 ballots is 1.2: a plan needs 2 votes.
        record, view = _count_greedy(session, STOPPING, min_vote_percent=20)
        assert record.own.report.selected == ("plan0",)
        assert _reasons(record)["plan2"] == "below_threshold"
        assert (record.own.options.min_vote_percent, record.own.options.threshold) == (20, 2)
        assert record.own.options.rule == "greedy"
        assert view.own.facts["threshold"] == 2
        paragraphs = view.how_counted()
        assert paragraphs[1][0].params["threshold"].count == 2

    transact(db, run)


def test_a_plan_exactly_at_the_minimum_takes_part(db: Database) -> None:
    def run(session: Session) -> None:
        # 10 % of 6 ballots is 0.6: one vote is enough, and plan2 has one.
        record, _ = _count_greedy(session, STOPPING, min_vote_percent=10)
        assert record.own.options.threshold == 1
        assert record.own.report.selected == ("plan0", "plan2")

    transact(db, run)


def test_on_points_ballots_the_minimum_is_a_share_of_all_points(db: Database) -> None:
    def run(session: Session) -> None:
        # 20 points in all; 30 % is 6 points. plan1 has 3 points from 3 ballots of 5: enough
        # as a share of the ballots (2), not as a share of the points.
        ballots = [{"plan0": 3, "plan1": 1}] * 3 + [{"plan2": 4}] * 2
        record, _ = _count_greedy(
            session,
            ballots,
            ballot_kind="points",
            points_total=4,
            budget=14_000,
            min_vote_percent=30,
        )
        assert record.own.options.threshold == 6
        assert record.own.report.selected == ("plan0", "plan2")
        assert _reasons(record)["plan1"] == "below_threshold"

    transact(db, run)


@pytest.mark.parametrize(
    ("no_skip", "percent", "meta_rule", "threshold"),
    [
        (True, 0, "greedy-no-skip", None),
        (False, 20, "greedy-threshold", "2"),
        (True, 20, "greedy-no-skip", "2"),
        (False, 0, "greedy", None),
    ],
)
def test_the_export_names_the_rule_and_the_official_rule_reproduces_it(
    db: Database, no_skip: bool, percent: int, meta_rule: str, threshold: str | None
) -> None:
    def run(session: Session) -> None:
        round_, _ = published_round(
            session,
            STOPPING,
            costs=STOPPING_COSTS,
            rule="greedy",
            greedy_no_skip=no_skip,
            min_vote_percent=percent,
        )
        record = open_data.published(session, round_.slug).record
        election = parse_pb(open_data.pabulib_file(session, round_.slug).content)
        assert election.meta["rule"] == meta_rule
        assert election.meta.get("min_project_score_threshold") == threshold
        official = run_official(election, seed=round_.tie_break_seed)
        assert official.problem is None and official.outcome is not None
        assert official.outcome.selected == record.own.report.selected
        assert {p: e.reason for p, e in official.outcome.explanations.items()} == _reasons(record)

    transact(db, run)
