"""The demo's voting event (stemming): a budget for the whole gemeente and one for each of two
districts, voting together, entered as staff enter it (the admin makes the areas, the rounds and
the event, puts the rounds in it before voting opens, and issues letter codes per district).

The letter codes are derived from the instance's pepper, like the voting round's, so every run of
``proeftuin demo`` lists the same codes again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.demo.data import DemoRound
from proeftuin.demo.rounds import accept_all, move_to, new_round, propose
from proeftuin.models import (
    Area,
    AreaKind,
    BallotKind,
    CodeStatus,
    Phase,
    Round,
    Rule,
    VotingCode,
    VotingEvent,
)
from proeftuin.services import areas, codes, events, rounds
from proeftuin.services.permissions import Actor

EVENT_TITLE = "Stemming Gemeentebudget 2027"
EVENT_DESCRIPTION = (
    "Eén stemming, twee stembiljetten: u kiest plannen voor uw eigen wijk of dorp, en plannen "
    "voor de hele gemeente. U stemt met de code uit uw brief."
)
CODES_PER_DISTRICT = 10
DAYS = (-60, -30, -5, 23)  # the same voting dates for every round of the event

# (slug, name, kind, council, postcodes): the city-wide area has no postcodes (everyone).
AREAS = [
    ("hele-gemeente", "Hele gemeente", AreaKind.GEBIED, "Gemeenteraad", ""),
    ("westerkwartier", "Westerkwartier", AreaKind.WIJK, "Wijkraad Westerkwartier", "9407-9408"),
    ("oosterbroek", "Oosterbroek", AreaKind.DORP, "Dorpsraad Oosterbroek", "9409-9410"),
]
CITY = DemoRound(
    area="hele-gemeente",
    title="Gemeentebudget 2027",
    description="€ 120.000 voor plannen waar de hele gemeente iets aan heeft.",
    budget=120_000,
    phase=Phase.STEMMEN,
    days=DAYS,
    ballot_kind=BallotKind.K_APPROVAL,
    rule=Rule.GREEDY,
    max_choices=3,
)
DISTRICTS = [
    DemoRound(
        area="westerkwartier",
        title="Wijkbudget Westerkwartier 2027",
        description="€ 40.000 voor plannen in het Westerkwartier.",
        budget=40_000,
        phase=Phase.STEMMEN,
        days=DAYS,
        ballot_kind=BallotKind.KNAPSACK,
        rule=Rule.EQUAL_SHARES,
    ),
    DemoRound(
        area="oosterbroek",
        title="Dorpsbudget Oosterbroek 2027",
        description="€ 30.000 voor plannen in Oosterbroek.",
        budget=30_000,
        phase=Phase.STEMMEN,
        days=DAYS,
        ballot_kind=BallotKind.KNAPSACK,
        rule=Rule.EQUAL_SHARES,
    ),
]
PLANS = {
    "hele-gemeente": [
        (
            "Fietspad langs het kanaal",
            "Een veilig fietspad tussen de wijken.",
            60_000,
            "verkeer",
            "Kanaaldijk",
            False,
        ),
        (
            "Gratis zwemles voor kinderen",
            "Elk kind kan zwemmen: twintig lessen gratis.",
            35_000,
            "sport",
            "Zwembad De Golf",
            False,
        ),
        (
            "Bomen voor de hele gemeente",
            "Honderd nieuwe bomen in straten zonder groen.",
            40_000,
            "groen",
            "Overal",
            False,
        ),
        (
            "Muziekfestival in het park",
            "Eén dag gratis muziek van eigen bands.",
            20_000,
            "cultuur",
            "Stadspark",
            True,
        ),
    ],
    "westerkwartier": [
        (
            "Pannakooi bij de school",
            "Een kooi om te voetballen, ook na schooltijd.",
            18_000,
            "spelen",
            "Westerschool",
            False,
        ),
        ("Buurtbibliotheek", "Boekenkastjes op drie pleinen.", 3_000, "ontmoeten", "Pleinen", True),
        (
            "Verlichting in het steegje",
            "Lampen in het donkere pad naar de winkels.",
            12_000,
            "veiligheid",
            "Achterom",
            False,
        ),
    ],
    "oosterbroek": [
        (
            "Jeu-de-boulesbaan",
            "Een baan bij het dorpshuis, voor jong en oud.",
            9_000,
            "ontmoeten",
            "Dorpshuis",
            True,
        ),
        (
            "Bloemenlinten langs de wegen",
            "Bloemen voor bijen langs de dorpswegen.",
            6_000,
            "groen",
            "Dorpswegen",
            True,
        ),
        (
            "Nieuwe bus-abri",
            "Een droge plek om op de bus te wachten.",
            14_000,
            "verkeer",
            "Brink",
            False,
        ),
    ],
}


def event_codes(pepper: str, area_slug: str) -> list[str]:
    out = []
    for i in range(CODES_PER_DISTRICT):
        message = f"demo-event-{area_slug}-{i}".encode()
        digest = hmac.new(pepper.encode(), message, hashlib.sha256).digest()
        out.append("".join(codes.ALPHABET[b % 32] for b in digest[: codes.LENGTH]))
    return out


def seed_event(
    session: Session, actor: Actor, resident_id: int, pepper: str, now: dt.datetime
) -> dict[str, list[str]]:
    """The event in its voting phase; returns the usable letter codes per district name."""
    event = session.scalar(
        select(VotingEvent).where(VotingEvent.slug == rounds.slugify(EVENT_TITLE))
    )
    if event is None:
        _areas(session, actor)
        city_area = session.scalar(select(Area.id).where(Area.slug == CITY.area))
        event = events.create_event(
            session, actor, events.EventInput(EVENT_TITLE, EVENT_DESCRIPTION, city_area, False)
        )
        for spec in (CITY, *DISTRICTS):
            round_ = new_round(session, actor, spec, now)
            events.add_round(session, actor, event, round_)
            move_to(session, actor, round_, Phase.INDIENEN)
            accept_all(session, actor, propose(session, round_, resident_id, PLANS[spec.area]))
            move_to(session, actor, round_, Phase.STEMMEN)
    found: dict[str, list[str]] = {}
    for spec in DISTRICTS:
        district = session.scalar(select(Round).where(Round.slug == rounds.slugify(spec.title)))
        assert district is not None
        plain = event_codes(pepper, spec.area)
        codes.issue_codes(session, district, pepper, plain)
        used = set(
            session.scalars(
                select(VotingCode.code_hash).where(
                    VotingCode.round_id == district.id, VotingCode.status != CodeStatus.UNUSED
                )
            )
        )
        found[district.area.name] = [c for c in plain if codes.code_hash(pepper, c) not in used]
    return found


def _areas(session: Session, actor: Actor) -> None:
    for slug, name, kind, council, postcodes in AREAS:
        if session.scalar(select(Area.id).where(Area.slug == slug)) is None:
            areas.create_area(
                session,
                actor,
                areas.AreaInput(
                    name=name, slug=slug, kind=kind.value, council_name=council, postcodes=postcodes
                ),
            )
