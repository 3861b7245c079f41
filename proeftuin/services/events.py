"""Voting events (stemmingen): several rounds in one vote, with one letter code per household.

See docs/decisions.md, Voting events.

An event holds rounds that share their voting dates: typically one city-wide round and one round
per wijk or dorp. Each round stays a round as before (its own budget, ballot kind, rule, plans,
moderators and result). A letter code of the event belongs to the round of one area; the same
code also opens the city-wide ballot, with a voter key of its own there (HMAC of the city-wide
round and the code), so "one credential, one ballot" holds per round unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from proeftuin.db import lock_name, table_of
from proeftuin.errors import Invalid, NotAllowed, NotFound, _
from proeftuin.models import (
    Area,
    Ballot,
    BallotChoice,
    Channel,
    Phase,
    Plan,
    PlanStatus,
    Resident,
    Round,
    VotingEvent,
)
from proeftuin.services import audit, codes, eligibility, permissions, rounds, voting
from proeftuin.services.permissions import Actor
from proeftuin.services.voting import Credential, Receipt

ROUNDS, PLANS, BALLOTS, CHOICES = map(table_of, (Round, Plan, Ballot, BallotChoice))

# Phases in which a round can still join an event: voting has not opened.
JOINABLE = (Phase.CONCEPT, Phase.INDIENEN, Phase.BEOORDELEN)
# The other round of the event whose ballot a code also opens: the city-wide round.
CITYWIDE_ROUND = (
    select(ROUNDS.c.id)
    .select_from(ROUNDS.join(table_of(VotingEvent), ROUNDS.c.event_id == bindparam("event_id")))
    .where(
        table_of(VotingEvent).c.id == bindparam("event_id"),
        ROUNDS.c.area_id == table_of(VotingEvent).c.citywide_area_id,
    )
)
PLANS_OF_ROUNDS = select(PLANS.c.public_id, PLANS.c.round_id).where(
    PLANS.c.round_id.in_(bindparam("round_ids", expanding=True)),
    PLANS.c.status == PlanStatus.OP_STEMBILJET.value,
)
CHOICES_OF_VOTER = (
    select(BALLOTS.c.receipt, BALLOTS.c.channel, PLANS.c.public_id, CHOICES.c.points)
    .select_from(
        BALLOTS.outerjoin(CHOICES, CHOICES.c.ballot_id == BALLOTS.c.id).outerjoin(
            PLANS, PLANS.c.id == CHOICES.c.plan_id
        )
    )
    .where(
        BALLOTS.c.round_id == bindparam("round_id"),
        BALLOTS.c.voter_key == bindparam("voter_key"),
    )
)


class BallotRefused(Invalid):
    """One ballot of an event's cast was wrong, so nothing was stored; names which one."""

    def __init__(self, round_id: int, title: str, refusal: Invalid) -> None:
        super().__init__(
            "choices",
            _("Er is niets opgeslagen. Het stembiljet van ‘{title}’ klopt niet."),
            title=title,
        )
        self.round_id = round_id
        self.refusal = refusal


@dataclass(frozen=True)
class EventInput:
    title: str
    description: str
    citywide_area_id: int | None
    area_choice: bool


# -- Staff: making an event and putting rounds in it -----------------------------------------


def create_event(session: Session, actor: Actor, data: EventInput) -> VotingEvent:
    """A new event (admins only): its title, and the area of its city-wide round, if any."""
    permissions.require_admin(actor)
    title = data.title.strip()
    if not title or len(title) > 200:
        raise Invalid("title", _("Geef de stemming een naam van 1 tot 200 tekens."))
    if data.citywide_area_id is not None and session.get(Area, data.citywide_area_id) is None:
        raise Invalid("citywide_area", _("Kies een bestaand gebied voor de hele gemeente."))
    event = VotingEvent(
        slug=_unique_slug(session, title),
        title=title,
        description=data.description.strip()[:5000],
        citywide_area_id=data.citywide_area_id,
        area_choice=data.area_choice,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor.staff_id, "event.create", "event", event.id, title=title)
    return event


def add_round(session: Session, actor: Actor, event: VotingEvent, round_: Round) -> None:
    """Put a round in an event (admins only). One round per area; the voting dates must be those
    of the rounds already in it, because the event's rounds open and close together."""
    permissions.require_admin(actor)
    if round_.event_id is not None:
        raise Invalid("round", _("Deze ronde hoort al bij een stemming."))
    if round_.phase not in JOINABLE:
        raise Invalid(
            "round", _("Een ronde kan alleen bij een stemming voordat het stemmen begint.")
        )
    others = event_rounds(session, event)
    if any(other.area_id == round_.area_id for other in others):
        raise Invalid("round", _("Deze stemming heeft al een ronde voor dit gebied."))
    for other in others[:1]:
        if (other.voting_starts_at, other.voting_ends_at) != (
            round_.voting_starts_at,
            round_.voting_ends_at,
        ):
            raise Invalid(
                "round",
                _("Geef de ronde eerst dezelfde stemdata als de andere rondes van de stemming."),
            )
    round_.event_id = event.id
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "event.add_round",
        "event",
        event.id,
        round_.area_id,
        round=round_.slug,
    )


