"""The demo's places: every plan of the voting and proposal rounds on the map of the demo town
(a made-up town in Drenthe, where the demo's postcodes are), and a boundary around Centrum-Oost,
set as staff set them, through ``services.places``. Also where the demo's photos are made
(``demo.photos``), so the demo's seeding calls one function for both."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.demo import data
from proeftuin.demo.photos import seed_photos
from proeftuin.demo.rounds import demo_admin, existing_round
from proeftuin.models import Area, Plan
from proeftuin.services import places

# The plans' locations in words -> their point (latitude, longitude).
POINTS: dict[str, tuple[float, float]] = {
    "Julianapark": (52.99720, 6.56880),
    "Schoolstraat": (52.99380, 6.57450),
    "Langs de Vaart": (52.99050, 6.56100),
    "Buurthuis De Schakel": (52.99850, 6.57800),
    "Stationsweg": (52.98900, 6.56800),
    "De Brink": (52.99600, 6.56250),
    "Marktplein": (52.99480, 6.56650),
    "Julianapark en Marktplein": (52.99600, 6.56760),
    "Bloemenbuurt": (53.00100, 6.57200),
    "Rondweg": (53.00300, 6.58350),
    "Hoek Kerkstraat": (52.99420, 6.56400),
    "Dorpshuis": (52.86120, 6.51350),
    "IJsbaan Ter Aa": (52.86600, 6.52300),
    "Achter de school": (52.85900, 6.51000),
}
SPREAD = 0.0004  # a second plan at the same place stands a little north of the first
CENTRUM_OOST = {
    "type": "Polygon",
    "coordinates": [
        [[6.555, 52.986], [6.590, 52.986], [6.590, 53.006], [6.555, 53.006], [6.555, 52.986]]
    ],
}


def seed_photos_and_places(session: Session) -> None:
    seed_photos(session)
    seed_places(session)


def seed_places(session: Session) -> None:
    """Points for the plans that have none, and the boundary of Centrum-Oost if it has none."""
    actor = demo_admin(session)
    area = session.scalar(select(Area).where(Area.slug == data.VOTING_ROUND.area))
    if area is not None and not area.boundary:
        places.set_boundary(session, actor, area, json.dumps(CENTRUM_OOST).encode())
    for spec in (data.VOTING_ROUND, data.PROPOSAL_ROUND):
        round_ = existing_round(session, spec)
        if round_ is None:
            continue
        seen: Counter[str] = Counter()
        for plan in session.scalars(
            select(Plan).where(Plan.round_id == round_.id).order_by(Plan.id)
        ):
            where = POINTS.get(plan.location)
            seen[plan.location] += 1
            if where is None or plan.latitude_e6 is not None:
                continue
            lat = where[0] + SPREAD * (seen[plan.location] - 1)
            point = places.Point(round(lat * places.SCALE), round(where[1] * places.SCALE))
            places.set_as_staff(session, actor, plan, point)
