"""The demo's funded plans at different stages of execution, with dated updates, recorded by the
demo admin through the same checked service staff use. Idempotent: once a funded plan of the
round has an execution, nothing happens.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.demo.rounds import demo_admin
from proeftuin.i18n import TIMEZONE
from proeftuin.models import PlanExecution, Round
from proeftuin.services import execution
from proeftuin.services.execution import ExecutionInput

# One stage per funded plan, in plan order: (status, reason, expected in months from now, share
# of the cost spent, updates as (days ago, text)). Plans beyond these stay in preparation.
STAGES: list[tuple[str, str, int, float, list[tuple[int, str]]]] = [
    (
        "klaar",
        "",
        -1,
        0.97,
        [
            (60, "De opdracht is gegund aan een aannemer uit de buurt. In april begint het werk."),
            (35, "Het werk is begonnen. De eerste week wordt de grond klaargemaakt."),
            (8, "Het is klaar! Zaterdag om 14.00 uur openen we het samen. Iedereen is welkom."),
        ],
    ),
    (
        "uitvoering",
        "",
        2,
        0.45,
        [
            (40, "De gemeente heeft drie offertes gevraagd en de goedkoopste gekozen."),
            (12, "Het werk is begonnen. Tot het einde van de maand is er af en toe overlast."),
        ],
    ),
    (
        "vertraagd",
        "De leverancier kan de materialen pas later leveren. Daarom duurt het twee maanden langer.",
        5,
        0.10,
        [
            (50, "Het ontwerp is klaar. Bewoners konden er in het dorpshuis op reageren."),
            (15, "Helaas: de levering is uitgesteld. We houden u op de hoogte."),
        ],
    ),
    (
        "voorbereiding",
        "",
        7,
        0.0,
        [(20, "We maken een plan van aanpak en praten met de indieners over de details.")],
    ),
]


def seed_execution(session: Session, slug: str, now: dt.datetime) -> None:
    round_ = session.scalar(select(Round).where(Round.slug == slug))
    if round_ is None:
        return
    plans = execution.funded_plans(session, round_.id)
    ids = [plan.id for plan in plans]
    if not ids or session.scalar(select(PlanExecution.id).where(PlanExecution.plan_id.in_(ids))):
        return
    actor = demo_admin(session)
    for plan, (status, reason, months, share, updates) in zip(plans, STAGES, strict=False):
        for days_ago, text in updates:
            moment = now - dt.timedelta(days=days_ago)
            today = moment.astimezone(TIMEZONE).date()
            execution.post_update(session, actor, plan, text, today, moment)
        data = ExecutionInput(
            status=status,
            reason=reason,
            expected=_month(now, months),
            spent=str(round(plan.cost * share)),
            spent_explanation="",
            co_executors="",
        )
        execution.record(session, actor, plan, data, now - dt.timedelta(days=updates[-1][0]))


def _month(now: dt.datetime, months: int) -> str:
    index = now.year * 12 + now.month - 1 + months
    return f"{index // 12}-{index % 12 + 1:02d}"
