"""The demo's photos: a drawn picture for every plan of the voting and proposal rounds, made
with Pillow when the demo is seeded (nothing is downloaded, nothing is shipped), and added
through ``services.photos`` as a resident's upload would be: re-encoded, without metadata.

The pictures are simple sketches of the plan's kind (trees for green plans, a bench, lamps, a
playground), each with an alt text that says so.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.demo import data
from proeftuin.demo.rounds import existing_round
from proeftuin.models import Plan, PlanPhoto
from proeftuin.services import photos

SIZE = (960, 640)
HORIZON = 380
Draw = Callable[[ImageDraw.ImageDraw, random.Random], None]


def _trees(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    for _ in range(7):
        x, y = rng.randint(40, 920), rng.randint(HORIZON - 20, HORIZON + 140)
        r = rng.randint(35, 70)
        draw.rectangle((x - 8, y, x + 8, y + r + 40), fill=(110, 75, 40))
        draw.ellipse((x - r, y - 2 * r, x + r, y + 10), fill=(40 + rng.randint(0, 40), 130, 50))


def _benches(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.rectangle((0, HORIZON + 60, 960, HORIZON + 110), fill=(90, 150, 200))  # the water
    for x in range(80, 900, 280):
        y = HORIZON + 170 + rng.randint(-10, 10)
        draw.rectangle((x, y, x + 180, y + 18), fill=(150, 100, 60))
        draw.rectangle((x, y - 50, x + 180, y - 34), fill=(150, 100, 60))
        for leg in (x + 10, x + 160):
            draw.rectangle((leg, y + 18, leg + 10, y + 60), fill=(60, 60, 60))


def _lamps(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.polygon([(430, 640), (530, 640), (490, HORIZON), (470, HORIZON)], fill=(170, 60, 50))
    for i, x in enumerate(range(120, 960, 200)):
        top = HORIZON - 140 + i * 20
        draw.rectangle((x, top, x + 10, 620), fill=(70, 70, 80))
        draw.ellipse((x - 25, top - 30, x + 35, top + 10), fill=(255, 220, 120))


def _play(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.rectangle((120, HORIZON + 120, 840, 620), fill=(200, 160, 110))  # soft ground
    draw.line((250, HORIZON - 60, 200, HORIZON + 200), fill=(200, 40, 40), width=14)
    draw.line((250, HORIZON - 60, 300, HORIZON + 200), fill=(200, 40, 40), width=14)
    draw.line((250, HORIZON - 60, 560, HORIZON - 60), fill=(200, 40, 40), width=14)
    draw.line((560, HORIZON - 60, 610, HORIZON + 200), fill=(200, 40, 40), width=14)
    draw.rectangle((360, HORIZON + 80, 440, HORIZON + 95), fill=(40, 40, 160))
    draw.polygon(
        [(640, HORIZON + 200), (800, HORIZON + 200), (700, HORIZON - 20)], fill=(240, 200, 40)
    )


def _square(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    for x in range(0, 960, 64):
        for y in range(HORIZON, 640, 40):
            shade = 150 + rng.randint(-15, 15)
            draw.rectangle((x, y, x + 62, y + 38), fill=(shade, shade - 10, shade - 20))
    for x in range(100, 900, 260):
        color = rng.choice([(220, 60, 80), (60, 120, 220), (240, 180, 40)])
        draw.polygon(
            [(x, HORIZON + 120), (x + 90, HORIZON - 40), (x + 180, HORIZON + 120)], fill=color
        )


SCENES: dict[str, tuple[Draw, str]] = {
    "groen": (_trees, "Schets: bomen en groen bij {location}."),
    "ontmoeten": (_benches, "Schets: bankjes bij {location}."),
    "veiligheid": (_lamps, "Schets: lantaarns langs de weg bij {location}."),
    "spelen": (_play, "Schets: speeltoestellen bij {location}."),
    "sport": (_play, "Schets: toestellen om te sporten bij {location}."),
}
OTHER: tuple[Draw, str] = (_square, "Schets: het plein bij {location}, met tenten en vlaggen.")


def picture(theme: str, seed: str) -> bytes:
    """A drawn JPEG for a plan of ``theme``; the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 (a drawing, not a secret)
    image = Image.new("RGB", SIZE, (150, 200, 235))
    draw = ImageDraw.Draw(image)
    for y in range(HORIZON):  # the sky, lighter towards the horizon
        draw.line((0, y, SIZE[0], y), fill=(120 + y // 6, 180 + y // 10, 235))
    draw.rectangle((0, HORIZON, SIZE[0], SIZE[1]), fill=(110, 170, 90))
    SCENES.get(theme, OTHER)[0](draw, rng)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_photos(session: Session) -> None:
    """A photo on every plan of the demo's voting and proposal rounds that has none yet."""
    for spec in (data.VOTING_ROUND, data.PROPOSAL_ROUND):
        round_ = existing_round(session, spec)
        if round_ is None:
            continue
        with_photos = select(PlanPhoto.plan_id)
        for plan in session.scalars(
            select(Plan).where(Plan.round_id == round_.id, Plan.id.not_in(with_photos))
        ):
            alt = SCENES.get(plan.theme, OTHER)[1].format(location=plan.location or plan.title)
            upload = photos.Upload(picture(plan.theme, plan.title), "schets.jpg", alt)
            photos.add(session, plan, photos.prepare(upload))
