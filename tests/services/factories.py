"""Small builders for service tests: a round with plans and codes, in one call."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from proeftuin.models import (
    Area,
    Membership,
    Phase,
    Plan,
    PlanStatus,
    Resident,
    Round,
    StaffUser,
    Support,
)
from proeftuin.services import codes
from proeftuin.services.permissions import Actor

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


def make_staff(
    session: Session, role: str = "moderator", area_ids: Sequence[int] = (), active: bool = True
) -> Actor:
    """A staff member (with a placeholder password hash) and the actor the web would pass."""
    user = StaffUser(
        email=f"medewerker-{secrets.token_hex(3)}@gemeente.example",
        name=f"Medewerker {secrets.token_hex(2)}",
        password_hash="not-a-hash",
        role=role,
        active=active,
    )
    session.add(user)
    session.flush()
    session.add_all(Membership(staff_id=user.id, area_id=area_id) for area_id in area_ids)
    session.flush()
    return Actor(staff_id=user.id, role=role, area_ids=frozenset(area_ids))


def make_resident(session: Session, email: str | None = None, name: str = "Fatima") -> Resident:
    resident = Resident(
        email=email or f"bewoner-{secrets.token_hex(3)}@example.nl", display_name=name
    )
    session.add(resident)
    session.flush()
    return resident


def make_plan(
    session: Session,
    round_: Round,
    public_id: str,
    *,
    estimated_cost: int = 1_000,
    status: PlanStatus = PlanStatus.INGEDIEND,
    official_cost: int | None = None,
    author: Resident | None = None,
    supporters: Sequence[Resident] = (),
    hidden: bool = False,
) -> Plan:
    plan = Plan(
        round_id=round_.id,
        public_id=public_id,
        title=f"Plan {public_id}",
        estimated_cost=estimated_cost,
        official_cost=official_cost,
        status=status.value,
        author_id=author.id if author else None,
        author_name=author.display_name if author else "",
        hidden=hidden,
    )
    session.add(plan)
    session.flush()
    session.add_all(Support(plan_id=plan.id, resident_id=r.id) for r in supporters)
    session.flush()
    return plan
