"""The engine's explanations in plain Dutch (B1): why a plan was or was not funded, and how the
votes were counted, with this round's numbers.

The engine explains with reason codes and facts (see the docstrings of allocation/greedy.py,
optimal.py and equal_shares.py); here each becomes a few short sentences. A sentence is a
``Phrase``: a Dutch msgid (extracted for translation) with its numbers. It becomes text only in
``render``, in the reader's language, so the stored result holds no language at all.

Amounts from the stored result are whole euros (``18000``) or exact text (``"1234.56"``,
``"60000/1003"``); both are read as fractions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_currency, format_decimal, format_percent

from proeftuin import i18n
from proeftuin.errors import _
from proeftuin.services.result_record import PlanOutcome


@dataclass(frozen=True)
class Euro:
    """An amount of money; whole euros are shown without cents."""

    amount: Fraction


@dataclass(frozen=True)
class Share:
    """A share shown as a whole percentage."""

    value: float


@dataclass(frozen=True)
class Phrase:
    """A sentence to translate: ``msgid`` with ``{name}`` placeholders filled from ``params``.

    With ``plural`` and ``count`` it is chosen by number (gettext's ngettext) and ``{n}`` is the
    count.
    """

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None


def ngettext(singular: str, plural: str, n: int) -> tuple[str, str, int]:
    """Marks a plural msgid for extraction (``make messages``); ``counted`` makes the phrase."""
    return singular, plural, n


def say(msgid: str, **params: Any) -> Phrase:
    return Phrase(msgid, params)


def counted(forms: tuple[str, str, int], **params: Any) -> Phrase:
    singular, plural, n = forms
    return Phrase(singular, params, plural, n)


# -- rendering ------------------------------------------------------------------------------------


def render(phrase: Phrase, language: str) -> str:
    """The sentence in ``language`` ("nl" or "en"), numbers and money written its way."""
    translations = i18n.translations(language)
    params = {name: _value(value, language) for name, value in phrase.params.items()}
    if phrase.plural is not None and phrase.count is not None:
        text = translations.ngettext(phrase.msgid, phrase.plural, phrase.count)
        params["n"] = number(phrase.count, language)
    else:
        text = translations.gettext(phrase.msgid)
    return text.format(**params)


def render_all(phrases: Sequence[Phrase], language: str) -> str:
    return " ".join(render(p, language) for p in phrases)


def number(value: int | float, language: str) -> str:
    """1234 → "1.234" (nl) or "1,234" (en)."""
    return format_decimal(value, locale=i18n.LOCALES[language])


def money(amount: Fraction | int, language: str) -> str:
    """€ 18.000 (nl) / €18,000 (en); with cents only when the amount has them."""
    value = Fraction(amount)
    if value.denominator == 1:
        return i18n.format_euro(int(value), language)
    cents = Decimal(value.numerator) / Decimal(value.denominator)
    rounded = cents.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_currency(rounded, "EUR", locale=i18n.LOCALES[language])


def percent(value: float, language: str) -> str:
    return format_percent(value, format="#,##0%", locale=i18n.LOCALES[language])


def _value(value: Any, language: str) -> str:
    if isinstance(value, Phrase):
        return render(value, language)
    if isinstance(value, Euro):
        return money(value.amount, language)
    if isinstance(value, Share):
        return percent(value.value, language)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return number(value, language)
    return str(value)


def amount(value: object) -> Fraction:
    """An amount as stored (an int, "12.34" or "1/3") as an exact fraction."""
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, str) and value:
        return Fraction(value)
    return Fraction(0)


# -- support --------------------------------------------------------------------------------------


def support_words(n: int, points: bool) -> Phrase:
    """ "412 stemmen" or "412 punten": what the rules counted."""
    if points:
        return counted(ngettext("{n} punt", "{n} punten", n))
    return counted(ngettext("{n} stem", "{n} stemmen", n))


def _got(support: int, points: bool) -> Phrase:
    if support == 0:
        if points:
            return say(_("Niemand gaf punten aan dit plan."))
        return say(_("Niemand stemde op dit plan."))
    return say(_("Dit plan kreeg {support}."), support=support_words(support, points))


def _quoted(title: str) -> str:
    return f"\u201e{title}\u201d"


# -- one plan -------------------------------------------------------------------------------------


def explain_plan(
    rule: str,
    plan: PlanOutcome,
    titles: Mapping[str, str],
    *,
    points: bool,
    budget: int,
    no_skip: bool = False,
    min_vote_percent: int = 0,
) -> list[Phrase]:
    """Why ``plan`` (a plan of the stored report) was or was not funded under ``rule``
    (optimal | greedy | equal_shares); ``no_skip`` and ``min_vote_percent`` are greedy's
    options."""
    explanation = plan.explanation
    reason = explanation.reason if explanation is not None else ""
    facts: Mapping[str, Any] = explanation.facts if explanation is not None else {}
    support = plan.support
    cost = amount(plan.cost)
    if rule == "equal_shares":
        return _equal_shares(reason, facts, support, cost, titles, points)
    if reason == "over_budget":
        return [
            _got(support, points),
            say(
                _("Het kost {cost}. Dat is meer dan het hele budget van {budget}."),
                cost=Euro(cost),
                budget=Euro(Fraction(budget)),
            ),
            say(_("Het gaat niet door.")),
        ]
    if rule == "greedy":
        return _greedy(reason, facts, support, cost, titles, points, no_skip, min_vote_percent)
    return _optimal(reason, facts, support, cost, points)


def _greedy(
    reason: str,
    facts: Mapping[str, Any],
    support: int,
    cost: Fraction,
    titles: Mapping[str, str],
    points: bool,
    no_skip: bool = False,
    min_vote_percent: int = 0,
) -> list[Phrase]:
    left = Euro(amount(facts.get("budget_left", 0)))
    turn = say(
        _("Toen het aan de beurt was, was er nog {left} over; het kostte {cost}."),
        left=left,
        cost=Euro(cost),
    )
    if reason == "funded":
        return [_got(support, points), turn, say(_("Het paste, dus het gaat door."))]
    phrases = [_got(support, points)]
    if reason == "no_support":
        phrases.append(say(_("Het kost {cost}. Het gaat niet door."), cost=Euro(cost)))
    elif reason == "below_threshold":
        phrases.append(_below_threshold(facts, points, min_vote_percent))
    elif reason == "not_reached":
        stopped = titles.get(str(facts.get("stopped_at", "")))
        phrases.append(
            say(
                _(
                    "Het verdelen was al gestopt bij {other}, omdat dat plan niet meer paste. "
                    "Daarna kwam geen plan meer aan de beurt. Dus dit plan gaat niet door."
                ),
                other=_quoted(stopped or ""),
            )
        )
    elif no_skip:
        phrases += [
            turn,
            say(
                _(
                    "Het paste niet meer, dus het gaat niet door. Het verdelen stopte hier: "
                    "plannen met minder steun kwamen niet meer aan de beurt."
                )
            ),
        ]
    else:
        phrases += [turn, say(_("Het paste niet meer, dus het gaat niet door."))]
    needed = int(facts.get("needed_support", 0) or 0)
    other = titles.get(str(facts.get("taken_by", "")))
    if needed and other and reason != "no_support":
        phrases.append(
            say(
                _("Met {support} was het vóór {other} gekomen. Dan was het wel doorgegaan."),
                support=support_words(needed, points),
                other=_quoted(other),
            )
        )
    elif needed and reason == "below_threshold":
        phrases.append(
            say(_("Met {support} was het wel doorgegaan."), support=support_words(needed, points))
        )
    return phrases


def _below_threshold(facts: Mapping[str, Any], points: bool, percent: int) -> Phrase:
    threshold = support_words(int(facts.get("threshold", 0) or 0), points)
    if points:
        return say(
            _(
                "Een plan had minstens {threshold} nodig: {percent} van alle punten. Dit plan "
                "kreeg minder. Daarom deed het niet mee en gaat het niet door."
            ),
            threshold=threshold,
            percent=Share(percent / 100),
        )
    return say(
        _(
            "Een plan had minstens {threshold} nodig: {percent} van het aantal kiezers. Dit "
            "plan kreeg minder. Daarom deed het niet mee en gaat het niet door."
        ),
        threshold=threshold,
        percent=Share(percent / 100),
    )


def _optimal(
    reason: str, facts: Mapping[str, Any], support: int, cost: Fraction, points: bool
) -> list[Phrase]:
    phrases = [_got(support, points), say(_("Het kost {cost}."), cost=Euro(cost))]
    lost = int(facts.get("support_lost", 0) or 0)
    if reason == "funded":
        phrases.append(
            say(
                _(
                    "Het hoort bij de plannen die samen de meeste steun krijgen en samen "
                    "binnen het budget passen. Het gaat door."
                )
            )
        )
        if lost:
            phrases.append(
                say(
                    _("Zonder dit plan hadden de gekozen plannen samen {support} minder gehad."),
                    support=support_words(lost, points),
                )
            )
        else:
            phrases.append(
                say(_("Een keuze zonder dit plan was even goed. De loting koos voor dit plan."))
            )
        return phrases
    if reason == "no_support":
        phrases.append(say(_("Het gaat niet door.")))
        return phrases
    if lost:
        phrases.append(
            say(
                _(
                    "Met dit plan erbij hadden de gekozen plannen samen {support} minder "
                    "gehad. Daarom gaat het niet door."
                ),
                support=support_words(lost, points),
            )
        )
    else:
        phrases += [
            say(_("Een keuze met dit plan was even goed. De loting koos voor een andere keuze.")),
            say(_("Het gaat niet door.")),
        ]
    return phrases


def _voters(n: int) -> Phrase:
    if n == 0:
        return say(_("Niemand koos dit plan."))
    return counted(ngettext("{n} kiezer koos dit plan.", "{n} kiezers kozen dit plan.", n))


def _equal_shares(
    reason: str,
    facts: Mapping[str, Any],
    support: int,
    cost: Fraction,
    titles: Mapping[str, str],
    points: bool,
) -> list[Phrase]:
    supporters = int(facts.get("supporters", 0) or 0)
    costs = say(_("Het kost {cost}."), cost=Euro(cost))
    if reason == "funded":
        phrases = [
            _voters(supporters),
            costs,
            say(
                _(
                    "Deze kiezers betaalden het samen uit hun deel van het budget. Niemand "
                    "betaalde meer dan {payment}."
                ),
                payment=Euro(amount(facts.get("max_payment", 0))),
            ),
        ]
        if points:
            phrases.append(say(_("Wie meer punten gaf, betaalde meer mee.")))
        phrases.append(
            say(
                _("Het plan werd gekozen in stap {step}. Het gaat door."),
                step=int(facts.get("round", 0) or 0),
            )
        )
        return phrases
    if reason == "funded_free":
        return [_voters(supporters), say(_("Het kost niets. Het gaat door."))]
    if reason == "funded_by_completion":
        return [
            _voters(supporters),
            costs,
            say(
                _(
                    "Na de verdeling in gelijke delen was er nog geld over. Daarvan zijn nog "
                    "plannen betaald, de plannen met de meeste stemmen eerst. Dit plan paste "
                    "nog. Het gaat door."
                )
            ),
        ]
    if reason == "supporters_ran_out":
        return _ran_out(facts, supporters, costs, titles)
    if reason == "free_without_utility":
        return [_voters(supporters), say(_("Het kost niets, maar het gaat niet door."))]
    return [_got(support, points), costs, say(_("Het gaat niet door."))]


def _ran_out(
    facts: Mapping[str, Any], supporters: int, costs: Phrase, titles: Mapping[str, str]
) -> list[Phrase]:
    # Money the supporters had is rounded down: "had less than the cost" must stay true.
    had = Fraction(math.floor(amount(facts.get("supporters_money", 0))))
    after = titles.get(str(facts.get("dropped_out_after", "")))
    phrases = [_voters(supporters), costs]
    if int(facts.get("dropped_out_round", 0) or 0) and after:
        phrases.append(
            say(
                _(
                    "Nadat {other} was gekozen, hadden deze kiezers samen nog {money} over. "
                    "Dat was te weinig voor dit plan."
                ),
                other=_quoted(after),
                money=Euro(had),
            )
        )
    else:
        phrases.append(
            say(
                _("Deze kiezers hadden samen {money}. Dat was te weinig voor dit plan."),
                money=Euro(had),
            )
        )
    extra = int(facts.get("extra_supporters_needed", 0) or 0)
    if extra:
        phrases.append(
            counted(
                ngettext(
                    "Als nog {n} kiezer alleen dit plan had gekozen, was het wel doorgegaan.",
                    "Als nog {n} kiezers alleen dit plan hadden gekozen, was het wel doorgegaan.",
                    extra,
                )
            )
        )
    max_cost = amount(facts.get("max_cost_to_fund", 0))
    if max_cost >= 1:
        phrases.append(
            say(
                _("Had het plan hoogstens {cost} gekost, dan was het ook doorgegaan."),
                cost=Euro(Fraction(math.floor(max_cost))),
            )
        )
    if "left_over" in facts:
        phrases.append(
            say(
                _("Aan het eind was er nog {money} over. Ook dat was te weinig."),
                money=Euro(amount(facts["left_over"])),
            )
        )
    phrases.append(say(_("Het gaat niet door.")))
    return phrases


# -- how the votes were counted -------------------------------------------------------------------


def how_counted(
    rule: str,
    *,
    budget: int,
    ballots: int,
    spent: Fraction,
    funded: int,
    points: bool,
    facts: Mapping[str, Any],
    welfare: int,
    completion_funded: int,
    seed: str,
    no_skip: bool = False,
    min_vote_percent: int = 0,
) -> list[list[Phrase]]:
    """Paragraphs that explain ``rule`` with this round's numbers (``no_skip`` and
    ``min_vote_percent``: greedy's options)."""
    left = Fraction(budget) - spent
    opening = [
        counted(ngettext("{n} kiezer stemde.", "{n} kiezers stemden.", ballots)),
        say(_("Er was {budget} te verdelen."), budget=Euro(Fraction(budget))),
    ]
    result = [
        counted(
            ngettext(
                "Zo gaat {n} plan door, samen {spent}.",
                "Zo gaan {n} plannen door, samen {spent}.",
                funded,
            ),
            spent=Euro(spent),
        ),
        say(_("Er blijft {left} over."), left=Euro(left)),
    ]
    if rule == "greedy":
        body = _how_greedy(ballots, points, facts, no_skip, min_vote_percent)
    elif rule == "optimal":
        body = [
            [
                say(
                    _(
                        "Er is gezocht naar de plannen die samen de meeste steun krijgen en "
                        "samen binnen het budget passen."
                    )
                ),
                say(
                    _("Die plannen kregen samen {support}."),
                    support=support_words(welfare, points),
                ),
            ]
        ]
    else:
        body = _how_equal_shares(
            budget=budget,
            ballots=ballots,
            points=points,
            facts=facts,
            completion_funded=completion_funded,
        )
    ties = [
        say(
            _(
                "Kregen twee plannen precies evenveel steun? Dan ging het goedkoopste plan "
                "voor. Kostten ze ook evenveel, dan besliste een loting met het getal {seed}. "
                "Dat getal lag al vast voordat het stemmen begon."
            ),
            seed=seed,
        )
    ]
    return [opening, *body, result, ties]


def _how_greedy(
    ballots: int, points: bool, facts: Mapping[str, Any], no_skip: bool, min_vote_percent: int
) -> list[list[Phrase]]:
    paragraph = [say(_("Eerst zijn de plannen op volgorde gezet: de meeste steun eerst."))]
    if no_skip:
        paragraph.append(
            say(
                _(
                    "Daarna is steeds gekeken of het volgende plan nog in het budget paste. Zo "
                    "ja, dan gaat het door. Zo nee, dan stopte het verdelen. Plannen daarna "
                    "kwamen niet meer aan de beurt, ook als ze goedkoper waren."
                )
            )
        )
    else:
        paragraph.append(
            say(
                _(
                    "Daarna is steeds gekeken of het volgende plan nog in het budget paste. "
                    "Zo ja, dan gaat het door. Zo nee, dan kwam het volgende plan aan de beurt."
                )
            )
        )
    if not min_vote_percent:
        return [paragraph]
    threshold = support_words(int(facts.get("threshold", 0) or 0), points)
    if points:
        minimum = say(
            _(
                "Een plan moest minstens {percent} van alle gegeven punten krijgen. Dat was "
                "{threshold}. Plannen met minder punten deden niet mee."
            ),
            percent=Share(min_vote_percent / 100),
            threshold=threshold,
        )
    else:
        minimum = say(
            _(
                "Een plan moest door minstens {percent} van de kiezers gekozen zijn. Bij "
                "{voters} kiezers was dat {threshold}. Plannen met minder stemmen deden niet mee."
            ),
            percent=Share(min_vote_percent / 100),
            voters=ballots,
            threshold=threshold,
        )
    return [[minimum], paragraph]


def _how_equal_shares(
    *,
    budget: int,
    ballots: int,
    points: bool,
    facts: Mapping[str, Any],
    completion_funded: int,
) -> list[list[Phrase]]:
    first_share = Fraction(budget, ballots) if ballots else Fraction(0)
    per_voter = amount(facts.get("per_voter_budget", 0))
    paragraphs = [
        [
            say(
                _(
                    "Het budget is eerst in gelijke delen over alle kiezers verdeeld: {budget} "
                    "gedeeld door {voters} kiezers is {share} per kiezer."
                ),
                budget=Euro(Fraction(budget)),
                voters=ballots,
                share=Euro(first_share),
            ),
        ],
        [
            say(
                _(
                    "Elke kiezer betaalt alleen mee aan de plannen die hij of zij koos. Een plan "
                    "gaat door als de kiezers die het kozen, samen genoeg geld hebben. Ze "
                    "betalen dan zoveel mogelijk hetzelfde bedrag."
                )
            ),
            say(
                _(
                    "Steeds ging eerst het plan door waarvoor elke kiezer het minst hoefde te "
                    "betalen. Hebben de kiezers van een plan samen te weinig geld over, dan "
                    "valt het af."
                )
            ),
        ],
    ]
    if points:
        paragraphs[1].append(say(_("Wie meer punten aan een plan gaf, betaalt meer mee.")))
    if int(facts.get("add1_steps", 0) or 0) and per_voter != first_share:
        paragraphs[0].append(
            say(
                _(
                    "Zo bleef er geld over. Daarom is het deel van elke kiezer in stappen van "
                    "{step} verhoogd, zolang het totaal binnen het budget bleef. Uiteindelijk "
                    "kreeg elke kiezer {share}."
                ),
                step=Euro(Fraction(1)),
                share=Euro(per_voter),
            )
        )
    mes_funded = int(facts.get("rounds", 0) or 0)
    spent_mes = amount(facts.get("spent_equal_shares", 0))
    steps = [
        counted(
            ngettext(
                "Met gelijke delen ging {n} plan door, samen {spent}.",
                "Met gelijke delen gingen {n} plannen door, samen {spent}.",
                mes_funded,
            ),
            spent=Euro(spent_mes),
        )
    ]
    if completion_funded:
        steps.append(
            counted(
                ngettext(
                    "Van het geld dat over was, is daarna nog {n} plan betaald, samen {spent}: "
                    "de plannen met de meeste stemmen eerst, zolang ze pasten.",
                    "Van het geld dat over was, zijn daarna nog {n} plannen betaald, samen "
                    "{spent}: de plannen met de meeste stemmen eerst, zolang ze pasten.",
                    completion_funded,
                ),
                spent=Euro(amount(facts.get("spent_completion", 0))),
            )
        )
    paragraphs.append(steps)
    return paragraphs
