"""Participatory-budgeting rounds: what the public sees of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from proeftuin.models import Area, Phase, Round


@dataclass(frozen=True)
class RoundSummary:
    slug: str
    title: str
    phase: Phase
    budget: int
    voting_starts_at: dt.datetime | None
    voting_ends_at: dt.datetime | None


@dataclass(frozen=True)
class AreaRounds:
    slug: str
    name: str
    kind: str
    rounds: tuple[RoundSummary, ...]


def list_areas_with_rounds(session: Session) -> list[AreaRounds]:
    """Every area by name, with its public rounds, newest first.

    Rounds still in preparation (concept) are the moderators' drafts and are left out.
    """
    areas = session.scalars(
        select(Area).options(selectinload(Area.rounds)).order_by(Area.name, Area.id)
    ).all()
    return [
        AreaRounds(
            slug=area.slug,
            name=area.name,
            kind=area.kind,
            rounds=tuple(
                _summary(r)
                for r in sorted(area.rounds, key=lambda r: r.id, reverse=True)
                if r.phase != Phase.CONCEPT
            ),
        )
        for area in areas
    ]


def _summary(round_: Round) -> RoundSummary:
    return RoundSummary(
        slug=round_.slug,
        title=round_.title,
        phase=Phase(round_.phase),
        budget=round_.budget,
        voting_starts_at=round_.voting_starts_at,
        voting_ends_at=round_.voting_ends_at,
    )
