"""Contact details and content pages: checked, stored, audited by field name only."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed
from proeftuin.models import AuditEvent, Role, SitePage
from proeftuin.services import site_content
from proeftuin.services.permissions import Actor
from proeftuin.services.site_content import ContactInput
from tests.factories import make_staff

MODERATOR = Actor(staff_id=99, role=Role.MODERATOR.value, area_ids=frozenset())


@pytest.fixture
def admin(db: Database) -> Actor:
    return transact(db, make_staff, Role.ADMIN.value)


def _events(db: Database) -> list[tuple[str, dict[str, object]]]:
    rows = read(db, lambda s: s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all())
    return [(e.action, json.loads(e.details)) for e in rows]


def test_contact_details_are_tidied_stored_and_read_back(db: Database, admin: Actor) -> None:
    typed = ContactInput(
        phone="  +31 592  123 456 ",
        email=" info@veenhoven.nl ",
        address="Marktplein 1\r\n\r\n 9401 AA  Veenhoven ",
        opening_hours="ma-vr 9-17\x07",
    )
    transact(db, site_content.update_contact, admin, typed)
    found = read(db, site_content.contact_details)
    assert found.phone == "+31 592 123 456" and found.phone_link == "+31592123456"
    assert found.email == "info@veenhoven.nl"
    assert found.address_lines == ("Marktplein 1", "9401 AA Veenhoven")
    assert found.hours_lines == ("ma-vr 9-17",)
    assert _events(db) == [
        (
            "site.contact_update",
            {"fields": ["telefoon", "e-mailadres", "bezoekadres", "openingstijden"]},
        )
    ]
    transact(db, site_content.update_contact, admin, typed)  # nothing changed: nothing logged
    assert len(_events(db)) == 1


def test_no_contact_details_is_an_empty_set(db: Database) -> None:
    assert read(db, site_content.contact_details).is_empty


def test_every_bad_field_is_named_at_once(db: Database, admin: Actor) -> None:
    typed = ContactInput(phone="0592-abc", email="info@", opening_hours="x" * 1001)
    with pytest.raises(InvalidForm) as raised:
        transact(db, site_content.update_contact, admin, typed)
    assert set(raised.value.errors) == {"phone", "email", "opening_hours"}
    assert read(db, site_content.contact_details).is_empty


def test_only_an_admin_changes_the_site(db: Database) -> None:
    with pytest.raises(NotAllowed):
        transact(db, site_content.update_contact, MODERATOR, ContactInput(phone="14 0592"))
    with pytest.raises(NotAllowed):
        transact(db, site_content.update_page, MODERATOR, SitePage.PRIVACY, "Tekst")


def test_a_page_text_is_stored_replaced_and_reset(db: Database, admin: Actor) -> None:
    assert read(db, site_content.page_text, SitePage.ACCESSIBILITY) is None
    transact(db, site_content.update_page, admin, SitePage.ACCESSIBILITY, " Eerste\r\n")
    transact(db, site_content.update_page, admin, SitePage.ACCESSIBILITY, "Eerste")  # same
    transact(db, site_content.update_page, admin, SitePage.ACCESSIBILITY, "Tweede")
    assert read(db, site_content.page_text, SitePage.ACCESSIBILITY) == "Tweede"
    transact(db, site_content.update_page, admin, SitePage.ACCESSIBILITY, "   ")
    assert read(db, site_content.page_text, SitePage.ACCESSIBILITY) is None
    assert [a for a, _ in _events(db)] == [
        "site.page_update",
        "site.page_update",
        "site.page_reset",
    ]
    assert _events(db)[0][1] == {"page": "accessibility", "characters": 6}


def test_a_page_longer_than_the_limit_is_refused(db: Database, admin: Actor) -> None:
    with pytest.raises(Invalid, match="te lang"):
        transact(
            db,
            site_content.update_page,
            admin,
            SitePage.PRIVACY,
            "x" * (site_content.PAGE_LIMIT + 1),
        )
    assert _events(db) == []
