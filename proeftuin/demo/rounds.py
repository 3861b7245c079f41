"""The demo's people, areas and rounds, entered as staff and residents enter them: through the
same checked services (an admin creates areas and rounds and moves them on, a resident proposes
the plans, the admin puts them on the ballot). What exists is left alone."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.demo import data
from proeftuin.demo.data import DemoRound
from proeftuin.models import Area, Phase, Plan, Resident, Role, Round, StaffUser
from proeftuin.services import accounts, areas, lookup, moderation, plans, residents, rounds
from proeftuin.services.permissions import Actor

PlanRow = tuple[str, str, int, str, str, bool]  # title, summary, cost, theme, location, self-run


def demo_admin(session: Session) -> Actor:
    """The admin the demo acts as, so that its work is checked and audited as anyone's.

    The account is switched off once made: nobody knows its random password, and ``proeftuin
    codes generate`` still finds the one real admin without being told which."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == data.ADMIN_EMAIL))
    if user is None:
        password = secrets.token_urlsafe(24)
        user = accounts.create_staff(
            session, data.ADMIN_EMAIL, data.ADMIN_NAME, password, Role.ADMIN
        )
        user.active = False
        session.flush()
    return Actor(staff_id=user.id, role=Role.ADMIN.value, area_ids=frozenset())


def demo_resident(session: Session, now: dt.datetime) -> int:
    """The resident who proposed the demo's plans: an address verified as a sign-in would."""
    resident = session.scalar(select(Resident).where(Resident.email == data.RESIDENT_EMAIL))
    if resident is None:
        resident = Resident(email=data.RESIDENT_EMAIL, verified_at=now)
        session.add(resident)
        session.flush()
        residents.update_profile(session, resident.id, data.RESIDENT_NAME, "")
    return resident.id


def area_id(session: Session, actor: Actor, slug: str) -> int:
    """The demo area ``slug`` (from data.AREAS), made by the admin when it is not there yet."""
    found = session.scalar(select(Area.id).where(Area.slug == slug))
    if found is not None:
        return found
    [(name, kind, council, postcodes)] = [
        (name, kind, council, postcodes)
        for area_slug, name, kind, council, postcodes in data.AREAS
        if area_slug == slug
    ]
    made = areas.create_area(
        session,
        actor,
        areas.AreaInput(
            name=name, slug=slug, kind=kind.value, council_name=council, postcodes=postcodes
        ),
    )
    return made.id


def existing_round(session: Session, spec: DemoRound) -> Round | None:
    return session.scalar(select(Round).where(Round.slug == rounds.slugify(spec.title)))


def new_round(session: Session, actor: Actor, spec: DemoRound, now: dt.datetime) -> Round:
    """The round as an admin fills in the form, in its concept phase."""
    starts = [rounds.local_time_text(at) for at in spec.dates(now)]
    form = rounds.RoundInput(
        area_id=area_id(session, actor, spec.area),
        title=spec.title,
        description=spec.description,
        budget=spec.budget,
        ballot_kind=spec.ballot_kind.value,
        max_choices="" if spec.max_choices is None else spec.max_choices,
        rule=spec.rule.value,
        submission_starts_at=starts[0],
        review_starts_at=starts[1],
        voting_starts_at=starts[2],
        voting_ends_at=starts[3],
    )
    return rounds.create_round(session, actor, form)


def move_to(session: Session, actor: Actor, round_: Round, phase: Phase) -> None:
    """Step by step, as the staff pages allow, up to ``phase``."""
    while Phase(round_.phase) != phase:
        step = rounds.next_phase(round_.phase)
        assert step is not None
        rounds.advance_phase(session, actor, round_.id, step)


def propose(
    session: Session, round_: Round, resident_id: int, rows: Sequence[PlanRow]
) -> list[Plan]:
    """The plans as the resident typed them on the plan form (the round takes plans now)."""
    return [
        plans.propose(
            session,
            round_.slug,
            resident_id,
            plans.PlanInput(
                title=title,
                summary=summary,
                body=data.PLAN_BODY.format(summary=summary),
                estimated_cost=str(cost),
                location=location,
                theme=theme,
                self_executed=self_executed,
            ),
        )
        for title, summary, cost, theme, location, self_executed in rows
    ]


def accept_all(session: Session, actor: Actor, made: Sequence[Plan]) -> None:
    """On the ballot at the cost the resident estimated, so no explanation is needed."""
    for plan in made:
        checked = lookup.staff_plan(session, actor, plan.public_id)
        moderation.accept(session, actor, checked, plan.estimated_cost, "")


def seed_round(
    session: Session,
    actor: Actor,
    resident_id: int,
    spec: DemoRound,
    rows: Sequence[PlanRow],
    now: dt.datetime,
) -> Round:
    """A round in ``spec.phase`` (concept, indienen or stemmen) with ``rows`` as its plans: on the
    ballot when it is stemmen, waiting for review before. A round that exists is left as it is."""
    round_ = existing_round(session, spec)
    if round_ is not None:
        return round_
    round_ = new_round(session, actor, spec, now)
    if rows and spec.phase != Phase.CONCEPT:
        move_to(session, actor, round_, Phase.INDIENEN)
        made = propose(session, round_, resident_id, rows)
        if spec.phase == Phase.STEMMEN:
            accept_all(session, actor, made)
    move_to(session, actor, round_, spec.phase)
    return round_
