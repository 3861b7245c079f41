"""The default texts of the content pages, written from what the software really does.

The privacy statement is put together from the facts the code keeps (what each table holds, the
retention period of ``services.retention``, how long sign-in links and staff sessions last, the
hashed rate-limit counters), so it changes when they change. The accessibility statement follows
the structure of the Dutch model statement (modelverklaring: status, research, measures, feedback,
enforcement) and names the tests that back it. An admin may replace either with their own text in
/beheer; these are the starting point, in the visitor's language.
"""

from __future__ import annotations

from proeftuin import i18n
from proeftuin.i18n import N_
from proeftuin.models import SitePage
from proeftuin.services import ratelimit, residents, retention, staff_sessions

PRIVACY: tuple[str, ...] = (
    N_("# Wie is verantwoordelijk?"),
    N_(
        "{gemeente} is verantwoordelijk voor de gegevens op deze website. Op deze website "
        "beslissen inwoners samen hoe geld voor hun wijk of dorp wordt besteed. Wij gebruiken uw "
        "gegevens alleen daarvoor (de wettelijke grondslag is een taak van algemeen belang)."
    ),
    N_("# Welke gegevens bewaren wij?"),
    N_(
        "- **Als u een plan indient of steunt**: uw e-mailadres, de naam die u zelf opgeeft en "
        "uw postcode. Uw naam staat bij uw plan; uw e-mailadres laten wij niemand zien."
    ),
    N_(
        "- **Als u stemt**: wij bewaren uw stem zonder uw naam, zonder uw IP-adres en zonder het "
        "tijdstip (alleen de dag). De code uit uw brief bewaren wij alleen versleuteld, zodat "
        "niemand die de database in handen krijgt er nog mee kan stemmen."
    ),
    N_(
        "- **Uw stembon**: na het stemmen krijgt u een willekeurige stembon. Daarmee kunt u na de "
        "uitslag zien dat uw stem is meegeteld. Aan de stembon is niet te zien wat u stemde."
    ),
    N_(
        "- **Inloglinks**: een link om in te loggen werkt {link_minutes} minuten en daarna "
        "nooit meer."
    ),
    N_(
        "- **Te veel pogingen**: wij tellen mislukte pogingen (een verkeerde code, een verkeerd "
        "wachtwoord) per {window_minutes} minuten. Wij bewaren daarvoor geen IP-adres of "
        "e-mailadres, alleen een onherkenbare afgeleide daarvan, en gooien de tellingen na een "
        "dag weg."
    ),
    N_(
        "- **Medewerkers van de gemeente**: hun naam, e-mailadres en wat zij doen op deze "
        "website (in een logboek). Zij worden na {idle_minutes} minuten zonder activiteit "
        "uitgelogd, en altijd na {session_hours} uur."
    ),
    N_(
        "- **Cookies**: alleen één cookie die nodig is om de website te laten werken (uw "
        "taalkeuze, of u bent ingelogd, en een beveiliging van formulieren). Geen cookies om u "
        "te volgen, geen advertenties en geen statistieken van anderen."
    ),
    N_(
        "- **Als u reageert op een plan**: uw reactie en de naam die u zelf opgeeft. {days} "
        "dagen na de uitslag halen wij de koppeling tussen uw reactie en uw account weg. De "
        "reactie blijft staan, met die naam."
    ),
    N_(
        "- **Foto's bij een plan**: wij maken elke foto opnieuw en halen er alle extra gegevens "
        "uit, zoals de plek waar hij is gemaakt en het merk van de camera."
    ),
    N_(
        "- **Als u stemt met uw e-mailadres**: dat u hebt verklaard dat u oud genoeg bent en in "
        "het gebied woont."
    ),
    N_(
        "- **Berichten per e-mail**: als u zich aanmeldt, bewaren wij uw e-mailadres en waarover "
        "u berichten wilt. Bevestigt u niet binnen een week, dan gooien wij het weg. Na afloop "
        "van een ronde ook. Onder elk bericht staat een link om te stoppen."
    ),
    N_(
        "- **Adressen voor de brieven**: de gemeente maakt de brieven met een lijst van "
        "adressen. Die adressen bewaren wij niet. Wij bewaren alleen hoeveel brieven er per "
        "postcodegebied (de vier cijfers) zijn verstuurd."
    ),
    N_(
        "- **Geen andere partijen**: deze website laadt geen lettertypes, scripts of "
        "statistieken van andere websites. Alleen de kaartbeelden komen van een kaartdienst van "
        "de overheid (standaard PDOK van het Kadaster); uw browser haalt ze daar op, en die "
        "dienst ziet dan uw IP-adres. Zonder JavaScript laadt de website geen kaart. Wij geven "
        "uw gegevens aan niemand."
    ),
    N_("# Hoe lang bewaren wij uw gegevens?"),
    N_(
        "{days} dagen nadat de uitslag van een ronde is gepubliceerd, gooien wij de codes van "
        "de brieven weg. De stemmen blijven bewaard, zodat iedereen de uitslag kan narekenen, "
        "maar ze zijn dan niet meer aan een code of een e-mailadres te koppelen."
    ),
    N_(
        "Uw e-mailadres, naam en postcode wissen wij als uw account ouder is dan {days} dagen "
        "en al uw plannen en steun bij afgeronde rondes horen. Uw plan blijft staan, zonder uw "
        "gegevens."
    ),
    N_("Verstuurde e-mails en oude inlogsessies van medewerkers gooien wij na {days} dagen weg."),
    N_("# Uw rechten"),
    N_(
        "U mag de gegevens zien die wij over u hebben, ze laten verbeteren of laten wissen. "
        "Neem daarvoor contact op met de gemeente (zie de pagina Contact). Bent u het niet eens "
        "met hoe wij met uw gegevens omgaan? Dan kunt u een klacht indienen bij de Autoriteit "
        "Persoonsgegevens."
    ),
)

