"""What several page modules share: how the public pages name a round.

Modules of this package whose names start with an underscore hold no page functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from proeftuin.models import Phase, Round


@dataclass(frozen=True)
class RoundBrief:
    slug: str
    title: str
    phase: Phase
    budget: int
    area_slug: str
    area_name: str


def round_brief(round_: Round) -> RoundBrief:
    """A round with its area loaded, as the public pages name it."""
    return RoundBrief(
        slug=round_.slug,
        title=round_.title,
        phase=Phase(round_.phase),
        budget=round_.budget,
        area_slug=round_.area.slug,
        area_name=round_.area.name,
    )