def event_by_slug(session: Session, slug: str) -> VotingEvent:
    event = session.scalar(select(VotingEvent).where(VotingEvent.slug == slug))
    if event is None:
        raise NotFound()
    return event


def event_of(session: Session, round_: Round) -> VotingEvent | None:
    return None if round_.event_id is None else session.get(VotingEvent, round_.event_id)


def all_events(session: Session) -> list[VotingEvent]:
    return list(session.scalars(select(VotingEvent).order_by(VotingEvent.id)))


def event_rounds(session: Session, event: VotingEvent) -> list[Round]:
    """The event's rounds: the area rounds by area name, then the city-wide round."""
    found = session.scalars(select(Round).join(Area).where(Round.event_id == event.id)).all()
    return sorted(found, key=lambda r: (r.area_id == event.citywide_area_id, r.area.name))


def visible_rounds(rounds_: Sequence[Round], actor: Actor) -> list[Round]:
    """What a staff member sees of an event: every round for admins, a moderator only the rounds
    of the areas they hold."""
    return [r for r in rounds_ if actor.is_admin or r.area_id in actor.area_ids]


def event_slugs_by_round(session: Session) -> dict[str, str]:
    """Each round that belongs to an event, by slug, with its event's slug."""
    rows = session.execute(
        select(Round.slug, VotingEvent.slug).join(VotingEvent, Round.event_id == VotingEvent.id)
    )
    return {round_slug: event_slug for round_slug, event_slug in rows}


def pabulib_place(session: Session, round_: Round) -> tuple[str, str] | None:
    """(unit, district) for the Pabulib file of a district round of an event: the unit is the
    name of the city-wide round's area (else the event's title), the district the round's area.
    None for a round outside an event and for the city-wide round itself."""
    event = event_of(session, round_)
    if event is None or round_.area_id == event.citywide_area_id:
        return None
    city = session.get(Area, event.citywide_area_id) if event.citywide_area_id else None
    return (city.name if city is not None else event.title), round_.area.name


def joinable_rounds(session: Session) -> list[Round]:
    return list(
        session.scalars(
            select(Round)
            .where(Round.event_id.is_(None), Round.phase.in_([p.value for p in JOINABLE]))
            .order_by(Round.id)
        )
    )


def _unique_slug(session: Session, title: str) -> str:
    base = rounds.slugify(title)
    taken = set(session.scalars(select(VotingEvent.slug).where(VotingEvent.slug.like(f"{base}%"))))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


# -- Voting: one code, the ballots of its area and of the whole gemeente ---------------------


def ballot_credentials(
    session: Session, pepper: str, credential: Credential, event_id: int
) -> list[Credential]:
    """The credentials a letter code of an event round votes with: its own round's, then the
    city-wide round's (when the event has one, it is another round, and it is voting)."""
    round_ = session.get(Round, credential.round_id)
    if round_ is None or credential.code_id is None or round_.event_id != event_id:
        return [credential]
    code = f"code:{credential.code_id}"
    return [
        credential,
        *(
            Credential(other.id, codes.voter_key(pepper, other.id, code), credential.code_id)
            for other in other_ballot_rounds(session, round_)
        ),
    ]


def other_ballot_rounds(session: Session, round_: Round) -> list[Round]:
    """The other rounds whose ballot a code of ``round_`` also fills in (the city-wide one)."""
    if round_.event_id is None:
        return []
    row = session.connection().execute(CITYWIDE_ROUND, {"event_id": round_.event_id}).first()
    if row is None or row.id == round_.id:
        return []
    city = session.get(Round, row.id)
    return [city] if city is not None and city.phase == Phase.STEMMEN else []


def area_choice(session: Session, round_: Round) -> bool:
    """Whether e-mail voters choose this round's area themselves (the event's setting)."""
    event = event_of(session, round_)
    return event is not None and event.area_choice


