"""The page tier of the gemeente's own site, through its declared transactions."""

from __future__ import annotations

import pytest

from proeftuin.db import Database, transact
from proeftuin.errors import NotAllowed
from proeftuin.models import Phase, Role
from proeftuin.services.pages import site
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.permissions import Actor
from tests.factories import add_area, add_round, make_staff


@pytest.fixture
def admin(db: Database) -> Actor:
    return transact(db, make_staff, Role.ADMIN.value)


def test_site_info_is_empty_until_an_admin_fills_it_in(db: Database, admin: Actor) -> None:
    assert perform_now(db, site.site_info) == site.EMPTY_SITE
    data = site.ContactInput(gemeente_name="Gemeente Veenhoven", phone="14 0592")
    perform_now(db, site.update_contact, admin, data)
    info = perform_now(db, site.site_info)
    assert info.gemeente_name == "Gemeente Veenhoven" and info.contact.phone == "14 0592"


def test_how_it_works_lists_the_open_rounds_with_their_rules(db: Database) -> None:
    area = add_area(db, "noord", "Noord")
    add_round(db, area, "open", "Open ronde", budget=40_000, phase=Phase.INDIENEN)
    add_round(db, area, "dicht", "Gesloten ronde", budget=40_000, phase=Phase.GESLOTEN)
    page = perform_now(db, site.content_page, site.SitePage.HOW_IT_WORKS, "G", "nl")
    assert page.is_default and [r.slug for r in page.rounds] == ["open"]
    assert page.rounds[0].budget == 40_000 and page.rounds[0].kind_name
    privacy = perform_now(db, site.content_page, site.SitePage.PRIVACY, "G", "nl")
    assert privacy.rounds == ()


def test_the_forms_are_for_admins(db: Database) -> None:
    moderator = Actor(staff_id=9, role=Role.MODERATOR.value, area_ids=frozenset())
    with pytest.raises(NotAllowed):
        perform_now(db, site.settings_page, moderator)
    with pytest.raises(NotAllowed):
        perform_now(db, site.page_for_editing, moderator, site.SitePage.PRIVACY, "G", "nl")
