"""How long personal data is kept once a round is over (AVG: no longer than needed).

``purge(session, now)`` runs after ``RETENTION``, counted from the moment a round's result was
published (a round that never got that far is never "finished", and is left alone):

- letter codes of finished rounds: deleted, hashes and all; the published turnout is kept in the
  result itself, so the public figures do not change;
- ballots of finished rounds: kept, with their choices, receipts (the published trackers), channel
  and day, so the result can be recomputed forever; only the pseudonymous ``voter_key`` is replaced
  by a random value, because with the pepper it links a ballot to a letter code's row or to a
  resident's account;
- residents: their e-mail address, name and postcode are wiped (the row stays, empty, so the
  authors' names on old plans and the support counts do not change) when the account is older than
  the retention period and all its plans, support and comments belong to finished rounds. Not
  while a round is open for voting by e-mail: an account made anew would then vote a second time;
- comments on plans of finished rounds (and residents' reports of them): kept with the name they
  showed, but no longer linked to the resident who wrote them;
- subscriptions to news of finished rounds (and of their plans), and those never confirmed
  within a week (``subscriptions.UNCONFIRMED_FOR``);
- staff sessions that ended before the retention period; spent sign-in links that have expired;
  mail in the outbox older than the retention period; rate-limit rows older than a day.

Running it again changes nothing more. What was purged is written to the audit log, as counts.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, fields

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from proeftuin.models import (
    Ballot,
    Comment,
    Eligibility,
    OutboxMail,
    Phase,
    Plan,
    Resident,
    Result,
    Round,
    StaffSession,
    Support,
    UsedToken,
    VotingCode,
)
from proeftuin.services import audit, comments, ratelimit, subscriptions

# Long enough for objections and appeals against a published result (and for a recount from the
# ballots, which stay anyway), short enough that no one's address outlives its use by much.
RETENTION = dt.timedelta(days=90)
# Wiped values start with this, so a second run skips them (no e-mail address or HMAC can).
WIPED = "gewist-"
EMAIL_ROUNDS = (Eligibility.EMAIL.value, Eligibility.CODES_OR_EMAIL.value)


@dataclass(frozen=True)
class Purged:
    rounds: tuple[str, ...]  # finished rounds whose codes or ballot keys were purged now
    codes: int
    comments: int
    ballot_keys: int
    residents: int
    staff_sessions: int
    used_tokens: int
    outbox: int
    rate_limits: int
    subscriptions: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "rounds")


def finished_round_ids(session: Session, now: dt.datetime, retention: dt.timedelta) -> list[int]:
    """Rounds whose result was published more than ``retention`` ago."""
    return list(
        session.scalars(
            select(Round.id)
            .join(Result, Result.round_id == Round.id)
            .where(
                Round.phase == Phase.GEPUBLICEERD,
                Result.published_at.is_not(None),
                Result.published_at < now - retention,
            )
            .order_by(Round.id)
        )
    )


def purge(session: Session, now: dt.datetime, retention: dt.timedelta = RETENTION) -> Purged:
    cutoff = now - retention
    finished = finished_round_ids(session, now, retention)
    pending = _with_personal_data(session, finished)
    purged = Purged(
        rounds=tuple(
            session.scalars(select(Round.slug).where(Round.id.in_(pending)).order_by(Round.id))
        ),
        codes=_count(session.execute(delete(VotingCode).where(VotingCode.round_id.in_(pending)))),
        ballot_keys=_unlink_ballots(session, pending),
        comments=comments.unlink_residents(session, finished),
        residents=_wipe_residents(session, finished, cutoff),
        staff_sessions=_count(
            session.execute(
                delete(StaffSession).where(
                    StaffSession.last_seen_at < cutoff,
                    or_(StaffSession.revoked_at.is_(None), StaffSession.revoked_at < cutoff),
                )
            )
        ),
        used_tokens=_count(session.execute(delete(UsedToken).where(UsedToken.expires_at < now))),
        outbox=_count(session.execute(delete(OutboxMail).where(OutboxMail.created_at < cutoff))),
        rate_limits=ratelimit.prune(session, now),
        subscriptions=subscriptions.purge(session, now, finished),
    )
    if purged.total:
        audit.record(
            session,
            None,
            "retention.purge",
            "system",
            None,
            rounds=list(purged.rounds),
            letter_hashes=purged.codes,
            ballot_keys=purged.ballot_keys,
            comments=purged.comments,
            residents=purged.residents,
            staff_sessions=purged.staff_sessions,
            spent_links=purged.used_tokens,
            outbox=purged.outbox,
            rate_limits=purged.rate_limits,
            subscriptions=purged.subscriptions,
            retention_days=retention.days,
        )
    return purged


def _with_personal_data(session: Session, round_ids: list[int]) -> list[int]:
    """Of these rounds, those that still have letter codes or linkable ballots."""
    with_codes = select(VotingCode.round_id).where(VotingCode.round_id.in_(round_ids))
    with_keys = select(Ballot.round_id).where(
        Ballot.round_id.in_(round_ids), Ballot.voter_key.not_like(f"{WIPED}%")
    )
    return sorted(set(session.scalars(with_codes.union(with_keys))))


def _unlink_ballots(session: Session, finished: list[int]) -> int:
    ids = list(
        session.scalars(
            select(Ballot.id).where(
                Ballot.round_id.in_(finished), Ballot.voter_key.not_like(f"{WIPED}%")
            )
        )
    )
    if ids:
        # One random key per ballot: unique per round, as the constraint wants, and linked to
        # nothing. The submission token goes too (it could only ever match a retried form).
        session.execute(
            update(Ballot),
            [
                {"id": i, "voter_key": WIPED + secrets.token_hex(28), "submission_token": None}
                for i in ids
            ],
        )
    return len(ids)


def _wipe_residents(session: Session, finished: list[int], cutoff: dt.datetime) -> int:
    email_voting = session.scalar(
        select(func.count(Round.id)).where(
            Round.phase == Phase.STEMMEN, Round.eligibility.in_(EMAIL_ROUNDS)
        )
    )
    if email_voting:
        return 0
    open_plans = select(Plan.id).where(Plan.round_id.not_in(finished))
    busy = or_(
        exists().where(and_(Plan.author_id == Resident.id, Plan.id.in_(open_plans))),
        exists().where(and_(Support.resident_id == Resident.id, Support.plan_id.in_(open_plans))),
        exists().where(and_(Comment.resident_id == Resident.id, Comment.plan_id.in_(open_plans))),
    )
    ids = list(
        session.scalars(
            select(Resident.id).where(
                Resident.created_at < cutoff,
                Resident.email.contains("@"),  # a wiped one is "gewist-<id>"
                ~busy,
            )
        )
    )
    for resident_id in ids:
        session.execute(
            update(Resident)
            .where(Resident.id == resident_id)
            .values(email=f"{WIPED}{resident_id}", display_name="", postcode="", verified_at=None)
        )
    return len(ids)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
