"""Participatory-budgeting rounds: what the public sees of them, and how staff set them up and
move them through the phases (concept → indienen → beoordelen → stemmen → gesloten →
gepubliceerd).

Once voting opens the ballot rules and the plan list are frozen: a change then would treat voters
differently. Only an admin can undo that, with ``reset_round``, which voids every ballot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from proeftuin.db import lock_row
from proeftuin.errors import Invalid, InvalidForm, _
from proeftuin.i18n import TIMEZONE
from proeftuin.models import (
    PHASE_ORDER,
    Area,
    Ballot,
    BallotChoice,
    BallotKind,
    CodeStatus,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Result,
    ResultStatus,
    Round,
    Rule,
    VotingCode,
)
from proeftuin.services import audit, ballot_kinds, lookup, permissions
from proeftuin.services.ballot_kinds import Param
from proeftuin.services.permissions import Actor
from proeftuin.vocabulary import PHASE_NAMES

FROZEN = _("Dit kan niet meer: het stemmen is begonnen.")
FROZEN_PHASES = (Phase.STEMMEN, Phase.GESLOTEN, Phase.GEPUBLICEERD)
# What voters were promised when voting opened. Title, description and dates stay editable (so
# voting can be extended, say); these cannot change without a reset.
FROZEN_FIELDS = (
    "area_id",
    *ballot_kinds.RULE_COLUMNS,
    "rule",
    "greedy_no_skip",
    "min_vote_percent",
    "eligibility",
    # Turning it off during voting would let one person enter paper ballots alone.
    "paper_check",
    "min_age",
    "support_threshold",
)
# The date at which each phase starts by itself (``tick``).
PHASE_STARTS = {
    Phase.INDIENEN: "submission_starts_at",
    Phase.BEOORDELEN: "review_starts_at",
    Phase.STEMMEN: "voting_starts_at",
    Phase.GESLOTEN: "voting_ends_at",
}
DATE_FIELDS = tuple(PHASE_STARTS.values())
# Phase dates outside these years are typing mistakes (and year 1 in Dutch time is before year 1
# in UTC, which Python cannot hold).
DATE_YEARS = (2000, 2200)
TITLE_LIMITS = (5, 200)
DESCRIPTION_LIMIT = 10_000
SLUG_LIMIT = 60


# -- The public view -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSummary:
    slug: str
    title: str
    phase: Phase
    budget: int
    voting_starts_at: dt.datetime | None
    voting_ends_at: dt.datetime | None
    tie_break_sha256: str | None = None  # from voting on (``tie_break_commitment``)
    review_starts_at: dt.datetime | None = None  # when handing in plans ends


@dataclass(frozen=True)
class AreaRounds:
    slug: str
    name: str
    kind: str
    rounds: tuple[RoundSummary, ...]


def list_areas_with_rounds(session: Session) -> list[AreaRounds]:
    """Every area by name, with its public rounds, newest first.

    Rounds still in preparation (concept) are the moderators' drafts and are left out.
    """
    areas = session.scalars(
        select(Area).options(selectinload(Area.rounds)).order_by(Area.name, Area.id)
    ).all()
    return [
        AreaRounds(
            slug=area.slug,
            name=area.name,
            kind=area.kind,
            rounds=tuple(
                _summary(r)
                for r in sorted(area.rounds, key=lambda r: r.id, reverse=True)
                if r.phase != Phase.CONCEPT
            ),
        )
        for area in areas
    ]


def any_voting(session: Session) -> bool:
    """Whether some round is in its voting phase."""
    found = session.scalar(select(Round.id).where(Round.phase == Phase.STEMMEN.value).limit(1))
    return found is not None


def _summary(round_: Round) -> RoundSummary:
    return RoundSummary(
        slug=round_.slug,
        title=round_.title,
        phase=Phase(round_.phase),
        budget=round_.budget,
        voting_starts_at=round_.voting_starts_at,
        voting_ends_at=round_.voting_ends_at,
        review_starts_at=round_.review_starts_at,
        tie_break_sha256=(
            tie_break_commitment(round_.tie_break_seed) if round_.phase in FROZEN_PHASES else None
        ),
    )


def tie_break_commitment(seed: str) -> str:
    """The SHA-256 of a round's tie-break seed, public from the moment voting opens; the seed
    itself is revealed with the results. So no one can choose a seed that favours a plan after
    seeing the ballots: any other seed would not have this hash."""
    return hashlib.sha256(seed.encode()).hexdigest()


# -- Staff: reading --------------------------------------------------------------------------


def rounds_for(session: Session, actor: Actor) -> list[Round]:
    """The rounds the actor may work on, newest first."""
    query = select(Round).order_by(Round.id.desc())
    if not actor.is_admin:
        query = query.where(Round.area_id.in_(list(actor.area_ids)))
    return list(session.scalars(query))


def is_frozen(round_: Round) -> bool:
    return round_.phase in FROZEN_PHASES


def require_not_frozen(round_: Round, field: str = "") -> None:
    if is_frozen(round_):
        raise Invalid(field, FROZEN)


# -- Staff: creating and editing -------------------------------------------------------------


@dataclass(frozen=True)
class RoundInput:
    """A round's settings as typed in the form (numbers as text, dates as Dutch local time)."""

    area_id: str | int = ""
    title: str = ""
    budget: str | int = ""
    description: str = ""
    ballot_kind: str = BallotKind.KNAPSACK.value
    min_choices: str | int = "0"
    max_choices: str | int = ""
    min_spend_percent: str | int = "0"
    points_total: str | int = ""
    rule: str = Rule.EQUAL_SHARES.value
    greedy_no_skip: str = ""  # "1": a checked box
    min_vote_percent: str | int = "0"
    eligibility: str = Eligibility.CODES.value
    support_threshold: str | int = "0"
    min_age: str | int = ""
    paper_check: str = ""  # "1": a second staff member checks every paper ballot
    comments_off: str = ""  # "1": no conversation on the plans of this round
    comments_premoderated: str = ""  # "1": staff approve each comment before it shows
    submission_starts_at: str = ""
    review_starts_at: str = ""
    voting_starts_at: str = ""
    voting_ends_at: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> RoundInput:
        names = [f.name for f in fields(cls)]
        return cls(**{name: form[name] for name in names if name in form})

    @classmethod
    def from_round(cls, round_: Round) -> RoundInput:
        """The form's starting values for editing a round."""
        return cls(
            area_id=str(round_.area_id),
            title=round_.title,
            description=round_.description,
            budget=str(round_.budget),
            ballot_kind=round_.ballot_kind,
            min_choices=str(round_.min_choices),
            max_choices="" if round_.max_choices is None else str(round_.max_choices),
            min_spend_percent=str(round_.min_spend_percent),
            points_total=str(round_.points_total) if round_.points_total else "",
            rule=round_.rule,
            greedy_no_skip="1" if round_.greedy_no_skip else "",
            min_vote_percent=str(round_.min_vote_percent),
            eligibility=round_.eligibility,
            support_threshold=str(round_.support_threshold),
            min_age="" if round_.min_age is None else str(round_.min_age),
            paper_check="1" if round_.paper_check else "",
            comments_off="1" if round_.comments_off else "",
            comments_premoderated="1" if round_.comments_premoderated else "",
            **{name: local_time_text(getattr(round_, name)) for name in DATE_FIELDS},
        )


