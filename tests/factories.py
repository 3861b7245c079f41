"""The builders of test data, shared by every test module.

``make_*`` build inside a session the caller is already in; ``add_*`` run a transaction of their
own on a ``Database`` (for tests that go through the app afterwards).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw
from pillow_heif import register_heif_opener
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.demo import results as demo_results
from proeftuin.models import (
    Area,
    AuditEvent,
    Channel,
    Membership,
    Phase,
    Plan,
    PlanStatus,
    Resident,
    Round,
    StaffUser,
    Support,
    VotingEvent,
)
from proeftuin.services import codes as codes_service
from proeftuin.services import events as events_service
from proeftuin.services import photos, results
from proeftuin.services import voting as voting_service
from proeftuin.services.permissions import Actor

PEPPER = "test-pepper"
register_heif_opener()  # photo_file makes HEIC photos as iPhones do


def make_round(
    session: Session,
    *,
    budget: int = 10_000,
    costs: Sequence[int] = (4_000, 3_000, 5_000),
    phase: Phase = Phase.STEMMEN,
    ballot_kind: str = "knapsack",
    slug: str | None = None,
    plan_prefix: str = "plan",
    **settings: object,
) -> Round:
    area = Area(slug=f"wijk-{secrets.token_hex(3)}", name="Noord", kind="wijk")
    session.add(area)
    session.flush()
    round_ = Round(
        area_id=area.id,
        slug=slug or f"ronde-{secrets.token_hex(3)}",
        title="Buurtbudget Noord",
        budget=budget,
        phase=phase.value,
        ballot_kind=ballot_kind,
        tie_break_seed="seed",
        **settings,
    )
    session.add(round_)
    session.flush()
    for i, cost in enumerate(costs):
        session.add(
            Plan(
                round_id=round_.id,
                public_id=f"{plan_prefix}{i}",
                title=f"Plan {i}",
                estimated_cost=cost,
                official_cost=cost,
                status=PlanStatus.OP_STEMBILJET.value,
            )
        )
    session.flush()
    return round_


def make_codes(session: Session, round_: Round, count: int = 3, pepper: str = PEPPER) -> list[str]:
    return codes_service.generate_codes(session, round_, pepper, count)


def make_staff(
    session: Session, role: str = "moderator", area_ids: Sequence[int] = (), active: bool = True
) -> Actor:
    """A staff member (with a placeholder password hash) and the actor the web would pass."""
    user = StaffUser(
        email=f"medewerker-{secrets.token_hex(3)}@gemeente.example",
        name=f"Medewerker {secrets.token_hex(2)}",
        password_hash="not-a-hash",
        role=role,
        active=active,
    )
    session.add(user)
    session.flush()
    session.add_all(Membership(staff_id=user.id, area_id=area_id) for area_id in area_ids)
    session.flush()
    return Actor(staff_id=user.id, role=role, area_ids=frozenset(area_ids))


def make_resident(session: Session, email: str | None = None, name: str = "Fatima") -> Resident:
    resident = Resident(
        email=email or f"bewoner-{secrets.token_hex(3)}@example.nl", display_name=name
    )
    session.add(resident)
    session.flush()
    return resident


def make_plan(
    session: Session,
    round_: Round,
    public_id: str,
    *,
    estimated_cost: int = 1_000,
    status: PlanStatus = PlanStatus.INGEDIEND,
    official_cost: int | None = None,
    author: Resident | None = None,
    supporters: Sequence[Resident] = (),
    hidden: bool = False,
) -> Plan:
    plan = Plan(
        round_id=round_.id,
        public_id=public_id,
        title=f"Plan {public_id}",
        estimated_cost=estimated_cost,
        official_cost=official_cost,
        status=status.value,
        author_id=author.id if author else None,
        author_name=author.display_name if author else "",
        hidden=hidden,
    )
    session.add(plan)
    session.flush()
    session.add_all(Support(plan_id=plan.id, resident_id=r.id) for r in supporters)
    session.flush()
    return plan


# -- closed and published rounds with ballots ------------------------------------------------------

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)

# Greedy gives the majority both its plans; Equal Shares gives the minority its share: 6 voters
# want plan0 (6,000) and plan1 (3,000), 4 voters want plan2 (4,000) and plan3 (1,000).
SPLIT = [{"plan0": 1, "plan1": 1}] * 6 + [{"plan2": 1, "plan3": 1}] * 4
SPLIT_COSTS = (6_000, 3_000, 4_000, 1_000)

# plan0 (5,000) has 5 votes, plan1 (6,000) 4, plan2 (2,000) 1; the budget is 10,000. Greedy funds
# plan0, skips plan1 (it does not fit) and funds plan2.
STOPPING = [{"plan0": 1, "plan1": 1}] * 4 + [{"plan0": 1}, {"plan2": 1}]
STOPPING_COSTS = (5_000, 6_000, 2_000)


def add_ballots(
    session: Session,
    round_: Round,
    ballots: Sequence[Mapping[str, int]],
    *,
    channels: Sequence[Channel] | None = None,
) -> list[str]:
    """Ballots (plan public id → points) in bulk; returns their receipts."""
    ids = dict(
        session.execute(select(Plan.public_id, Plan.id).where(Plan.round_id == round_.id)).all()
    )
    receipts = [_receipt() for _ in ballots]
    demo_results.insert_ballots(
        session,
        round_.id,
        [{ids[public_id]: points for public_id, points in b.items()} for b in ballots],
        voter_keys=[secrets.token_hex(32) for _ in ballots],
        receipts=receipts,
        channels=channels or [Channel.ONLINE] * len(ballots),
        cast_on=[NOW.date()] * len(ballots),
    )
    session.flush()
    return receipts


def _receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def closed_round(
    session: Session,
    ballots: Sequence[Mapping[str, int]],
    *,
    costs: Sequence[int] = (4_000, 3_000, 5_000),
    budget: int = 10_000,
    rule: str = "equal_shares",
    ballot_kind: str = "approval",
    phase: Phase = Phase.GESLOTEN,
    **settings: object,
) -> Round:
    """A round with plans plan0, plan1, ... costing ``costs``, the ballots, in ``phase``."""
    round_ = make_round(
        session,
        budget=budget,
        costs=costs,
        rule=rule,
        ballot_kind=ballot_kind,
        phase=Phase.STEMMEN,
        **settings,
    )
    add_ballots(session, round_, ballots)
    round_.phase = phase.value
    session.flush()
    return round_


def published_round(
    session: Session, ballots: Sequence[Mapping[str, int]], **options: object
) -> tuple[Round, Actor]:
    """Counted, signed off and published by a moderator of its area."""
    round_ = closed_round(session, ballots, **options)
    actor = make_staff(session, area_ids=[round_.area_id])
    results.count(session, actor, round_.slug, NOW)
    results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
    results.publish(session, actor, round_.slug, NOW)
    return round_, actor


# -- in a transaction of their own -----------------------------------------------------------------


def add_area(db: Database, slug: str, name: str, kind: str = "wijk") -> int:
    def insert(session: Session) -> int:
        area = Area(slug=slug, name=name, kind=kind)
        session.add(area)
        session.flush()
        return area.id

    return transact(db, insert)


def add_round(
    db: Database,
    area_id: int,
    slug: str,
    title: str,
    *,
    budget: int,
    phase: Phase,
    voting_ends_at: dt.datetime | None = None,
) -> None:
    """A round without plans."""

    def insert(session: Session) -> None:
        session.add(
            Round(
                area_id=area_id,
                slug=slug,
                title=title,
                budget=budget,
                phase=phase.value,
                voting_ends_at=voting_ends_at,
                tie_break_seed="seed",
            )
        )

    transact(db, insert)


VILLAGE_START = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)


def add_village_round(
    db: Database,
    slug: str = "ter-aa-2027",
    *,
    phase: Phase = Phase.INDIENEN,
    budget: int = 25_000,
    threshold: int = 0,
    area_slug: str = "ter-aa",
    area_name: str = "Ter Aa",
    council: str = "Dorpsraad Ter Aa",
    title: str = "Dorpsbudget Ter Aa 2027",
    description: str = "Er is **geld** voor goede ideeën.",
) -> None:
    """A round with its whole timeline, in the village (created on first use) of ``area_slug``."""

    def insert(session: Session) -> None:
        area = session.scalar(select(Area).where(Area.slug == area_slug))
        if area is None:
            area = Area(slug=area_slug, name=area_name, kind="dorp", council_name=council)
            session.add(area)
            session.flush()
        session.add(
            Round(
                area_id=area.id,
                slug=slug,
                title=title,
                description=description,
                budget=budget,
                phase=phase.value,
                support_threshold=threshold,
                submission_starts_at=VILLAGE_START,
                review_starts_at=VILLAGE_START + dt.timedelta(days=30),
                voting_starts_at=VILLAGE_START + dt.timedelta(days=60),
                voting_ends_at=VILLAGE_START + dt.timedelta(days=81),
                tie_break_seed="seed",
            )
        )

    transact(db, insert)


def add_plan(
    db: Database,
    round_slug: str = "ter-aa-2027",
    title: str = "Bankjes bij de vijver",
    *,
    status: PlanStatus = PlanStatus.INGEDIEND,
    cost: int = 3_000,
    official_cost: int | None = None,
    theme: str = "ontmoeten",
    summary: str = "Zes bankjes om uit te rusten.",
    body: str = "",
    location: str = "De vijver",
    author_id: int | None = None,
    author_name: str = "Anna",
    public_reason: str = "",
    hidden: bool = False,
    self_executed: bool = False,
) -> str:
    """A plan in the round ``round_slug``; returns its public id."""
    public_id = secrets.token_urlsafe(8)
    if status == PlanStatus.OP_STEMBILJET and official_cost is None:
        official_cost = cost

    def insert(session: Session) -> None:
        round_id = session.scalar(select(Round.id).where(Round.slug == round_slug))
        session.add(
            Plan(
                round_id=round_id,
                public_id=public_id,
                author_id=author_id,
                author_name=author_name,
                title=title,
                summary=summary,
                body=body,
                estimated_cost=cost,
                official_cost=official_cost,
                location=location,
                theme=theme,
                status=status.value,
                public_reason=public_reason,
                hidden=hidden,
                self_executed=self_executed,
            )
        )

    transact(db, insert)
    return public_id


PlanSpec = tuple[str, PlanStatus, int]  # public id, status, cost (estimate = official cost)
DEFAULT_PLANS: tuple[PlanSpec, ...] = (
    ("speeltuin", PlanStatus.OP_STEMBILJET, 4_000),
    ("bankjes", PlanStatus.OP_STEMBILJET, 3_000),
    ("fietspad", PlanStatus.OP_STEMBILJET, 5_000),
)


def add_plan_round(
    db: Database,
    area_id: int,
    slug: str,
    phase: Phase,
    *,
    plans: Sequence[PlanSpec] = DEFAULT_PLANS,
    budget: int = 10_000,
    codes: int = 0,
    pepper: str = PEPPER,
    **settings: object,
) -> list[str]:
    """A round titled after its slug, with plans "<slug>-<id>" (title "Plan <slug>-<id>");
    returns the plain codes made for it (``codes`` of them, with ``pepper``)."""

    def build(session: Session) -> list[str]:
        round_ = Round(
            area_id=area_id,
            slug=slug,
            title=f"Ronde {slug}",
            budget=budget,
            phase=phase.value,
            tie_break_seed="seed",
            **settings,
        )
        session.add(round_)
        session.flush()
        author = make_resident(session, name="Fatima")
        for public_id, status, cost in plans:
            make_plan(
                session,
                round_,
                f"{slug}-{public_id}",
                estimated_cost=cost,
                status=status,
                official_cost=cost if status == PlanStatus.OP_STEMBILJET else None,
                author=author,
            )
        return make_codes(session, round_, codes, pepper) if codes else []

    return transact(db, build)


# -- reading back ----------------------------------------------------------------------------------


def count(db: Database, column) -> int:  # type: ignore[no-untyped-def]
    return int(read(db, lambda s: s.scalar(select(func.count(column)))))


def actions(db: Database) -> list[str]:
    """What staff did, oldest first, without their sign-ins."""
    query = select(AuditEvent.action).where(
        ~AuditEvent.action.like("staff.sign\\_in%", escape="\\")
    )
    return list(read(db, lambda s: s.scalars(query.order_by(AuditEvent.id))))


def add_funded_round(db: Database, area_id: int | None = None, slug: str = "noord-2027") -> str:
    """A round published with greedy: plan0 and plan2 go ahead, plan1 does not; plan3 was
    rejected and plan4 merged into plan0. In ``area_id`` when given."""

    def build(session: Session) -> str:
        round_, _ = published_round(
            session, STOPPING, costs=STOPPING_COSTS, rule="greedy", slug=slug
        )
        if area_id is not None:
            round_.area_id = area_id
        into = next(p for p in round_.plans if p.public_id == "plan0")
        rejected = make_plan(session, round_, "plan3", status=PlanStatus.AFGEWEZEN)
        rejected.public_reason = "Dit mag niet op deze plek."
        merged = make_plan(session, round_, "plan4", status=PlanStatus.SAMENGEVOEGD)
        merged.merged_into_id, merged.public_reason = into.id, "Hetzelfde idee als plan0."
        session.flush()
        return round_.slug

    return transact(db, build)


def pdf_text(content: bytes) -> str:
    """The text a PDF made by fpdf2 with the core fonts shows, in drawing order (its content
    streams inflated; each string of a ``Tj`` on a line of its own)."""
    assert content.startswith(b"%PDF-")
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            data = stream
        for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data):
            text = re.sub(rb"\\([()\\])", rb"\1", raw)
            out.append(text.decode("cp1252"))
    return "\n".join(out)


@dataclass(frozen=True)
class EventWorld:
    """An event in its voting phase: a city-wide round and two district rounds, with codes."""

    event_id: int
    slug: str
    city_round_id: int
    district_round_ids: tuple[int, int]
    codes: dict[int, list[str]]  # district round id -> its plain codes
    area_ids: tuple[int, int, int]  # city, district a, district b


def make_event(
    session: Session, *, phase: Phase = Phase.STEMMEN, pepper: str = PEPPER, **settings: object
) -> EventWorld:
    """Plans "stad0..2" (budget 10.000), "noord0..2" and "zuid0..2" (budget 10.000 each)."""
    city = make_round(session, phase=phase, plan_prefix="stad", **settings)
    north = make_round(session, phase=phase, plan_prefix="noord", **settings)
    south = make_round(session, phase=phase, plan_prefix="zuid", **settings)
    event = VotingEvent(
        slug=f"stemming-{secrets.token_hex(3)}",
        title="Stadsbudget 2027",
        citywide_area_id=city.area_id,
    )
    session.add(event)
    session.flush()
    for round_ in (city, north, south):
        round_.event_id = event.id
    session.flush()
    return EventWorld(
        event_id=event.id,
        slug=event.slug,
        city_round_id=city.id,
        district_round_ids=(north.id, south.id),
        codes={r.id: make_codes(session, r, pepper=pepper) for r in (north, south)},
        area_ids=(city.area_id, north.area_id, south.area_id),
    )


def add_event(db: Database, **settings: object) -> EventWorld:
    return transact(db, lambda session: make_event(session, **settings))


def publish_event(session: Session, world: EventWorld, pepper: str = PEPPER) -> Actor:
    """Two event votes per district (cast through the event's casting), then every round closed,
    counted, signed off and published by an admin."""
    for district in world.district_round_ids:
        prefix = "noord" if district == world.district_round_ids[0] else "zuid"
        for code, picks in zip(world.codes[district], ({0: 1}, {1: 1}), strict=False):
            credential = voting_service.check_code(session, pepper, code)[1]
            credentials = events_service.ballot_credentials(
                session, pepper, credential, world.event_id
            )
            chosen = {f"{prefix}{i}": p for i, p in picks.items()} | {"stad1": 1}
            events_service.cast_all(session, credentials, chosen, today=NOW.date())
    admin = make_staff(session, "admin")
    for round_id in (world.city_round_id, *world.district_round_ids):
        round_ = session.get(Round, round_id)
        assert round_ is not None
        round_.phase = Phase.GESLOTEN.value
        session.flush()
        results.count(session, admin, round_.slug, NOW)
        results.sign_off(session, admin, round_.slug, confirmed=True, decision="", now=NOW)
        results.publish(session, admin, round_.slug, NOW)
    return admin


# -- photos ----------------------------------------------------------------------------------------

SERIAL = "CAMERA-SERIAL-4417"
GPS = {1: "N", 2: (52.0, 5.0, 44.0), 3: "E", 4: (5.0, 7.0, 12.0)}  # Utrecht, more or less


def photo_file(
    fmt: str = "JPEG", size: tuple[int, int] = (120, 80), *, orientation: int = 1
) -> bytes:
    """A photo as a phone makes it: a wide picture (left half red) with EXIF holding a GPS
    position, a camera serial and an orientation (6: turn it a quarter to be upright)."""
    image = Image.new("RGB", size, (40, 120, 200))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2, size[1]), fill=(220, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Telefoonmaker"  # Make
    exif[0xA431] = SERIAL  # BodySerialNumber
    exif[0x8825] = GPS  # GPSInfo
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def make_photo(session: Session, plan: Plan, alt: str = "Het plein bij de kerk.") -> str:
    """A photo on ``plan``, added as its author would; returns its public id."""
    prepared = photos.prepare(photos.Upload(photo_file(), "foto.jpg", alt))
    return photos.add(session, plan, prepared).public_id
