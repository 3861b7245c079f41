"""Places: a plan's point on the map, beside its location in words, and an area's boundary.

A point is stored in millionths of a degree (WGS84 latitude and longitude, about 11 cm), so
both databases keep exactly what was chosen. Its author sets it while the plan may change
(``plans.can_edit``), staff at any time (in the audit log); an author who cannot find the spot
types the address in the plan's location and staff set the point. A point outside the
Netherlands, or outside the round's area boundary, is kept, but staff get a warning: a pin in the
sea is more often a slip than a plan.

An area's boundary is GeoJSON (a Polygon or MultiPolygon, bare or in a Feature or
FeatureCollection) uploaded by an admin; only the outer rings are kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, _
from proeftuin.models import Area, Plan
from proeftuin.services import audit, permissions, plans
from proeftuin.services.permissions import Actor

SCALE = 1_000_000
# The European Netherlands, drawn coarsely and a little generously by hand (within some 5 km of
# the border; the coast and the Wadden islands with a margin out to sea), as (longitude, latitude).
# Enough to catch a pin in Belgium, Germany or the sea; a warning only, never a refusal.
# fmt: off
NETHERLANDS: tuple[tuple[float, float], ...] = (
    (3.30, 51.36), (3.78, 51.19), (4.02, 51.23), (4.38, 51.34), (4.75, 51.40),
    (5.05, 51.40), (5.25, 51.24), (5.55, 51.20), (5.72, 51.02), (5.62, 50.83),
    (5.66, 50.72), (6.05, 50.72), (6.12, 50.90), (6.20, 51.15), (6.25, 51.40),
    (6.02, 51.70), (6.20, 51.86), (6.85, 51.94), (7.10, 52.22), (7.10, 52.45),
    (6.78, 52.62), (7.12, 52.85), (7.25, 53.05), (7.28, 53.30), (6.95, 53.45),
    (6.60, 53.65), (5.90, 53.58), (5.10, 53.45), (4.60, 53.20), (4.50, 52.90),
    (4.40, 52.50), (4.05, 52.10), (3.70, 51.85), (3.25, 51.55),
)
# fmt: on
BOUNDARY_MAX_CHARS = 500_000
BOUNDARY_MAX_POINTS = 20_000

NOT_A_NUMBER = _("Vul een getal in, zoals 52,9925 of 6,5649.")
BOTH = _("Vul zowel de breedte als de lengte in, of laat beide leeg.")
OUT_OF_RANGE = _("Deze plek bestaat niet op de aarde. Kies de plek op de kaart.")
OUTSIDE_NL = _("Deze plek ligt buiten Nederland. Klopt de plek op de kaart?")
OUTSIDE_AREA = _("Deze plek ligt buiten het gebied van de ronde. Klopt de plek op de kaart?")
BAD_BOUNDARY = _(
    "Dit is geen geldige grens. Kies een GeoJSON-bestand met een Polygon of MultiPolygon, "
    "in lengte- en breedtegraden."
)
BOUNDARY_TOO_LARGE = _("De grens is te groot. Vereenvoudig de grens (hooguit 20.000 punten).")


@dataclass(frozen=True)
class Point:
    latitude_e6: int
    longitude_e6: int

    @property
    def latitude(self) -> float:
        return self.latitude_e6 / SCALE

    @property
    def longitude(self) -> float:
        return self.longitude_e6 / SCALE


Ring = Sequence[tuple[float, float]]  # (longitude, latitude), as GeoJSON has them


def point(latitude_e6: int | None, longitude_e6: int | None) -> Point | None:
    """The point of a plan's two columns; None when it has none."""
    if latitude_e6 is None or longitude_e6 is None:
        return None
    return Point(latitude_e6, longitude_e6)


def point_of(plan: Plan) -> Point | None:
    return point(plan.latitude_e6, plan.longitude_e6)


def points_of_round(session: Session, round_id: int) -> dict[str, Point]:
    """The points of a round's plans, by public id (plans without one left out)."""
    rows = session.execute(
        select(Plan.public_id, Plan.latitude_e6, Plan.longitude_e6).where(
            Plan.round_id == round_id, Plan.latitude_e6.is_not(None)
        )
    )
    return {row.public_id: Point(row.latitude_e6, row.longitude_e6) for row in rows}


def degrees(found: Point | None) -> tuple[float | None, float | None]:
    """(latitude, longitude) for the API; (None, None) without a point."""
    return (None, None) if found is None else (found.latitude, found.longitude)


def decimal_degrees(found: Point | None) -> tuple[str, str]:
    """(latitude, longitude) with their six decimals, for a CSV file; empty without a point."""
    return ("", "") if found is None else (f"{found.latitude:.6f}", f"{found.longitude:.6f}")


