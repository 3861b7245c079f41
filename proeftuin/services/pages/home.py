"""The front page (every area with its public rounds) and the health check."""

from __future__ import annotations

from sqlalchemy.orm import Session

from proeftuin.services import health, rounds
from proeftuin.services.rounds import AreaRounds as AreaRounds

from . import declare


@declare.read
def areas_with_rounds(session: Session) -> list[AreaRounds]:
    """Every area by name, with its rounds past concept, newest first."""
    return rounds.list_areas_with_rounds(session)


@declare.read
def voting_open(session: Session) -> bool:
    """Whether some round is in its voting phase (the navigation then offers "Stemmen")."""
    return rounds.any_voting(session)


@declare.read
def ping(session: Session) -> None:
    """Raise when the database does not answer."""
    health.ping(session)
