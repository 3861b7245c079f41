"""The conversation on plans: questions, comments and arguments for and against, moderated by
the wijkraad (docs/decisions.md, The conversation on plans).

Residents with a verified e-mail address comment while the round allows it (indienen, beoordelen
and stemmen, unless the round turned comments off); one level of replies. The plan's author and
staff answer with a label; staff pin one answer per question, approve (pre-moderation), hide with
a public reason, or find a reported comment in order. Every staff action is audited. The functions
take the plan or round as the page tier found it (``lookup``), which checked the actor's area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from proeftuin.errors import DomainError, Invalid, NotAllowed, NotFound, PhaseClosed, _
from proeftuin.i18n import N_, gettext
from proeftuin.models import (
    Comment,
    CommentKind,
    CommentReport,
    CommentRole,
    CommentStatus,
    Phase,
    Plan,
    Resident,
    Round,
    StaffUser,
)
from proeftuin.services import audit, outbox, ratelimit
from proeftuin.services.permissions import Actor
from proeftuin.services.ratelimit import Limit

OPEN_PHASES = (Phase.INDIENEN, Phase.BEOORDELEN, Phase.STEMMEN)
MAX_LENGTH = 2_000
REASON_LIMITS = (5, 500)
EDIT_WINDOW = dt.timedelta(minutes=15)
# Per resident and per address: a lively discussion passes, a flood does not.
PER_MINUTE = Limit("comment_minute", 3, dt.timedelta(minutes=1))
PER_DAY = Limit("comment_day", 30, dt.timedelta(days=1))
PER_ADDRESS_MINUTE = Limit("comment_ip_minute", 10, dt.timedelta(minutes=1))
PER_ADDRESS_DAY = Limit("comment_ip_day", 200, dt.timedelta(days=1))
TOP_LEVEL_KINDS = tuple(CommentKind)
# What staff may decide on a comment in the queue.
DECISIONS = ("goedkeuren", "in_orde", "verbergen", "vastzetten", "losmaken")

CLOSED = _("Reageren kan nu niet bij dit plan.")
NOT_YOURS = _("Alleen de schrijver kan deze reactie aanpassen.")
TOO_LATE = _("Een reactie kunt u tot 15 minuten na het plaatsen aanpassen.")
QUESTION_SUBJECT = N_("Nieuwe vraag over uw plan")
QUESTION_BODY = N_(
    "Hallo,\n"
    "\n"
    "Er is een vraag gesteld over uw plan \u2018{title}\u2019:\n"
    "\n"
    "{question}\n"
    "\n"
    "U kunt de vraag beantwoorden op de pagina van uw plan:\n"
    "{link}\n"
)


class TooManyComments(DomainError):
    """A flood from one account or address: a clear message, and nothing is stored."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            _(
                "U heeft veel reacties kort na elkaar geplaatst. Wacht {minutes} minuten en "
                "probeer het dan opnieuw."
            ),
            minutes=max(1, (retry_after + 59) // 60),
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class CommentInput:
    body: str
    kind: str = CommentKind.REACTIE.value
    parent_id: str = ""  # as typed: the comment this one answers, or ""


def is_open(round_: Round) -> bool:
    """Residents, authors and staff may write in this round now."""
    return not round_.comments_off and round_.phase in OPEN_PHASES


def is_public(comment: Comment, viewer_id: int | None = None) -> bool:
    """Everyone may read the text: visible, or waiting for approval and the viewer wrote it.
    Hidden and deleted comments show only their placeholder, to everyone, their writer too."""
    if comment.status == CommentStatus.ZICHTBAAR:
        return True
    return (
        comment.status == CommentStatus.WACHT
        and viewer_id is not None
        and comment.resident_id == viewer_id
    )


def can_edit(comment: Comment, resident_id: int | None, now: dt.datetime) -> bool:
    return (
        resident_id is not None
        and comment.resident_id == resident_id
        and comment.status in (CommentStatus.ZICHTBAAR, CommentStatus.WACHT)
        and now - comment.created_at <= EDIT_WINDOW
    )


def can_delete(comment: Comment, resident_id: int | None) -> bool:
    return (
        resident_id is not None
        and comment.resident_id == resident_id
        and comment.status in (CommentStatus.ZICHTBAAR, CommentStatus.WACHT)
    )


def of_plan(session: Session, plan_id: int) -> list[Comment]:
    """Every comment of a plan, oldest first (the pages decide what each viewer sees)."""
    return list(
        session.scalars(select(Comment).where(Comment.plan_id == plan_id).order_by(Comment.id))
    )


def visible_counts(session: Session, plan_ids: Iterable[int]) -> dict[int, int]:
    """How many comments everyone can read, per plan (for the ballot and the plan cards)."""
    ids = list(plan_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Comment.plan_id, func.count(Comment.id))
        .where(Comment.plan_id.in_(ids), Comment.status == CommentStatus.ZICHTBAAR)
        .group_by(Comment.plan_id)
    )
    return {plan_id: count for plan_id, count in rows}


