"""Turnout while voting runs: how many take part, per day and per channel.

Never a tally (docs/decisions.md, Results embargo): nothing here counts anything per plan,
so no one, moderators included, can see how plans are doing before the round closes. The
figures come from the ballot, code and blank-or-invalid tables only; ``BallotChoice`` is not read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from proeftuin.models import Ballot, Channel, CodeStatus, Letter, VotingCode
from proeftuin.services import codes, lookup, paper
from proeftuin.services.permissions import Actor


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    count: int


@dataclass(frozen=True)
class Turnout:
    phase: str
    ballots: int
    online: int
    paper: int
    ballots_per_day: tuple[DayCount, ...]  # by the day of each credential's latest ballot
    codes_issued: int
    codes_used: int
    codes_revoked: int
    codes_used_per_day: tuple[DayCount, ...]  # by the day each code was first used
    blank: int = 0  # paper ballots that count for turnout only (services/paper.py)
    invalid: int = 0

    @property
    def taking_part(self) -> int:
        """Everyone who voted: counted ballots, and blank and invalid paper ones."""
        return self.ballots + self.blank + self.invalid

    @property
    def share_of_codes_used(self) -> Fraction:
        """Used codes as a share of the codes that can still be used or were used."""
        valid = self.codes_issued - self.codes_revoked
        return Fraction(self.codes_used, valid) if valid else Fraction(0)

    @property
    def percent_of_codes_used(self) -> int:
        return round(self.share_of_codes_used * 100)


def turnout(session: Session, actor: Actor, round_id: int) -> Turnout:
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    by_channel: dict[str, int] = dict(
        session.execute(
            select(Ballot.channel, func.count(Ballot.id))
            .where(Ballot.round_id == round_.id)
            .group_by(Ballot.channel)
        ).all()
    )
    per_day = session.execute(
        select(Ballot.cast_on, func.count(Ballot.id))
        .where(Ballot.round_id == round_.id)
        .group_by(Ballot.cast_on)
        .order_by(Ballot.cast_on)
    )
    codes_per_day = session.execute(
        select(VotingCode.used_on, func.count(VotingCode.id))
        .where(
            VotingCode.round_id == round_.id,
            VotingCode.status == CodeStatus.USED,
            VotingCode.used_on.is_not(None),
        )
        .group_by(VotingCode.used_on)
        .order_by(VotingCode.used_on)
    )
    counts = codes.counts_for(session, round_.id)
    void = paper.void_counts(session, round_.id)
    online = by_channel.get(Channel.ONLINE.value, 0)
    on_paper = by_channel.get(Channel.PAPER.value, 0)
    return Turnout(
        phase=round_.phase,
        ballots=online + on_paper,
        online=online,
        paper=on_paper,
        ballots_per_day=tuple(DayCount(day, n) for day, n in per_day),
        codes_issued=counts.issued,
        codes_used=counts.used,
        codes_revoked=counts.revoked,
        codes_used_per_day=tuple(DayCount(day, n) for day, n in codes_per_day if day is not None),
        blank=void.blank,
        invalid=void.invalid,
    )


@dataclass(frozen=True)
class PostcodeTurnout:
    pc4: str
    letters: int  # letters sent there, replacements included
    voted: int  # of their codes, the ones used

    @property
    def percent(self) -> int:
        return round(self.voted * 100 / self.letters) if self.letters else 0


def per_postcode(session: Session, round_id: int) -> tuple[PostcodeTurnout, ...]:
    """Turnout per postcode area (PC4) of the letters made from address lists, for after the
    round has closed (the caller checks); no access check here."""
    used = func.sum(case((VotingCode.status == CodeStatus.USED, 1), else_=0))
    rows = session.execute(
        select(Letter.pc4, func.count(Letter.id), used)
        .join(VotingCode, VotingCode.id == Letter.code_id)
        .where(Letter.round_id == round_id)
        .group_by(Letter.pc4)
        .order_by(Letter.pc4)
    )
    return tuple(PostcodeTurnout(pc4, n, int(voted or 0)) for pc4, n, voted in rows)
