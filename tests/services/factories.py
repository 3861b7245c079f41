"""Small builders for service tests: a round with plans and codes, in one call."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from proeftuin.models import Area, Phase, Plan, PlanStatus, Round
from proeftuin.services import codes

PEPPER = "test-pepper"


def make_round(
    session: Session,
    *,
    budget: int = 10_000,
    costs: Sequence[int] = (4_000, 3_000, 5_000),
    phase: Phase = Phase.STEMMEN,
    ballot_kind: str = "knapsack",
    slug: str | None = None,
    plan_prefix: str = "plan",
    **settings: object,
) -> Round:
    area = Area(slug=f"wijk-{secrets.token_hex(3)}", name="Noord", kind="wijk")
    session.add(area)
    session.flush()
    round_ = Round(
        area_id=area.id,
        slug=slug or f"ronde-{secrets.token_hex(3)}",
        title="Buurtbudget Noord",
        budget=budget,
        phase=phase.value,
        ballot_kind=ballot_kind,
        tie_break_seed="seed",
        **settings,
    )
    session.add(round_)
    session.flush()
    for i, cost in enumerate(costs):
        session.add(
            Plan(
                round_id=round_.id,
                public_id=f"{plan_prefix}{i}",
                title=f"Plan {i}",
                estimated_cost=cost,
                official_cost=cost,
                status=PlanStatus.OP_STEMBILJET.value,
            )
        )
    session.flush()
    return round_


def make_codes(session: Session, round_: Round, count: int = 3) -> list[str]:
    return codes.generate_codes(session, round_, PEPPER, count)