def counts_in_round(session: Session, round_id: int) -> dict[str, int]:
    """How many comments everyone can read, per plan of a round by its public id: for the
    ballot, which links each plan to its discussion."""
    rows = session.execute(
        select(Plan.public_id, func.count(Comment.id))
        .join(Comment, Comment.plan_id == Plan.id)
        .where(Plan.round_id == round_id, Comment.status == CommentStatus.ZICHTBAAR)
        .group_by(Plan.public_id)
    )
    return {public_id: count for public_id, count in rows}


def reported_per_round(session: Session, round_ids: Iterable[int]) -> dict[int, int]:
    """How many comments wait for a decision on a report, per round: for the staff dashboard.
    Rounds without any are left out."""
    ids = list(round_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Plan.round_id, func.count(func.distinct(Comment.id)))
        .join(Comment, Comment.plan_id == Plan.id)
        .join(CommentReport, CommentReport.comment_id == Comment.id)
        .where(
            Plan.round_id.in_(ids),
            CommentReport.handled.is_(False),
            Comment.status.in_((CommentStatus.ZICHTBAAR, CommentStatus.WACHT)),
        )
        .group_by(Plan.round_id)
    )
    return {round_id: count for round_id, count in rows}


# -- Writing ---------------------------------------------------------------------------------


