"""Places: points typed or set by the map, who sets them, the warnings for staff, and area
boundaries; on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed, PhaseClosed
from proeftuin.models import Area, Phase, Plan
from proeftuin.services import places
from tests.factories import actions, make_plan, make_resident, make_round, make_staff

ASSEN = places.Point(52_992_500, 6_564_900)
# A square around the centre of Assen, as an admin would upload it.
SQUARE = {
    "type": "Feature",
    "properties": {"naam": "Centrum"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[6.55, 52.98], [6.58, 52.98], [6.58, 53.00], [6.55, 53.00], [6.55, 52.98]]
        ],
    },
}


def test_a_point_is_typed_with_a_comma_or_a_dot_and_kept_exactly() -> None:
    assert places.parse_point("52,9925", " 6.5649 ") == ASSEN
    assert places.parse_point("", "  ") is None
    assert places.parse_point("52.9925", "6.5649").latitude == 52.9925  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("latitude", "longitude", "field", "message"),
    [
        ("52,99", "", "latitude", places.BOTH),
        ("ergens", "6,5", "latitude", places.NOT_A_NUMBER),
        ("52", "nan", "longitude", places.NOT_A_NUMBER),
        ("91", "6", "latitude", places.OUT_OF_RANGE),
        ("52", "-181", "latitude", places.OUT_OF_RANGE),
    ],
)
def test_a_wrong_point_is_refused_in_dutch(
    latitude: str, longitude: str, field: str, message: str
) -> None:
    with pytest.raises(Invalid) as caught:
        places.parse_point(latitude, longitude)
    assert (caught.value.field, caught.value.message) == (field, message)


def test_staff_are_warned_about_a_point_outside_the_netherlands_or_the_area() -> None:
    boundary = places.parse_boundary(json.dumps(SQUARE).encode())
    assert places.warnings(ASSEN, boundary) == []
    assert places.warnings(ASSEN, "") == []
    assert places.warnings(None, boundary) == []
    paris = places.Point(48_856_600, 2_352_200)
    assert places.warnings(paris, "") == [places.OUTSIDE_NL]
    groningen = places.Point(53_219_400, 6_566_500)
    assert places.warnings(groningen, boundary) == [places.OUTSIDE_AREA]
    assert places.warnings(groningen, "") == []


def test_a_boundary_keeps_its_outer_rings_only() -> None:
    with_hole = {
        "type": "MultiPolygon",
        "coordinates": [
            [
                [[6.5, 52.9], [6.6, 52.9], [6.6, 53.0], [6.5, 52.9]],
                [[6.52, 52.92], [6.53, 52.92], [6.53, 52.93], [6.52, 52.92]],
            ]
        ],
    }
    stored = json.loads(places.parse_boundary(json.dumps(with_hole).encode()))
    assert stored["type"] == "MultiPolygon" and len(stored["coordinates"]) == 1
    assert places.parse_boundary(b"  ") == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"geen json", places.BAD_BOUNDARY),
        (b'{"type": "Point", "coordinates": [6.5, 52.9]}', places.BAD_BOUNDARY),
        (
            # metres (a Dutch or a web map's projection), not degrees
            b'{"type": "Polygon", "coordinates": [[[655000, 5870000], [1, 2], [3, 4], [9, 9]]]}',
            places.BAD_BOUNDARY,
        ),
        (b'{"type": "FeatureCollection", "features": []}', places.BAD_BOUNDARY),
        (b"\xff\xfe", places.BAD_BOUNDARY),
        (b" " * (places.BOUNDARY_MAX_CHARS + 1) + b"{}", places.BOUNDARY_TOO_LARGE),
    ],
)
def test_a_bad_boundary_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        places.parse_boundary(data)
    assert caught.value.message == message


def test_the_author_sets_the_point_while_the_plan_may_change_and_staff_always(
    db: Database,
) -> None:
    def build(session: Session) -> tuple[int, int, object, object]:
        round_ = make_round(session, phase=Phase.INDIENEN, costs=())
        author, other = make_resident(session), make_resident(session)
        make_plan(session, round_, "plein", author=author)
        staff = make_staff(session, area_ids=[round_.area_id])
        stranger = make_staff(session, area_ids=[])
        return author.id, other.id, staff, stranger

    author, other, staff, stranger = transact(db, build)
    transact(db, places.set_as_author, "plein", author, ASSEN)
    with pytest.raises(NotAllowed):
        transact(db, places.set_as_author, "plein", other, None)

    def plan_of(session: Session) -> Plan:
        plan = session.scalar(select(Plan).where(Plan.public_id == "plein"))
        assert plan is not None
        return plan

    assert places.point_of(read(db, plan_of)) == ASSEN

    def close(session: Session) -> None:
        plan_of(session).round.phase = Phase.BEOORDELEN.value

    transact(db, close)
    with pytest.raises(PhaseClosed):
        transact(db, places.set_as_author, "plein", author, None)
    transact(db, lambda s: places.set_as_staff(s, staff, plan_of(s), None))  # type: ignore[arg-type]
    with pytest.raises(NotAllowed):
        transact(db, lambda s: places.set_as_staff(s, stranger, plan_of(s), ASSEN))  # type: ignore[arg-type]
    assert places.point_of(read(db, plan_of)) is None
    assert actions(db) == ["plan.place"]


def test_only_an_admin_sets_a_boundary_in_the_audit_log(db: Database) -> None:
    def build(session: Session) -> tuple[int, object, object]:
        round_ = make_round(session, costs=())
        return round_.area_id, make_staff(session, "admin"), make_staff(session, area_ids=[])

    area_id, admin, moderator = transact(db, build)

    def set_boundary(actor: object, data: bytes) -> None:
        transact(db, lambda s: places.set_boundary(s, actor, s.get(Area, area_id), data))  # type: ignore[arg-type]

    with pytest.raises(NotAllowed):
        set_boundary(moderator, json.dumps(SQUARE).encode())
    set_boundary(admin, json.dumps(SQUARE).encode())
    stored = read(db, lambda s: s.get(Area, area_id).boundary)  # type: ignore[union-attr]
    assert places.rings_of(stored)[0][0] == (6.55, 52.98)
    assert actions(db) == ["area.boundary"]
