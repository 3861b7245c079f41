"""The demo's published round: about 1,000 ballots with letter codes, then closed, counted, signed
off and published as staff do it, so that a newcomer sees a results page, the explanations and the
comparison at once.

The ballots come from a seeded generator (data.PUBLISHED_GROUPS), so every demo gets the same
result. The paper ballots are typed in by the admin through the paper service. The online ones,
the residents' part, are checked against the round's rules as casting checks them
(ballot_rules.validate) and then stored in bulk: a thousand casts one by one take some twenty
seconds on PostgreSQL, and tests seed the demo often. Idempotent: when the round exists, nothing
happens.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Mapping, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from proeftuin.demo import data
from proeftuin.demo.letters import enter_void_ballots
from proeftuin.demo.rounds import demo_admin, demo_resident, existing_round, seed_round
from proeftuin.models import Ballot, BallotChoice, Channel, CodeStatus, Phase, Round, VotingCode
from proeftuin.services import ballot_kinds, ballot_rules, codes, paper, results, rounds, voting
from proeftuin.services.permissions import Actor

BALLOTS = 1_000
CODES = 1_400
PAPER_SHARE = 0.08
SEED = 2026
VOTING_DAYS = 21


def seed_published_round(session: Session, pepper: str, now: dt.datetime) -> str:
    """Add the demo's published round (once) and return its slug."""
    spec = data.PUBLISHED_ROUND
    found = existing_round(session, spec)
    if found is not None:
        return found.slug
    actor = demo_admin(session)
    rows = [(*row, False) for row in data.PUBLISHED_PLANS]
    round_ = seed_round(session, actor, demo_resident(session, now), spec, rows, now)
    _vote(session, actor, round_, pepper, now)
    rounds.advance_phase(session, actor, round_.id, Phase.GESLOTEN)
    results.count(session, actor, round_.slug, now - dt.timedelta(days=78))
    results.sign_off(
        session,
        actor,
        round_.slug,
        confirmed=True,
        decision=data.PUBLISHED_DECISION,
        now=now - dt.timedelta(days=75),
    )
    results.publish(session, actor, round_.slug, now - dt.timedelta(days=74))
    return round_.slug


def _vote(
    session: Session,
    actor: Actor,
    round_: Round,
    pepper: str,
    now: dt.datetime,
) -> None:
    """Letters go out; most residents vote online, a few on paper that the admin types in."""
    rng = random.Random(SEED)  # noqa: S311  (demo data: the same every time, nothing secret)
    letter_codes = codes.generate_for_round(session, actor, round_.id, CODES, pepper)
    ballot = voting.ballot_plans(session, round_)  # in the order of data.PUBLISHED_PLANS
    public_ids = [plan.public_id for plan in ballot]
    plan_ids = {plan.public_id: plan.id for plan in ballot}
    rules, costs = ballot_kinds.rules_of(round_), ballot_rules.costs_of(ballot)
    first_day = (now - dt.timedelta(days=100)).date()
    online: list[tuple[str, dict[int, int], dt.date]] = []
    for code in letter_codes[:BALLOTS]:
        choices = {public_ids[plan]: 1 for plan in _ballot(rng)}
        day = first_day + dt.timedelta(days=rng.randrange(VOTING_DAYS))
        if rng.random() < PAPER_SHARE:
            paper.enter_paper_ballot(session, actor, round_.id, code, choices, pepper, day)
        else:
            chosen = ballot_rules.validate(rules, costs, choices)
            online.append((code, {plan_ids[pid]: points for pid, points in chosen.items()}, day))
    _store_online(session, round_.id, pepper, online)
    enter_void_ballots(session, actor, round_.id, letter_codes[BALLOTS:], pepper, first_day)


def _store_online(
    session: Session,
    round_id: int,
    pepper: str,
    online: Sequence[tuple[str, dict[int, int], dt.date]],
) -> None:
    """The online ballots in bulk, each under its code's voter key, and their codes used."""
    ids = dict(
        session.execute(
            select(VotingCode.code_hash, VotingCode.id).where(VotingCode.round_id == round_id)
        ).all()
    )
    code_ids = [ids[codes.code_hash(pepper, code)] for code, _, _ in online]
    insert_ballots(
        session,
        round_id,
        [choices for _, choices, _ in online],
        voter_keys=[codes.voter_key(pepper, round_id, f"code:{i}") for i in code_ids],
        receipts=[_receipt() for _ in online],
        channels=[Channel.ONLINE] * len(online),
        cast_on=[day for _, _, day in online],
    )
    table = cast(Table, VotingCode.__table__)
    used = (
        update(table)
        .where(table.c.id == bindparam("code_id"))
        .values(status=CodeStatus.USED.value, used_on=bindparam("day"))
    )
    rows = [{"code_id": i, "day": day} for i, (_, _, day) in zip(code_ids, online, strict=True)]
    session.connection().execute(used, rows)


def _receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def _ballot(rng: random.Random) -> list[int]:
    """Plan numbers of one knapsack ballot: a group's likely choices that fit the budget."""
    groups = data.PUBLISHED_GROUPS
    pick = rng.random()
    likes = next(
        (likes for n, (_, likes) in enumerate(groups) if pick < sum(s for s, _ in groups[: n + 1])),
        groups[-1][1],
    )
    chosen, total = [], 0
    for plan, chance in likes.items():
        cost = data.PUBLISHED_PLANS[plan][2]
        if rng.random() < chance and total + cost <= data.PUBLISHED_ROUND.budget:
            chosen.append(plan)
            total += cost
    return sorted(chosen)


def insert_ballots(
    session: Session,
    round_id: int,
    ballots: Sequence[Mapping[int, int]],
    *,
    voter_keys: Sequence[str],
    receipts: Sequence[str],
    channels: Sequence[Channel],
    cast_on: Sequence[dt.date],
    chunk: int = 5_000,
) -> None:
    """Many ballots at once (plan id → points each), as bulk inserts: for the demo, the counting
    benchmark and tests. No rules are checked: the caller makes valid ballots."""
    ballot_table = cast(Table, Ballot.__table__)
    choice_table = cast(Table, BallotChoice.__table__)
    for start in range(0, len(ballots), chunk):
        part = range(start, min(start + chunk, len(ballots)))
        ids = session.scalars(
            insert(ballot_table).returning(ballot_table.c.id, sort_by_parameter_order=True),
            [
                {
                    "round_id": round_id,
                    "voter_key": voter_keys[i],
                    "receipt": receipts[i],
                    "channel": channels[i].value,
                    "cast_on": cast_on[i],
                }
                for i in part
            ],
        ).all()
        rows = [
            {"ballot_id": ballot_id, "plan_id": plan_id, "points": points}
            for ballot_id, i in zip(ids, part, strict=True)
            for plan_id, points in ballots[i].items()
        ]
        if rows:
            session.execute(insert(choice_table), rows)
