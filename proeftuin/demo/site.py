"""The demo gemeente's own site: its contact details, and a privacy statement completed with its
data protection officer. The look stays the example theme of the NL Design System."""

from __future__ import annotations

from sqlalchemy.orm import Session

from proeftuin.models import SitePage
from proeftuin.services import site_content, site_statements
from proeftuin.services.permissions import Actor
from proeftuin.services.site_content import ContactInput

CONTACT = ContactInput(
    phone="14 0592",
    email="burgerbegroting@veenhoven.example",
    address="Stadhuis Veenhoven\nMarktplein 1\n9401 AA Veenhoven",
    opening_hours=(
        "Maandag tot en met vrijdag: 9.00 tot 17.00 uur\n"
        "Donderdag ook 18.00 tot 20.00 uur (alleen op afspraak)"
    ),
)
OFFICER = (
    "# Functionaris gegevensbescherming\n\n"
    "Heeft u een vraag over privacy? De functionaris gegevensbescherming van de gemeente is "
    "bereikbaar via privacy@veenhoven.example of 14 0592."
)


GEMEENTE = "Gemeente Veenhoven"  # the demo's name (the Makefile's PROEFTUIN_SITE_NAME)


def seed_site(session: Session, actor: Actor) -> None:
    """Idempotent: what is there already is left as it is."""
    if site_content.contact_details(session).is_empty:
        site_content.update_contact(session, actor, CONTACT)
    if site_content.page_text(session, SitePage.PRIVACY) is None:
        default = site_statements.default_text(SitePage.PRIVACY, GEMEENTE, "nl")
        site_content.update_page(session, actor, SitePage.PRIVACY, f"{default}\n\n{OFFICER}")
