"""Paper ballots, entered by staff with the letter code printed on them.

See docs/decisions.md, Paper ballots.

The code is the same credential as online, so a code that voted online cannot also vote on paper
(and the other way round); the ballot is counted with the online ones, marked as paper.

A second-person check (vier-ogenprincipe): when the round asks for it, the entry is stored only
when another staff member with access to the area confirms it in the same step. The web layer
must have that second person sign in (password, and TOTP where set) before passing their id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, _
from proeftuin.models import Channel, Membership, PaperVoid, Role, Round, StaffUser, VoidKind
from proeftuin.services import audit, events, lookup, voting
from proeftuin.services.permissions import Actor
from proeftuin.vocabulary import BLANK_REASON, VOID_REASONS

NO_REASON = _("Kies waarom het stembiljet niet meetelt.")


def enter_paper_ballot(
    session: Session,
    actor: Actor,
    round_id: int,
    typed_code: str,
    choices: Mapping[str, int],
    pepper: str,
    today: dt.date,
    checked_by: int | None = None,
    *,
    require_check: bool = False,
) -> voting.Receipt:
    """Store a paper ballot for the code. ``choices`` maps a plan's public id to points.

    ``require_check`` is the round's setting for the second-person check (until the round has a
    column for it, the caller passes it); ``checked_by`` is the confirming staff member's id.
    """
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    if require_check or checked_by is not None:
        _check_checker(session, actor, round_, checked_by)
    code_round, credential = voting.check_code(session, pepper, typed_code)
    if code_round.id != round_.id:
        raise Invalid("code", _("Deze code hoort niet bij deze ronde."))
    if code_round.event_id is not None:
        # A paper ballot of a voting event holds every ballot of the code: all stored or none.
        credentials = events.ballot_credentials(session, pepper, credential, code_round.event_id)
        receipt = events.cast_all(
            session, credentials, choices, channel=Channel.PAPER, today=today
        )[0]
    else:
        receipt = voting.cast(session, credential, choices, channel=Channel.PAPER, today=today)
    audit.record(
        session,
        actor.staff_id,
        "paper.enter",
        "round",
        round_.id,
        round_.area_id,
        checked_by=checked_by,
    )
    return receipt


def enter_void_ballot(
    session: Session,
    actor: Actor,
    round_id: int,
    typed_code: str,
    reason: str,
    pepper: str,
    today: dt.date,
    checked_by: int | None = None,
    *,
    require_check: bool = False,
) -> VoidKind:
    """Store a paper ballot that does not count: blank, or invalid for ``reason`` (a key of
    ``VOID_REASONS``). It counts in turnout and on the proces-verbaal, never in the count, and
    takes the code like any paper ballot. The same second-person check applies."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    if reason not in VOID_REASONS:
        raise Invalid("reden", NO_REASON)
    if require_check or checked_by is not None:
        _check_checker(session, actor, round_, checked_by)
    code_round, credential = voting.check_code(session, pepper, typed_code)
    if code_round.id != round_.id:
        raise Invalid("code", _("Deze code hoort niet bij deze ronde."))
    kind = VoidKind.BLANK if reason == BLANK_REASON else VoidKind.INVALID
    voting.cast_void(session, credential, kind, reason, today=today)
    audit.record(
        session,
        actor.staff_id,
        "paper.void",
        "round",
        round_.id,
        round_.area_id,
        kind=kind.value,
        reason=reason,
        checked_by=checked_by,
    )
    return kind


def _check_checker(session: Session, actor: Actor, round_: Round, checked_by: int | None) -> None:
    if checked_by is None:
        raise Invalid(
            "checked_by",
            _("Bij deze ronde controleert een tweede medewerker elk papieren stembiljet."),
        )
    if checked_by == actor.staff_id:
        raise Invalid("checked_by", _("Een andere medewerker moet het stembiljet controleren."))
    checker = session.get(StaffUser, checked_by)
    member = session.scalar(
        select(Membership.id).where(
            Membership.staff_id == checked_by, Membership.area_id == round_.area_id
        )
    )
    if checker is None or not checker.active or (checker.role != Role.ADMIN and member is None):
        raise Invalid(
            "checked_by", _("Deze medewerker kan stembiljetten van deze ronde niet controleren.")
        )


@dataclass(frozen=True)
class VoidCounts:
    """Blank and invalid paper ballots of a round, and how many for each reason."""

    blank: int
    invalid: int
    reasons: tuple[tuple[str, int], ...]  # (key of VOID_REASONS, count), in VOID_REASONS order


def void_counts(session: Session, round_id: int) -> VoidCounts:
    """The counts without an access check, for services that made that check already."""
    by_reason: dict[str, int] = dict(
        session.execute(
            select(PaperVoid.reason, func.count(PaperVoid.id))
            .where(PaperVoid.round_id == round_id)
            .group_by(PaperVoid.reason)
        ).all()
    )
    blank = by_reason.get(BLANK_REASON, 0)
    reasons = tuple((key, by_reason[key]) for key in VOID_REASONS if by_reason.get(key))
    return VoidCounts(blank, sum(by_reason.values()) - blank, reasons)
