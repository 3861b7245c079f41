"""A published round for the demo: about 1,000 generated ballots, counted, signed off and
published, so a newcomer sees a results page, the explanations and the comparison at once.

The ballots come from a seeded generator: a large village (Zuiderveen) whose voters mostly want
its own, dearer plans, and two small villages with plans of their own. The greedy rule then gives
nearly everything to Zuiderveen; Equal Shares (the round's rule) gives each village its share, so
the two differ. Idempotent: when the round exists, nothing happens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from collections.abc import Mapping, Sequence
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from proeftuin.models import (
    Area,
    AreaKind,
    Ballot,
    BallotChoice,
    BallotKind,
    Channel,
    CodeStatus,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Result,
    Round,
    Rule,
    VotingCode,
)
from proeftuin.services import audit, codes, results

SLUG = "gebiedsbudget-zuid-2026"
AREA = ("buitengebied-zuid", "Buitengebied Zuid", "Gebiedscommissie Zuid", "9412-9415")
BUDGET = 50_000
BALLOTS = 1_000
CODES = 1_400
PAPER_SHARE = 0.08
SEED = 2026

# (title, summary, cost, theme, location)
PLANS = [
    ("Kunstgrasveld voor vv Zuiderveen", "Een veld waarop het hele jaar gespeeld kan worden.",
     24_000, "sport", "Sportpark Zuiderveen"),
    ("Speeltuin bij de Brink", "Nieuwe toestellen voor kinderen tot 12 jaar.",
     16_000, "spelen", "De Brink, Zuiderveen"),
    ("Ledverlichting sportpark", "Zuinige lampen rond de velden en het fietspad.",
     12_000, "veiligheid", "Sportpark Zuiderveen"),
    ("Dorpshuis Heidedorp toegankelijk", "Een hellingbaan en een invalidentoilet.",
     14_000, "ontmoeten", "Dorpshuis Heidedorp"),
    ("Jeu-de-boulesbaan Heidedorp", "Een baan naast het dorpshuis, voor jong en oud.",
     4_000, "ontmoeten", "Heidedorp"),
    ("Wandelpad langs de Beek", "Een halfverhard pad van 2 km, ook voor rolstoelen.",
     9_000, "groen", "Beekhoek"),
    ("AED in Beekhoek", "Een hartstarter die dag en nacht bereikbaar is.",
     3_000, "gezondheid", "Beekhoek"),
    ("Bloemrijke bermen", "Bermen inzaaien met wilde bloemen, voor bijen en vlinders.",
     5_000, "groen", "Het hele gebied"),
    ("Bankjes langs de fietsroutes", "Tien bankjes om even uit te rusten.",
     6_000, "ontmoeten", "Het hele gebied"),
]  # fmt: skip

# Groups of voters: (share of the voters, how likely each plan is chosen, by plan number).
GROUPS = [
    (0.60, {0: 0.85, 1: 0.8, 2: 0.6, 7: 0.25, 8: 0.3}),
    (0.25, {3: 0.85, 4: 0.7, 7: 0.3, 8: 0.35, 1: 0.1}),
    (0.15, {5: 0.85, 6: 0.75, 7: 0.3, 8: 0.2}),
]


def seed_published_round(session: Session, pepper: str, now: dt.datetime) -> str:
    """Add the demo's published round (once) and return its slug."""
    if session.scalar(select(Round.id).where(Round.slug == SLUG)) is not None:
        return SLUG
    rng = random.Random(SEED)  # noqa: S311  (demo data: the same every time, nothing secret)
    round_ = _round(session, _area(session), now)
    plans = _plans(session, round_)
    code_ids = _codes(session, round_, pepper)
    ballots = [_ballot(rng) for _ in range(BALLOTS)]
    first_day = now.date() - dt.timedelta(days=100)
    insert_ballots(
        session,
        round_.id,
        [{plans[i].id: 1 for i in ballot} for ballot in ballots],
        voter_keys=[codes.voter_key(pepper, round_.id, f"code:{i}") for i in code_ids[:BALLOTS]],
        receipts=[_receipt(rng) for _ in ballots],
        channels=[Channel.PAPER if rng.random() < PAPER_SHARE else Channel.ONLINE for _ in ballots],
        cast_on=[first_day + dt.timedelta(days=rng.randrange(21)) for _ in ballots],
    )
    _use_codes(session, code_ids[:BALLOTS], first_day)
    result = results.count_round(session, round_, None, now - dt.timedelta(days=78))
    _sign_off_and_publish(session, round_, result, now)
    return SLUG


