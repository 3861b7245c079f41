"""The allocation engine: pure functions from an election to an outcome with explanations.

Nothing here imports the rest of Proeftuin, a database or the web; numpy does the counting.
``equal_shares`` lives in ``proeftuin.allocation.equal_shares``; ``report.allocate`` dispatches
to it.
"""

from proeftuin.allocation.ballots import (
    BallotKind,
    BallotRules,
    InvalidBallot,
    validate_approval,
    validate_points,
)
from proeftuin.allocation.election import (
    Ballot,
    BallotMatrix,
    Election,
    Explanation,
    Outcome,
    Project,
    VoteType,
)
from proeftuin.allocation.greedy import greedy
from proeftuin.allocation.metrics import Metrics, metrics, satisfies_ejr_up_to_one
from proeftuin.allocation.optimal import optimal
from proeftuin.allocation.pabulib import PabulibError, format_pb, parse_pb, read_pb, write_pb
from proeftuin.allocation.report import allocate, format_report, report_json, welfare
from proeftuin.allocation.ties import TieBreak, tie_ranks

__all__ = [
    "Ballot",
    "BallotKind",
    "BallotMatrix",
    "BallotRules",
    "Election",
    "Explanation",
    "InvalidBallot",
    "Metrics",
    "Outcome",
    "PabulibError",
    "Project",
    "TieBreak",
    "VoteType",
    "allocate",
    "format_pb",
    "format_report",
    "greedy",
    "metrics",
    "optimal",
    "parse_pb",
    "read_pb",
    "report_json",
    "satisfies_ejr_up_to_one",
    "tie_ranks",
    "validate_approval",
    "validate_points",
    "welfare",
    "write_pb",
]
