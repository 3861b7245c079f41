"""The conversation on a plan: what residents read and write under a plan, and what staff of the
plan's area see and decide (the queue, the plan's discussion, the CSV export).

Every rule is ``services.comments``'s; this module shapes a plan's comments into one view, in
which a hidden or deleted comment never carries its text, whoever looks.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import NotAllowed, PhaseClosed
from proeftuin.models import Comment, CommentKind, CommentReport, CommentStatus, Plan, Resident
from proeftuin.services import comments, lookup, spreadsheets
from proeftuin.services.comments import CommentInput as CommentInput
from proeftuin.services.pages import declare
from proeftuin.services.pages._common import RoundBrief, round_brief
from proeftuin.services.permissions import Actor
from proeftuin.services.ratelimit import hash_key as hash_key


@dataclass(frozen=True)
class CommentView:
    id: int
    author_name: str
    role: str  # bewoner, indiener or wijkraad
    category: str  # the comment's kind: vraag, reactie, voor or tegen
    body: str  # "" when the viewer may not read it (hidden, deleted, waiting)
    status: str
    hidden_reason: str
    created_at: dt.datetime
    edited: bool
    pinned: bool
    can_edit: bool
    can_delete: bool
    replies: tuple[CommentView, ...] = ()

    @property
    def readable(self) -> bool:
        return bool(self.body)


@dataclass(frozen=True)
class Discussion:
    round: RoundBrief
    public_id: str
    plan_title: str
    council_label: str  # how staff answers are labelled: "Wijkraad Centrum-Oost"
    open: bool
    premoderated: bool
    conversation: tuple[CommentView, ...]  # questions and comments
    arguments_for: tuple[CommentView, ...]
    arguments_against: tuple[CommentView, ...]
    count: int  # what everyone can read
    for_staff: bool = False

    @property
    def empty(self) -> bool:
        return not (self.conversation or self.arguments_for or self.arguments_against)


@dataclass(frozen=True)
class QueueEntry:
    comment: CommentView
    plan_public_id: str
    plan_title: str
    reports: tuple[str, ...]


@dataclass(frozen=True)
class CommentQueue:
    round: RoundBrief
    entries: tuple[QueueEntry, ...]


def _view(
    comment: Comment, viewer_id: int | None, now: dt.datetime, replies: tuple[CommentView, ...]
) -> CommentView:
    readable = comments.is_public(comment, viewer_id)
    return CommentView(
        id=comment.id,
        author_name=comment.author_name,
        role=comment.role,
        category=comment.kind,
        body=comment.body if readable else "",
        status=comment.status,
        hidden_reason=comment.hidden_reason if comment.status == CommentStatus.VERBORGEN else "",
        created_at=comment.created_at,
        edited=comment.edited_at is not None,
        pinned=comment.pinned,
        can_edit=comments.can_edit(comment, viewer_id, now),
        can_delete=comments.can_delete(comment, viewer_id),
        replies=replies,
    )


def _shown(comment: Comment, viewer_id: int | None, for_staff: bool) -> bool:
    """A waiting comment is left out for everyone but its writer and staff; the other states
    are shown (hidden and deleted ones as a placeholder)."""
    if comment.status != CommentStatus.WACHT:
        return True
    return for_staff or (viewer_id is not None and comment.resident_id == viewer_id)


def _discussion(
    session: Session, plan: Plan, viewer_id: int | None, now: dt.datetime, for_staff: bool
) -> Discussion:
    every = [c for c in comments.of_plan(session, plan.id) if _shown(c, viewer_id, for_staff)]
    replies: dict[int, list[Comment]] = {}
    for comment in every:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append(comment)

    def view(comment: Comment) -> CommentView:
        answers = sorted(replies.get(comment.id, []), key=lambda c: (not c.pinned, c.id))
        shown = tuple(_view(a, _reader(a, viewer_id, for_staff), now, ()) for a in answers)
        return _view(comment, _reader(comment, viewer_id, for_staff), now, shown)

    top = [view(c) for c in every if c.parent_id is None]
    round_ = plan.round
    return Discussion(
        round=round_brief(round_),
        public_id=plan.public_id,
        plan_title=plan.title,
        council_label=round_.area.council_name or round_.area.name,
        open=comments.is_open(round_),
        premoderated=round_.comments_premoderated,
        conversation=tuple(
            c for c in top if c.category in (CommentKind.VRAAG, CommentKind.REACTIE)
        ),
        arguments_for=tuple(c for c in top if c.category == CommentKind.VOOR),
        arguments_against=tuple(c for c in top if c.category == CommentKind.TEGEN),
        count=comments.visible_counts(session, [plan.id]).get(plan.id, 0),
        for_staff=for_staff,
    )


def _reader(comment: Comment, viewer_id: int | None, for_staff: bool) -> int | None:
    """Whose eyes a comment is shown to: staff read a waiting comment as its writer does."""
    if for_staff and comment.status == CommentStatus.WACHT:
        return comment.resident_id
    return viewer_id


# -- Residents -------------------------------------------------------------------------------


@declare.read
def discussion(
    session: Session, public_id: str, resident_id: int | None, now: dt.datetime
) -> Discussion:
    return _discussion(session, lookup.public_plan(session, public_id), resident_id, now, False)


@declare.read
def commenter_name(session: Session, resident_id: int) -> str | None:
    """The signed-in resident's display name ("" when not given yet); None without an account."""
    resident = session.get(Resident, resident_id)
    return resident.display_name if resident is not None else None


