"""Casting ballots: one credential, one ballot, enforced by the database (DESIGN.md §4).

A credential (a letter code, or a verified e-mail address) becomes a pseudonymous ``voter_key``;
the ballot row holds that key and nothing else about the voter. Everything is checked inside the
casting transaction, so a stale page or a forged form can never store a ballot that breaks the
round's rules.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import lock_name, lock_row
from proeftuin.errors import Invalid, NotFound, PhaseClosed, TooManyAttempts
from proeftuin.models import (
    Ballot,
    BallotChoice,
    Channel,
    CodeStatus,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Round,
    VotingCode,
)
from proeftuin.services import ballot_rules, codes, ratelimit

log = logging.getLogger(__name__)

# A pause inside the casting transaction, for tests that must make races real; zero in production.
TEST_CAST_DELAY_SECONDS = 0.0


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


def round_for_voting(session: Session, slug: str) -> Round:
    round_ = session.scalar(select(Round).where(Round.slug == slug))
    if round_ is None:
        raise NotFound()
    if round_.phase != Phase.STEMMEN:
        raise PhaseClosed("Stemmen kan nu niet in deze ronde.")
    return round_


def ballot_plans(session: Session, round_: Round) -> list[Plan]:
    return list(
        session.scalars(
            select(Plan)
            .where(Plan.round_id == round_.id, Plan.status == PlanStatus.OP_STEMBILJET)
            .order_by(Plan.id)
        )
    )


def check_code(
    session: Session,
    pepper: str,
    typed: str,
    ip_key: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[Round, Credential]:
    """The round and credential for a typed letter code, or ``Invalid`` with a clear message.

    With ``ip_key``, wrong codes count as failures for that IP (they are committed even though
    the call fails) and an IP over the limit is refused before the code is even looked at.
    """
    if ip_key is not None:
        assert now is not None
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
    total = ratelimit.alarm(session, alarm, now)
    if total is not None:
        log.warning(
            "many wrong codes: %d in the last %d minutes from all addresses together; "
            "someone may be guessing letter codes",
            total,
            alarm.window.total_seconds() // 60,
        )


def _credential_for(session: Session, pepper: str, typed: str) -> tuple[Round, Credential]:
    code = codes.normalise(typed)
    if code is None:
        raise Invalid(
            "code",
            "Deze code klopt niet. Een code heeft 12 tekens, bijvoorbeeld ABCD-EFGH-JKMN.",
        )
    row = session.scalar(
        select(VotingCode).where(VotingCode.code_hash == codes.code_hash(pepper, code))
    )
    if row is None:
        raise Invalid("code", "Deze code klopt niet. Controleer de code op uw brief.")
    if row.status == CodeStatus.REVOKED:
        raise Invalid("code", "Deze code is ingetrokken. Neem contact op met de gemeente.")
    round_ = session.get(Round, row.round_id)
    assert round_ is not None
    if round_.phase != Phase.STEMMEN:
        raise PhaseClosed("Stemmen kan nu niet in deze ronde.")
    if round_.eligibility == Eligibility.EMAIL:
        raise Invalid("code", "In deze ronde stemt u met uw e-mailadres, niet met een code.")
    key = codes.voter_key(pepper, round_.id, f"code:{row.id}")
    return round_, Credential(round_id=round_.id, voter_key=key, code_id=row.id)


def email_credential(session: Session, pepper: str, round_: Round, resident_id: int) -> Credential:
    key = codes.voter_key(pepper, round_.id, f"resident:{resident_id}")
    return Credential(round_id=round_.id, voter_key=key, code_id=None)


def current_choices(session: Session, credential: Credential) -> dict[int, int] | None:
    """The plan ids and points of the credential's ballot, or None when it has not voted."""
    ballot = _ballot(session, credential)
    if ballot is None:
        return None
    return {choice.plan_id: choice.points for choice in ballot.choices}


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

    ``choices`` maps a plan's public id to points (1 for approval-style ballots).
    """
    # Locks, so that this is safe at READ COMMITTED too (db.transact_locking): the round cannot
    # close while the ballot goes in, and casts for one credential run one after another.
    round_ = lock_row(session, Round, credential.round_id, shared=True)
    if round_ is None:
        raise NotFound()
    if round_.phase != Phase.STEMMEN:
        raise PhaseClosed("Stemmen kan niet meer: de ronde is gesloten.")
    lock_name(session, f"ballot:{credential.round_id}:{credential.voter_key}")
    existing = _ballot(session, credential)
    if existing is not None and submission_token and existing.submission_token == submission_token:
        return Receipt(existing.receipt, replaced=False, channel=existing.channel)
    if existing is not None:
        _check_channel(existing.channel, channel)
    plans = {plan.public_id: plan for plan in ballot_plans(session, round_)}
    chosen = ballot_rules.validate(round_, plans, choices)
    if TEST_CAST_DELAY_SECONDS:
        time.sleep(TEST_CAST_DELAY_SECONDS)
    receipt = _new_receipt()
    if existing is None:
        ballot = Ballot(
            round_id=round_.id,
            voter_key=credential.voter_key,
            receipt=receipt,
            channel=channel.value,
            cast_on=today,
            submission_token=submission_token,
        )
        session.add(ballot)
    else:
        ballot = existing
        ballot.choices.clear()
        session.flush()
        ballot.receipt = receipt
        ballot.cast_on = today
        ballot.submission_token = submission_token
    ballot.choices.extend(BallotChoice(plan_id=plan.id, points=p) for plan, p in chosen)
    _mark_code_used(session, credential, today)
    session.flush()
    return Receipt(receipt, replaced=existing is not None, channel=channel.value)


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
    code = lock_row(session, VotingCode, credential.code_id)  # not revoked meanwhile
    assert code is not None
    if code.status == CodeStatus.REVOKED:
        raise Invalid("code", "Deze code is ingetrokken. Neem contact op met de gemeente.")
    if code.status == CodeStatus.UNUSED:
        code.status = CodeStatus.USED.value
        code.used_on = today


def _ballot(session: Session, credential: Credential) -> Ballot | None:
    return session.scalar(
        select(Ballot).where(
            Ballot.round_id == credential.round_id, Ballot.voter_key == credential.voter_key
        )
    )


def _new_receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"