def parse_point(latitude: str, longitude: str) -> Point | None:
    """The point typed (or set by the map) in a form; None when both are empty."""
    typed = latitude.strip(), longitude.strip()
    if not any(typed):
        return None
    if not all(typed):
        raise Invalid("latitude", BOTH)
    values = []
    for field, text in zip(("latitude", "longitude"), typed, strict=True):
        try:
            value = float(text.replace(",", "."))
        except ValueError as error:
            raise Invalid(field, NOT_A_NUMBER) from error
        if not math.isfinite(value):
            raise Invalid(field, NOT_A_NUMBER)
        values.append(value)
    lat, lon = values
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid("latitude", OUT_OF_RANGE)
    return Point(round(lat * SCALE), round(lon * SCALE))


def set_as_author(session: Session, public_id: str, resident_id: int, point: Point | None) -> None:
    _set(plans.editable_own_plan(session, public_id, resident_id), point)


def set_as_staff(session: Session, actor: Actor, plan: Plan, point: Point | None) -> None:
    permissions.require_area(actor, plan.round.area_id)
    _set(plan, point)
    where = [] if point is None else [point.latitude_e6, point.longitude_e6]
    audit.record(
        session, actor.staff_id, "plan.place", "plan", plan.id, plan.round.area_id, point=where
    )


def _set(plan: Plan, point: Point | None) -> None:
    plan.latitude_e6 = None if point is None else point.latitude_e6
    plan.longitude_e6 = None if point is None else point.longitude_e6


def warnings(point: Point | None, boundary: str) -> list[str]:
    """What staff should check about a plan's point (Dutch msgids)."""
    if point is None:
        return []
    if not _inside(point.longitude, point.latitude, NETHERLANDS):
        return [OUTSIDE_NL]
    rings = rings_of(boundary)
    if rings and not any(_inside(point.longitude, point.latitude, ring) for ring in rings):
        return [OUTSIDE_AREA]
    return []


# -- boundaries ---------------------------------------------------------------------------------


def parse_boundary(data: bytes) -> str:
    """The boundary as it is stored: a GeoJSON MultiPolygon of the outer rings; "" for none."""
    if not data.strip():
        return ""
    if len(data) > BOUNDARY_MAX_CHARS:
        raise Invalid("boundary", BOUNDARY_TOO_LARGE)
    try:
        rings = list(_outer_rings(json.loads(data.decode("utf-8"))))
    except (ValueError, TypeError, KeyError, IndexError) as error:  # UnicodeDecodeError too
        raise Invalid("boundary", BAD_BOUNDARY) from error
    if not rings:
        raise Invalid("boundary", BAD_BOUNDARY)
    if sum(len(ring) for ring in rings) > BOUNDARY_MAX_POINTS:
        raise Invalid("boundary", BOUNDARY_TOO_LARGE)
    shape = {"type": "MultiPolygon", "coordinates": [[[list(p) for p in r]] for r in rings]}
    return json.dumps(shape, separators=(",", ":"))


def set_boundary(session: Session, actor: Actor, area: Area, data: bytes) -> None:
    """Admins only: the boundary is the gemeente's, not a moderator's. Empty ``data`` removes it."""
    permissions.require_admin(actor)
    area.boundary = parse_boundary(data)
    audit.record(
        session,
        actor.staff_id,
        "area.boundary",
        "area",
        area.id,
        area.id,
        points=sum(len(ring) for ring in rings_of(area.boundary)),
    )


def rings_of(boundary: str) -> list[Ring]:
    """The outer rings of a stored boundary."""
    if not boundary:
        return []
    return list(_outer_rings(json.loads(boundary)))


def _outer_rings(shape: Any) -> Iterable[Ring]:
    kind = shape["type"]
    if kind == "FeatureCollection":
        for feature in shape["features"]:
            yield from _outer_rings(feature)
    elif kind == "Feature":
        yield from _outer_rings(shape["geometry"])
    elif kind == "Polygon":
        yield _ring(shape["coordinates"][0])
    elif kind == "MultiPolygon":
        for polygon in shape["coordinates"]:
            yield _ring(polygon[0])
    else:
        raise ValueError(kind)


def _ring(points: Any) -> Ring:
    ring = [(float(p[0]), float(p[1])) for p in points]
    if len(ring) < 4 or not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring):
        raise ValueError("not a ring of longitudes and latitudes")
    return ring


def _inside(x: float, y: float, ring: Ring) -> bool:
    """Whether (x, y) lies inside the ring (even-odd rule, on the plane: fine at a town's size)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside
