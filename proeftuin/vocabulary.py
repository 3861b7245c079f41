"""The words residents and staff read for the model's codes, each defined once.

Every page, mail and letter names a phase, a plan status, a rule, a ballot kind or a theme with
the words below (B1 Dutch msgids, translated when shown), so one thing has one name everywhere;
docs/glossary.md lists them with what they mean (a test keeps the two the same).
Where residents and staff see a status from a different side, both wordings stand here, named
for their readers. A ballot kind is named by its own spec (``services/ballot_kinds``), which
holds everything about the kind in one place.
"""

from __future__ import annotations

from proeftuin import i18n
from proeftuin.i18n import N_
from proeftuin.models import AreaKind, Eligibility, ExecutionStatus, Phase, PlanStatus, Role, Rule

# (name, what it means), for staff choosing a rule; RULE_SUMMARIES says it for residents.
RULES: dict[Rule, tuple[str, str]] = {
    Rule.EQUAL_SHARES: (
        N_("Gelijke delen"),
        N_(
            "Elke kiezer krijgt een even groot deel van het budget. Zo krijgen ook kleinere "
            "groepen bewoners een plan."
        ),
    ),
    Rule.GREEDY: (
        N_("Meeste stemmen eerst"),
        N_("Het plan met de meeste stemmen krijgt eerst geld, dan het volgende, zolang het past."),
    ),
    Rule.OPTIMAL: (
        N_("Zoveel mogelijk stemmen"),
        N_("De plannen die samen de meeste stemmen hebben en samen binnen het budget passen."),
    ),
}

# Greedy's options (name, what it means), on the round form; RULE_OPTION_WORDS names them after
# the rule's name on the round and result pages.
GREEDY_NO_SKIP: tuple[str, str] = (
    N_("Stoppen bij het eerste plan dat niet past"),
    N_(
        "Alleen bij \u2018meeste stemmen eerst\u2019. Past een plan niet meer in het budget, dan "
        "stopt het verdelen. Plannen met minder stemmen gaan dan niet door, ook als ze "
        "goedkoper zijn."
    ),
)
MIN_VOTE_PERCENT: tuple[str, str] = (
    N_("Minimum aan stemmen voor een plan, in procenten"),
    N_(
        "Alleen bij \u2018meeste stemmen eerst\u2019. Bijvoorbeeld 10: een plan moet door "
        "minstens 10 procent van de kiezers gekozen zijn (bij punten: 10 procent van alle "
        "punten). Anders gaat het niet door. 0 betekent: geen minimum."
    ),
)
RULE_OPTION_WORDS: dict[str, str] = {
    "no_skip": N_("zonder overslaan"),
    "min_vote_percent": N_("een plan heeft minstens {percent} procent van de stemmen nodig"),
}


def rule_options(no_skip: bool, min_vote_percent: int | None) -> str:
    """Greedy's options in words for after the rule's name, in the current language; ""
    without them."""
    words = []
    if no_skip:
        words.append(i18n.gettext(RULE_OPTION_WORDS["no_skip"]))
    if min_vote_percent:
        words.append(i18n.gettext(RULE_OPTION_WORDS["min_vote_percent"], percent=min_vote_percent))
    return ", ".join(words)


ELIGIBILITIES: dict[Eligibility, tuple[str, str]] = {
    Eligibility.CODES: (
        N_("Met de code uit de brief"),
        N_("Het veiligst: elke bewoner krijgt per post een brief met een eigen code."),
    ),
    Eligibility.EMAIL: (
        N_("Met een bevestigd e-mailadres"),
        N_("Minder veilig: iemand kan meer e-mailadressen hebben. De postcode moet kloppen."),
    ),
    Eligibility.CODES_OR_EMAIL: (
        N_("Met de code of met een e-mailadres"),
        N_("Bewoners kiezen zelf. Met een code kan niet ook nog per e-mail worden gestemd."),
    ),
}

# A plan's status as staff read it in the review queue.
STAFF_STATUS_NAMES: dict[PlanStatus, str] = {
    PlanStatus.INGEDIEND: N_("Te beoordelen"),
    PlanStatus.AANPASSEN: N_("Wacht op aanpassing"),
    PlanStatus.OP_STEMBILJET: N_("Op het stembiljet"),
    PlanStatus.AFGEWEZEN: N_("Afgewezen"),
    PlanStatus.SAMENGEVOEGD: N_("Samengevoegd"),
    PlanStatus.INGETROKKEN: N_("Ingetrokken"),
}

# What happens when a round enters a phase: said on the confirmation page before the step.
PHASE_CONSEQUENCES: dict[Phase, str] = {
    Phase.INDIENEN: N_("Bewoners kunnen plannen indienen en steunen."),
    Phase.BEOORDELEN: N_("Bewoners kunnen geen nieuwe plannen meer indienen."),
    Phase.STEMMEN: N_(
        "Het stemmen begint. Het budget, de regels van het stembiljet en de plannen op het "
        "stembiljet liggen daarna vast. Alleen een beheerder kan de ronde dan nog terugzetten, "
        "en dan vervallen alle stemmen."
    ),
    Phase.GESLOTEN: N_(
        "Het stemmen stopt. Niemand kan daarna nog stemmen, ook niet op papier. "
        "Daarna kan de uitslag worden berekend."
    ),
    Phase.GEPUBLICEERD: N_("De uitslag wordt openbaar. Dit kan niet meer terug."),
}

