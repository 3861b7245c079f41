from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, NotFound
from proeftuin.models import Area, AuditEvent, Membership, Role, Round
from proeftuin.services import accounts, areas, audit
from proeftuin.services.permissions import Actor

ADMIN = Actor(staff_id=1, role=Role.ADMIN.value, area_ids=frozenset())
NOORD = areas.AreaInput(
    name="  Noord ", slug="wijk-noord", kind="wijk", council_name="Wijkraad  Noord", postcodes=""
)


@pytest.fixture
def admin(db: Database) -> Actor:
    staff_id = transact(
        db, lambda s: accounts.create_staff(s, "a@gemeente.nl", "Ad", "x" * 12, Role.ADMIN).id
    )
    return Actor(staff_id=staff_id, role=Role.ADMIN.value, area_ids=frozenset())


def moderator_of(*area_ids: int) -> Actor:
    return Actor(staff_id=99, role=Role.MODERATOR.value, area_ids=frozenset(area_ids))


def _events(db: Database) -> list[tuple[str, int | None, dict[str, object]]]:
    rows = read(db, lambda s: s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all())
    return [(e.action, e.target_id, json.loads(e.details)) for e in rows]


# -- postcodes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("", ""),
        ("   ", ""),
        ("9401-9405,9410", "9401-9405,9410"),
        (" 9410 ; 9401 - 9405 ", "9401-9405,9410"),
        ("9401-9405\n9410,9410", "9401-9405,9410"),
        ("1000", "1000"),
        ("9999-9999", "9999"),
    ],
)
def test_postcodes_are_normalised(typed: str, stored: str) -> None:
    assert areas.normalise_postcodes(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["940", "94011", "0940", "9405-9401", "9401-", "-9401", "abcd", "9401 AB", "9401--9405"],
)
def test_malformed_postcodes_are_refused_in_dutch(typed: str) -> None:
    with pytest.raises(Invalid) as caught:
        areas.normalise_postcodes(typed)
    assert caught.value.field == "postcodes"
    assert "bijvoorbeeld 9401-9405, 9410" in str(caught.value)


def test_too_many_postcodes_are_refused() -> None:
    typed = ",".join(str(n) for n in range(1000, 1200, 2))  # 100 single codes, 499 characters
    assert areas.normalise_postcodes(typed)
    with pytest.raises(Invalid, match="te veel"):
        areas.normalise_postcodes(typed + ",1300,1302")


# -- create, update, delete ------------------------------------------------------------------------


def test_admin_creates_an_area_with_cleaned_values_and_an_audit_event(
    db: Database, admin: Actor
) -> None:
    created = transact(db, areas.create_area, admin, NOORD)
    assert (created.name, created.slug, created.council_name) == (
        "Noord",
        "wijk-noord",
        "Wijkraad Noord",
    )
    assert _events(db) == [("area.create", created.id, {"name": "Noord"})]


def test_every_wrong_field_is_reported_at_once(db: Database, admin: Actor) -> None:
    bad = areas.AreaInput(name="", slug="Wijk Noord!", kind="stad", postcodes="94")
    with pytest.raises(InvalidForm) as caught:
        transact(db, areas.create_area, admin, bad)
    assert set(caught.value.errors) == {"name", "slug", "kind", "postcodes"}
    assert read(db, lambda s: s.scalar(select(func.count(Area.id)))) == 0


def test_duplicate_slug_is_refused(db: Database, admin: Actor) -> None:
    transact(db, areas.create_area, admin, NOORD)
    with pytest.raises(InvalidForm) as caught:
        transact(db, areas.create_area, admin, areas.AreaInput(name="Ander", slug="wijk-noord"))
    assert "al een gebied met deze korte naam" in caught.value.errors["slug"].message


