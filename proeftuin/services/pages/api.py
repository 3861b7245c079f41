"""What the open-data API serves: the public rounds, and a round's published result."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.models import ExecutionStatus as ExecutionStatus
from proeftuin.models import Phase as Phase
from proeftuin.services import events, execution, lookup, places, results, rounds
from proeftuin.services.execution import ExecutionState as ExecutionState
from proeftuin.services.pages.events import EventView as EventView
from proeftuin.services.pages.events import public_event as public_event
from proeftuin.services.results import ResultView as ResultView
from proeftuin.services.rounds import AreaRounds as AreaRounds

from . import declare


@declare.read
def public_rounds(session: Session) -> list[AreaRounds]:
    """Every area by name, with its rounds past concept, newest first."""
    return rounds.list_areas_with_rounds(session)


@dataclass(frozen=True)
class RoundsListing:
    areas: list[AreaRounds]
    events: dict[str, str]  # round slug -> its event's slug, for rounds in an event


@declare.read
def rounds_listing(session: Session) -> RoundsListing:
    """``public_rounds`` with the event each round belongs to."""
    return RoundsListing(
        rounds.list_areas_with_rounds(session), events.event_slugs_by_round(session)
    )


@declare.read
def published_result(session: Session, slug: str) -> ResultView:
    """The round's result; ``NotFound`` until it is published."""
    return results.public_view(session, slug)


@declare.read
def published_with_execution(
    session: Session, slug: str
) -> tuple[ResultView, dict[str, ExecutionState]]:
    """The round's result and, by public id, how each funded plan is carried out."""
    view = results.public_view(session, slug)
    round_ = lookup.public_round(session, slug)
    return view, {state.public_id: state for state in execution.states(session, round_.id)}


@declare.read
def plan_points(session: Session, slug: str) -> dict[str, tuple[float | None, float | None]]:
    """The places of a round's plans (latitude, longitude), by public id; read now, not from the
    count: a place is not part of the result."""
    points = places.points_of_round(session, lookup.public_round(session, slug).id)
    return {public_id: places.degrees(point) for public_id, point in points.items()}
