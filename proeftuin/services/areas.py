"""Areas (wijk, dorp, gebied): what staff see of them, and how an admin manages them.

An area's postcodes are PC4 ranges ("9401-9405,9410"); empty means the whole gemeente. Only an
admin creates, edits or removes areas; a moderator sees the areas they belong to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from proeftuin.errors import Invalid, InvalidForm, NotFound, _
from proeftuin.models import Area, AreaKind, AuditEvent, Membership, Phase, Round
from proeftuin.services import audit, permissions
from proeftuin.services.permissions import Actor

NAME_LIMIT = 200
SLUG_LIMIT = 80
POSTCODES_LIMIT = 500
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PC4 = re.compile(r"[1-9][0-9]{3}")


@dataclass(frozen=True)
class AreaInput:
    """What an admin typed; checked by ``validate``."""

    name: str = ""
    slug: str = ""
    kind: str = AreaKind.WIJK.value
    council_name: str = ""
    postcodes: str = ""


@dataclass(frozen=True)
class RoundLine:
    slug: str
    title: str
    phase: Phase
    budget: int
    id: int = 0


@dataclass(frozen=True)
class AreaOverview:
    id: int
    name: str
    slug: str
    kind: str
    council_name: str
    postcodes: str
    rounds: tuple[RoundLine, ...]


# -- Reading ---------------------------------------------------------------------------------------


def overview(session: Session, actor: Actor) -> list[AreaOverview]:
    """The areas the actor works for (an admin: all of them), by name, with their rounds."""
    query = select(Area).options(selectinload(Area.rounds)).order_by(Area.name, Area.id)
    if not actor.is_admin:
        query = query.where(Area.id.in_(list(actor.area_ids)))
    return [_overview(area) for area in session.scalars(query)]


def get_area(session: Session, actor: Actor, area_id: int) -> AreaOverview:
    permissions.require_admin(actor)
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    return _overview(area)


def as_input(area: AreaOverview) -> AreaInput:
    """To fill in the edit form."""
    return AreaInput(
        name=area.name,
        slug=area.slug,
        kind=area.kind,
        council_name=area.council_name,
        postcodes=area.postcodes,
    )


def _overview(area: Area) -> AreaOverview:
    return AreaOverview(
        id=area.id,
        name=area.name,
        slug=area.slug,
        kind=area.kind,
        council_name=area.council_name,
        postcodes=area.postcodes,
        rounds=tuple(
            RoundLine(slug=r.slug, title=r.title, phase=Phase(r.phase), budget=r.budget, id=r.id)
            for r in sorted(area.rounds, key=lambda r: r.id, reverse=True)
        ),
    )


# -- Changing (admins only) ------------------------------------------------------------------------


def create_area(session: Session, actor: Actor, data: AreaInput) -> AreaOverview:
    permissions.require_admin(actor)
    values = validate(session, data)
    area = Area(**values)
    session.add(area)
    session.flush()
    # area_id stays empty: it would tie the log to the area, and an unused area may be removed.
    audit.record(session, actor.staff_id, "area.create", "area", area.id, name=area.name)
    return _overview(area)


def update_area(session: Session, actor: Actor, area_id: int, data: AreaInput) -> AreaOverview:
    permissions.require_admin(actor)
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    values = validate(session, data, area_id=area.id)
    changed = sorted(k for k, v in values.items() if getattr(area, k) != v)
    for key, value in values.items():
        setattr(area, key, value)
    session.flush()
    if changed:
        audit.record(
            session, actor.staff_id, "area.update", "area", area.id, name=area.name, fields=changed
        )
    return _overview(area)


def delete_area(session: Session, actor: Actor, area_id: int) -> str:
    """Remove an area that was never used (no rounds, nothing in the log); returns its name."""
    permissions.require_admin(actor)
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound()
    if session.scalar(select(func.count(Round.id)).where(Round.area_id == area.id)):
        raise Invalid("", _("Dit gebied heeft rondes. Het blijft daarom bestaan."))
    if session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.area_id == area.id)):
        raise Invalid("", _("Over dit gebied staat al iets in het logboek. Het blijft bestaan."))
    name = area.name
    session.execute(delete(Membership).where(Membership.area_id == area.id))
    session.delete(area)
    session.flush()
    audit.record(session, actor.staff_id, "area.delete", "area", area_id, name=name)
    return name


# -- Checking --------------------------------------------------------------------------------------


def validate(session: Session, data: AreaInput, area_id: int | None = None) -> dict[str, str]:
    """The cleaned values, or InvalidForm with a Dutch message for every wrong field."""
    errors: list[Invalid] = []
    values: dict[str, str] = {}

    name = " ".join(data.name.split())
    if not name or len(name) > NAME_LIMIT:
        errors.append(
            Invalid("name", _("Vul een naam in van hoogstens {limit} tekens."), limit=200)
        )
    values["name"] = name

    slug = data.slug.strip().lower()
    if not slug or len(slug) > SLUG_LIMIT or not SLUG.fullmatch(slug):
        errors.append(
            Invalid(
                "slug",
                _(
                    "Vul een korte naam voor in de webadressen in: kleine letters, cijfers en "
                    "streepjes, zoals wijk-noord."
                ),
            )
        )
    elif (
        session.scalar(select(Area.id).where(Area.slug == slug, Area.id != (area_id or 0)))
        is not None
    ):
        errors.append(
            Invalid("slug", _("Er is al een gebied met deze korte naam. Kies een andere."))
        )
    values["slug"] = slug

    kind = data.kind.strip()
    if kind not in {k.value for k in AreaKind}:
        errors.append(Invalid("kind", _("Kies of dit een wijk, een dorp of een gebied is.")))
    values["kind"] = kind

    council = " ".join(data.council_name.split())
    if len(council) > NAME_LIMIT:
        errors.append(
            Invalid("council_name", _("Gebruik voor de raad hoogstens {limit} tekens."), limit=200)
        )
    values["council_name"] = council

    try:
        values["postcodes"] = normalise_postcodes(data.postcodes)
    except Invalid as error:
        errors.append(error)

    if errors:
        raise InvalidForm(errors)
    return values


POSTCODES_MESSAGE = _(
    "Vul de postcodes in als cijfers van vier, los of als reeks, met komma's ertussen: "
    "bijvoorbeeld 9401-9405, 9410. Dit klopt niet: {part}"
)


def normalise_postcodes(typed: str) -> str:
    """``" 9401 - 9405 ; 9410"`` → ``"9401-9405,9410"``; empty stays empty (whole gemeente)."""
    parts = [p.strip() for p in re.split(r"[,;\n]", typed) if p.strip()]
    ranges: list[tuple[int, int]] = []
    for part in parts:
        low, sep, high = (s.strip() for s in part.partition("-"))
        high = high if sep else low
        if not (PC4.fullmatch(low) and PC4.fullmatch(high)) or int(low) > int(high):
            raise Invalid("postcodes", POSTCODES_MESSAGE, part=part[:20])
        ranges.append((int(low), int(high)))
    text = ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in sorted(set(ranges)))
    if len(text) > POSTCODES_LIMIT:
        raise Invalid(
            "postcodes", _("Dit zijn te veel postcodes. Voeg reeksen samen, zoals 9401-9409.")
        )
    return text