def _area(session: Session) -> Area:
    slug, name, council, postcodes = AREA
    area = session.scalar(select(Area).where(Area.slug == slug))
    if area is None:
        area = Area(
            slug=slug,
            name=name,
            kind=AreaKind.GEBIED.value,
            council_name=council,
            postcodes=postcodes,
        )
        session.add(area)
        session.flush()
    return area


def _round(session: Session, area: Area, now: dt.datetime) -> Round:
    round_ = Round(
        area_id=area.id,
        slug=SLUG,
        title="Gebiedsbudget Zuid 2026",
        description=(
            "De gemeente gaf € 50.000 aan het buitengebied. Inwoners van Zuiderveen, Heidedorp "
            "en Beekhoek bedachten plannen en stemden erover. De uitslag is bekend."
        ),
        budget=BUDGET,
        phase=Phase.GESLOTEN.value,
        submission_starts_at=now - dt.timedelta(days=200),
        review_starts_at=now - dt.timedelta(days=160),
        voting_starts_at=now - dt.timedelta(days=100),
        voting_ends_at=now - dt.timedelta(days=79),
        ballot_kind=BallotKind.KNAPSACK.value,
        rule=Rule.EQUAL_SHARES.value,
        eligibility=Eligibility.CODES.value,
        tie_break_seed=hashlib.sha256(f"{SLUG}:{SEED}".encode()).hexdigest()[:32],
    )
    session.add(round_)
    session.flush()
    return round_


def _plans(session: Session, round_: Round) -> list[Plan]:
    plans = [
        Plan(
            round_id=round_.id,
            public_id=hashlib.sha256(f"{SLUG}:plan:{n}".encode()).hexdigest()[:11],
            author_name="Demo-bewoner",
            title=title,
            summary=summary,
            body=f"{summary}\n\nDit plan is een voorbeeld in de demo van Proeftuin.",
            estimated_cost=cost,
            official_cost=cost,
            location=location,
            theme=theme,
            status=PlanStatus.OP_STEMBILJET.value,
        )
        for n, (title, summary, cost, theme, location) in enumerate(PLANS)
    ]
    session.add_all(plans)
    session.flush()
    return plans


def _codes(session: Session, round_: Round, pepper: str) -> list[int]:
    plain = [_code(pepper, n) for n in range(CODES)]
    codes.issue_codes(session, round_, pepper, plain)
    ids = dict(
        session.execute(
            select(VotingCode.code_hash, VotingCode.id).where(VotingCode.round_id == round_.id)
        ).all()
    )
    return [ids[codes.code_hash(pepper, code)] for code in plain]


def _code(pepper: str, n: int) -> str:
    digest = hmac.new(pepper.encode(), f"demo-result-code-{n}".encode(), hashlib.sha256).digest()
    return "".join(codes.ALPHABET[b % 32] for b in digest[: codes.LENGTH])


def _ballot(rng: random.Random) -> list[int]:
    """Plan numbers of one knapsack ballot: a group's likely choices that fit the budget."""
    pick = rng.random()
    likes = next(
        (likes for n, (_, likes) in enumerate(GROUPS) if pick < sum(s for s, _ in GROUPS[: n + 1])),
        GROUPS[-1][1],
    )
    chosen, total = [], 0
    for plan, chance in likes.items():
        cost = PLANS[plan][2]
        if rng.random() < chance and total + cost <= BUDGET:
            chosen.append(plan)
            total += cost
    return sorted(chosen)


def _receipt(rng: random.Random) -> str:
    raw = f"{rng.getrandbits(48):012X}"
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


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


def _use_codes(session: Session, code_ids: Sequence[int], day: dt.date) -> None:
    for code in session.scalars(select(VotingCode).where(VotingCode.id.in_(list(code_ids)))):
        code.status = CodeStatus.USED.value
        code.used_on = day
    session.flush()


def _sign_off_and_publish(
    session: Session, round_: Round, result: Result, now: dt.datetime
) -> None:
    results.record_sign_off(
        session,
        round_,
        result,
        None,
        "Demo: vastgesteld door de gebiedscommissie.",
        now - dt.timedelta(days=75),
    )
    round_.phase = Phase.GEPUBLICEERD.value
    session.flush()
    audit.record(
        session,
        None,
        "round.phase",
        "round",
        round_.id,
        round_.area_id,
        from_phase=Phase.GESLOTEN.value,
        to_phase=Phase.GEPUBLICEERD.value,
        automatic=True,
    )
    results.mark_published(session, result, None, now - dt.timedelta(days=74))
