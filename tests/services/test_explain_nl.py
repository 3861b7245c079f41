"""The engine's explanations worded in plain Dutch (B1), and in English."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from proeftuin.allocation import Election, Project, TieBreak, VoteType, allocate, report_json
from proeftuin.i18n import LOCALE_DIR
from proeftuin.services import explain_nl
from proeftuin.services.explain_nl import Phrase, explain_plan, how_counted, render_all
from proeftuin.services.result_record import Explanation, PlanOutcome, engine_report

NBSP = "\xa0"
TITLES = {"a": "Speeltuin", "b": "Bankjes", "c": "Moestuin"}


def plan(reason: str, support: int = 412, cost: int = 25_000, **facts: Any) -> PlanOutcome:
    return PlanOutcome(
        id="a",
        cost=cost,
        support=support,
        supporters=support,
        funded=reason.startswith("funded"),
        explanation=Explanation(reason, facts),
    )


def words(rule: str, item: PlanOutcome, language: str = "nl", points: bool = False) -> str:
    phrases = explain_plan(rule, item, TITLES, points=points, budget=60_000)
    return render_all(phrases, language)


def test_the_example_from_the_issue() -> None:
    text = words(
        "greedy", plan("did_not_fit", budget_left=18_000, needed_support=530, taken_by="b")
    )
    assert text.startswith(
        f"Dit plan kreeg 412 stemmen. Toen het aan de beurt was, was er nog €{NBSP}18.000 over; "
        f"het kostte €{NBSP}25.000."
    )
    assert "Met 530 stemmen was het vóór \u201eBankjes\u201d gekomen." in text
    english = words(
        "greedy", plan("did_not_fit", budget_left=18_000, needed_support=530, taken_by="b"), "en"
    )
    assert english.startswith(
        "This plan got 412 votes. When its turn came, there was €18,000 left; it cost €25,000."
    )


def test_one_vote_is_singular_and_points_are_points() -> None:
    assert words("greedy", plan("funded", support=1, budget_left=60_000)).startswith(
        "Dit plan kreeg 1 stem."
    )
    assert words("greedy", plan("funded", support=1_234, budget_left=60_000), "en").startswith(
        "This plan got 1,234 votes."
    )
    assert words("greedy", plan("funded", support=9, budget_left=9), points=True).startswith(
        "Dit plan kreeg 9 punten."
    )
    assert words("greedy", plan("no_support", support=0)) == (
        f"Niemand stemde op dit plan. Het kost €{NBSP}25.000. Het gaat niet door."
    )


EVERY_REASON = [
    ("greedy", plan("funded", budget_left=30_000, turn=1)),
    ("greedy", plan("did_not_fit", budget_left=18_000, needed_support=530, taken_by="b")),
    ("greedy", plan("over_budget", cost=70_000, budget_left=60_000)),
    ("greedy", plan("no_support", support=0, needed_support=1)),
    ("optimal", plan("funded", support_lost=12)),
    ("optimal", plan("funded", support_lost=0)),
    ("optimal", plan("not_in_optimum", support_lost=7)),
    ("optimal", plan("not_in_optimum", support_lost=0)),
    ("optimal", plan("no_support", support=0, support_lost=3)),
    ("optimal", plan("over_budget", cost=70_000)),
    (
        "equal_shares",
        plan(
            "funded",
            supporters=412,
            round=2,
            effective_votes="398.5",
            max_payment="60.68",
            supporters_paying_all=3,
        ),
    ),
    ("equal_shares", plan("funded_free", cost=0, supporters=5)),
    ("equal_shares", plan("funded_by_completion", supporters=80, dropped_out_round=2)),
    (
        "equal_shares",
        plan(
            "supporters_ran_out",
            supporters=120,
            dropped_out_round=1,
            dropped_out_after="c",
            supporters_money="17234.56",
            max_cost_to_fund="21000.99",
            extra_supporters_needed=1,
            left_over=2_000,
        ),
    ),
    (
        "equal_shares",
        plan(
            "supporters_ran_out",
            supporters=1,
            dropped_out_round=0,
            dropped_out_after="",
            supporters_money="60",
            max_cost_to_fund=0,
        ),
    ),
    ("equal_shares", plan("no_support", support=0)),
    ("equal_shares", plan("free_without_utility", cost=0, supporters=3)),
    (
        "greedy",
        plan("not_reached", budget_left=0, stopped_at="b", needed_support=530, taken_by="b"),
    ),
    ("greedy", plan("below_threshold", support=12, threshold=40, needed_support=40)),
]


@pytest.mark.parametrize(("rule", "item"), EVERY_REASON)
def test_every_reason_reads_in_both_languages(rule: str, item: PlanOutcome) -> None:
    dutch, english = words(rule, item), words(rule, item, "en")
    for text in (dutch, english):
        assert text.endswith(".")
        assert "{" not in text and "}" not in text
    assert dutch != english
    assert ("niet door" not in dutch) == item.funded, dutch
    assert ("not go ahead" not in english) == item.funded, english


def test_equal_shares_names_where_the_money_went() -> None:
    text = words("equal_shares", EVERY_REASON[13][1])
    assert "120 kiezers kozen dit plan." in text
    assert (
        f"Nadat \u201eMoestuin\u201d was gekozen, hadden deze kiezers samen nog €{NBSP}17.234 over."
        in text
    )
    assert "Als nog 1 kiezer alleen dit plan had gekozen, was het wel doorgegaan." in text
    assert f"hoogstens €{NBSP}21.000 gekost" in text
    funded = words("equal_shares", EVERY_REASON[10][1])
    assert f"Niemand betaalde meer dan €{NBSP}60,68." in funded
    assert "€60.68" in words("equal_shares", EVERY_REASON[10][1], "en")


def test_how_it_was_counted_with_this_rounds_numbers() -> None:
    facts = {
        "per_voter_budget": "60000/1003",
        "add1_steps": 4,
        "rounds": 5,
        "spent_equal_shares": 41_000,
        "spent_completion": 14_000,
    }
    paragraphs = how_counted(
        "equal_shares",
        budget=60_000,
        ballots=1_003,
        spent=Fraction(55_000),
        funded=7,
        points=False,
        facts=facts,
        welfare=0,
        completion_funded=2,
        seed="abc123",
    )
    text = "\n".join(render_all(p, "nl") for p in paragraphs)
    assert f"€{NBSP}60.000 gedeeld door 1.003 kiezers is €{NBSP}59,82 per kiezer" in text
    assert "Met gelijke delen gingen 5 plannen door" in text
    assert "zijn daarna nog 2 plannen betaald" in text
    assert f"Zo gaan 7 plannen door, samen €{NBSP}55.000. Er blijft €{NBSP}5.000 over." in text
    assert "abc123" in text
    greedy = how_counted(
        "greedy",
        budget=10,
        ballots=1,
        spent=Fraction(10),
        funded=1,
        points=False,
        facts={},
        welfare=1,
        completion_funded=0,
        seed="s",
    )
    english = "\n".join(render_all(p, "en") for p in greedy)
    assert "1 voter voted." in english
    assert "most support first" in english


@pytest.mark.parametrize("rule", ["greedy", "optimal", "equal-shares"])
@pytest.mark.parametrize("vote_type", [VoteType.APPROVAL, VoteType.POINTS])
def test_every_plan_of_a_real_count_is_explained(rule: str, vote_type: VoteType) -> None:
    rng = random.Random(5)
    ids = [f"p{n}" for n in range(12)]
    projects = tuple(Project(pid, Fraction(rng.randrange(100, 900)), pid) for pid in ids)
    ballots = [
        {
            pid: rng.randint(1, 4) if vote_type is VoteType.POINTS else 1
            for pid in rng.sample(ids, 3)
        }
        for _ in range(80)
    ]
    ballots += [{}]
    election = Election(Fraction(2_000), projects, ballots, vote_type)
    outcome = allocate(election, rule, tie_break=TieBreak.LOTTERY, seed="s")
    report = engine_report(report_json(election, outcome), election.approvals.tolist())
    ours = rule.replace("-", "_")
    titles = {pid: f"Plan {pid}" for pid in ids}
    for item in report.projects:
        for language in ("nl", "en"):
            phrases = explain_plan(
                ours, item, titles, points=vote_type is VoteType.POINTS, budget=2_000
            )
            text = render_all(phrases, language)
            assert text and "{" not in text, (item, text)


def test_every_sentence_has_an_english_translation() -> None:
    source = Path(explain_nl.__file__)
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="en")
    found = 0
    for _line, message, _comments, _context in extract_from_file("python", str(source)):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        assert entry is not None and entry.string, f"no translation for {msgid!r}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"incomplete translation for {msgid!r}"
        found += 1
    assert found > 40


def test_phrases_nest_and_format_money_numbers_and_shares() -> None:
    inner = explain_nl.support_words(1_500, points=False)
    phrase = Phrase(
        "{votes}, {money}, {share}",
        {
            "votes": inner,
            "money": explain_nl.Euro(Fraction(1234567, 100)),
            "share": explain_nl.Share(0.456),
        },
    )
    assert explain_nl.render(phrase, "nl") == f"1.500 stemmen, €{NBSP}12.345,67, 46%"
    assert explain_nl.render(phrase, "en") == "1,500 votes, €12,345.67, 46%"


def test_greedy_without_skipping_says_where_it_stopped() -> None:
    stopped = plan("did_not_fit", budget_left=18_000, needed_support=530, taken_by="b")
    text = render_all(
        explain_plan("greedy", stopped, TITLES, points=False, budget=60_000, no_skip=True), "nl"
    )
    assert "Het verdelen stopte hier: plannen met minder steun kwamen niet meer aan de beurt." in (
        text
    )
    assert "stopte" not in words("greedy", stopped)  # with skipping, the run goes on
    later = plan("not_reached", budget_left=0, stopped_at="b", needed_support=530, taken_by="b")
    text = render_all(
        explain_plan("greedy", later, TITLES, points=False, budget=60_000, no_skip=True), "nl"
    )
    assert text == (
        "Dit plan kreeg 412 stemmen. Het verdelen was al gestopt bij \u201eBankjes\u201d, omdat "
        "dat plan niet meer paste. Daarna kwam geen plan meer aan de beurt. Dus dit plan gaat "
        "niet door. Met 530 stemmen was het vóór \u201eBankjes\u201d gekomen. Dan was het wel "
        "doorgegaan."
    )


@pytest.mark.parametrize(
    ("points", "dutch", "english"),
    [
        (
            False,
            "Een plan had minstens 40 stemmen nodig: 10% van het aantal kiezers.",
            "A plan needed at least 40 votes: 10% of the number of voters.",
        ),
        (
            True,
            "Een plan had minstens 40 punten nodig: 10% van alle punten.",
            "A plan needed at least 40 points: 10% of all points.",
        ),
    ],
)
def test_a_plan_below_the_minimum_says_what_it_needed(
    points: bool, dutch: str, english: str
) -> None:
    below = plan("below_threshold", support=12, threshold=40, needed_support=40)
    phrases = explain_plan(
        "greedy", below, TITLES, points=points, budget=60_000, min_vote_percent=10
    )
    text, translated = render_all(phrases, "nl"), render_all(phrases, "en")
    assert dutch in text and english in translated
    assert "Daarom deed het niet mee en gaat het niet door." in text
    unit = "punten" if points else "stemmen"
    assert text.endswith(f"Met 40 {unit} was het wel doorgegaan.")


def test_how_greedy_was_counted_with_its_options() -> None:
    def counted_text(**options: Any) -> str:
        paragraphs = how_counted(
            "greedy",
            budget=10_000,
            ballots=125,
            spent=Fraction(9_000),
            funded=2,
            points=False,
            facts={"threshold": 13},
            welfare=1,
            completion_funded=0,
            seed="s",
            **options,
        )
        return "\n".join(render_all(p, "nl") for p in paragraphs)

    plain = counted_text()
    assert "dan kwam het volgende plan aan de beurt" in plain
    assert "minstens" not in plain
    no_skip = counted_text(no_skip=True)
    assert "Zo nee, dan stopte het verdelen." in no_skip
    assert "dan kwam het volgende plan aan de beurt" not in no_skip
    minimum = counted_text(min_vote_percent=10)
    assert (
        "Een plan moest door minstens 10% van de kiezers gekozen zijn. Bij 125 kiezers was dat "
        "13 stemmen. Plannen met minder stemmen deden niet mee."
    ) in minimum