def create_round(
    session: Session, actor: Actor, data: RoundInput, *, now: dt.datetime | None = None
) -> Round:
    """A new round in the concept phase, with a unique slug and a random tie-break seed.

    With ``now`` (a person typed the dates), a date already past is refused: see
    ``_dates_that_move``."""
    values = _validated(session, actor, data)
    if now is not None:
        _refuse_dates_that_move(None, values, now)
    round_ = Round(
        slug=_unique_slug(session, str(values["title"])),
        phase=Phase.CONCEPT.value,
        tie_break_seed=secrets.token_hex(16),
        **values,
    )
    session.add(round_)
    session.flush()
    audit.record(session, actor.staff_id, "round.create", "round", round_.id, round_.area_id)
    return round_


def update_round(
    session: Session,
    actor: Actor,
    round_id: int,
    data: RoundInput,
    *,
    now: dt.datetime | None = None,
) -> Round:
    """Change a round's settings; the slug stays, so links and letters keep working.

    With ``now`` (a person typed the dates), a date that would move the round to its next phase
    at the next ``tick`` is refused: see ``_dates_that_move``."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    values = _validated(session, actor, data)
    changed = [name for name, value in values.items() if getattr(round_, name) != value]
    if is_frozen(round_):
        frozen = [name for name in changed if name in FROZEN_FIELDS]
        if frozen:
            raise InvalidForm([Invalid(name, FROZEN) for name in frozen])
    if now is not None:
        _refuse_dates_that_move(round_, values, now)
    if "budget" in changed:
        _check_ballot_fits(session, round_, int(str(values["budget"])))
    for name in changed:
        setattr(round_, name, values[name])
    session.flush()
    if changed:
        audit.record(
            session,
            actor.staff_id,
            "round.update",
            "round",
            round_.id,
            round_.area_id,
            changed=sorted(changed),
        )
    return round_


MOVES_BY_ITSELF = _(
    "Deze datum is al voorbij. Dan gaat de ronde vanzelf naar de fase {phase}, zonder dat "
    "iemand dat bevestigt. Kies een datum in de toekomst. Moet de ronde nu naar de volgende "
    "fase? Gebruik dan de knop op de pagina van de ronde."
)


def _refuse_dates_that_move(
    round_: Round | None, values: Mapping[str, object], now: dt.datetime
) -> None:
    """A date that makes the round due for its next phase (``tick`` would take the step within
    a minute) skips the confirmation that the phase page asks for: the step is taken by hand,
    there. Dates that were already past and stay so (a step ``tick`` could not take) pass."""
    target = next_phase(round_.phase if round_ is not None else Phase.CONCEPT)
    if target not in PHASE_STARTS:
        return
    assert target is not None
    later = [
        name
        for phase, name in PHASE_STARTS.items()
        if PHASE_ORDER.index(phase) >= PHASE_ORDER.index(target)
    ]
    if round_ is not None and _due(round_, target, now):
        return
    errors = [
        Invalid(name, MOVES_BY_ITSELF, phase=PHASE_NAMES[target])
        for name in later
        if isinstance(at := values.get(name), dt.datetime) and at <= now
    ]
    if errors:
        raise InvalidForm(errors)


def _check_ballot_fits(session: Session, round_: Round, budget: int) -> None:
    too_dear = session.scalar(
        select(Plan)
        .where(
            Plan.round_id == round_.id,
            Plan.status == PlanStatus.OP_STEMBILJET,
            Plan.official_cost > budget,
        )
        .order_by(Plan.official_cost.desc())
        .limit(1)
    )
    if too_dear is not None:
        raise InvalidForm(
            [
                Invalid(
                    "budget",
                    _(
                        "Het plan \u201c{title}\u201d op het stembiljet kost \u20ac {cost}. "
                        "Het budget kan niet lager zijn."
                    ),
                    title=too_dear.title,
                    cost=euros(too_dear.official_cost or 0),
                )
            ]
        )


def _validated(session: Session, actor: Actor, data: RoundInput) -> dict[str, object]:
    errors: list[Invalid] = []

    def fail(field: str, message: str, **params: object) -> None:
        errors.append(Invalid(field, message, **params))

    area_id = _whole_number(data.area_id)
    if area_id is None or session.get(Area, area_id) is None:
        fail("area_id", _("Kies een gebied."))
    else:
        permissions.require_area(actor, area_id)
    title = data.title.strip()
    if not TITLE_LIMITS[0] <= len(title) <= TITLE_LIMITS[1]:
        fail(
            "title",
            _("Geef de ronde een titel van {low} tot {high} tekens."),
            low=TITLE_LIMITS[0],
            high=TITLE_LIMITS[1],
        )
    description = data.description.strip()
    if len(description) > DESCRIPTION_LIMIT:
        fail("description", _("Gebruik hoogstens {limit} tekens."), limit=DESCRIPTION_LIMIT)
    budget = _whole_euros(data.budget)
    if budget is None:
        fail("budget", _("Vul het budget in als een heel bedrag in euro's, zoals 50000."))
    kind = BallotKind(data.ballot_kind) if data.ballot_kind in set(BallotKind) else None
    if kind is None:
        fail("ballot_kind", _("Kies een soort stembiljet."))
    required = ballot_kinds.spec(kind).required if kind is not None else frozenset()
    min_choices = _whole_number(data.min_choices, empty=0)
    if min_choices is None:
        fail("min_choices", _("Vul een heel getal in: 0 of meer."))
    max_choices = _whole_number(data.max_choices, empty=-1)
    if max_choices is None or max_choices == 0:
        fail("max_choices", _("Vul een heel getal in van 1 of meer, of laat het leeg."))
    elif max_choices == -1 and Param.MAX_CHOICES in required:
        fail("max_choices", _("Vul in hoeveel plannen een kiezer mag kiezen."))
    elif min_choices is not None and 0 < max_choices < min_choices:
        fail(
            "max_choices",
            _("Het hoogste aantal kan niet lager zijn dan het laagste aantal ({low})."),
            low=min_choices,
        )
    min_spend = _whole_number(data.min_spend_percent, empty=0)
    if min_spend is None or min_spend > 100:
        fail("min_spend_percent", _("Vul een percentage in van 0 tot en met 100."))
    points = _whole_number(data.points_total, empty=0)
    if Param.POINTS_TOTAL in required and not points:
        fail("points_total", _("Vul in hoeveel punten een kiezer mag verdelen: 1 of meer."))
    if data.rule not in set(Rule):
        fail("rule", _("Kies een manier om het budget te verdelen."))
    no_skip, min_votes = _rule_options(data, fail)
    if data.eligibility not in set(Eligibility):
        fail("eligibility", _("Kies hoe bewoners kunnen stemmen."))
    threshold = _whole_number(data.support_threshold, empty=0)
    if threshold is None:
        fail("support_threshold", _("Vul een heel getal in: 0 of meer."))
    min_age = _whole_number(data.min_age, empty=-1)
    if min_age is None or min_age > 120:
        fail("min_age", _("Vul een leeftijd in van 0 tot en met 120, of laat het leeg."))
    paper_check = _checked(data.paper_check, "paper_check", fail)
    comments_off = _checked(data.comments_off, "comments_off", fail)
    premoderated = _checked(data.comments_premoderated, "comments_premoderated", fail)
    dates = _validated_dates(data, fail)
    if errors:
        raise InvalidForm(errors)
    assert kind is not None and budget is not None and min_choices is not None
    assert max_choices is not None and min_spend is not None
    # Settings a kind of ballot does not use are kept at their defaults.
    most = None if max_choices == -1 else max_choices
    rules = ballot_kinds.round_rules(kind, budget, min_choices, most, min_spend, points or 0)
    return {
        "area_id": area_id,
        "title": title,
        "description": description,
        **ballot_kinds.columns(rules),
        "rule": data.rule,
        "greedy_no_skip": no_skip,
        "min_vote_percent": min_votes,
        "eligibility": data.eligibility,
        "support_threshold": threshold,
        "min_age": None if min_age == -1 else min_age,
        "paper_check": paper_check,
        "comments_off": comments_off,
        "comments_premoderated": premoderated,
        **dates,
    }


def _rule_options(data: RoundInput, fail: Callable[..., None]) -> tuple[bool, int]:
    """The options of the rule greedy; refused with another rule, which has no such step."""
    no_skip = _checked(data.greedy_no_skip, "greedy_no_skip", fail)
    min_votes = _whole_number(data.min_vote_percent, empty=0)
    if min_votes is None or min_votes > 100:
        fail("min_vote_percent", _("Vul een percentage in van 0 tot en met 100."))
        min_votes = 0
    if data.rule in set(Rule) and data.rule != Rule.GREEDY:
        if no_skip:
            fail("greedy_no_skip", ONLY_WITH_GREEDY)
        if min_votes:
            fail("min_vote_percent", ONLY_WITH_GREEDY)
    return no_skip, min_votes


def _checked(typed: str, field: str, fail: Callable[..., None]) -> bool:
    """A checkbox: "1" when ticked, nothing when not."""
    if typed.strip() not in ("", "0", "1"):
        fail(field, _("Zet een vinkje, of laat het vakje leeg."))
    return typed.strip() == "1"


ONLY_WITH_GREEDY = _(
    "Dit kan alleen als het budget wordt verdeeld met \u2018meeste stemmen eerst\u2019. "
    "Kies die manier, of haal dit weg."
)


DATE_NAMES = {
    "submission_starts_at": _("het begin van het indienen"),
    "review_starts_at": _("het begin van het beoordelen"),
    "voting_starts_at": _("het begin van het stemmen"),
}


def _validated_dates(data: RoundInput, fail: Callable[..., None]) -> dict[str, dt.datetime | None]:
    dates: dict[str, dt.datetime | None] = {}
    for name in DATE_FIELDS:
        try:
            dates[name] = parse_local_time(getattr(data, name))
        except DateOutOfRange:
            fail(
                name,
                _("Vul een datum in tussen het jaar {low} en {high}."),
                low=DATE_YEARS[0],
                high=DATE_YEARS[1],
            )
            dates[name] = None
        except ValueError:
            fail(name, _("Vul een datum en tijd in, zoals 2027-03-01 09:00."))
            dates[name] = None
    previous: str | None = None
    for name in DATE_FIELDS:
        value = dates[name]
        if value is None:
            continue
        before = dates[previous] if previous else None
        if previous and before is not None and value <= before:
            fail(name, _("Deze datum moet na {earlier} liggen."), earlier=DATE_NAMES[previous])
        previous = name
    return dates


class DateOutOfRange(ValueError):
    """A well-formed date outside ``DATE_YEARS``."""


def parse_local_time(text: str) -> dt.datetime | None:
    """A date and time typed in Dutch local time, as UTC; '' is None. ``ValueError`` otherwise
    (``DateOutOfRange`` for a year outside ``DATE_YEARS``).

    Takes what a datetime-local field sends ("2027-03-01T09:00"), "2027-03-01 09:00",
    "01-03-2027 09:00" and a date alone (midnight).
    """
    text = text.strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})-(\d{4})(?:[ T](\d{1,2}):(\d{2}))?", text)
    if match:
        day, month, year, hour, minute = match.groups()
        text = f"{year}-{int(month):02}-{int(day):02} {int(hour or 0):02}:{minute or '00'}"
    value = dt.datetime.fromisoformat(text)
    if not DATE_YEARS[0] <= value.year <= DATE_YEARS[1]:
        raise DateOutOfRange(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=TIMEZONE)
    return value.astimezone(dt.UTC)


def local_time_text(value: dt.datetime | None) -> str:
    """For a datetime-local field: "2027-03-01T09:00" in Dutch local time, or ''."""
    if value is None:
        return ""
    return value.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def _whole_number(typed: str | int, empty: int | None = None) -> int | None:
    if isinstance(typed, int):
        return typed if typed >= 0 else None
    text = typed.strip()
    if not text:
        return empty
    if not (text.isascii() and text.isdigit()) or len(text) > 9:  # not "²": int() fails on it
        return None
    return int(text)


def _whole_euros(typed: str | int) -> int | None:
    # At most nine digits: the budget column is a 32-bit integer in PostgreSQL.
    if isinstance(typed, int):
        return typed if 0 <= typed < 10**9 else None
    text = typed.strip().replace("\u20ac", "").replace(" ", "").replace(".", "")
    if text.endswith(",-"):
        text = text[:-2]
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


whole_euros = _whole_euros  # the one reading of typed money, for the other services


def euros(amount: int) -> str:
    """50000 → "50.000", the Dutch way."""
    return f"{amount:,}".replace(",", ".")


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_LIMIT].rstrip("-") or "ronde"


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title)
    taken = set(
        session.scalars(
            select(Round.slug).where((Round.slug == base) | Round.slug.like(f"{base}-%"))
        )
    )
    slug, number = base, 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    return slug


# -- Phases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseChange:
    round_id: int
    slug: str
    from_phase: Phase
    to_phase: Phase
    refused: str | None = None  # why the step was not taken (tick only), as a readable message


def next_phase(phase: Phase | str) -> Phase | None:
    index = PHASE_ORDER.index(Phase(phase))
    return PHASE_ORDER[index + 1] if index + 1 < len(PHASE_ORDER) else None


def advance_phase(session: Session, actor: Actor, round_id: int, to_phase: Phase | str) -> Round:
    """Move a round one phase forward by hand; refused (``Invalid``) when that makes no sense."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    current = Phase(round_.phase)
    target = _phase(to_phase)
    expected = next_phase(current)
    if target == current:
        raise Invalid("phase", _("De ronde is al in deze fase."))
    if expected is None or PHASE_ORDER.index(target) < PHASE_ORDER.index(current):
        raise Invalid(
            "phase", _("Een ronde kan niet terug. Alleen een beheerder kan het stemmen overdoen.")
        )
    if target != expected:
        raise Invalid(
            "phase",
            _("Een ronde gaat één stap tegelijk: van {current} naar {next}."),
            current=PHASE_NAMES[current],
            next=PHASE_NAMES[expected],
        )
    problem = step_problem(session, round_, target)
    if problem is not None:
        raise problem
    _move(session, round_, target, actor.staff_id)
    return round_


