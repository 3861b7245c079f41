"""Plans from residents: propose, edit, withdraw, and support during the indienen phase."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select
from sqlalchemy.orm import Session

from proeftuin.db import table_of
from proeftuin.errors import Invalid, InvalidForm, NotAllowed, PhaseClosed
from proeftuin.i18n import N_, gettext
from proeftuin.models import Phase, Plan, PlanStatus, Resident, Round, Support
from proeftuin.services import lookup, outbox

THEMES = {
    "groen": "Groen en natuur",
    "spelen": "Spelen",
    "sport": "Sport en bewegen",
    "ontmoeten": "Ontmoeten",
    "verkeer": "Verkeer",
    "veiligheid": "Veiligheid",
    "cultuur": "Cultuur",
    "gezondheid": "Gezondheid",
    "overig": "Overig",
}
PUBLIC_STATUSES = (
    PlanStatus.INGEDIEND,
    PlanStatus.AANPASSEN,
    PlanStatus.OP_STEMBILJET,
    PlanStatus.AFGEWEZEN,
    PlanStatus.SAMENGEVOEGD,
)
EDITABLE_STATUSES = (PlanStatus.INGEDIEND, PlanStatus.AANPASSEN)
WITHDRAWABLE_PHASES = (Phase.INDIENEN, Phase.BEOORDELEN)
WITHDRAWABLE_STATUSES = (*EDITABLE_STATUSES, PlanStatus.OP_STEMBILJET)
LIMITS = {"title": 120, "summary": 300, "body": 10_000, "location": 200}

PLANS, SUPPORTS = table_of(Plan), table_of(Support)
PlanRow = Row[*tuple[Any, ...]]
# What a plan's card shows, on the round page and on the ballot.
CARD_COLUMNS = (
    "id",
    "public_id",
    "title",
    "summary",
    "official_cost",
    "estimated_cost",
    "theme",
    "location",
    "self_executed",
    "latitude_e6",
    "longitude_e6",
)
# The round page is the most visited page: its plans and their support in one statement, built
# once and run without the ORM.
PUBLIC_PLANS = (
    select(
        *(PLANS.c[name] for name in CARD_COLUMNS),
        PLANS.c.status,
        select(func.count())
        .where(SUPPORTS.c.plan_id == PLANS.c.id)
        .scalar_subquery()
        .label("support_count"),
    )
    .where(
        PLANS.c.round_id == bindparam("round_id"),
        PLANS.c.status.in_(bindparam("statuses", expanding=True)),
        PLANS.c.hidden.is_(False),
    )
    .order_by(PLANS.c.id)
)


@dataclass(frozen=True)
class PlanInput:
    title: str
    summary: str
    body: str
    estimated_cost: str  # as typed; whole euros
    location: str
    theme: str
    self_executed: bool

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> PlanInput:
        return cls(
            title=form.get("title", ""),
            summary=form.get("summary", ""),
            body=form.get("body", ""),
            estimated_cost=form.get("estimated_cost", ""),
            location=form.get("location", ""),
            theme=form.get("theme", ""),
            self_executed=form.get("self_executed") in ("1", "on", "true"),
        )


def public_plans(session: Session, round_id: int, phase: str) -> list[PlanRow]:
    """The plans the public sees (in id order), each with its ``support_count``: once voting
    starts, only those on the ballot."""
    voting_or_later = phase in (Phase.STEMMEN, Phase.GESLOTEN, Phase.GEPUBLICEERD)
    statuses = [PlanStatus.OP_STEMBILJET] if voting_or_later else list(PUBLIC_STATUSES)
    parameters = {"round_id": round_id, "statuses": [status.value for status in statuses]}
    return list(session.connection().execute(PUBLIC_PLANS, parameters))


SEARCH_LIMIT = 100  # characters of a search that are used
ORDERS = ("", "kosten", "titel", "nieuwste")  # "" is the round's own order


def in_view(
    plans: list[PlanRow],
    phase: str,
    theme: str | None = None,
    shuffle_seed: str | None = None,
    *,
    search: str = "",
    order: str = "",
) -> list[PlanRow]:
    """Public plans (in id order) of one theme whose title, summary or place holds ``search``,
    in the ``order`` the visitor chose, or else in this visitor's order: during voting the order
    is shuffled per visitor (stable for the same seed), so a place at the top of the list gives
    no plan an advantage."""
    if theme in THEMES:
        plans = [plan for plan in plans if plan.theme == theme]
    words = search_words(search)
    if words:
        plans = [plan for plan in plans if all(w in _searchable(plan) for w in words)]
    if order == "kosten":
        plans.sort(key=lambda p: (p.official_cost or p.estimated_cost, p.id))
    elif order == "titel":
        plans.sort(key=lambda p: (p.title.casefold(), p.id))
    elif order == "nieuwste":
        plans.sort(key=lambda p: p.id, reverse=True)
    elif shuffle_seed is not None and phase == Phase.STEMMEN:
        plans.sort(key=lambda p: hashlib.sha256(f"{shuffle_seed}:{p.public_id}".encode()).digest())
    return plans


def search_words(search: str) -> list[str]:
    """The words of a search, case-folded; every one must occur in a plan found."""
    return search[:SEARCH_LIMIT].casefold().split()


def _searchable(plan: PlanRow) -> str:
    return " ".join((plan.title, plan.summary or "", plan.location or "")).casefold()


def support_counts(session: Session, round_: Round) -> dict[int, int]:
    rows = session.execute(
        select(Support.plan_id, func.count(Support.id))
        .join(Plan, Plan.id == Support.plan_id)
        .where(Plan.round_id == round_.id)
        .group_by(Support.plan_id)
    )
    return {plan_id: count for plan_id, count in rows}


def supported_by(session: Session, round_id: int, resident_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Support.plan_id)
            .join(Plan, Plan.id == Support.plan_id)
            .where(Plan.round_id == round_id, Support.resident_id == resident_id)
        )
    )


SUBMITTED_SUBJECT = N_("Uw plan is ingediend: {title}")
SUBMITTED_BODY = N_(
    "Hallo {name},\n"
    "\n"
    "Bedankt! U diende het plan \u201c{title}\u201d in voor \u201c{round}\u201d. Daarom krijgt u "
    "deze e-mail.\n"
    "\n"
    "Uw plan staat hier:\n"
    "{link}\n"
    "\n"
    "De {council} bekijkt alle plannen. U krijgt een e-mail als er iets verandert aan uw plan.\n"
    "\n"
    "Heeft u dit plan niet ingediend? Neem dan contact op met de gemeente.\n"
    "\n"
    "{gemeente}\n"
)


def propose(
    session: Session,
    round_slug: str,
    resident_id: int,
    data: PlanInput,
    base_url: str = "",
    gemeente: str = "",
) -> Plan:
    """A new plan from a resident; its author gets a confirmation mail with its link (when
    ``base_url`` is given: the web layer knows the public address)."""
    round_ = lookup.public_round(session, round_slug)
    if round_.phase != Phase.INDIENEN:
        raise PhaseClosed("Plannen indienen kan nu niet in deze ronde.")
    resident = _resident(session, resident_id)
    values = _validated(data, round_)
    plan = Plan(
        round_id=round_.id,
        public_id=secrets.token_urlsafe(8),
        author_id=resident.id,
        author_name=resident.display_name or "Een bewoner",
        status=PlanStatus.INGEDIEND.value,
        **values,
    )
    session.add(plan)
    session.flush()
    if base_url and resident.email:
        outbox.queue(
            session,
            resident.email,
            gettext(SUBMITTED_SUBJECT, title=plan.title),
            gettext(
                SUBMITTED_BODY,
                name=resident.display_name,
                title=plan.title,
                round=round_.title,
                link=f"{base_url.rstrip('/')}/plannen/{plan.public_id}",
                council=round_.area.council_name or gettext(N_("gemeente")),
                gemeente=gemeente,
            ).replace(" ,", ","),
        )
    return plan


def can_edit(plan: Plan) -> bool:
    """Its author may change a plan until review starts, and during review when the council
    asked for changes."""
    phase = plan.round.phase
    if plan.status == PlanStatus.AANPASSEN:
        return phase in (Phase.INDIENEN, Phase.BEOORDELEN)
    return plan.status == PlanStatus.INGEDIEND and phase == Phase.INDIENEN


def can_withdraw(plan: Plan) -> bool:
    """Its author may withdraw a plan until voting starts."""
    return plan.round.phase in WITHDRAWABLE_PHASES and plan.status in WITHDRAWABLE_STATUSES


def editable_own_plan(session: Session, public_id: str, resident_id: int) -> Plan:
    """The resident's own plan, when they may still change it (its text, photos and place)."""
    plan = _own_plan(session, public_id, resident_id)
    if not can_edit(plan):
        raise PhaseClosed("Dit plan kan niet meer worden aangepast.")
    return plan


