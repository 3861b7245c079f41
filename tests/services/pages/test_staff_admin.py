"""The dashboard and the admin's pages: areas, staff members and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest

from proeftuin.db import Database, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, NotFound
from proeftuin.models import StaffUser
from proeftuin.services.accounts import password_hasher
from proeftuin.services.pages import staff_admin
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.pages.staff_admin import AreaInput
from proeftuin.services.permissions import Actor
from tests.factories import make_round, make_staff

NOW = dt.datetime(2027, 3, 3, 9, 0, tzinfo=dt.UTC)


def _two_areas_and_staff(db: Database) -> tuple[int, int, Actor, Actor]:
    """Two areas with a round each, a moderator of the first, and an admin."""

    def build(session):  # type: ignore[no-untyped-def]
        first = make_round(session, plan_prefix="a").area_id
        second = make_round(session, plan_prefix="b").area_id
        moderator = make_staff(session, area_ids=[first])
        return first, second, moderator, make_staff(session, role="admin")

    return transact(db, build)


def test_a_moderators_dashboard_shows_only_their_own_areas(db: Database) -> None:
    first, second, moderator, admin = _two_areas_and_staff(db)
    assert [a.id for a in perform_now(db, staff_admin.overview, moderator)] == [first]
    everything = perform_now(db, staff_admin.overview, admin)
    assert {a.id for a in everything} == {first, second}
    assert all(len(a.rounds) == 1 for a in everything)


def test_an_area_is_for_admins_and_must_exist(db: Database) -> None:
    first, _, moderator, admin = _two_areas_and_staff(db)
    with pytest.raises(NotAllowed):
        perform_now(db, staff_admin.area, moderator, first)
    with pytest.raises(NotFound):
        perform_now(db, staff_admin.area, admin, 999_999)
    area = perform_now(db, staff_admin.area, admin, first)
    assert staff_admin.as_input(area).slug == area.slug


def test_an_area_is_created_changed_and_removed(db: Database) -> None:
    *_, admin = _two_areas_and_staff(db)
    data = AreaInput(name="Zuid", slug="zuid", kind="wijk", postcodes="9402")
    created = perform_now(db, staff_admin.create_area, admin, data)
    assert (created.name, created.rounds) == ("Zuid", ())
    with pytest.raises(InvalidForm):  # the slug is taken
        perform_now(db, staff_admin.create_area, admin, AreaInput(name="Zuid 2", slug="zuid"))
    changed = AreaInput(name="Zuidoost", slug="zuid", kind="wijk", postcodes="9402")
    perform_now(db, staff_admin.update_area, admin, created.id, changed)
    assert perform_now(db, staff_admin.area, admin, created.id).name == "Zuidoost"
    assert perform_now(db, staff_admin.delete_area, admin, created.id) == "Zuidoost"
    with pytest.raises(NotFound):
        perform_now(db, staff_admin.area, admin, created.id)


def test_an_area_with_rounds_stays(db: Database) -> None:
    first, _, _, admin = _two_areas_and_staff(db)
    with pytest.raises(Invalid):
        perform_now(db, staff_admin.delete_area, admin, first)
    assert perform_now(db, staff_admin.area, admin, first).id == first


def test_an_invited_member_gets_areas_and_a_new_password_on_reset(db: Database) -> None:
    first, second, moderator, admin = _two_areas_and_staff(db)
    with pytest.raises(NotAllowed):
        perform_now(db, staff_admin.members, moderator)
    invited = perform_now(
        db, staff_admin.invite, admin, "nieuw@gemeente.nl", "Nieuw", "moderator", (first,)
    )
    assert [a.id for a in invited.member.areas] == [first]
    assert invited.member.id in {m.id for m in perform_now(db, staff_admin.members, admin)}

    perform_now(db, staff_admin.assign_area, admin, invited.member.id, second)
    perform_now(db, staff_admin.unassign_area, admin, invited.member.id, first)
    detail = perform_now(db, staff_admin.member, admin, invited.member.id)
    assert [a.id for a in detail.member.areas] == [second]
    assert [a.id for a in detail.other_areas] == [first]

    reset = perform_now(db, staff_admin.reset_password, admin, invited.member.id, NOW)
    assert reset.member.id == invited.member.id
    assert reset.password != invited.password
    stored = transact(db, lambda s: s.get(StaffUser, invited.member.id).password_hash)
    assert password_hasher.verify(stored, reset.password)


def test_an_admin_cannot_reset_or_switch_off_their_own_account(db: Database) -> None:
    *_, admin = _two_areas_and_staff(db)
    with pytest.raises(Invalid):
        perform_now(db, staff_admin.reset_password, admin, admin.staff_id, NOW)
    with pytest.raises(Invalid):
        perform_now(db, staff_admin.set_active, admin, admin.staff_id, False, NOW)
    detail = perform_now(db, staff_admin.member, admin, admin.staff_id)
    assert detail.member.active


def test_exporting_the_audit_log_is_itself_logged(db: Database) -> None:
    *_, moderator, admin = _two_areas_and_staff(db)
    with pytest.raises(NotAllowed):
        perform_now(db, staff_admin.audit_page, moderator, 1)
    assert perform_now(db, staff_admin.audit_page, admin, 1).total == 0
    found = perform_now(db, staff_admin.audit_export, admin, "csv")
    assert found.extension == "csv"
    assert found.content.decode("utf-8-sig").splitlines()[0].startswith("Nummer;")
    log = perform_now(db, staff_admin.audit_page, admin, 1)
    assert [e.action for e in log.entries] == ["audit.export"]
