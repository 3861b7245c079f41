"""The gemeente's own site: its contact details and the content pages an admin edits.

The contact details are structured fields (phone, e-mail, address, opening hours), so every place
that shows them (the footer's contact page, ``/stem``'s help, the error pages, the letters) shows
the same: ``contact_details(session)``. The content pages (privacy statement, accessibility
statement, "Hoe werkt het?") are Markdown, sanitised when shown; a page without an admin's own
text shows the default that ``site_statements`` writes from what the software really does. Every
change is in the audit log, by the names of the fields changed (never their values: an e-mail
address has no place in the log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, InvalidForm, _
from proeftuin.models import SitePage, SitePageText, SiteProfile
from proeftuin.services import audit, permissions
from proeftuin.services.permissions import Actor

PROFILE_ID = 1
PAGE_LIMIT = 20_000  # characters of Markdown: a long privacy statement is some 8,000
NAME_LIMIT = 200
PHONE_LIMIT = 40
EMAIL_LIMIT = 320
ADDRESS_LIMIT = 500
HOURS_LIMIT = 1000
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,38}")
EMAIL = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+\.[A-Za-z]{2,}")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ContactDetails:
    """How residents reach the gemeente; "" where not set. For pages, error pages and letters."""

    phone: str = ""
    email: str = ""
    address: str = ""  # lines separated by "\n"
    opening_hours: str = ""  # lines separated by "\n"

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    @property
    def phone_link(self) -> str:
        """The number for a ``tel:`` link: digits and a leading +."""
        return ("+" if self.phone.startswith("+") else "") + re.sub(r"\D", "", self.phone)

    @property
    def address_lines(self) -> tuple[str, ...]:
        return tuple(line for line in self.address.splitlines() if line.strip())

    @property
    def hours_lines(self) -> tuple[str, ...]:
        return tuple(line for line in self.opening_hours.splitlines() if line.strip())


@dataclass(frozen=True)
class ContactInput:
    """What an admin typed on the contact form; checked by ``update_contact``."""

    gemeente_name: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    opening_hours: str = ""


# The audit log names a changed field in words that are not themselves forbidden keys.
CONTACT_FIELD_NAMES = {
    "gemeente_name": "naam",
    "phone": "telefoon",
    "email": "e-mailadres",
    "address": "bezoekadres",
    "opening_hours": "openingstijden",
}


def profile(session: Session) -> SiteProfile | None:
    return session.get(SiteProfile, PROFILE_ID)


def contact_details(session: Session) -> ContactDetails:
    """The gemeente's contact details, for any page or letter that tells residents how to reach
    it (empty fields where the admin set none)."""
    found = session.execute(
        select(
            SiteProfile.phone, SiteProfile.email, SiteProfile.address, SiteProfile.opening_hours
        ).where(SiteProfile.id == PROFILE_ID)
    ).first()
    if found is None:
        return ContactDetails()
    return ContactDetails(*found)


def contact_input(session: Session) -> ContactInput:
    """The stored values, to fill the admin's form."""
    found = profile(session)
    if found is None:
        return ContactInput()
    return ContactInput(**{f.name: getattr(found, f.name) for f in fields(ContactInput)})


def update_contact(session: Session, actor: Actor, data: ContactInput) -> ContactInput:
    permissions.require_admin(actor)
    clean = _checked_contact(data)
    row = profile(session) or _new_profile(session)
    changed = [
        CONTACT_FIELD_NAMES[f.name]
        for f in fields(ContactInput)
        if getattr(row, f.name) != getattr(clean, f.name)
    ]
    for f in fields(ContactInput):
        setattr(row, f.name, getattr(clean, f.name))
    session.flush()
    if changed:
        audit.record(session, actor.staff_id, "site.contact_update", "site", None, fields=changed)
    return clean


def ensure_profile(session: Session) -> SiteProfile:
    """The profile row, made (empty) when there is none yet."""
    return profile(session) or _new_profile(session)


def _new_profile(session: Session) -> SiteProfile:
    row = SiteProfile(id=PROFILE_ID)
    session.add(row)
    session.flush()
    return row


def _checked_contact(data: ContactInput) -> ContactInput:
    name = _one_line(data.gemeente_name)
    phone = _one_line(data.phone)
    email = _one_line(data.email)
    address = _lines(data.address)
    hours = _lines(data.opening_hours)
    errors = []
    if len(name) > NAME_LIMIT:
        errors.append(Invalid("gemeente_name", _("De naam is te lang (hoogstens 200 tekens).")))
    if phone and (len(phone) > PHONE_LIMIT or not PHONE.fullmatch(phone)):
        errors.append(
            Invalid(
                "phone",
                _(
                    "Vul een telefoonnummer in met alleen cijfers, spaties en streepjes, "
                    "bijvoorbeeld 14 0592 of +31 592 123 456."
                ),
            )
        )
    if email and (len(email) > EMAIL_LIMIT or not EMAIL.fullmatch(email)):
        errors.append(
            Invalid("email", _("Vul een e-mailadres in zoals info@gemeente.nl, of laat het leeg."))
        )
    if len(address) > ADDRESS_LIMIT:
        errors.append(Invalid("address", _("Het adres is te lang (hoogstens 500 tekens).")))
    if len(hours) > HOURS_LIMIT:
        errors.append(
            Invalid("opening_hours", _("De openingstijden zijn te lang (hoogstens 1000 tekens)."))
        )
    if errors:
        raise InvalidForm(errors)
    return ContactInput(name, phone, email, address, hours)


def _one_line(text: str) -> str:
    return " ".join(CONTROL.sub("", text).split())


def _lines(text: str) -> str:
    lines = (" ".join(CONTROL.sub("", line).split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# -- Content pages ---------------------------------------------------------------------------


def page_text(session: Session, page: SitePage) -> str | None:
    """The admin's own Markdown of ``page``, or None where the default applies."""
    return session.scalar(select(SitePageText.body).where(SitePageText.page == page.value))


def update_page(session: Session, actor: Actor, page: SitePage, body: str) -> str | None:
    """Store the admin's text; an empty text brings back the generated default. Returns the
    stored text (None: the default)."""
    permissions.require_admin(actor)
    text = CONTROL.sub("", body).replace("\r\n", "\n").strip()
    if len(text) > PAGE_LIMIT:
        raise Invalid(
            "body",
            _("De tekst is te lang: {length} tekens, hoogstens {limit}."),
            length=len(text),
            limit=PAGE_LIMIT,
        )
    row = session.scalar(select(SitePageText).where(SitePageText.page == page.value))
    if not text:
        if row is not None:
            session.delete(row)
            audit.record(
                session, actor.staff_id, "site.page_reset", "site_page", row.id, page=page.value
            )
        return None
    if row is None:
        row = SitePageText(page=page.value, body=text, updated_by_id=actor.staff_id)
        session.add(row)
    elif row.body == text:
        return text
    else:
        row.body = text
        row.updated_by_id = actor.staff_id
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "site.page_update",
        "site_page",
        row.id,
        page=page.value,
        characters=len(text),
    )
    return text
