"""What the open-data API serves: the public rounds, and a round's published result."""

from __future__ import annotations

from sqlalchemy.orm import Session

from proeftuin.models import Phase as Phase
from proeftuin.services import lookup, places, results, rounds
from proeftuin.services.results import ResultView as ResultView
from proeftuin.services.rounds import AreaRounds as AreaRounds

from . import declare


@declare.read
def public_rounds(session: Session) -> list[AreaRounds]:
    """Every area by name, with its rounds past concept, newest first."""
    return rounds.list_areas_with_rounds(session)


@declare.read
def published_result(session: Session, slug: str) -> ResultView:
    """The round's result; ``NotFound`` until it is published."""
    return results.public_view(session, slug)


@declare.read
def plan_points(session: Session, slug: str) -> dict[str, tuple[float | None, float | None]]:
    """The places of a round's plans (latitude, longitude), by public id; read now, not from the
    count: a place is not part of the result."""
    points = places.points_of_round(session, lookup.public_round(session, slug).id)
    return {public_id: places.degrees(point) for public_id, point in points.items()}