ACCESSIBILITY: tuple[str, ...] = (
    N_(
        "{gemeente} wil dat iedereen deze website zonder problemen kan gebruiken. Daarom "
        "werken wij aan de toegankelijkheid volgens de norm EN 301 549 en de richtlijnen "
        "WCAG 2.1 op niveau A en AA."
    ),
    N_("# Nalevingsstatus"),
    N_(
        "Status: **eerste maatregelen genomen**. De website is gemaakt om aan WCAG 2.1 niveau A "
        "en AA te voldoen en wordt bij elke wijziging automatisch getest. Een volledig onderzoek "
        "door een onafhankelijke deskundige is nog niet gedaan. Als dat onderzoek er is, staat "
        "de uitkomst op deze pagina."
    ),
    N_("# Hoe testen wij?"),
    N_(
        "- Elke wijziging van de software gaat door tests in een echte browser (Chromium) die "
        "met axe-core elke pagina van de belangrijkste routes controleren op WCAG 2.1 A en AA: "
        "een plan bekijken en indienen, stemmen met een code, de uitslag bekijken, en het werk "
        "van medewerkers."
    ),
    N_(
        "- Dezelfde tests kijken of alles met het toetsenbord werkt en of alles wat u aantikt "
        "minstens 44 bij 44 pixels is."
    ),
    N_(
        "- Wij testen de pagina's op een smal scherm van 320 pixels met tekst op 200%: de tekst "
        "past dan zonder opzij te schuiven."
    ),
    N_(
        "- Alle pagina's werken zonder JavaScript. De kleuren van de gemeente worden bij het "
        "opslaan gecontroleerd op genoeg contrast (minstens 4,5 : 1)."
    ),
    N_("# Werkt iets niet?"),
    N_(
        "Kunt u iets op deze website niet lezen of gebruiken? Laat het ons weten (zie de pagina "
        "Contact). U krijgt binnen 5 werkdagen een reactie, en binnen 3 weken een oplossing of "
        "een uitleg waarom dat niet kan."
    ),
    N_("# Handhavingsprocedure"),
    N_(
        "Bent u niet tevreden met hoe wij uw melding hebben behandeld? Dan kunt u een klacht "
        "indienen bij de Nationale ombudsman."
    ),
)

HOW_IT_WORKS: tuple[str, ...] = (
    N_(
        "Bij een burgerbegroting beslissen inwoners samen hoe een deel van het geld van de "
        "gemeente in hun wijk of dorp wordt besteed. Dat gaat in vier stappen."
    ),
    N_(
        "1. **Plannen indienen.** Iedereen kan een plan indienen voor de wijk of het dorp, met "
        "wat het ongeveer kost. Andere inwoners kunnen een plan steunen."
    ),
    N_(
        "2. **Plannen beoordelen.** De gemeente en de wijkraad of dorpsraad kijken of een plan "
        "kan, en wat het echt kost. Plannen die kunnen, komen op het stembiljet."
    ),
    N_(
        "3. **Stemmen.** U stemt met de code uit uw brief (of met uw e-mailadres als dat in uw "
        "ronde mag). U kunt uw stem veranderen zolang het stemmen duurt: de laatste stem telt."
    ),
    N_(
        "4. **De uitslag.** Na het stemmen telt de computer de stemmen met de regel van de ronde. "
        "De gemeenteraad stelt de uitslag vast. Daarna ziet iedereen de uitslag, en kan iedereen "
        "hem narekenen met de gepubliceerde stemmen."
    ),
)

STATEMENTS: dict[SitePage, tuple[str, ...]] = {
    SitePage.PRIVACY: PRIVACY,
    SitePage.ACCESSIBILITY: ACCESSIBILITY,
    SitePage.HOW_IT_WORKS: HOW_IT_WORKS,
}


def facts(gemeente: str) -> dict[str, object]:
    """The numbers the statements quote, from the code that keeps them."""
    return {
        "gemeente": gemeente,
        "days": retention.RETENTION.days,
        "link_minutes": residents.LINK_MINUTES,
        "window_minutes": int(ratelimit.CODE_FAILURES_PER_IP.window.total_seconds() // 60),
        "idle_minutes": int(staff_sessions.IDLE.total_seconds() // 60),
        "session_hours": int(staff_sessions.ABSOLUTE.total_seconds() // 3600),
    }


def default_text(page: SitePage, gemeente: str, language: str) -> str:
    """The page's default Markdown in ``language``."""
    values = facts(gemeente)
    # str.format ignores the keyword arguments a part has no placeholder for. Parts are
    # separated by a blank line: list items so make one (loose) list.
    return "\n\n".join(i18n.gettext(part, language).format(**values) for part in STATEMENTS[page])
