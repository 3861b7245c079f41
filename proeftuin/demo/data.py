"""The demo gemeente's words and numbers, in Dutch as a gemeente would write them: its areas, its
rounds and the plans its residents proposed. The code that enters them is in rounds.py and
results.py; nothing here touches the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from proeftuin.models import AreaKind, BallotKind, Phase, Rule

# The account the demo acts as, and the resident who proposed its plans.
ADMIN_EMAIL = "demo-beheerder@proeftuin.example"
ADMIN_NAME = "Demo-beheerder"
RESIDENT_EMAIL = "demo-bewoner@proeftuin.example"
RESIDENT_NAME = "Demo-bewoner"
PLAN_BODY = "{summary}\n\nDit plan is een voorbeeld in de demo van Proeftuin."

# (slug, name, kind, council, postcodes)
AREAS = [
    ("centrum-oost", "Centrum-Oost", AreaKind.WIJK, "Wijkraad Centrum-Oost", "9401-9403"),
    ("de-horst", "De Horst", AreaKind.WIJK, "Wijkraad De Horst", "9404-9406"),
    ("ter-aa", "Ter Aa", AreaKind.DORP, "Dorpsraad Ter Aa", "9411"),
    (
        "buitengebied-zuid",
        "Buitengebied Zuid",
        AreaKind.GEBIED,
        "Gebiedscommissie Zuid",
        "9412-9415",
    ),
]


@dataclass(frozen=True)
class DemoRound:
    """A round as the demo sets it up; ``days`` are the four phase dates (submission, review,
    voting, end of voting) in days from now."""

    area: str  # slug in AREAS
    title: str  # the slug follows from it, as for a round made on the staff pages
    description: str
    budget: int
    phase: Phase
    days: tuple[int, int, int, int]
    ballot_kind: BallotKind
    rule: Rule
    max_choices: int | None = None

    def dates(self, now: dt.datetime) -> tuple[dt.datetime, ...]:
        return tuple(now + dt.timedelta(days=d) for d in self.days)


VOTING_ROUND = DemoRound(
    area="centrum-oost",
    title="Buurtbudget Centrum-Oost 2027",
    description=(
        "De gemeente geeft € 60.000 aan Centrum-Oost. Bewoners bedachten plannen. "
        "De wijkraad heeft ze bekeken. Nu kiest u welke plannen er komen."
    ),
    budget=60_000,
    phase=Phase.STEMMEN,
    days=(-60, -30, -7, 21),
    ballot_kind=BallotKind.KNAPSACK,
    rule=Rule.EQUAL_SHARES,
)
PROPOSAL_ROUND = DemoRound(
    area="ter-aa",
    title="Dorpsbudget Ter Aa 2027",
    description=(
        "Heeft u een goed idee voor Ter Aa? Stuur uw plan in. "
        "Er is € 25.000 te verdelen. De dorpsraad kijkt of het plan kan."
    ),
    budget=25_000,
    phase=Phase.INDIENEN,
    days=(-10, 20, 40, 61),
    ballot_kind=BallotKind.K_APPROVAL,
    rule=Rule.GREEDY,
    max_choices=3,
)
CONCEPT_ROUND = DemoRound(
    area="de-horst",
    title="Wijkbudget De Horst 2027",
    description=(
        "De wijkraad bereidt deze ronde voor. Vanaf het voorjaar kunt u plannen indienen."
    ),
    budget=40_000,
    phase=Phase.CONCEPT,
    days=(30, 60, 90, 111),
    ballot_kind=BallotKind.APPROVAL,
    rule=Rule.OPTIMAL,
)
PUBLISHED_ROUND = DemoRound(
    area="buitengebied-zuid",
    title="Gebiedsbudget Zuid 2026",
    description=(
        "De gemeente gaf € 50.000 aan het buitengebied. Inwoners van Zuiderveen, Heidedorp "
        "en Beekhoek bedachten plannen en stemden erover. De uitslag is bekend."
    ),
    budget=50_000,
    phase=Phase.STEMMEN,  # results.py casts its ballots, then closes, counts and publishes it
    days=(-200, -160, -100, -79),
    ballot_kind=BallotKind.KNAPSACK,
    rule=Rule.EQUAL_SHARES,
)
PUBLISHED_DECISION = "Demo: vastgesteld door de gebiedscommissie."

# (title, summary, cost, theme, location, self_executed)
VOTING_PLANS = [
    (
        "Speeltuin Julianapark opknappen",
        "Nieuwe toestellen en zachte ondergrond voor kinderen tot 12 jaar.",
        18_000,
        "spelen",
        "Julianapark",
        False,
    ),
    (
        "Groene schoolpleinen",
        "Tegels eruit, bomen en een moestuin erin bij twee basisscholen.",
        15_000,
        "groen",
        "Schoolstraat",
        False,
    ),
    (
        "Bankjes langs de Vaart",
        "Zes bankjes, zodat ouderen onderweg kunnen uitrusten.",
        4_500,
        "ontmoeten",
        "Langs de Vaart",
        False,
    ),
    (
        "Moestuin bij buurthuis De Schakel",
        "Buurtbewoners telen samen groente; de oogst gaat naar de voedselbank.",
        7_500,
        "groen",
        "Buurthuis De Schakel",
        True,
    ),
    (
        "Verlichting fietspad Stationsweg",
        "Lantaarns langs het donkere stuk fietspad naar het station.",
        12_000,
        "veiligheid",
        "Stationsweg",
        False,
    ),
    (
        "Jeu-de-boulesbaan bij de Brink",
        "Een baan om elkaar te ontmoeten, jong en oud.",
        6_000,
        "ontmoeten",
        "De Brink",
        True,
    ),
    (
        "Buurtfeest en straattheater",
        "Een zomerfeest voor de hele wijk, met muziek en theater.",
        3_500,
        "cultuur",
        "Marktplein",
        True,
    ),
    (
        "Watertappunten in de wijk",
        "Twee kranen met gratis drinkwater bij het park en het plein.",
        5_000,
        "gezondheid",
        "Julianapark en Marktplein",
        False,
    ),
    (
        "Geveltuinen in de Bloemenbuurt",
        "Plantgoed en hulp voor 80 geveltuinen.",
        8_000,
        "groen",
        "Bloemenbuurt",
        True,
    ),
    (
        "Bloemrijke bermen en insectenhotels",
        "Bermen inzaaien met wilde bloemen, tien insectenhotels.",
        4_000,
        "groen",
        "Rondweg",
        False,
    ),
    (
        "Minibieb en ontmoetingsbank",
        "Een kast met boeken om te ruilen, met een bank ernaast.",
        2_500,
        "ontmoeten",
        "Hoek Kerkstraat",
        True,
    ),
    (
        "Sporttoestellen in het park",
        "Toestellen om buiten gratis te sporten.",
        14_000,
        "sport",
        "Julianapark",
        False,
    ),
    (
        "Overdekte fietsenstalling",
        "Een droge, veilige stalling voor 40 fietsen bij het buurthuis.",
        11_000,
        "verkeer",
        "Buurthuis De Schakel",
        False,
    ),
]

PROPOSAL_PLANS = [
    (
        "AED in de dorpskern",
        "Een hartstarter die dag en nacht bereikbaar is.",
        3_000,
        "veiligheid",
        "Dorpshuis",
        False,
    ),
    (
        "Wandelpad rond de ijsbaan",
        "Een halfverhard pad van 1,2 km, ook voor rolstoelen.",
        16_000,
        "sport",
        "IJsbaan Ter Aa",
        False,
    ),
    (
        "Dorpsmoestuin",
        "Een gezamenlijke moestuin met een kas.",
        5_500,
        "groen",
        "Achter de school",
        True,
    ),
]


# The published round: about 1,000 ballots from a large village (Zuiderveen) whose voters mostly
# want its own, dearer plans, and two small villages with plans of their own. The greedy rule then
# gives nearly everything to Zuiderveen; Equal Shares (the round's rule) gives each village its
# share, so the two differ.
# (title, summary, cost, theme, location)
PUBLISHED_PLANS = [
    ("Kunstgrasveld voor vv Zuiderveen", "Een veld waarop het hele jaar gespeeld kan worden.",
     24_000, "sport", "Sportpark Zuiderveen"),
    ("Speeltuin bij de Brink", "Nieuwe toestellen voor kinderen tot 12 jaar.",
     16_000, "spelen", "De Brink, Zuiderveen"),
    ("Ledverlichting sportpark", "Zuinige lampen rond de velden en het fietspad.",
     12_000, "veiligheid", "Sportpark Zuiderveen"),
    ("Dorpshuis Heidedorp toegankelijk", "Een hellingbaan en een invalidentoilet.",
     14_000, "ontmoeten", "Dorpshuis Heidedorp"),
    ("Jeu-de-boulesbaan Heidedorp", "Een baan naast het dorpshuis, voor jong en oud.",
     4_000, "ontmoeten", "Heidedorp"),
    ("Wandelpad langs de Beek", "Een halfverhard pad van 2 km, ook voor rolstoelen.",
     9_000, "groen", "Beekhoek"),
    ("AED in Beekhoek", "Een hartstarter die dag en nacht bereikbaar is.",
     3_000, "gezondheid", "Beekhoek"),
    ("Bloemrijke bermen", "Bermen inzaaien met wilde bloemen, voor bijen en vlinders.",
     5_000, "groen", "Het hele gebied"),
    ("Bankjes langs de fietsroutes", "Tien bankjes om even uit te rusten.",
     6_000, "ontmoeten", "Het hele gebied"),
]  # fmt: skip

# Groups of voters: (share of the voters, how likely each plan is chosen, by plan number).
PUBLISHED_GROUPS = [
    (0.60, {0: 0.85, 1: 0.8, 2: 0.6, 7: 0.25, 8: 0.3}),
    (0.25, {3: 0.85, 4: 0.7, 7: 0.3, 8: 0.35, 1: 0.1}),
    (0.15, {5: 0.85, 6: 0.75, 7: 0.3, 8: 0.2}),
]
