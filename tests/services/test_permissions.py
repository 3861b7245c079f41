"""Who may act for which area: admins for all, moderators for their own areas only."""

from __future__ import annotations

import pytest

from proeftuin.errors import NotAllowed
from proeftuin.models import Role
from proeftuin.services.permissions import Actor, require_admin, require_area

ADMIN = Actor(staff_id=1, role=Role.ADMIN.value, area_ids=frozenset())
MODERATOR = Actor(staff_id=2, role=Role.MODERATOR.value, area_ids=frozenset({10, 11}))


def test_only_the_admin_role_is_admin() -> None:
    assert ADMIN.is_admin
    assert not MODERATOR.is_admin


def test_an_admin_may_act_for_any_area() -> None:
    for area_id in (10, 12, 999):
        require_area(ADMIN, area_id)


def test_a_moderator_may_act_for_their_own_areas_only() -> None:
    require_area(MODERATOR, 10)
    require_area(MODERATOR, 11)
    with pytest.raises(NotAllowed) as refused:
        require_area(MODERATOR, 12)
    assert refused.value.status_code == 403
    assert str(refused.value) == "U heeft geen toegang tot deze pagina."


def test_admin_only_actions_refuse_a_moderator_with_a_reason() -> None:
    require_admin(ADMIN)
    with pytest.raises(NotAllowed) as refused:
        require_admin(MODERATOR)
    assert str(refused.value) == "Alleen een beheerder van de gemeente kan dit doen."
