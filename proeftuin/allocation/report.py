"""What ``proeftuin allocate FILE.pb`` prints: run a rule by name, then JSON or a table.

Rules: ``greedy`` (by support), ``greedy-no-skip`` (by support, stopping at the first plan that
does not fit), ``greedy-per-euro`` (by support per euro), ``optimal`` (most support within the
budget) and ``equal-shares`` (Method of Equal Shares, in ``equal_shares.py``). ``utility`` and
``completion`` only apply to equal-shares; ``threshold`` (a minimum support) to the greedy rules
by support (``city_greedy.py``).

JSON numbers: money and other amounts are exact, a JSON integer when whole and otherwise a string
with the exact decimal ("2532645.83", or "1/3" when no decimal is exact); shares and means in
``metrics`` are floats, they describe rather than decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from fractions import Fraction
from typing import Any, get_args

from proeftuin.allocation.city_greedy import CityGreedy, city_greedy
from proeftuin.allocation.election import Election, Explanation, Outcome
from proeftuin.allocation.equal_shares import Completion, Utility, equal_shares
from proeftuin.allocation.greedy import greedy
from proeftuin.allocation.metrics import Metrics, metrics
from proeftuin.allocation.optimal import optimal
from proeftuin.allocation.pabulib import format_decimal
from proeftuin.allocation.ties import TieBreak

RULES = ("greedy", "greedy-no-skip", "greedy-per-euro", "optimal", "equal-shares")
UTILITIES: tuple[Utility, ...] = get_args(Utility)
COMPLETIONS: tuple[Completion, ...] = get_args(Completion)


def allocate(
    election: Election,
    rule: str,
    *,
    utility: str = "cost",
    completion: str = "add1-greedy",
    tie_break: TieBreak = TieBreak.LOTTERY,
    seed: str = "",
    threshold: int = 0,
) -> Outcome:
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose from {', '.join(RULES)}")
    if utility not in UTILITIES:
        raise ValueError(f"unknown utility {utility!r}; choose from {', '.join(UTILITIES)}")
    if completion not in COMPLETIONS:
        raise ValueError(f"unknown completion {completion!r}; choose from {', '.join(COMPLETIONS)}")
    if threshold and rule not in ("greedy", "greedy-no-skip"):
        raise ValueError("a minimum support applies to greedy and greedy-no-skip only")
    if rule == "greedy-no-skip" or (rule == "greedy" and threshold):
        city_rule = CityGreedy(skip=rule == "greedy", threshold=threshold)
        return city_greedy(election, city_rule, tie_break=tie_break, seed=seed)
    if rule == "greedy":
        return greedy(election, tie_break=tie_break, seed=seed)
    if rule == "greedy-per-euro":
        return greedy(election, per_euro=True, tie_break=tie_break, seed=seed)
    if rule == "optimal":
        return optimal(election, tie_break=tie_break, seed=seed)
    return equal_shares(
        election,
        utility=utility,
        completion=completion,
        tie_break=tie_break,
        seed=seed,
    )


def report_json(
    election: Election, outcome: Outcome, support: list[int] | None = None
) -> dict[str, Any]:
    """The outcome as JSON; ``support`` replaces the ballots' count per plan (a file's own)."""
    support = support if support is not None else election.support.tolist()
    chosen = set(outcome.selected)
    return {
        "rule": outcome.rule,
        "budget": _amount(election.budget),
        "selected": list(outcome.selected),
        "total_cost": _amount(outcome.total_cost(election)),
        "projects": [
            {
                "id": project.id,
                "cost": _amount(project.cost),
                "support": support[i],
                "funded": project.id in chosen,
                "explanation": _explanation_json(outcome.explanations.get(project.id)),
            }
            for i, project in enumerate(election.projects)
        ],
        "metrics": _metrics_json(metrics(election, outcome)),
        "welfare": sum(support[election.index[pid]] for pid in outcome.selected),
    }


def welfare(election: Election, outcome: Outcome) -> int:
    """Total support (approvals, or points) of the funded plans."""
    support = election.support.tolist()
    index = election.index
    return sum(support[index[project_id]] for project_id in outcome.selected)


def format_report(
    election: Election,
    outcome: Outcome,
    support: list[int] | None = None,
    preamble: Sequence[str] = (),
) -> str:
    """A plain-text table for the terminal: every plan, funded or not, and why.

    ``support`` replaces the ballots' count per plan; ``preamble`` lines follow the first line.
    """
    measured = metrics(election, outcome)
    support = support if support is not None else election.support.tolist()
    turn = {project_id: n for n, project_id in enumerate(outcome.selected)}
    order = sorted(
        range(len(election.projects)),
        key=lambda i: (turn.get(election.projects[i].id, len(turn)), -support[i]),
    )
    rows = [("Plan", "Cost", "Support", "Funded", "Why")]
    for i in order:
        project = election.projects[i]
        explanation = outcome.explanations.get(project.id)
        rows.append(
            (
                project.id,
                format_decimal(project.cost),
                str(support[i]),
                "yes" if project.id in turn else "no",
                describe(explanation) if explanation else "",
            )
        )
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    lines = [
        f"Rule: {outcome.rule}   Budget: {format_decimal(election.budget)}   "
        f"Voters: {election.matrix.voter_count}   Plans: {len(election.projects)}",
        *preamble,
        "",
    ]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2])]
        lines.append("  ".join([*cells, row[3].ljust(widths[3]), row[4]]).rstrip())
    total = sum(support[election.index[pid]] for pid in outcome.selected)
    lines += ["", *_summary(outcome, measured, total)]
    return "\n".join(lines) + "\n"


_REASONS: Mapping[str, str] = {
    "funded": "funded",
    "did_not_fit": "did not fit",
    "over_budget": "costs more than the whole budget",
    "no_support": "nobody supported it",
    "not_in_optimum": "not in the best set",
    "funded_from_reserve": "funded from reserve funds",
    "not_reached": "not reached",
    "below_threshold": "below the minimum support",
    "excluded": "excluded",
}


def describe(explanation: Explanation) -> str:
    """One English line; known facts get words, any other facts are listed as key=value."""
    facts = dict(explanation.facts)
    parts = [_REASONS.get(explanation.reason, explanation.reason.replace("_", " "))]
    facts.pop("support", None)
    facts.pop("cost", None)
    if "budget_left" in facts:
        parts.append(f"{_text(facts.pop('budget_left'))} left at its turn")
    facts.pop("turn", None)
    if "stopped_at" in facts:
        parts.append(f"the run stopped at {_text(facts.pop('stopped_at'))}")
    threshold = facts.pop("threshold", None)
    if explanation.reason == "below_threshold":
        parts.append(f"minimum {_text(threshold)}")
    if "excluded_by" in facts:
        parts.append(f"by {_text(facts.pop('excluded_by'))}, funded before it")
    if "reserve" in facts:
        parts.append(f"the reserve paid {_text(facts.pop('reserve'))}")
        facts.pop("reserve_share", None)
    if "needed_support" in facts:
        needed = f"needed support {_text(facts.pop('needed_support'))}"
        if "taken_by" in facts:
            needed += f" to come before {_text(facts.pop('taken_by'))}"
        parts.append(needed)
    if "support_lost" in facts:
        lost = _text(facts.pop("support_lost"))
        action = "leaving it out" if explanation.funded else "forcing it in"
        parts.append(f"{action} loses {lost} support")
    parts.extend(f"{key}={_text(value)}" for key, value in facts.items())
    return "; ".join(parts)


def _summary(outcome: Outcome, measured: Metrics, total_support: int) -> list[str]:
    used_share = measured.budget_used_share
    reached = measured.voters_with_funded_choice_share
    ejr = {True: "yes", False: "no", None: "not checked"}[measured.ejr_up_to_one]
    return [
        f"Funded: {len(outcome.selected)} plans, total cost {format_decimal(measured.budget_used)}"
        + (f" ({float(used_share):.1%} of the budget)" if used_share is not None else ""),
        f"Total support of funded plans: {total_support}",
        "Voters with at least one funded choice: "
        + (f"{measured.voters_with_funded_choice} ({float(reached):.1%})" if reached else "0"),
        f"EJR up to one project (cost utilities): {ejr}",
    ]


def _explanation_json(explanation: Explanation | None) -> dict[str, Any] | None:
    if explanation is None:
        return None
    return {
        "reason": explanation.reason,
        "facts": {key: _json_value(value) for key, value in explanation.facts.items()},
    }


def _metrics_json(measured: Metrics) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in asdict(measured).items():
        if key == "budget_used":
            result[key] = _amount(value)
        elif isinstance(value, Fraction):
            result[key] = float(value)
        else:
            result[key] = value
    return result


def _amount(value: Fraction | int) -> int | str:
    if isinstance(value, int):
        return value
    return value.numerator if value.denominator == 1 else format_decimal(value)


def _json_value(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, Fraction | int):
        return _amount(value)
    if isinstance(value, float | str) or value is None:
        return value
    return str(value)


def _text(value: object) -> str:
    if isinstance(value, Fraction):
        return format_decimal(value)
    return str(value)
