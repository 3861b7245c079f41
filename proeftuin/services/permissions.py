"""Who may do what: the one check every staff service calls before touching an area's data.

Admins act for the whole gemeente; moderators only for the areas they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

from proeftuin.errors import NotAllowed
from proeftuin.models import Role


@dataclass(frozen=True)
class Actor:
    staff_id: int
    role: str
    area_ids: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def require_area(actor: Actor, area_id: int) -> None:
    if not actor.is_admin and area_id not in actor.area_ids:
        raise NotAllowed()


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed("Alleen een beheerder van de gemeente kan dit doen.")
