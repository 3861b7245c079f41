"""K-approval: approval with a fixed most number of plans, which the round must set."""

from __future__ import annotations

from proeftuin.allocation.ballots import BallotKind
from proeftuin.allocation.election import VoteType
from proeftuin.errors import _
from proeftuin.services.ballot_kinds.approval import CHOICE_LIMITS, check_ticks
from proeftuin.services.ballot_kinds.spec import BallotKindSpec, Param

SPEC = BallotKindSpec(
    kind=BallotKind.K_APPROVAL,
    name=_("Een vast aantal plannen"),
    description=_("Kiezers kiezen hoogstens het aantal plannen dat u hieronder invult."),
    params=CHOICE_LIMITS,
    required=frozenset({Param.MAX_CHOICES}),
    # The ballot reads as approval's: the limit is said with the other choice limits.
    template="voting/kinds/approval.html",
    check=check_ticks,
    vote_type=VoteType.APPROVAL,
    pabulib_vote_type="approval",
)
