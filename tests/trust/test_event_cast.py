"""The two-ballot cast of a voting event (a district ballot and the city-wide one, one code) under
the same attacks as a single ballot: a stampede of one submission, many different submissions at
once, a retry after the answer was lost, the server killed between the two ballots, and a paper
ballot of the same code at the same moment. Both ballots are stored, or neither; never one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from proeftuin.db import transact, utcnow
from proeftuin.errors import Invalid
from proeftuin.services import paper
from proeftuin.services.permissions import Actor
from tests.trust.cast_pause import paused_casts
from tests.trust.client import (
    EVENT_CAST_PATH,
    Burst,
    Outcome,
    Voter,
    cast_form,
    event_receipts_of,
    new_token,
)
from tests.trust.server import PEPPER, SeededEvent, Server, TrustDatabase
from tests.trust.watch import WAIT_SECONDS, cast_is_open, send_and_hang_up, wait_until

REPETITIONS = 10
SUBMISSIONS = 50
PROCESSES = 4
ALREADY_VOTED = ("al gestemd", "al online gestemd", "al op papier gestemd")


def both_or_none(db: TrustDatabase, event: SeededEvent, code: str) -> tuple[str, ...]:
    """The code's ballots in the district and the city-wide round: both (their receipts, in that
    order) or none (an empty tuple); one without the other fails. Read in one statement."""
    stored = db.receipts([event.district.id, event.city.id])
    district = stored.get((event.district.id, db.voter_key(code)))
    city = stored.get((event.city.id, db.city_voter_key(event, code)))
    assert (district is None) == (city is None), (district, city)
    return () if district is None or city is None else (district, city)


def choices(event: SeededEvent, district: int, city: int) -> dict[str, int]:
    return {event.district.plan_ids[district]: 1, event.city.plan_ids[city]: 1}


def clear(outcome: Outcome) -> bool:
    return outcome.event_receipts is not None or (
        outcome.status in (409, 422) and any(w in outcome.body for w in ALREADY_VOTED)
    )


@pytest.fixture(scope="module")
def burst(trust_server: Server) -> Iterator[Burst]:
    with Burst(trust_server.url, senders=SUBMISSIONS, processes=PROCESSES) as burst:
        yield burst


def test_one_event_submission_fifty_times_at_once_is_two_ballots_and_one_answer(
    trust_db: TrustDatabase, trust_server: Server, burst: Burst
) -> None:
    event = trust_db.seed_event(code_count=REPETITIONS)
    with Voter(trust_server.url) as voter:
        voter.open()
        for code in event.codes:
            request = voter.event_cast_request(
                voter.ballot(code), choices(event, 0, 1), new_token()
            )
            outcomes = burst.fire([request] * SUBMISSIONS)
            broken = [o for o in outcomes if not clear(o)]
            assert not broken, [(o.status, o.error or o.body[:300]) for o in broken[:5]]
            stored = both_or_none(trust_db, event, code)
            assert len(stored) == 2
            assert {o.event_receipts for o in outcomes if o.event_receipts} == {stored}


def test_fifty_different_event_submissions_of_one_code_leave_both_ballots_of_one(
    trust_db: TrustDatabase, trust_server: Server, burst: Burst
) -> None:
    """Fifty tabs, each with its own choice on both ballots: the last one counts, whole."""
    event = trust_db.seed_event(code_count=2)
    with Voter(trust_server.url) as voter:
        voter.open()
        for code in event.codes:
            pas = voter.ballot(code)
            requests = [
                voter.event_cast_request(pas, choices(event, i % 4, (i + 1) % 4), new_token())
                for i in range(SUBMISSIONS)
            ]
            outcomes = burst.fire(requests)
            assert all(clear(o) for o in outcomes)
            assert len(both_or_none(trust_db, event, code)) == 2
            district_key, city_key = trust_db.voter_key(code), trust_db.city_voter_key(event, code)
            [mine] = [b for b in trust_db.ballots(event.district.id) if b.voter_key == district_key]
            [city] = [b for b in trust_db.ballots(event.city.id) if b.voter_key == city_key]
            # The two ballots kept are the two halves of one submission: (i % 4, (i + 1) % 4).
            district_plan = event.district.plan_ids.index(next(iter(mine.choices)))
            city_plan = event.city.plan_ids.index(next(iter(city.choices)))
            assert city_plan == (district_plan + 1) % 4
    assert trust_db.broken_ballots(event.district.id) == []
    assert trust_db.broken_ballots(event.city.id) == []


def test_a_retry_after_the_answer_was_lost_gets_the_original_trackers(
    trust_db: TrustDatabase, trust_server: Server
) -> None:
    event = trust_db.seed_event(code_count=1)
    code = event.codes[0]
    with Voter(trust_server.url) as voter:
        voter.open()
        pas, token = voter.ballot(code), new_token()
        form = cast_form(voter.csrf, pas, choices(event, 1, 2), token)
        send_and_hang_up(trust_server.url, voter.cookie, form, EVENT_CAST_PATH)
        wait_until(lambda: len(both_or_none(trust_db, event, code)) == 2, "the cast is committed")
        original = both_or_none(trust_db, event, code)
        retry = voter.event_cast(pas, choices(event, 1, 2), token)
    assert event_receipts_of(retry.status_code, retry.headers.get("location")) == original
    assert both_or_none(trust_db, event, code) == original


def test_a_crash_between_the_two_ballots_stores_neither_and_the_code_stays_usable(
    trust_db: TrustDatabase, server_factory: Callable[..., Server]
) -> None:
    """Each ballot's check pauses a second: the server is killed in the second pause, when the
    district ballot is written but not committed. Nothing may remain of it."""
    server = server_factory(TRUST_CAST_DELAY_MS="1000")
    event = trust_db.seed_event(code_count=1)
    code = event.codes[0]
    with Voter(server.url) as voter:
        voter.open()
        pas, token = voter.ballot(code), new_token()
        answer: list[object] = []

        def cast() -> None:
            try:
                answer.append(voter.event_cast(pas, choices(event, 0, 3), token))
            except httpx.HTTPError as error:
                answer.append(error)

        thread = threading.Thread(target=cast)
        thread.start()
        wait_until(lambda: cast_is_open(trust_db), "the cast transaction is open")
        time.sleep(1.5)  # into the second ballot's pause: where it is does not change the claim
        server.kill()
        thread.join(timeout=WAIT_SECONDS)
        assert answer and isinstance(answer[0], httpx.HTTPError), answer
        assert both_or_none(trust_db, event, code) == ()
        assert trust_db.code_status(code) == "unused"
        server.start(TRUST_CAST_DELAY_MS="0")
        again = voter.event_cast(pas, choices(event, 0, 3), token)
    stored = both_or_none(trust_db, event, code)
    assert event_receipts_of(again.status_code, again.headers.get("location")) == stored
    assert len(stored) == 2 and trust_db.code_status(code) == "used"


def test_an_event_paper_ballot_and_online_casts_at_once_leave_one_channel_whole(
    trust_db: TrustDatabase, trust_server: Server
) -> None:
    clerk = trust_db.staff()
    event = trust_db.seed_event(code_count=REPETITIONS)
    online_at_once = 4
    with (
        paused_casts(0.02),
        Voter(trust_server.url) as voter,
        Burst(trust_server.url, senders=online_at_once, extra_parties=1) as race,
    ):
        voter.open()
        for code in event.codes:
            pas, token = voter.ballot(code), new_token()
            online = [voter.event_cast_request(pas, choices(event, 0, 1), token)] * online_at_once
            result: dict[str, object] = {}

            def enter_paper(code: str = code) -> None:
                race.barrier.wait(timeout=60)
                try:
                    result["receipt"] = enter_event_paper(trust_db, clerk, event, code)
                except Invalid as refused:
                    result["refusal"] = refused.message

            clerk_thread = threading.Thread(target=enter_paper)
            clerk_thread.start()
            outcomes = race.fire(online)
            clerk_thread.join(timeout=60)
            stored = both_or_none(trust_db, event, code)
            assert len(stored) == 2
            channels = {
                b.channel
                for round_id in (event.district.id, event.city.id)
                for b in trust_db.ballots(round_id)
                if b.receipt in stored
            }
            assert len(channels) == 1  # both ballots from one channel, never one of each
            if channels == {"paper"}:
                assert result["receipt"] == stored[0]
                assert all(o.status == 422 for o in outcomes)
            else:
                assert "refusal" in result
                assert {o.event_receipts for o in outcomes} == {stored}


def enter_event_paper(db: TrustDatabase, clerk: Actor, event: SeededEvent, code: str) -> str:
    receipt = transact(
        db.database,
        paper.enter_paper_ballot,
        clerk,
        event.district.id,
        code,
        choices(event, 2, 3),
        PEPPER,
        utcnow().date(),
    )
    return receipt.receipt