def email_credentials(
    session: Session, pepper: str, round_: Round, resident: Resident
) -> list[Credential]:
    """The credentials of an e-mail voter who opened ``round_`` of an event: the district's
    ballot, then the city-wide one. Opened from the city-wide round, the district comes from
    the postcode (PC4): the district round that takes e-mail voters and whose area holds it."""
    event = event_of(session, round_)
    assert event is not None
    voting_rounds = [r for r in event_rounds(session, event) if r.phase == Phase.STEMMEN]
    city = [r for r in voting_rounds if r.area_id == event.citywide_area_id]
    district: Round | None = round_
    if round_.area_id == event.citywide_area_id:
        district = next(
            (
                r
                for r in voting_rounds
                if r.area_id != event.citywide_area_id
                and r.eligibility in eligibility.EMAIL_ELIGIBILITIES
                and r.area.postcodes
                and eligibility.postcode_in_area(r.area.postcodes, resident.postcode)
            ),
            None,
        )
    others = [r for r in voting_rounds if r not in city and r != district]
    if any(_has_ballot(session, pepper, r, resident) for r in others):
        raise NotAllowed(
            _("U heeft in deze stemming al gestemd voor een andere wijk of een ander dorp.")
        )
    chosen = ([district] if district is not None else []) + [r for r in city if r != district]
    return [
        Credential(r.id, codes.voter_key(pepper, r.id, f"resident:{resident.id}"), None)
        for r in chosen
    ]


def _has_ballot(session: Session, pepper: str, round_: Round, resident: Resident) -> bool:
    key = codes.voter_key(pepper, round_.id, f"resident:{resident.id}")
    ids = {"round_id": round_.id, "voter_key": key}
    return session.connection().execute(voting.BALLOT_OF_VOTER, ids).first() is not None


def split_choices(
    session: Session, credentials: Sequence[Credential], choices: Mapping[str, int]
) -> list[dict[str, int]]:
    """The choices of one form split by ballot; a plan of no ballot of these credentials (another
    area's, a crafted field) is refused, so a code never votes on another area's ballot."""
    round_ids = [c.round_id for c in credentials]
    rows = session.connection().execute(PLANS_OF_ROUNDS, {"round_ids": round_ids}).all()
    round_of = {row.public_id: row.round_id for row in rows}
    split: dict[int, dict[str, int]] = {rid: {} for rid in round_ids}
    for pid, points in choices.items():
        if pid not in round_of:
            raise Invalid("choices", _("U koos een plan dat niet op uw stembiljetten staat."))
        split[round_of[pid]][pid] = points
    return [split[rid] for rid in round_ids]


def cast_all(
    session: Session,
    credentials: Sequence[Credential],
    choices: Mapping[str, int],
    *,
    channel: Channel = Channel.ONLINE,
    submission_token: str | None = None,
    today: dt.date,
) -> list[Receipt]:
    """Cast every ballot of one code in this one transaction: all are stored or none.

    Each goes through ``voting.cast``, which checks it again under its own locks (rounds and
    credentials in the same order every time: the area round, then the city-wide one). A ballot
    the voter left as it was keeps its tracker, so changing one ballot changes only that one.
    A wrong ballot raises ``BallotRefused`` naming it; the caller's transaction then stores
    nothing of the others either.
    """
    receipts = []
    for credential, chosen in zip(
        credentials, split_choices(session, credentials, choices), strict=True
    ):
        kept = _unchanged(session, credential, chosen, channel)
        if kept is not None:
            receipts.append(kept)
            continue
        try:
            receipts.append(
                voting.cast(
                    session,
                    credential,
                    chosen,
                    channel=channel,
                    submission_token=submission_token,
                    today=today,
                )
            )
        except Invalid as refused:
            if refused.field == "code":
                raise
            round_ = session.get(Round, credential.round_id)
            assert round_ is not None
            raise BallotRefused(round_.id, round_.title, refused) from None
    return receipts


def _unchanged(
    session: Session, credential: Credential, chosen: Mapping[str, int], channel: Channel
) -> Receipt | None:
    """The receipt of this credential's ballot when it already holds exactly these choices."""
    ids = {"round_id": credential.round_id, "voter_key": credential.voter_key}
    lock_name(session, f"ballot:{credential.round_id}:{credential.voter_key}")
    rows = session.connection().execute(CHOICES_OF_VOTER, ids).all()
    if not rows or rows[0].channel != channel.value:
        return None
    held = {row.public_id: row.points for row in rows if row.public_id is not None}
    if held != {pid: p for pid, p in chosen.items() if p > 0}:
        return None
    return Receipt(rows[0].receipt, replaced=False, channel=rows[0].channel)


# -- Results ---------------------------------------------------------------------------------

# Every file in an archive gets this time, so the same files always make the same bytes.
ARCHIVE_TIME = (2000, 1, 1, 0, 0, 0)


def zip_archive(files: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip (deflated) of ``files`` (path, content) in the order given, byte for byte the same
    for the same files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in files:
            info = zipfile.ZipInfo(path, date_time=ARCHIVE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
