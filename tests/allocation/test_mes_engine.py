"""The Equal Shares engine's shortcuts change the work, never the outcome."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proeftuin.allocation import Election, Project, TieBreak, VoteType, tie_ranks
from proeftuin.allocation._mes_core import build_profile, run_mes
from proeftuin.allocation.equal_shares import equal_shares
from tests.allocation.conftest import elections


def examples(count: int) -> Any:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@examples(60)
@given(
    elections(max_projects=30, max_voters=200),
    st.sampled_from(["cost", "count"]),
    st.integers(0, 8),
    st.integers(0, 8),
    st.randoms(use_true_random=False),
)
def test_a_hint_changes_the_work_not_the_outcome(
    election: Election, utility: Any, hinted_at: int, run_at: int, random: Any
) -> None:
    profile = build_profile(election, utility)
    ranks = tie_ranks(election, TieBreak.PABUTOOLS)
    start = election.budget / max(len(election.ballots), 1)
    plain = run_mes(profile, start + run_at, ranks)
    nearby = run_mes(profile, start + hinted_at, ranks).selected
    shuffled = list(range(profile.project_count))
    random.shuffle(shuffled)
    for hint in (nearby, shuffled, plain.selected):
        hinted = run_mes(profile, start + run_at, ranks, hint=hint)
        assert hinted.selected == plain.selected
        assert [r.rich_points for r in hinted.rounds] == [r.rich_points for r in plain.rounds]
        assert all(
            (a.poor_rows == b.poor_rows).all()
            for a, b in zip(hinted.rounds, plain.rounds, strict=True)
        )


def test_supporters_money_is_exact_to_the_cent() -> None:
    # 0.29 per voter is a little more than its nearest float: a float sum of the 100 supporters'
    # money falls just below 29.00, and rounding down would say 28.99.
    voters = 100
    election = Election(
        Fraction(29),
        (Project("dear", Fraction(58)), Project("cheap", Fraction(1, 10))),
        [{"dear": 1}] * (voters - 1) + [{"dear": 1, "cheap": 1}],
        VoteType.APPROVAL,
    )
    outcome = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    dear = outcome.explanations["dear"]
    assert dear.reason == "supporters_ran_out"
    assert dear.facts["dropped_out_round"] == 0
    assert dear.facts["supporters_money"] == Fraction(29)