def edit(session: Session, public_id: str, resident_id: int, data: PlanInput) -> Plan:
    plan = editable_own_plan(session, public_id, resident_id)
    for name, value in _validated(data, plan.round).items():
        setattr(plan, name, value)
    if plan.status == PlanStatus.AANPASSEN:
        plan.status = PlanStatus.INGEDIEND.value  # back in the review queue
    return plan


def withdraw(session: Session, public_id: str, resident_id: int) -> Plan:
    plan = _own_plan(session, public_id, resident_id)
    if not can_withdraw(plan):
        raise PhaseClosed("Dit plan kan niet meer worden ingetrokken.")
    plan.status = PlanStatus.INGETROKKEN.value
    return plan


def my_plans(session: Session, resident_id: int) -> list[Plan]:
    return list(
        session.scalars(select(Plan).where(Plan.author_id == resident_id).order_by(Plan.id.desc()))
    )


def set_support(session: Session, public_id: str, resident_id: int, support: bool) -> int:
    """Support a plan (or take the support back); returns the plan's new count."""
    plan = lookup.public_plan(session, public_id)
    if plan.round.phase != Phase.INDIENEN:
        raise PhaseClosed("Steunen kan alleen zolang er plannen worden ingediend.")
    if plan.status not in EDITABLE_STATUSES:
        raise PhaseClosed("Dit plan kan geen steun meer krijgen.")
    _resident(session, resident_id)
    existing = session.scalar(
        select(Support).where(Support.plan_id == plan.id, Support.resident_id == resident_id)
    )
    if support and existing is None:
        session.add(Support(plan_id=plan.id, resident_id=resident_id))
    elif not support and existing is not None:
        session.execute(delete(Support).where(Support.id == existing.id))
    session.flush()
    return int(
        session.scalar(select(func.count(Support.id)).where(Support.plan_id == plan.id)) or 0
    )