@declare.write
def post(
    session: Session,
    public_id: str,
    resident_id: int,
    data: CommentInput,
    *,
    secret_key: str,
    ip_key: str,
    now: dt.datetime,
    base_url: str,
) -> int:
    """The new comment's id."""
    plan = lookup.public_plan(session, public_id)
    made = comments.post_as_resident(
        session,
        plan,
        resident_id,
        data,
        secret_key=secret_key,
        ip_key=ip_key,
        now=now,
        base_url=base_url,
    )
    return made.id


@declare.read
def own_comment(
    session: Session, public_id: str, comment_id: str, resident_id: int, now: dt.datetime
) -> CommentView:
    """A resident's own comment, for the edit form; refused once it can no longer change."""
    plan = lookup.public_plan(session, public_id)
    comment = comments.find(session, plan, comment_id)
    if comment.resident_id != resident_id:
        raise NotAllowed(comments.NOT_YOURS)
    if not comments.can_edit(comment, resident_id, now) or not comments.is_open(plan.round):
        raise PhaseClosed(comments.TOO_LATE)
    return _view(comment, resident_id, now, ())


@declare.write
def edit(
    session: Session,
    public_id: str,
    comment_id: str,
    resident_id: int,
    body: str,
    now: dt.datetime,
) -> None:
    comments.edit(
        session, lookup.public_plan(session, public_id), comment_id, resident_id, body, now
    )


@declare.write
def delete(session: Session, public_id: str, comment_id: str, resident_id: int) -> None:
    comments.delete(session, lookup.public_plan(session, public_id), comment_id, resident_id)


@declare.read
def reportable(session: Session, public_id: str, comment_id: str, now: dt.datetime) -> CommentView:
    """A comment anyone can read, for the report form."""
    plan = lookup.public_plan(session, public_id)
    comment = comments.find(session, plan, comment_id)
    if not comments.is_public(comment):
        raise NotAllowed()
    return _view(comment, None, now, ())


@declare.write
def report(
    session: Session, public_id: str, comment_id: str, resident_id: int, reason: str
) -> None:
    plan = lookup.public_plan(session, public_id)
    comments.report(session, plan, comment_id, resident_id, reason)


# -- Staff -----------------------------------------------------------------------------------


@declare.read
def staff_discussion(
    session: Session, actor: Actor, slug: str, public_id: str, now: dt.datetime
) -> Discussion:
    """A plan's whole discussion as staff of its area see it: waiting comments with their text,
    hidden and deleted ones as the placeholder everyone sees."""
    return _discussion(session, _staff_plan(session, actor, slug, public_id), None, now, True)


@declare.write
def staff_post(
    session: Session, actor: Actor, slug: str, public_id: str, data: CommentInput
) -> None:
    comments.post_as_staff(session, actor, _staff_plan(session, actor, slug, public_id), data)


@declare.write
def decide(
    session: Session,
    actor: Actor,
    slug: str,
    public_id: str,
    comment_id: str,
    decision: str,
    reason: str,
) -> None:
    plan = _staff_plan(session, actor, slug, public_id)
    comments.decide(session, actor, plan, comment_id, decision, reason)


def _staff_plan(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return lookup.plan_in_round(session, lookup.staff_round(session, actor, slug), public_id)


@declare.read
def comment_queue(session: Session, actor: Actor, slug: str, now: dt.datetime) -> CommentQueue:
    round_ = lookup.staff_round(session, actor, slug)
    entries = tuple(
        QueueEntry(
            comment=_view(item.comment, item.comment.resident_id, now, ()),
            plan_public_id=item.plan.public_id,
            plan_title=item.plan.title,
            reports=item.reports,
        )
        for item in comments.queue(session, round_)
    )
    return CommentQueue(round=round_brief(round_), entries=entries)


CSV_HEADER = (
    "id",
    "antwoord_op",
    "geplaatst",
    "naam",
    "rol",
    "soort",
    "status",
    "tekst",
    "reden_verborgen",
    "aangepast",
    "vastgezet",
    "meldingen",
)


@declare.read
def discussion_csv(
    session: Session, actor: Actor, slug: str, public_id: str, format_: str = "csv"
) -> spreadsheets.StaffFile:
    """The plan's discussion for the wijkraad: everyone's public view, one row per comment; the
    text of a hidden, deleted or waiting comment is left out."""
    plan = _staff_plan(session, actor, slug, public_id)
    every = comments.of_plan(session, plan.id)
    reports = Counter(
        session.scalars(
            select(CommentReport.comment_id).where(
                CommentReport.comment_id.in_([c.id for c in every])
            )
        )
    )
    rows = [
        (
            c.id,
            c.parent_id or "",
            c.created_at.isoformat(timespec="seconds"),
            c.author_name,
            c.role,
            c.kind,
            c.status,
            c.body if comments.is_public(c) else "",
            c.hidden_reason if c.status == CommentStatus.VERBORGEN else "",
            "ja" if c.edited_at else "",
            "ja" if c.pinned else "",
            reports.get(c.id, 0),
        )
        for c in every
    ]
    return spreadsheets.staff_file(spreadsheets.Sheet("Reacties", CSV_HEADER, rows), format_)