def tick(session: Session, now: dt.datetime) -> list[PhaseChange]:
    """Move every round whose phase dates have passed, step by step, up to gesloten.

    A step whose checks fail is left for a person to sort out and reported with ``refused``.
    Running it again changes nothing more (publishing is never automatic).
    """
    changes: list[PhaseChange] = []
    automatic = [p.value for p in PHASE_ORDER if next_phase(p) in PHASE_STARTS]
    query = select(Round).where(Round.phase.in_(automatic)).order_by(Round.id)
    for round_ in session.scalars(query).all():
        while (target := next_phase(round_.phase)) in PHASE_STARTS:
            assert target is not None
            if not _due(round_, target, now):
                break
            current = Phase(round_.phase)
            problem = step_problem(session, round_, target)
            if problem is not None:
                refused = problem.message.format(**problem.params)
                changes.append(PhaseChange(round_.id, round_.slug, current, target, refused))
                break
            _move(session, round_, target, None)
            changes.append(PhaseChange(round_.id, round_.slug, current, target))
    return changes


def _due(round_: Round, target: Phase, now: dt.datetime) -> bool:
    # A later phase's date that has passed also counts: after downtime, rounds catch up.
    later = [
        name
        for phase, name in PHASE_STARTS.items()
        if PHASE_ORDER.index(phase) >= PHASE_ORDER.index(target)
    ]
    return any((at := getattr(round_, name)) is not None and at <= now for name in later)