def _validated(data: PlanInput, round_: Round) -> dict[str, object]:
    errors: list[Invalid] = []
    title, summary = data.title.strip(), data.summary.strip()
    if len(title) < 5:
        errors.append(Invalid("title", "Geef uw plan een titel van minstens 5 tekens."))
    if not summary:
        errors.append(Invalid("summary", "Schrijf in een paar zinnen wat u wilt doen."))
    for field, limit in LIMITS.items():
        if len(getattr(data, field).strip()) > limit:
            errors.append(Invalid(field, "Gebruik hoogstens {limit} tekens.", limit=limit))
    cost = _whole_euros(data.estimated_cost)
    if cost is None:
        errors.append(
            Invalid("estimated_cost", "Vul de kosten in als een heel bedrag in euro's, zoals 2500.")
        )
    elif cost > round_.budget:
        errors.append(
            Invalid(
                "estimated_cost",
                "Een plan kan hoogstens het hele budget kosten: € {budget}.",
                budget=f"{round_.budget:,}".replace(",", "."),
            )
        )
    if data.theme not in THEMES:
        errors.append(Invalid("theme", "Kies een thema."))
    if errors:
        raise InvalidForm(errors)
    assert cost is not None
    return {
        "title": title,
        "summary": summary,
        "body": data.body.strip(),
        "estimated_cost": cost,
        "location": data.location.strip(),
        "theme": data.theme,
        "self_executed": data.self_executed,
    }


def _whole_euros(typed: str) -> int | None:
    text = typed.strip().replace("€", "").replace(" ", "").replace(".", "")
    if text.endswith(",-"):
        text = text[:-2]
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    return int(text)


def _own_plan(session: Session, public_id: str, resident_id: int) -> Plan:
    plan = lookup.any_plan(session, public_id)
    if plan.author_id != resident_id:
        raise NotAllowed("Alleen de indiener kan dit plan aanpassen.")
    return plan


def _resident(session: Session, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotAllowed("Log eerst in.")
    return resident
