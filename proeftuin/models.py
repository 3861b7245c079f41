"""The data model. Constraints here are the last line of defence for the data.

Money is whole euros (integers). Times are UTC and timezone-aware. Enumerations are short strings
with CHECK constraints, so both SQLite and PostgreSQL enforce them and migrations stay plain.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.allocation.ballots import BallotKind as BallotKind  # stored in round.ballot_kind
from proeftuin.db import Base, UTCDateTime, utcnow


class AreaKind(StrEnum):
    WIJK = "wijk"
    DORP = "dorp"
    GEBIED = "gebied"


class Role(StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"


class Phase(StrEnum):
    CONCEPT = "concept"
    INDIENEN = "indienen"
    BEOORDELEN = "beoordelen"
    STEMMEN = "stemmen"
    GESLOTEN = "gesloten"
    GEPUBLICEERD = "gepubliceerd"


PHASE_ORDER = tuple(Phase)


class Rule(StrEnum):
    OPTIMAL = "optimal"
    GREEDY = "greedy"
    EQUAL_SHARES = "equal_shares"


class Eligibility(StrEnum):
    CODES = "codes"
    EMAIL = "email"
    CODES_OR_EMAIL = "codes_or_email"


class PlanStatus(StrEnum):
    INGEDIEND = "ingediend"
    AANPASSEN = "aanpassen"
    OP_STEMBILJET = "op_stembiljet"
    AFGEWEZEN = "afgewezen"
    INGETROKKEN = "ingetrokken"
    SAMENGEVOEGD = "samengevoegd"


class CodeStatus(StrEnum):
    UNUSED = "unused"
    USED = "used"
    REVOKED = "revoked"


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"


class ResultStatus(StrEnum):
    CONCEPT = "concept"
    VASTGESTELD = "vastgesteld"
    GEPUBLICEERD = "gepubliceerd"


def _one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


def _non_negative(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative")


class Area(Base):
    __tablename__ = "area"
    __table_args__ = (_one_of("kind", AreaKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    council_name: Mapped[str] = mapped_column(String(200), default="")
    # PC4 ranges, e.g. "9401-9405,9410"; empty means everyone in the gemeente may take part.
    postcodes: Mapped[str] = mapped_column(String(500), default="")
    # The area's outline on its map: GeoJSON polygons (services/places.py); empty: none.
    boundary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    rounds: Mapped[list[Round]] = relationship(back_populates="area", order_by="Round.id")


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (_one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised on logout-everywhere and password change: every older session is refused.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("staff_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)


class StaffSession(Base):
    """A signed-in staff member; the cookie carries only the id, so logout here revokes it."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Resident(Base):
    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised: trimmed, lower case
    display_name: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(7), default="")
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Round(Base):
    __tablename__ = "round"
    __table_args__ = (
        _one_of("phase", Phase),
        _one_of("ballot_kind", BallotKind),
        _one_of("rule", Rule),
        _one_of("eligibility", Eligibility),
        _non_negative("budget"),
        _non_negative("min_choices"),
        _non_negative("support_threshold"),
        _non_negative("points_total"),
        CheckConstraint("max_choices IS NULL OR max_choices >= 1", name="max_choices_positive"),
        CheckConstraint(
            "min_spend_percent >= 0 AND min_spend_percent <= 100", name="min_spend_percent_range"
        ),
        CheckConstraint(
            "min_vote_percent >= 0 AND min_vote_percent <= 100", name="min_vote_percent_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(20), default=Phase.CONCEPT.value)
    submission_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voting_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    voting_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ballot_kind: Mapped[str] = mapped_column(String(20), default=BallotKind.KNAPSACK.value)
    min_choices: Mapped[int] = mapped_column(Integer, default=0)
    max_choices: Mapped[int | None] = mapped_column(Integer)
    min_spend_percent: Mapped[int] = mapped_column(Integer, default=0)
    points_total: Mapped[int] = mapped_column(Integer, default=0)
    rule: Mapped[str] = mapped_column(String(20), default=Rule.EQUAL_SHARES.value)
    # Options of the rule greedy (docs/decisions.md, Allocation rules and ties): stop at the
    # first plan that does not fit, and the share of the votes a plan needs (0: none).
    greedy_no_skip: Mapped[bool] = mapped_column(Boolean, default=False)
    min_vote_percent: Mapped[int] = mapped_column(Integer, default=0)
    eligibility: Mapped[str] = mapped_column(String(20), default=Eligibility.CODES.value)
    min_age: Mapped[int | None] = mapped_column(Integer)
    support_threshold: Mapped[int] = mapped_column(Integer, default=0)
    # Paper ballots are stored only when a second staff member confirms the entry (vier-ogen).
    paper_check: Mapped[bool] = mapped_column(Boolean, default=False)
    # The conversation on plans (services/comments.py): off for a round that wants none; with
    # pre-moderation a comment appears only after staff approve it.
    comments_off: Mapped[bool] = mapped_column(Boolean, default=False)
    comments_premoderated: Mapped[bool] = mapped_column(Boolean, default=False)
    tie_break_seed: Mapped[str] = mapped_column(String(64))
    # The voting event (stemming) this round is part of, if any (services/events.py).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("voting_event.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship(back_populates="rounds")
    plans: Mapped[list[Plan]] = relationship(back_populates="round", order_by="Plan.id")


def plan_cost(official_cost: int | None, estimated_cost: int) -> int:
    """What a plan costs: the official cost once the gemeente set it, else the estimate."""
    return estimated_cost if official_cost is None else official_cost


class Plan(Base):
    __tablename__ = "plan"
    __table_args__ = (
        _one_of("status", PlanStatus),
        _non_negative("estimated_cost"),
        CheckConstraint(
            "official_cost IS NULL OR official_cost >= 0", name="official_cost_non_negative"
        ),
        CheckConstraint(
            "status <> 'op_stembiljet' OR official_cost IS NOT NULL",
            name="on_ballot_has_official_cost",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)  # in URLs; not guessable
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when rendered
    estimated_cost: Mapped[int] = mapped_column(Integer)
    official_cost: Mapped[int | None] = mapped_column(Integer)
    cost_explanation: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    theme: Mapped[str] = mapped_column(String(40), default="")
    self_executed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.INGEDIEND.value)
    public_reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The plan's place on the map, in millionths of a degree (WGS84), beside ``location`` in
    # words; None when no point was chosen (services/places.py).
    latitude_e6: Mapped[int | None] = mapped_column(Integer)
    longitude_e6: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship(back_populates="plans")

    @property
    def cost(self) -> int:
        return plan_cost(self.official_cost, self.estimated_cost)


class Support(Base):
    __tablename__ = "support"
    __table_args__ = (UniqueConstraint("plan_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class VotingCode(Base):
    """A letter code, stored only as HMAC-SHA256(pepper, normalised code)."""

    __tablename__ = "voting_code"
    __table_args__ = (_one_of("status", CodeStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=CodeStatus.UNUSED.value)
    batch: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_on: Mapped[dt.date | None] = mapped_column(Date)


class Ballot(Base):
    """One credential's ballot in a round. Deliberately no resident, IP or precise time."""

    __tablename__ = "ballot"
    __table_args__ = (
        UniqueConstraint("round_id", "voter_key"),
        _one_of("channel", Channel),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    voter_key: Mapped[str] = mapped_column(String(64))  # HMAC(pepper, credential)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)  # random tracker
    channel: Mapped[str] = mapped_column(String(10))
    cast_on: Mapped[dt.date] = mapped_column(Date)  # the day only
    # Idempotency: a retried submission with the same token gets the same receipt.
    submission_token: Mapped[str | None] = mapped_column(String(64))

    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan", order_by="BallotChoice.plan_id"
    )


class BallotChoice(Base):
    __tablename__ = "ballot_choice"
    __table_args__ = (
        UniqueConstraint("ballot_id", "plan_id"),
        CheckConstraint("points >= 1", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    points: Mapped[int] = mapped_column(Integer, default=1)

    ballot: Mapped[Ballot] = relationship(back_populates="choices")


class Result(Base):
    __tablename__ = "result"
    __table_args__ = (_one_of("status", ResultStatus), _one_of("rule", Rule))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), unique=True)
    rule: Mapped[str] = mapped_column(String(20))
    tie_break_seed: Mapped[str] = mapped_column(String(64))
    # JSON, read and written only by services/result_record.py: what the count fixed.
    data: Mapped[str] = mapped_column(Text)
    ballots_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=ResultStatus.CONCEPT.value)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The council's decision as recorded at sign-off ("" when none was given); None before.
    decision: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who did what to which object. Never codes, e-mail addresses or ballot contents.

    Each event carries the hash of the one before it, so a later change, removal or insertion
    in the database shows (``proeftuin audit verify``)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(30), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    # The chain (services.audit): the hash of the event before this one, and this event's own
    # hash over its fields and that one. Unique: no two events can follow the same one.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class RateLimit(Base):
    """Failure counters shared by every worker and host (fixed windows)."""

    __tablename__ = "rate_limit"
    __table_args__ = (UniqueConstraint("bucket", "key", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(64))  # hashed: no raw IPs or e-mail addresses
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class UsedToken(Base):
    """Single-use sign-in links that were spent; kept until they would have expired anyway."""

    __tablename__ = "used_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMail(Base):
    """Mail waiting to go out (and, in development, the outbox a developer reads)."""

    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    # One-click unsubscribe (RFC 8058): the address the List-Unsubscribe headers name ("": none).
    unsubscribe_url: Mapped[str] = mapped_column(String(500), default="")


# -- The conversation on plans (services/comments.py) -----------------------------------------


class CommentKind(StrEnum):
    REACTIE = "reactie"
    VRAAG = "vraag"
    VOOR = "voor"  # an argument for the plan
    TEGEN = "tegen"  # an argument against it


class CommentStatus(StrEnum):
    WACHT = "wacht"  # pre-moderation: waits for staff to approve it
    ZICHTBAAR = "zichtbaar"
    VERBORGEN = "verborgen"  # hidden by staff, with a public reason
    VERWIJDERD = "verwijderd"  # deleted by its writer


class CommentRole(StrEnum):
    BEWONER = "bewoner"
    INDIENER = "indiener"  # the plan's author
    WIJKRAAD = "wijkraad"  # staff of the plan's area


class Comment(Base):
    """A comment on a plan, or a reply to one (one level). Shows the writer's display name only."""

    __tablename__ = "comment"
    __table_args__ = (
        _one_of("kind", CommentKind),
        _one_of("status", CommentStatus),
        _one_of("role", CommentRole),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    # Unlinked by the retention purge; the name stays as it was shown.
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="SET NULL"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(10), default=CommentRole.BEWONER.value)
    kind: Mapped[str] = mapped_column(String(10), default=CommentKind.REACTIE.value)
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when rendered
    status: Mapped[str] = mapped_column(String(12), default=CommentStatus.ZICHTBAAR.value)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Seen by staff in the queue of new comments.
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CommentReport(Base):
    """A resident's report of a comment, with a reason; handled when staff decide on it."""

    __tablename__ = "comment_report"
    __table_args__ = (UniqueConstraint("comment_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500), default="")
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- Staff work on plans: merges that can be undone, internal notes, the cost check ----------


class PlanMerge(Base):
    """A plan merged into another, with what it takes to undo it: the plan's status and reason
    before, who supported it, who was moved to the other plan and which plans followed along.
    The author's mail waits here until ``mail_due_at`` (the undo window) or until staff confirm;
    an undone merge never mails. Read and written only by services/merges.py."""

    __tablename__ = "plan_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    into_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    merged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    previous_status: Mapped[str] = mapped_column(String(20))
    previous_reason: Mapped[str] = mapped_column(Text, default="")
    supporters: Mapped[str] = mapped_column(Text, default="[]")  # JSON: resident ids
    moved: Mapped[str] = mapped_column(Text, default="[]")  # JSON: ids added to the other plan
    followers: Mapped[str] = mapped_column(Text, default="[]")  # JSON: plan ids re-pointed
    mail_to: Mapped[str] = mapped_column(String(320), default="")
    mail_subject: Mapped[str] = mapped_column(String(200), default="")
    mail_body: Mapped[str] = mapped_column(Text, default="")
    mail_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    mailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PlanNote(Base):
    """An internal note of staff on a plan: seen by staff of the plan's area only, never shown to
    residents, never exported."""

    __tablename__ = "plan_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CostCheck(Base):
    """Who checks a plan's cost: one named member of staff per plan."""

    __tablename__ = "cost_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# -- After the vote: carrying out funded plans, and who wants to hear about it -------------------


class ExecutionStatus(StrEnum):
    VOORBEREIDING = "voorbereiding"
    UITVOERING = "uitvoering"
    KLAAR = "klaar"
    VERVALLEN = "vervallen"
    VERTRAAGD = "vertraagd"


class PlanExecution(Base):
    """How a funded plan is being carried out; one row per plan, made at its first change."""

    __tablename__ = "plan_execution"
    __table_args__ = (
        _one_of("status", ExecutionStatus),
        _non_negative("spent"),
        CheckConstraint(
            "status NOT IN ('vervallen', 'vertraagd') OR reason <> ''", name="status_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ExecutionStatus.VOORBEREIDING.value)
    reason: Mapped[str] = mapped_column(Text, default="")  # public; needed when stopped or late
    # "2027-05" (a month) or "2027-Q2" (a quarter); "" when not known yet.
    expected: Mapped[str] = mapped_column(String(7), default="")
    spent: Mapped[int] = mapped_column(Integer, default=0)
    spent_explanation: Mapped[str] = mapped_column(Text, default="")  # needed above the cost
    co_executors: Mapped[str] = mapped_column(String(300), default="")  # residents, by name
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExecutionUpdate(Base):
    """A dated public message about a funded plan, in plain text."""

    __tablename__ = "execution_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    posted_on: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Subscription(Base):
    """An e-mail address that wants news of one round or one area (double opt-in), or the
    author of a plan, who hears about it without asking (``plan_id``)."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN round_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN area_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN plan_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # normalised
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True
    )
    # In the confirm and stop links; stored as is, because every mail must name it again.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirm_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # an author said stop
    last_mailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_notice_id: Mapped[int] = mapped_column(Integer, default=0)  # the newest notice mailed


class Notice(Base):
    """Something to tell in the next mail: to the subscribers of its round and area when
    ``public``, and to the author of ``plan_id``. ``kind`` keeps each announcement single."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("round_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True
    )
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(60))  # "phase:stemmen", "update:12", …
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# -- The gemeente's own site: contact details, its look, and the statements ----------------------


class SitePage(StrEnum):
    PRIVACY = "privacy"
    ACCESSIBILITY = "accessibility"
    HOW_IT_WORKS = "how_it_works"


class SiteProfile(Base):
    """The one row of the gemeente's contact details and look; "" means not set (the example
    theme, the name from PROEFTUIN_SITE_NAME). Colours are #rrggbb."""

    __tablename__ = "site_profile"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gemeente_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    opening_hours: Mapped[str] = mapped_column(String(1000), default="")
    colour_button: Mapped[str] = mapped_column(String(7), default="")
    colour_button_text: Mapped[str] = mapped_column(String(7), default="")
    colour_link: Mapped[str] = mapped_column(String(7), default="")
    colour_footer: Mapped[str] = mapped_column(String(7), default="")
    colour_footer_text: Mapped[str] = mapped_column(String(7), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str] = mapped_column(String(20), default="")
    logo_sha256: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SitePageText(Base):
    """An admin's own text of a content page (Markdown); no row means the generated default."""

    __tablename__ = "site_page"
    __table_args__ = (_one_of("page", SitePage),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(30), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )


# -- Letters for the mail house and paper ballots that do not count ----------------------------


class VoidKind(StrEnum):
    BLANK = "blank"
    INVALID = "invalid"


class PaperVoid(Base):
    """A paper ballot that counts for turnout but never in the count: blank or invalid, with
    the reason staff chose. It takes the code like a ballot does: one per credential."""

    __tablename__ = "paper_void"
    __table_args__ = (UniqueConstraint("round_id", "voter_key"), _one_of("kind", VoidKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    voter_key: Mapped[str] = mapped_column(String(64))  # HMAC(pepper, credential)
    kind: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200), default="")
    entered_on: Mapped[dt.date] = mapped_column(Date)


class Letter(Base):
    """A letter made from an address list: its number and its code, never the address. Only
    the four digits of the postcode stay, for turnout per postcode area."""

    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    code_id: Mapped[int] = mapped_column(ForeignKey("voting_code.id"), unique=True)
    pc4: Mapped[str] = mapped_column(String(4))
    replaces: Mapped[int | None] = mapped_column(Integer)  # the number of the lost letter


# -- Voting events: several rounds in one vote (services/events.py) ------------------------------


class VotingEvent(Base):
    """A stemming: rounds that share their voting dates and letter codes, typically one
    city-wide round and one round per wijk or dorp (docs/decisions.md, Voting events)."""

    __tablename__ = "voting_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The area of the city-wide round, whose ballot every voter of the event also fills in;
    # None when the event holds area rounds only.
    citywide_area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    # E-mail voters choose their area instead of being placed by their postcode.
    area_choice: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoterDeclaration(Base):
    """An e-mail voter's declaration that they are old enough and live in the area: recorded per
    (round, voter key), so it holds nothing more about the voter than their ballot does."""

    __tablename__ = "voter_declaration"
    __table_args__ = (UniqueConstraint("round_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    voter_key: Mapped[str] = mapped_column(String(64))
    min_age: Mapped[int | None] = mapped_column(Integer)
    declared_on: Mapped[dt.date] = mapped_column(Date)


# -- Photos and places ------------------------------------------------------------------------


class PlanPhoto(Base):
    """A photo on a plan, as the server re-encoded it (services/images.py): three JPEG sizes, no
    metadata. In the database, so every app server serves it and every backup holds it."""

    __tablename__ = "plan_photo"
    __table_args__ = (CheckConstraint("width >= 1 AND height >= 1", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)  # in URLs; not guessable
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    alt: Mapped[str] = mapped_column(String(300))
    width: Mapped[int] = mapped_column(Integer)  # of the large size
    height: Mapped[int] = mapped_column(Integer)
    thumb: Mapped[bytes] = mapped_column(LargeBinary)  # the ballot
    small: Mapped[bytes] = mapped_column(LargeBinary)  # cards
    large: Mapped[bytes] = mapped_column(LargeBinary)  # the plan page
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