def step_problem(session: Session, round_: Round, target: Phase) -> Invalid | None:
    """Why the round cannot go to ``target`` now (the next phase), or None."""
    if target == Phase.INDIENEN and round_.budget <= 0:
        return Invalid("phase", _("Stel eerst een budget in."))
    if target == Phase.STEMMEN:
        return _voting_problem(session, round_)
    if target == Phase.GEPUBLICEERD:
        status = session.scalar(select(Result.status).where(Result.round_id == round_.id))
        if status not in (ResultStatus.VASTGESTELD, ResultStatus.GEPUBLICEERD):
            return Invalid("phase", _("Stel eerst de uitslag vast. Daarna kunt u publiceren."))
    return None


def _voting_problem(session: Session, round_: Round) -> Invalid | None:
    waiting = session.scalar(
        select(func.count(Plan.id)).where(
            Plan.round_id == round_.id,
            Plan.status.in_([PlanStatus.INGEDIEND, PlanStatus.AANPASSEN]),
        )
    )
    if waiting:
        return Invalid(
            "phase",
            _("Beoordeel eerst alle plannen. Nog {count} plannen wachten op een besluit."),
            count=waiting,
        )
    plans = list(
        session.scalars(
            select(Plan)
            .where(Plan.round_id == round_.id, Plan.status == PlanStatus.OP_STEMBILJET)
            .order_by(Plan.id)
        )
    )
    if not plans:
        return Invalid("phase", _("Er staat nog geen plan op het stembiljet."))
    for plan in plans:
        if plan.official_cost is None:
            return Invalid(
                "phase",
                _("Het plan \u201c{title}\u201d heeft nog geen officiële kosten."),
                title=plan.title,
            )
        if plan.official_cost > round_.budget:
            return Invalid(
                "phase",
                _(
                    "Het plan \u201c{title}\u201d kost \u20ac {cost}. "
                    "Dat is meer dan het budget van \u20ac {budget}."
                ),
                title=plan.title,
                cost=euros(plan.official_cost),
                budget=euros(round_.budget),
            )
        if plan.hidden:
            return Invalid(
                "phase",
                _("Het plan \u201c{title}\u201d is verborgen. Het kan zo niet op het stembiljet."),
                title=plan.title,
            )
    if round_.min_choices > len(plans):
        return Invalid(
            "phase",
            _("Kiezers moeten minstens {low} plannen kiezen, maar er staan er {count} op."),
            low=round_.min_choices,
            count=len(plans),
        )
    total = sum(plan.official_cost or 0 for plan in plans)
    minimum = round_.budget * ballot_kinds.rules_of(round_).min_spend_percent / 100
    if total < minimum:
        return Invalid(
            "phase",
            _(
                "Alle plannen samen kosten \u20ac {total}. Kiezers kunnen zo nooit het "
                "minimum van \u20ac {minimum} halen."
            ),
            total=euros(total),
            minimum=euros(round(minimum)),
        )
    return None