def post_as_resident(
    session: Session,
    plan: Plan,
    resident_id: int,
    data: CommentInput,
    *,
    secret_key: str,
    ip_key: str,
    now: dt.datetime,
    base_url: str = "",
) -> Comment:
    """A resident's comment or reply: within the limits, shown at once unless the round
    pre-moderates. The plan's author is told of a new question by mail."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.verified_at is None:
        raise NotAllowed(_("Log eerst in."))
    _require_open(plan)
    body, kind, parent = _validated(session, plan, data)
    _count_against_limits(session, ratelimit.hash_key(secret_key, f"r{resident_id}"), ip_key, now)
    is_author = plan.author_id == resident_id
    comment = Comment(
        plan_id=plan.id,
        parent_id=parent.id if parent else None,
        resident_id=resident_id,
        author_name=resident.display_name or gettext("Een bewoner"),
        role=(CommentRole.INDIENER if is_author else CommentRole.BEWONER).value,
        kind=kind,
        body=body,
        status=(
            CommentStatus.WACHT if plan.round.comments_premoderated else CommentStatus.ZICHTBAAR
        ).value,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    if kind == CommentKind.VRAAG and not is_author:
        _tell_author(session, plan, body, base_url)
    return comment


def post_as_staff(session: Session, actor: Actor, plan: Plan, data: CommentInput) -> Comment:
    """An answer (or comment) by staff of the plan's area: shown at once, labelled, audited.
    Staff take no side: what they write is never an argument for or against."""
    _require_open(plan)
    plain = CommentInput(data.body, CommentKind.REACTIE.value, data.parent_id)
    body, kind, parent = _validated(session, plan, plain)
    staff = session.get(StaffUser, actor.staff_id)
    comment = Comment(
        plan_id=plan.id,
        parent_id=parent.id if parent else None,
        staff_id=actor.staff_id,
        author_name=staff.name if staff is not None else "",
        role=CommentRole.WIJKRAAD.value,
        kind=kind,
        body=body,
        status=CommentStatus.ZICHTBAAR.value,
        reviewed=True,
    )
    session.add(comment)
    session.flush()
    audit.record(
        session, actor.staff_id, "comment.post", "comment", comment.id, plan.round.area_id,
        plan=plan.public_id,
    )  # fmt: skip
    return comment


def edit(
    session: Session, plan: Plan, comment_id: str, resident_id: int, body: str, now: dt.datetime
) -> Comment:
    comment = find(session, plan, comment_id)
    if comment.resident_id != resident_id:
        raise NotAllowed(NOT_YOURS)
    if not can_edit(comment, resident_id, now):
        raise PhaseClosed(TOO_LATE)
    _require_open(plan)
    comment.body = _checked_body(body)
    comment.edited_at = now
    comment.reviewed = False  # staff see the new text in the queue
    return comment


def delete(session: Session, plan: Plan, comment_id: str, resident_id: int) -> Comment:
    """Its writer removes a comment: the text goes, a placeholder stays (replies keep their
    place)."""
    comment = find(session, plan, comment_id)
    if not can_delete(comment, resident_id):
        raise NotAllowed(NOT_YOURS)
    comment.status = CommentStatus.VERWIJDERD.value
    comment.body = ""
    comment.pinned = False
    return comment


def report(
    session: Session, plan: Plan, comment_id: str, resident_id: int, reason: str
) -> CommentReport:
    """A resident reports a comment to the wijkraad; reporting it again changes nothing."""
    comment = find(session, plan, comment_id)
    if not is_public(comment):
        raise NotFound()
    reason = reason.strip()
    low, high = REASON_LIMITS
    if not low <= len(reason) <= high:
        raise Invalid(
            "reden", _("Schrijf in {low} tot {high} tekens wat er mis is."), low=low, high=high
        )
    existing = session.scalar(
        select(CommentReport).where(
            CommentReport.comment_id == comment.id, CommentReport.resident_id == resident_id
        )
    )
    if existing is not None:
        return existing
    made = CommentReport(comment_id=comment.id, resident_id=resident_id, reason=reason)
    session.add(made)
    session.flush()
    return made


# -- Moderation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    comment: Comment
    plan: Plan
    reports: tuple[str, ...]  # the reasons residents gave, oldest first


def queue(session: Session, round_: Round) -> list[QueueItem]:
    """What staff of the round's area still have to look at: comments waiting for approval,
    new or changed comments, and reported ones (oldest first)."""
    open_reports = (
        select(CommentReport.comment_id).where(CommentReport.handled.is_(False)).scalar_subquery()
    )
    rows = session.execute(
        select(Comment, Plan)
        .join(Plan, Plan.id == Comment.plan_id)
        .where(
            Plan.round_id == round_.id,
            (Comment.status == CommentStatus.WACHT)
            | (
                (Comment.status == CommentStatus.ZICHTBAAR)
                & ((Comment.reviewed.is_(False)) | Comment.id.in_(open_reports))
            ),
        )
        .order_by(Comment.id)
    ).all()
    reasons: dict[int, list[str]] = {}
    ids = [comment.id for comment, _ in rows]
    for comment_id, reason in session.execute(
        select(CommentReport.comment_id, CommentReport.reason)
        .where(CommentReport.comment_id.in_(ids), CommentReport.handled.is_(False))
        .order_by(CommentReport.id)
    ):
        reasons.setdefault(comment_id, []).append(reason)
    return [QueueItem(c, p, tuple(reasons.get(c.id, ()))) for c, p in rows]


def decide(
    session: Session, actor: Actor, plan: Plan, comment_id: str, decision: str, reason: str = ""
) -> Comment:
    """A staff decision on one comment of a plan the page tier found for the actor."""
    comment = find(session, plan, comment_id)
    if decision not in DECISIONS:
        raise Invalid("actie", _("Kies wat er met de reactie moet gebeuren."))
    if comment.status not in (CommentStatus.ZICHTBAAR, CommentStatus.WACHT):
        raise Invalid("actie", _("Deze reactie is al verborgen of verwijderd."))
    details: dict[str, str] = {"plan": plan.public_id}
    if comment.status == CommentStatus.WACHT and decision in ("in_orde", "vastzetten"):
        raise Invalid("actie", _("Keur de reactie eerst goed."))
    if decision == "verbergen":
        reason = reason.strip()
        low, high = REASON_LIMITS
        if not low <= len(reason) <= high:
            raise Invalid(
                "reden",
                _("Schrijf in {low} tot {high} tekens waarom de reactie verborgen wordt."),
                low=low,
                high=high,
            )
        comment.status = CommentStatus.VERBORGEN.value
        comment.hidden_reason = reason
        comment.pinned = False
        details["reason"] = reason
    elif decision == "goedkeuren":
        comment.status = CommentStatus.ZICHTBAAR.value
    elif decision in ("vastzetten", "losmaken"):
        _pin(session, comment, pinned=decision == "vastzetten")
    comment.reviewed = True
    session.execute(
        update(CommentReport).where(CommentReport.comment_id == comment.id).values(handled=True)
    )
    audit.record(
        session,
        actor.staff_id,
        f"comment.{decision}",
        "comment",
        comment.id,
        plan.round.area_id,
        **details,
    )
    return comment


def _pin(session: Session, comment: Comment, *, pinned: bool) -> None:
    """One pinned answer per question: pinning an answer unpins the others."""
    if comment.parent_id is None:
        raise Invalid("actie", _("Alleen een antwoord op een vraag of reactie kan vast staan."))
    if pinned and comment.status != CommentStatus.ZICHTBAAR:
        raise Invalid("actie", _("Keur de reactie eerst goed."))
    if pinned:
        session.execute(
            update(Comment).where(Comment.parent_id == comment.parent_id).values(pinned=False)
        )
    comment.pinned = pinned


# -- Privacy ---------------------------------------------------------------------------------


def unlink_residents(session: Session, round_ids: list[int]) -> int:
    """The retention purge: comments and reports of these rounds no longer point at residents
    (the display name that was shown stays with the comment)."""
    if not round_ids:
        return 0
    plans = select(Plan.id).where(Plan.round_id.in_(round_ids)).scalar_subquery()
    comments = select(Comment.id).where(Comment.plan_id.in_(plans)).scalar_subquery()
    session.execute(
        update(CommentReport)
        .where(CommentReport.comment_id.in_(comments), CommentReport.resident_id.is_not(None))
        .values(resident_id=None)
    )
    done = session.execute(
        update(Comment)
        .where(Comment.plan_id.in_(plans), Comment.resident_id.is_not(None))
        .values(resident_id=None)
    )
    return int(getattr(done, "rowcount", 0) or 0)


# -- Helpers ---------------------------------------------------------------------------------


def find(session: Session, plan: Plan, comment_id: str | int) -> Comment:
    """A comment of this plan by its id as typed in a form; NotFound otherwise."""
    text = str(comment_id).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:  # ids fit a 32-bit INTEGER
        raise NotFound()
    comment = session.get(Comment, int(text))
    if comment is None or comment.plan_id != plan.id:
        raise NotFound()
    return comment


def _require_open(plan: Plan) -> None:
    if not is_open(plan.round):
        raise PhaseClosed(CLOSED)


def _checked_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise Invalid("tekst", _("Schrijf eerst uw reactie."))
    if len(text) > MAX_LENGTH:
        raise Invalid("tekst", _("Gebruik hoogstens {limit} tekens."), limit=MAX_LENGTH)
    return text


def _validated(session: Session, plan: Plan, data: CommentInput) -> tuple[str, str, Comment | None]:
    body = _checked_body(data.body)
    parent = None
    if data.parent_id.strip():
        parent = find(session, plan, data.parent_id)
        if parent.parent_id is not None or parent.status != CommentStatus.ZICHTBAAR:
            raise Invalid("tekst", _("Op deze reactie kunt u niet antwoorden."))
        return body, CommentKind.REACTIE.value, parent
    if data.kind not in set(CommentKind):
        raise Invalid("soort", _("Kies wat voor reactie u plaatst."))
    return body, data.kind, None


def _count_against_limits(
    session: Session, account_key: str, ip_key: str, now: dt.datetime
) -> None:
    checks = (
        (PER_MINUTE, account_key),
        (PER_DAY, account_key),
        (PER_ADDRESS_MINUTE, ip_key),
        (PER_ADDRESS_DAY, ip_key),
    )
    for limit, key in checks:
        wait = ratelimit.retry_after(session, limit, key, now)
        if wait is not None:
            raise TooManyComments(wait)
    for limit, key in checks:
        ratelimit.record(session, limit, key, now)


def _tell_author(session: Session, plan: Plan, question: str, base_url: str) -> None:
    if plan.author_id is None:
        return
    author = session.get(Resident, plan.author_id)
    if author is None or "@" not in author.email:
        return
    link = f"{base_url}/plannen/{plan.public_id}#reacties"
    outbox.queue(
        session,
        author.email,
        gettext(QUESTION_SUBJECT),
        gettext(QUESTION_BODY, title=plan.title, question=question, link=link),
    )
