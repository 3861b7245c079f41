"""A believable demo gemeente, so a newcomer sees the product at once (``proeftuin demo``).

Idempotent: what exists is left alone. Demo letter codes are derived from the instance's pepper, so
every run can list the same codes again although only their hashes are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import utcnow
from proeftuin.models import (
    Area,
    AreaKind,
    BallotKind,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Round,
    Rule,
    VotingCode,
)
from proeftuin.services import codes, demo_results

DEMO_CODE_COUNT = 25
VOTING_ROUND_SLUG = "buurtbudget-centrum-oost-2027"

AREAS = [
    ("centrum-oost", "Centrum-Oost", AreaKind.WIJK, "Wijkraad Centrum-Oost", "9401-9403"),
    ("de-horst", "De Horst", AreaKind.WIJK, "Wijkraad De Horst", "9404-9406"),
    ("ter-aa", "Ter Aa", AreaKind.DORP, "Dorpsraad Ter Aa", "9411"),
    (
        "buitengebied-zuid",
        "Buitengebied Zuid",
        AreaKind.GEBIED,
        "Gebiedscommissie Zuid",
        "9412-9415",
    ),
]

# (title, summary, cost, theme, location, self_executed)
VOTING_PLANS = [
    (
        "Speeltuin Julianapark opknappen",
        "Nieuwe toestellen en zachte ondergrond voor kinderen tot 12 jaar.",
        18_000,
        "spelen",
        "Julianapark",
        False,
    ),
    (
        "Groene schoolpleinen",
        "Tegels eruit, bomen en een moestuin erin bij twee basisscholen.",
        15_000,
        "groen",
        "Schoolstraat",
        False,
    ),
    (
        "Bankjes langs de Vaart",
        "Zes bankjes, zodat ouderen onderweg kunnen uitrusten.",
        4_500,
        "ontmoeten",
        "Langs de Vaart",
        False,
    ),
    (
        "Moestuin bij buurthuis De Schakel",
        "Buurtbewoners telen samen groente; de oogst gaat naar de voedselbank.",
        7_500,
        "groen",
        "Buurthuis De Schakel",
        True,
    ),
    (
        "Verlichting fietspad Stationsweg",
        "Lantaarns langs het donkere stuk fietspad naar het station.",
        12_000,
        "veiligheid",
        "Stationsweg",
        False,
    ),
    (
        "Jeu-de-boulesbaan bij de Brink",
        "Een baan om elkaar te ontmoeten, jong en oud.",
        6_000,
        "ontmoeten",
        "De Brink",
        True,
    ),
    (
        "Buurtfeest en straattheater",
        "Een zomerfeest voor de hele wijk, met muziek en theater.",
        3_500,
        "cultuur",
        "Marktplein",
        True,
    ),
    (
        "Watertappunten in de wijk",
        "Twee kranen met gratis drinkwater bij het park en het plein.",
        5_000,
        "gezondheid",
        "Julianapark en Marktplein",
        False,
    ),
    (
        "Geveltuinen in de Bloemenbuurt",
        "Plantgoed en hulp voor 80 geveltuinen.",
        8_000,
        "groen",
        "Bloemenbuurt",
        True,
    ),
    (
        "Bloemrijke bermen en insectenhotels",
        "Bermen inzaaien met wilde bloemen, tien insectenhotels.",
        4_000,
        "groen",
        "Rondweg",
        False,
    ),
    (
        "Minibieb en ontmoetingsbank",
        "Een kast met boeken om te ruilen, met een bank ernaast.",
        2_500,
        "ontmoeten",
        "Hoek Kerkstraat",
        True,
    ),
    (
        "Sporttoestellen in het park",
        "Toestellen om buiten gratis te sporten.",
        14_000,
        "sport",
        "Julianapark",
        False,
    ),
    (
        "Overdekte fietsenstalling",
        "Een droge, veilige stalling voor 40 fietsen bij het buurthuis.",
        11_000,
        "verkeer",
        "Buurthuis De Schakel",
        False,
    ),
]

PROPOSAL_PLANS = [
    (
        "AED in de dorpskern",
        "Een hartstarter die dag en nacht bereikbaar is.",
        3_000,
        "veiligheid",
        "Dorpshuis",
        False,
    ),
    (
        "Wandelpad rond de ijsbaan",
        "Een halfverhard pad van 1,2 km, ook voor rolstoelen.",
        16_000,
        "sport",
        "IJsbaan Ter Aa",
        False,
    ),
    (
        "Dorpsmoestuin",
        "Een gezamenlijke moestuin met een kas.",
        5_500,
        "groen",
        "Achter de school",
        True,
    ),
]


@dataclass(frozen=True)
class DemoSummary:
    created: bool
    voting_round_slug: str
    codes: list[str]


def demo_codes(pepper: str) -> list[str]:
    out = []
    for i in range(DEMO_CODE_COUNT):
        digest = hmac.new(pepper.encode(), f"demo-code-{i}".encode(), hashlib.sha256).digest()
        out.append("".join(codes.ALPHABET[b % 32] for b in digest[: codes.LENGTH]))
    return out


def seed_demo(session: Session, pepper: str, now: dt.datetime | None = None) -> DemoSummary:
    now = now or utcnow()
    created = session.scalar(select(Area).where(Area.slug == AREAS[0][0])) is None
    areas = {
        slug: _area(session, slug, name, kind, council, pcs)
        for slug, name, kind, council, pcs in AREAS
    }
    voting = _round(
        session,
        areas["centrum-oost"],
        slug=VOTING_ROUND_SLUG,
        title="Buurtbudget Centrum-Oost 2027",
        description=(
            "De gemeente geeft € 60.000 aan Centrum-Oost. Bewoners bedachten plannen. "
            "De wijkraad heeft ze bekeken. Nu kiest u welke plannen er komen."
        ),
        budget=60_000,
        phase=Phase.STEMMEN,
        dates=(
            now - dt.timedelta(days=60),
            now - dt.timedelta(days=30),
            now - dt.timedelta(days=7),
            now + dt.timedelta(days=21),
        ),
        ballot_kind=BallotKind.KNAPSACK,
        rule=Rule.EQUAL_SHARES,
    )
    _plans(session, voting, VOTING_PLANS, PlanStatus.OP_STEMBILJET)
    proposals = _round(
        session,
        areas["ter-aa"],
        slug="dorpsbudget-ter-aa-2027",
        title="Dorpsbudget Ter Aa 2027",
        description=(
            "Heeft u een goed idee voor Ter Aa? Stuur uw plan in. "
            "Er is € 25.000 te verdelen. De dorpsraad kijkt of het plan kan."
        ),
        budget=25_000,
        phase=Phase.INDIENEN,
        dates=(
            now - dt.timedelta(days=10),
            now + dt.timedelta(days=20),
            now + dt.timedelta(days=40),
            now + dt.timedelta(days=61),
        ),
        ballot_kind=BallotKind.K_APPROVAL,
        rule=Rule.GREEDY,
        max_choices=3,
    )
    _plans(session, proposals, PROPOSAL_PLANS, PlanStatus.INGEDIEND)
    _round(
        session,
        areas["de-horst"],
        slug="wijkbudget-de-horst-2027",
        title="Wijkbudget De Horst 2027",
        description=(
            "De wijkraad bereidt deze ronde voor. Vanaf het voorjaar kunt u plannen indienen."
        ),
        budget=40_000,
        phase=Phase.CONCEPT,
        dates=(
            now + dt.timedelta(days=30),
            now + dt.timedelta(days=60),
            now + dt.timedelta(days=90),
            now + dt.timedelta(days=111),
        ),
        ballot_kind=BallotKind.APPROVAL,
        rule=Rule.OPTIMAL,
    )
    demo_results.seed_published_round(session, pepper, now)
    plain_codes = demo_codes(pepper)
    codes.issue_codes(session, voting, pepper, plain_codes)
    used = set(
        session.scalars(
            select(VotingCode.code_hash).where(
                VotingCode.round_id == voting.id, VotingCode.status != "unused"
            )
        )
    )
    usable = [c for c in plain_codes if codes.code_hash(pepper, c) not in used]
    return DemoSummary(created=created, voting_round_slug=voting.slug, codes=usable)


def _area(
    session: Session, slug: str, name: str, kind: AreaKind, council: str, postcodes: str
) -> Area:
    area = session.scalar(select(Area).where(Area.slug == slug))
    if area is None:
        area = Area(
            slug=slug, name=name, kind=kind.value, council_name=council, postcodes=postcodes
        )
        session.add(area)
        session.flush()
    return area


def _round(
    session: Session,
    area: Area,
    *,
    slug: str,
    title: str,
    description: str,
    budget: int,
    phase: Phase,
    dates: tuple[dt.datetime, dt.datetime, dt.datetime, dt.datetime],
    ballot_kind: BallotKind,
    rule: Rule,
    max_choices: int | None = None,
) -> Round:
    round_ = session.scalar(select(Round).where(Round.slug == slug))
    if round_ is None:
        round_ = Round(
            area_id=area.id,
            slug=slug,
            title=title,
            description=description,
            budget=budget,
            phase=phase.value,
            submission_starts_at=dates[0],
            review_starts_at=dates[1],
            voting_starts_at=dates[2],
            voting_ends_at=dates[3],
            ballot_kind=ballot_kind.value,
            max_choices=max_choices,
            rule=rule.value,
            eligibility=Eligibility.CODES.value,
            tie_break_seed=secrets.token_hex(16),
        )
        session.add(round_)
        session.flush()
    return round_


def _plans(
    session: Session,
    round_: Round,
    rows: list[tuple[str, str, int, str, str, bool]],
    status: PlanStatus,
) -> None:
    existing = set(session.scalars(select(Plan.title).where(Plan.round_id == round_.id)))
    for title, summary, cost, theme, location, self_executed in rows:
        if title in existing:
            continue
        session.add(
            Plan(
                round_id=round_.id,
                public_id=secrets.token_urlsafe(8),
                author_name="Demo-bewoner",
                title=title,
                summary=summary,
                body=f"{summary}\n\nDit plan is een voorbeeld in de demo van Proeftuin.",
                estimated_cost=cost,
                official_cost=cost if status is PlanStatus.OP_STEMBILJET else None,
                location=location,
                theme=theme,
                self_executed=self_executed,
                status=status.value,
            )
        )
    session.flush()
