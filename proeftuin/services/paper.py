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

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, _
from proeftuin.models import Channel, Membership, Role, Round, StaffUser
from proeftuin.services import audit, events, lookup, voting
from proeftuin.services.permissions import Actor


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
