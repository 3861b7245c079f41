"""Voting events (stemmingen): voting on the ballots of one code, the public event page, and the
staff pages that make an event and follow its turnout.

Every ballot of an event is a round's ballot as before: ``voting.ballot_page`` shows it and
``events.cast_all`` casts them together through ``voting.cast``, in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import NotFound
from proeftuin.models import Area, Channel, Phase, Resident, Round, VotingEvent
from proeftuin.services import eligibility, events, lookup, open_data, results, turnout
from proeftuin.services.events import BallotRefused as BallotRefused
from proeftuin.services.events import EventInput as EventInput
from proeftuin.services.open_data import Download
from proeftuin.services.pages import declare
from proeftuin.services.pages.voting import BallotPage, Credential, ballot_page
from proeftuin.services.permissions import Actor
from proeftuin.services.results import ResultView, StaffResult
from proeftuin.services.turnout import Turnout

__all__ = ["BallotRefused", "EventInput"]


@dataclass(frozen=True)
class EventBallots:
    credentials: tuple[Credential, ...]
    pages: tuple[BallotPage, ...]  # one per credential, the area's ballot first


@dataclass(frozen=True)
class CastReceipt:
    round_slug: str
    receipt: str


@declare.read
def ballots(
    session: Session,
    pepper: str,
    credentials: Sequence[Credential],
    choices: Mapping[str, int] | None,
) -> EventBallots:
    """The ballots of one code. With one credential (just typed), the event's other ballot is
    added; ``choices`` (None: what this code cast before) are split by ballot, and a plan of no
    ballot of this code is refused."""
    creds = list(credentials)
    if len(creds) == 1:
        round_ = session.get(Round, creds[0].round_id)
        if round_ is None or round_.event_id is None:
            raise NotFound()
        creds = events.ballot_credentials(session, pepper, creds[0], round_.event_id)
    split: Sequence[Mapping[str, int] | None] = (
        [None] * len(creds) if choices is None else events.split_choices(session, creds, choices)
    )
    pages = tuple(ballot_page(session, c, s) for c, s in zip(creds, split, strict=True))
    return EventBallots(tuple(creds), pages)


@declare.write
def email_ballots(
    session: Session, pepper: str, credential: Credential, resident_id: int, today: dt.date
) -> EventBallots:
    """An e-mail voter's ballots of an event, after ``voting.enter_with_email`` let them in on
    one round (and recorded their declaration there): the district's, then the city-wide one;
    the declaration is recorded for each."""
    round_ = session.get(Round, credential.round_id)
    resident = session.get(Resident, resident_id)
    if round_ is None or resident is None or round_.event_id is None:
        raise NotFound()
    creds = events.email_credentials(session, pepper, round_, resident)
    for c in creds:
        found = session.get(Round, c.round_id)
        assert found is not None
        eligibility.record_declaration(session, found, c.voter_key, today)
    return EventBallots(tuple(creds), tuple(ballot_page(session, c, None) for c in creds))


@declare.write_locking
def cast(
    session: Session,
    credentials: Sequence[Credential],
    choices: Mapping[str, int],
    submission_token: str | None,
    today: dt.date,
) -> list[CastReceipt]:
    """Cast every ballot of one code: all are stored or none (``events.cast_all``)."""
    receipts = events.cast_all(
        session,
        credentials,
        choices,
        channel=Channel.ONLINE,
        submission_token=submission_token,
        today=today,
    )
    return [
        CastReceipt(_slug(session, c.round_id), r.receipt)
        for c, r in zip(credentials, receipts, strict=True)
    ]


def _slug(session: Session, round_id: int) -> str:
    return session.scalar(select(Round.slug).where(Round.id == round_id)) or ""


@declare.read
def round_titles(session: Session, slugs: Sequence[str]) -> dict[str, str]:
    """The titles of rounds past concept, by slug (the receipt page names each tracker's round)."""
    rows = session.execute(
        select(Round.slug, Round.title).where(
            Round.slug.in_(list(slugs)), Round.phase != Phase.CONCEPT
        )
    )
    return {slug: title for slug, title in rows}


# -- The public event page -------------------------------------------------------------------


@dataclass(frozen=True)
class EventRound:
    slug: str
    title: str
    area_name: str
    area_slug: str
    phase: Phase
    budget: int
    citywide: bool
    eligibility: str
    min_age: int | None
    voting_starts_at: dt.datetime | None
    voting_ends_at: dt.datetime | None


@dataclass(frozen=True)
class EventView:
    slug: str
    title: str
    description: str
    area_choice: bool
    rounds: tuple[EventRound, ...]

    @property
    def citywide(self) -> EventRound | None:
        return next((r for r in self.rounds if r.citywide), None)

    @property
    def published(self) -> bool:
        return bool(self.rounds) and all(r.phase == Phase.GEPUBLICEERD for r in self.rounds)


def _event_view(session: Session, event: VotingEvent, *, public: bool) -> EventView:
    rounds_ = events.event_rounds(session, event)
    return EventView(
        slug=event.slug,
        title=event.title,
        description=event.description,
        area_choice=event.area_choice,
        rounds=tuple(
            _event_round(r, event) for r in rounds_ if not public or r.phase != Phase.CONCEPT
        ),
    )


def _event_round(round_: Round, event: VotingEvent) -> EventRound:
    return EventRound(
        slug=round_.slug,
        title=round_.title,
        area_name=round_.area.name,
        area_slug=round_.area.slug,
        phase=Phase(round_.phase),
        budget=round_.budget,
        citywide=round_.area_id == event.citywide_area_id,
        eligibility=round_.eligibility,
        min_age=round_.min_age,
        voting_starts_at=round_.voting_starts_at,
        voting_ends_at=round_.voting_ends_at,
    )


@declare.read
def public_event(session: Session, slug: str) -> EventView:
    """An event with its rounds past concept; NotFound when none is public yet."""
    view = _event_view(session, events.event_by_slug(session, slug), public=True)
    if not view.rounds:
        raise NotFound()
    return view


@declare.read
def public_events(session: Session) -> list[EventView]:
    views = [_event_view(session, e, public=True) for e in events.all_events(session)]
    return [v for v in views if v.rounds]


# -- Staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffEventRound:
    round: EventRound
    turnout: Turnout


@dataclass(frozen=True)
class StaffEvent:
    view: EventView
    rounds: tuple[StaffEventRound, ...]  # only the rounds this staff member holds
    joinable: tuple[tuple[str, str], ...]  # (slug, "title · area") of rounds admins may add

    @property
    def ballots(self) -> int:
        return sum(r.turnout.ballots for r in self.rounds)

    @property
    def codes_used(self) -> int:
        return sum(r.turnout.codes_used for r in self.rounds)

    @property
    def codes_issued(self) -> int:
        return sum(r.turnout.codes_issued - r.turnout.codes_revoked for r in self.rounds)


@dataclass(frozen=True)
class StaffEvents:
    events: tuple[EventView, ...]
    areas: tuple[tuple[int, str], ...]  # (id, name) for the city-wide area choice


@declare.read
def staff_events(session: Session, actor: Actor) -> StaffEvents:
    """The events with the rounds this staff member may see (a moderator: of their areas)."""
    found = []
    for event in events.all_events(session):
        view = _event_view(session, event, public=False)
        mine = events.visible_rounds(events.event_rounds(session, event), actor)
        slugs = {r.slug for r in mine}
        if actor.is_admin or slugs:
            rounds_ = tuple(r for r in view.rounds if r.slug in slugs)
            found.append(
                EventView(view.slug, view.title, view.description, view.area_choice, rounds_)
            )
    areas = tuple(
        (i, n) for i, n in session.execute(select(Area.id, Area.name).order_by(Area.name))
    )
    return StaffEvents(tuple(found), areas)


@declare.read
def staff_event(session: Session, actor: Actor, slug: str) -> StaffEvent:
    """An event's rounds this staff member holds, each with its turnout (never a tally), and for
    admins the rounds that could still join it."""
    event = events.event_by_slug(session, slug)
    mine = events.visible_rounds(events.event_rounds(session, event), actor)
    if not mine and not actor.is_admin:
        raise NotFound()
    view = _event_view(session, event, public=False)
    slugs = {r.slug for r in mine}
    shown = tuple(r for r in view.rounds if r.slug in slugs)
    by_slug = {r.slug: r for r in mine}
    rounds_ = tuple(
        StaffEventRound(r, turnout.turnout(session, actor, by_slug[r.slug].id)) for r in shown
    )
    joinable = (
        tuple((r.slug, f"{r.title} · {r.area.name}") for r in events.joinable_rounds(session))
        if actor.is_admin
        else ()
    )
    return StaffEvent(
        dataclasses.replace(view, rounds=shown),
        rounds_,
        joinable,
    )


@declare.write
def create_event(session: Session, actor: Actor, data: EventInput) -> str:
    return events.create_event(session, actor, data).slug


@declare.write
def add_round(session: Session, actor: Actor, slug: str, round_slug: str) -> None:
    event = events.event_by_slug(session, slug)
    round_ = lookup.staff_round(session, actor, round_slug)
    events.add_round(session, actor, event, round_)


# -- Results of the event --------------------------------------------------------------------

# The files of each round in the event's archive, as the round's own downloads name them.
ARCHIVE_FILES = (
    ("stemmen.pb", open_data.pabulib_file),
    ("plannen.csv", open_data.plans_csv),
    ("uitslag.json", open_data.result_json),
    ("stembonnen.txt", open_data.trackers_file),
)


@dataclass(frozen=True)
class EventResults:
    view: EventView
    results: tuple[ResultView, ...]  # the published rounds, in the event's order

    @property
    def complete(self) -> bool:
        return len(self.results) == len(self.view.rounds)


@declare.read
def event_results(session: Session, slug: str) -> EventResults:
    """The published results of the event's rounds together; NotFound before any is published."""
    view = _event_view(session, events.event_by_slug(session, slug), public=True)
    published = tuple(
        results.public_view(session, r.slug) for r in view.rounds if r.phase == Phase.GEPUBLICEERD
    )
    if not published:
        raise NotFound(open_data.NOT_PUBLISHED)
    return EventResults(view, published)


@declare.read
def event_archive(session: Session, slug: str) -> Download:
    """One zip of every published round's files, one folder per round (docs/decisions.md,
    Voting events): the same bytes as each round's own downloads."""
    found = event_results(session, slug)
    files = [
        (f"{view.slug}/{name}", make(session, view.slug).content)
        for view in found.results
        for name, make in ARCHIVE_FILES
    ]
    return Download(events.zip_archive(files), f"{slug}.zip", "application/zip")


@declare.read
def event_record(session: Session, actor: Actor, slug: str) -> tuple[EventView, list[StaffResult]]:
    """The proces-verbaal of the event: each round this staff member holds, with its count."""
    event = events.event_by_slug(session, slug)
    mine = events.visible_rounds(events.event_rounds(session, event), actor)
    if not mine:
        raise NotFound()
    view = _event_view(session, event, public=False)
    return view, [results.staff_view(session, actor, r.slug) for r in mine]
