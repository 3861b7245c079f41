"""Casting ballots: one credential, one ballot, enforced by the database.

See docs/decisions.md, One credential, one ballot.

A credential (a letter code, or a verified e-mail address) becomes a pseudonymous ``voter_key``;
the ballot row holds that key and nothing else about the voter. Everything is checked inside the
casting transaction, so a stale page or a forged form can never store a ballot that breaks the
round's rules.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from proeftuin.db import lock_name, lock_row, table_of
from proeftuin.errors import Invalid, NotFound, PhaseClosed, TooManyAttempts, _
from proeftuin.models import (
    Ballot,
    BallotChoice,
    Channel,
    CodeStatus,
    Eligibility,
    PaperVoid,
    Phase,
    Plan,
    PlanStatus,
    Round,
    VoidKind,
    VotingCode,
)
from proeftuin.services import ballot_kinds, ballot_rules, codes, lookup, ratelimit

log = logging.getLogger(__name__)

REVOKED = _("Deze code is ingetrokken. Neem contact op met de gemeente.")


ROUNDS, PLANS, BALLOTS, CHOICES, CODES = map(
    table_of, (Round, Plan, Ballot, BallotChoice, VotingCode)
)

# Casting's statements, built once with their parameters left open, and run on the connection
# without the ORM: building and caching a statement anew costs more than SQLite takes to run it,
# and on SQLite a cast holds the one write lock, so its time bounds the ballots per second.
# The round's rules and its ballot's plans in one statement: one row per plan (one without a
# plan when the ballot is empty). Only the round row is locked.
ROUND_AND_PLANS = (
    select(
        ROUNDS.c.phase,
        *(ROUNDS.c[name] for name in ballot_kinds.RULE_COLUMNS),
        PLANS.c.id,
        PLANS.c.public_id,
        PLANS.c.official_cost,
    )
    .select_from(
        ROUNDS.outerjoin(
            PLANS,
            (PLANS.c.round_id == ROUNDS.c.id) & (PLANS.c.status == PlanStatus.OP_STEMBILJET.value),
        )
    )
    .where(ROUNDS.c.id == bindparam("round_id"))
    .with_for_update(read=True, of=ROUNDS)
)
BALLOT_OF_VOTER = select(
    BALLOTS.c.id, BALLOTS.c.receipt, BALLOTS.c.channel, BALLOTS.c.submission_token
).where(BALLOTS.c.round_id == bindparam("round_id"), BALLOTS.c.voter_key == bindparam("voter_key"))
CODE_AND_ROUND = (
    select(CODES.c.id, CODES.c.status, CODES.c.round_id, ROUNDS.c.phase, ROUNDS.c.eligibility)
    .select_from(CODES.join(ROUNDS, CODES.c.round_id == ROUNDS.c.id))
    .where(CODES.c.code_hash == bindparam("code_hash"))
)
NEW_BALLOT = insert(BALLOTS).returning(BALLOTS.c.id)
VOIDS = table_of(PaperVoid)
# A blank or invalid paper ballot takes the credential like a ballot (services/paper.py).
VOID_OF_VOTER = select(VOIDS.c.id).where(
    VOIDS.c.round_id == bindparam("round_id"), VOIDS.c.voter_key == bindparam("voter_key")
)
NEW_CHOICES = insert(CHOICES)
DROP_CHOICES = delete(CHOICES).where(CHOICES.c.ballot_id == bindparam("ballot_id"))
# The SET clause comes from the parameters given: receipt, cast_on and submission_token.
RESTAMP_BALLOT = update(BALLOTS).where(BALLOTS.c.id == bindparam("ballot_id"))
MARK_CODE_USED = (
    update(CODES)
    .where(CODES.c.id == bindparam("code_id"), CODES.c.status == CodeStatus.UNUSED.value)
    .values(status=CodeStatus.USED.value, used_on=bindparam("today"))
    .returning(CODES.c.id)
)


@dataclass(frozen=True)
class Credential:
    round_id: int
    voter_key: str
    code_id: int | None  # None for e-mail credentials


@dataclass(frozen=True)
class Receipt:
    receipt: str
    replaced: bool  # True when an earlier ballot of this credential was replaced
    channel: str


def ballot_plans(session: Session, round_: Round) -> list[Plan]:
    return list(
        session.scalars(
            select(Plan)
            .where(Plan.round_id == round_.id, Plan.status == PlanStatus.OP_STEMBILJET)
            .order_by(Plan.id)
        )
    )


def check_code(session: Session, pepper: str, typed: str) -> tuple[Round, Credential]:
    """The round and credential for a letter code typed by staff (paper ballots): as
    ``code_credential``, without a limit per address."""
    credential = code_credential(session, pepper, typed)
    round_ = session.get(Round, credential.round_id)
    assert round_ is not None
    return round_, credential


def code_credential(
    session: Session,
    pepper: str,
    typed: str,
    ip_key: str | None = None,
    now: dt.datetime | None = None,
) -> Credential:
    """The credential for a typed letter code, or ``Invalid`` with a clear message.

    With ``ip_key``, wrong codes count as failures for that IP (they are committed even though
    the call fails) and an IP over the limit is refused before the code is even looked at.
    Attempts from one IP take turns (``lock_name``), so the count is exact at READ COMMITTED
    too (db.transact_deferred); attempts from different IPs never wait for each other.
    """
    if ip_key is not None:
        assert now is not None
        lock_name(session, f"code-attempts:{ip_key}")
        wait = ratelimit.retry_after(session, ratelimit.CODE_FAILURES_PER_IP, ip_key, now)
        if wait is not None:
            raise TooManyAttempts(wait)
    try:
        return _credential_for(session, pepper, typed)
    except Invalid as wrong:
        if ip_key is None or now is None:
            raise
        ratelimit.record(session, ratelimit.CODE_FAILURES_PER_IP, ip_key, now)
        _watch_wrong_codes(session, now)
        raise wrong.keeping_changes() from None


def _watch_wrong_codes(session: Session, now: dt.datetime) -> None:
    alarm = ratelimit.WRONG_CODES_ALARM
    # Wrong codes from all IPs take turns here, and only here: the count is exact, so the alarm
    # is raised once per threshold, and no attempt is made to run again.
    lock_name(session, "code-attempts:all")
    total = ratelimit.alarm(session, alarm, now)
    if total is not None:
        log.warning(
            "many wrong codes: %d in the last %d minutes from all addresses together; "
            "someone may be guessing letter codes",
            total,
            alarm.window.total_seconds() // 60,
        )


def _credential_for(session: Session, pepper: str, typed: str) -> Credential:
    code = codes.normalise(typed)
    if code is None:
        raise Invalid(
            "code",
            "Deze code klopt niet. Een code heeft 12 tekens, bijvoorbeeld ABCD-EFGH-JKMN.",
        )
    hashed = codes.code_hash(pepper, code)
    row = session.connection().execute(CODE_AND_ROUND, {"code_hash": hashed}).one_or_none()
    if row is None:
        raise Invalid("code", "Deze code klopt niet. Controleer de code op uw brief.")
    if row.status == CodeStatus.REVOKED:
        raise Invalid("code", REVOKED)
    if row.phase != Phase.STEMMEN:
        raise PhaseClosed(lookup.NOT_VOTING)
    if row.eligibility == Eligibility.EMAIL:
        raise Invalid("code", "In deze ronde stemt u met uw e-mailadres, niet met een code.")
    key = codes.voter_key(pepper, row.round_id, f"code:{row.id}")
    return Credential(round_id=row.round_id, voter_key=key, code_id=row.id)


def email_credential(session: Session, pepper: str, round_: Round, resident_id: int) -> Credential:
    key = codes.voter_key(pepper, round_.id, f"resident:{resident_id}")
    return Credential(round_id=round_.id, voter_key=key, code_id=None)


def cast(
    session: Session,
    credential: Credential,
    choices: Mapping[str, int],
    *,
    channel: Channel = Channel.ONLINE,
    submission_token: str | None = None,
    today: dt.date,
) -> Receipt:
    """Store the ballot (or replace this credential's earlier one) and return its receipt.

    ``choices`` maps a plan's public id to points (1 for approval-style ballots). It writes with
    SQL statements, not through the ORM: ballot and code objects loaded in this session before
    are stale afterwards.
    """
    session.flush()  # changes made through the ORM in this transaction count
    sql = session.connection()
    ids = {"round_id": credential.round_id, "voter_key": credential.voter_key}
    # Locks, so that this is safe at READ COMMITTED too (db.transact_locking): the round cannot
    # close while the ballot goes in, and casts for one credential run one after another.
    rows = sql.execute(ROUND_AND_PLANS, ids).all()
    if not rows:
        raise NotFound()
    round_ = rows[0]
    if round_.phase != Phase.STEMMEN:
        raise PhaseClosed("Stemmen kan niet meer: de ronde is gesloten.")
    lock_name(session, f"ballot:{credential.round_id}:{credential.voter_key}")
    existing = sql.execute(BALLOT_OF_VOTER, ids).one_or_none()
    if existing is not None and submission_token and existing.submission_token == submission_token:
        return Receipt(existing.receipt, replaced=False, channel=existing.channel)
    if existing is not None:
        _check_channel(existing.channel, channel)
    elif sql.execute(VOID_OF_VOTER, ids).first() is not None:
        _check_channel(Channel.PAPER, channel)
    plans = [row for row in rows if row.id is not None]
    # A plan on the ballot always has its official cost (a CHECK constraint says so).
    costs = {plan.public_id: plan.official_cost for plan in plans}
    chosen = ballot_rules.validate(ballot_kinds.rules_of_row(round_), costs, choices)
    receipt = _new_receipt()
    stamp = {"receipt": receipt, "cast_on": today, "submission_token": submission_token}
    if existing is None:
        row = {**ids, "channel": channel.value, **stamp}
        ballot_id = sql.execute(NEW_BALLOT, row).scalar_one()
    else:
        ballot_id = existing.id
        sql.execute(DROP_CHOICES, {"ballot_id": ballot_id})
        sql.execute(RESTAMP_BALLOT, {"ballot_id": ballot_id, **stamp})
    if chosen:
        plan_ids = {plan.public_id: plan.id for plan in plans}
        entries = [
            {"ballot_id": ballot_id, "plan_id": plan_ids[pid], "points": p}
            for pid, p in chosen.items()
        ]
        sql.execute(NEW_CHOICES, entries)
    _mark_code_used(session, credential, today)
    return Receipt(receipt, replaced=existing is not None, channel=channel.value)


def cast_void(
    session: Session, credential: Credential, kind: VoidKind, reason: str, *, today: dt.date
) -> None:
    """Store a blank or invalid paper ballot for the credential: it takes the code like a
    paper ballot (no second ballot, online or on paper) but carries no choices."""
    session.flush()
    sql = session.connection()
    ids = {"round_id": credential.round_id, "voter_key": credential.voter_key}
    phase = sql.execute(
        select(ROUNDS.c.phase).where(ROUNDS.c.id == credential.round_id).with_for_update(read=True)
    ).scalar_one()
    if phase != Phase.STEMMEN:
        raise PhaseClosed("Stemmen kan niet meer: de ronde is gesloten.")
    lock_name(session, f"ballot:{credential.round_id}:{credential.voter_key}")
    existing = sql.execute(BALLOT_OF_VOTER, ids).one_or_none()
    if existing is not None:
        _check_channel(existing.channel, Channel.PAPER)
    if sql.execute(VOID_OF_VOTER, ids).first() is not None:
        _check_channel(Channel.PAPER, Channel.PAPER)
    sql.execute(insert(VOIDS), {**ids, "kind": kind.value, "reason": reason, "entered_on": today})
    _mark_code_used(session, credential, today)


def _check_channel(existing: str, channel: Channel) -> None:
    if existing == Channel.PAPER and channel == Channel.ONLINE:
        raise Invalid(
            "code", "Met deze code is al op papier gestemd. Online stemmen kan niet meer."
        )
    if existing == Channel.ONLINE and channel == Channel.PAPER:
        raise Invalid("code", "Deze code heeft al online gestemd.")
    if existing == Channel.PAPER and channel == Channel.PAPER:
        raise Invalid("code", "Voor deze code is al een papieren stembiljet ingevoerd.")


def _mark_code_used(session: Session, credential: Credential, today: dt.date) -> None:
    if credential.code_id is None:
        return
    # The update locks the row, and at READ COMMITTED it re-reads a row changed meanwhile: a
    # code revoked since it was typed is not marked, and is then refused below.
    marked = session.connection().execute(
        MARK_CODE_USED, {"code_id": credential.code_id, "today": today}
    )
    if marked.first() is not None:
        return
    code = lock_row(session, VotingCode, credential.code_id)
    assert code is not None
    if code.status == CodeStatus.REVOKED:
        raise Invalid("code", REVOKED)
    if code.status == CodeStatus.UNUSED:  # cannot happen: the update above saw the latest row
        code.status = CodeStatus.USED.value
        code.used_on = today


def _new_receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"