def test_update_keeps_its_own_slug_and_logs_the_changed_fields(db: Database, admin: Actor) -> None:
    area = transact(db, areas.create_area, admin, NOORD)
    changed = areas.AreaInput(
        name="Noord", slug="wijk-noord", kind="gebied", council_name="", postcodes="9401"
    )
    updated = transact(db, areas.update_area, admin, area.id, changed)
    assert (updated.kind, updated.postcodes, updated.council_name) == ("gebied", "9401", "")
    assert _events(db)[-1] == (
        "area.update",
        area.id,
        {"name": "Noord", "fields": ["council_name", "kind", "postcodes"]},
    )
    transact(db, areas.update_area, admin, area.id, changed)  # nothing changed: nothing logged
    assert len(_events(db)) == 2


def test_update_refuses_the_slug_of_another_area(db: Database, admin: Actor) -> None:
    transact(db, areas.create_area, admin, NOORD)
    zuid = transact(db, areas.create_area, admin, areas.AreaInput(name="Zuid", slug="zuid"))
    with pytest.raises(InvalidForm):
        transact(
            db, areas.update_area, admin, zuid.id, areas.AreaInput(name="Zuid", slug="wijk-noord")
        )


def test_unused_area_can_be_deleted_with_its_memberships(db: Database, admin: Actor) -> None:
    area = transact(db, areas.create_area, admin, NOORD)
    transact(db, lambda s: s.add(Membership(staff_id=admin.staff_id, area_id=area.id)))
    assert transact(db, areas.delete_area, admin, area.id) == "Noord"
    assert read(db, lambda s: s.scalar(select(func.count(Membership.id)))) == 0
    assert _events(db)[-1] == ("area.delete", area.id, {"name": "Noord"})


def test_area_with_rounds_or_history_stays(db: Database, admin: Actor) -> None:
    area = transact(db, areas.create_area, admin, NOORD)
    transact(
        db,
        lambda s: s.add(
            Round(area_id=area.id, slug="r", title="Ronde", budget=1, tie_break_seed="s")
        ),
    )
    with pytest.raises(Invalid, match="rondes"):
        transact(db, areas.delete_area, admin, area.id)
    other = transact(db, areas.create_area, admin, areas.AreaInput(name="Zuid", slug="zuid"))
    transact(db, audit.record, admin.staff_id, "round.create", "round", 5, other.id)
    with pytest.raises(Invalid, match="logboek"):
        transact(db, areas.delete_area, admin, other.id)


def test_unknown_area_is_not_found(db: Database, admin: Actor) -> None:
    for call in (areas.get_area, areas.delete_area):
        with pytest.raises(NotFound):
            transact(db, call, admin, 404)
    with pytest.raises(NotFound):
        transact(db, areas.update_area, admin, 404, NOORD)


def test_moderators_cannot_manage_areas(db: Database, admin: Actor) -> None:
    area = transact(db, areas.create_area, admin, NOORD)
    moderator = moderator_of(area.id)
    with pytest.raises(NotAllowed):
        transact(db, areas.create_area, moderator, areas.AreaInput(name="Zuid", slug="zuid"))
    with pytest.raises(NotAllowed):
        transact(db, areas.update_area, moderator, area.id, NOORD)
    with pytest.raises(NotAllowed):
        transact(db, areas.delete_area, moderator, area.id)
    with pytest.raises(NotAllowed):
        transact(db, areas.get_area, moderator, area.id)


# -- overview --------------------------------------------------------------------------------------


def test_overview_shows_a_moderator_only_their_own_areas(db: Database, admin: Actor) -> None:
    noord = transact(db, areas.create_area, admin, NOORD)
    zuid = transact(db, areas.create_area, admin, areas.AreaInput(name="Zuid", slug="zuid"))
    transact(
        db,
        lambda s: s.add(
            Round(area_id=zuid.id, slug="z", title="Zuid 2027", budget=5, tie_break_seed="s")
        ),
    )
    assert [a.name for a in read(db, areas.overview, admin)] == ["Noord", "Zuid"]
    seen = read(db, areas.overview, moderator_of(zuid.id))
    assert [a.name for a in seen] == ["Zuid"]
    assert [r.title for r in seen[0].rounds] == ["Zuid 2027"]
    assert read(db, areas.overview, moderator_of(noord.id))[0].rounds == ()
    assert read(db, areas.overview, moderator_of()) == []