def _move(session: Session, round_: Round, target: Phase, actor_id: int | None) -> None:
    previous = round_.phase
    round_.phase = target.value
    session.flush()
    # Opening the vote commits to the tie-break seed, in the chained audit log too.
    committed = tie_break_commitment(round_.tie_break_seed) if target == Phase.STEMMEN else None
    audit.record(
        session,
        actor_id,
        "round.phase",
        "round",
        round_.id,
        round_.area_id,
        from_phase=previous,
        to_phase=target.value,
        automatic=actor_id is None,
        **({"tie_break_sha256": committed} if committed else {}),
    )


def _phase(value: Phase | str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        raise Invalid("phase", _("Kies een fase.")) from None


# -- Reset -----------------------------------------------------------------------------------


def reset_round(session: Session, actor: Actor, round_id: int, reason: str) -> int:
    """Admin only: void every ballot of the round and take it back to beoordelen, so its rules
    and plans can change. Used codes become unused again. Returns how many ballots were voided."""
    permissions.require_admin(actor)
    lookup.staff_round_by_id(session, actor, round_id)
    # Run it through db.transact_locking: this waits for the casts in flight (they share-lock
    # the round) and holds back new ones, and at READ COMMITTED the deletes below then see every
    # ballot committed before. A SERIALIZABLE snapshot taken earlier would miss those.
    round_ = lock_row(session, Round, round_id)
    assert round_ is not None
    reason = reason.strip()
    if len(reason) < 10:
        raise Invalid("reason", _("Leg in minstens 10 tekens uit waarom de ronde terug moet."))
    if round_.phase == Phase.GEPUBLICEERD:
        raise Invalid("", _("De uitslag is al gepubliceerd. Deze ronde kan niet meer terug."))
    if round_.phase not in (Phase.STEMMEN, Phase.GESLOTEN):
        raise Invalid("", _("Het stemmen is nog niet begonnen. Er is niets terug te zetten."))
    signed = session.scalar(select(Result.status).where(Result.round_id == round_.id))
    if signed is not None and signed != ResultStatus.CONCEPT:
        raise Invalid("", _("De uitslag is al vastgesteld. Deze ronde kan niet meer terug."))
    ballot_ids = select(Ballot.id).where(Ballot.round_id == round_.id)
    voided = int(
        session.scalar(select(func.count(Ballot.id)).where(Ballot.round_id == round_.id)) or 0
    )
    session.execute(delete(BallotChoice).where(BallotChoice.ballot_id.in_(ballot_ids)))
    session.execute(delete(Ballot).where(Ballot.round_id == round_.id))
    session.execute(
        update(VotingCode)
        .where(VotingCode.round_id == round_.id, VotingCode.status == CodeStatus.USED)
        .values(status=CodeStatus.UNUSED.value, used_on=None)
    )
    # A result counted from the voided ballots is no result any more.
    removed = session.execute(delete(Result).where(Result.round_id == round_.id))
    previous = round_.phase
    round_.phase = Phase.BEOORDELEN.value
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "round.reset",
        "round",
        round_id,
        round_.area_id,
        from_phase=previous,
        voided_ballots=voided,
        result_removed=bool(getattr(removed, "rowcount", 0)),
        reason=reason,
    )
    return voided