RULE_SUMMARIES: dict[Rule, str] = {
    Rule.EQUAL_SHARES: N_(
        "Het budget wordt eerlijk over alle kiezers verdeeld. Ook kleinere groepen kiezers "
        "krijgen zo plannen die zij belangrijk vinden."
    ),
    Rule.GREEDY: N_(
        "Het plan met de meeste stemmen gaat eerst door, dan het volgende, zolang het geld er is."
    ),
    Rule.OPTIMAL: N_(
        "De plannen die samen de meeste stemmen hebben en samen binnen het budget passen."
    ),
}

THEME_LABELS: dict[str, str] = {
    "groen": N_("Groen en natuur"),
    "spelen": N_("Spelen"),
    "sport": N_("Sport en bewegen"),
    "ontmoeten": N_("Ontmoeten"),
    "verkeer": N_("Verkeer"),
    "veiligheid": N_("Veiligheid"),
    "cultuur": N_("Cultuur"),
    "gezondheid": N_("Gezondheid"),
    "overig": N_("Overig"),
}

# A plan's status as residents read it.
STATUS_LABELS: dict[str, str] = {
    PlanStatus.INGEDIEND.value: N_("Ingediend"),
    PlanStatus.AANPASSEN.value: N_("Aanpassing gevraagd"),
    PlanStatus.OP_STEMBILJET.value: N_("Op het stembiljet"),
    PlanStatus.AFGEWEZEN.value: N_("Afgewezen"),
    PlanStatus.INGETROKKEN.value: N_("Ingetrokken"),
    PlanStatus.SAMENGEVOEGD.value: N_("Samengevoegd met een ander plan"),
}

# The orders a round's plan list can be sorted in ("" is the round's own order).
PLAN_ORDER_LABELS: dict[str, str] = {
    "": N_("Standaard"),
    "kosten": N_("Laagste kosten eerst"),
    "titel": N_("Op naam (A tot Z)"),
    "nieuwste": N_("Nieuwste eerst"),
}

# A round's phase as residents and staff read it on its own.
PHASE_LABELS: dict[Phase, str] = {
    Phase.CONCEPT: N_("In voorbereiding"),
    Phase.INDIENEN: N_("Plannen indienen"),
    Phase.BEOORDELEN: N_("Plannen worden bekeken"),
    Phase.STEMMEN: N_("Stemmen"),
    Phase.GESLOTEN: N_("Stemmen is voorbij"),
    Phase.GEPUBLICEERD: N_("Uitslag bekend"),
}

# The steps of a round's public timeline: the phases by the same names (one word for one thing).
TIMELINE_LABELS: dict[str, str] = {
    phase.value: PHASE_LABELS[phase]
    for phase in (
        Phase.INDIENEN,
        Phase.BEOORDELEN,
        Phase.STEMMEN,
        Phase.GESLOTEN,
        Phase.GEPUBLICEERD,
    )
}

# A phase inside a sentence ('van {current} naar {next}').
PHASE_NAMES: dict[Phase, str] = {
    Phase.CONCEPT: N_("concept"),
    Phase.INDIENEN: N_("indienen"),
    Phase.BEOORDELEN: N_("beoordelen"),
    Phase.STEMMEN: N_("stemmen"),
    Phase.GESLOTEN: N_("gesloten"),
    Phase.GEPUBLICEERD: N_("gepubliceerd"),
}

AREA_KIND_NAMES: dict[AreaKind, str] = {
    AreaKind.WIJK: N_("wijk"),
    AreaKind.DORP: N_("dorp"),
    AreaKind.GEBIED: N_("gebied"),
}

ROLE_NAMES: dict[Role, str] = {Role.MODERATOR: N_("moderator"), Role.ADMIN: N_("beheerder")}


def rule_name(rule: str) -> str:
    return RULES[Rule(rule)][0]


def phase_label(phase: str) -> str:
    return PHASE_LABELS[Phase(phase)]


RULE_NAMES: dict[Rule, str] = {rule: name for rule, (name, _) in RULES.items()}


# How far a funded plan is (services/execution.py).
EXECUTION_LABELS: dict[str, str] = {
    ExecutionStatus.VOORBEREIDING.value: N_("In voorbereiding"),
    ExecutionStatus.UITVOERING.value: N_("In uitvoering"),
    ExecutionStatus.KLAAR.value: N_("Klaar"),
    ExecutionStatus.VERVALLEN.value: N_("Vervallen"),
    ExecutionStatus.VERTRAAGD.value: N_("Vertraagd"),
}

MONTH_NAMES: tuple[str, ...] = (
    N_("januari"),
    N_("februari"),
    N_("maart"),
    N_("april"),
    N_("mei"),
    N_("juni"),
    N_("juli"),
    N_("augustus"),
    N_("september"),
    N_("oktober"),
    N_("november"),
    N_("december"),
)

# Why a paper ballot does not count (services/paper.py): the key is what is stored. "blanco" is
# a blank ballot; every other reason makes it invalid.
BLANK_REASON = "blanco"
VOID_REASONS: dict[str, str] = {
    BLANK_REASON: N_("blanco: niets gekozen"),
    "te-veel-geld": N_("te veel geld uitgegeven"),
    "te-veel-plannen": N_("te veel plannen gekozen"),
    "te-weinig-plannen": N_("te weinig plannen gekozen"),
    "punten": N_("de punten kloppen niet"),
    "meer-kruisjes": N_("meer dan één kruisje bij een plan"),
    "onleesbaar": N_("onleesbaar"),
}
