"""What goes on each printed A4 letter with a voting code: the gemeente, the round, the code, a QR
code that opens the voting page with the code filled in, and short instructions in plain Dutch (B1),
translated like the pages. No language is stored for the residents who get the letters, so a letter
is in the language of the request that prints it (Dutch unless the staff member chose another).

The plain codes exist only in the request that generated them, so letters are built from the list
the caller still holds; nothing here reads or stores a code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

import segno
from babel.numbers import format_decimal
from sqlalchemy.orm import Session

from proeftuin.db import utcnow
from proeftuin.i18n import (
    LOCALES,
    N_,
    current_language,
    format_moment,
    gettext,
)
from proeftuin.models import Phase, Round
from proeftuin.services import codes, lookup, site_content
from proeftuin.services.permissions import Actor

QR_SIZE_MM = 30  # easy for any phone camera, small enough to leave room for the text
QR_TITLE = N_("QR-code: scan om te stemmen")


@dataclass(frozen=True)
class Sender:
    """Who letters and paper ballots come from."""

    gemeente: str
    contact: tuple[str, ...]  # lines: phone, e-mail, desk and opening hours; () when unknown
    logo: bytes | None  # PNG or JPEG; None: the name stands in its place


def sender(session: Session, gemeente: str) -> Sender:
    """The one place the gemeente's name, contact details and logo (set in /beheer, see
    services/site_content.py) reach the printed letters and ballots; ``gemeente`` is the name
    from the settings, used when the admin set none."""
    contact = site_content.contact_details(session)
    profile = site_content.profile(session)
    lines = (contact.phone, contact.email, *contact.address_lines, *contact.hours_lines)
    return Sender(
        gemeente=(profile.gemeente_name if profile is not None else "") or gemeente,
        contact=tuple(line for line in lines if line),
        logo=profile.logo if profile is not None and profile.logo else None,
    )


@dataclass(frozen=True)
class Letter:
    gemeente: str
    area: str
    round_title: str
    code: str  # 4-4-4
    url: str
    qr_svg: str  # inline <svg> markup, no XML declaration
    instructions: tuple[str, ...]
    language: str  # what the letter is written in, for the page's lang attribute


def letters_for_round(
    session: Session,
    actor: Actor,
    round_id: int,
    plain_codes: Iterable[str],
    base_url: str,
    gemeente: str,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> list[Letter]:
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    return [letter(round_, code, base_url, gemeente, language, now) for code in plain_codes]


def letter(
    round_: Round,
    typed_code: str,
    base_url: str,
    gemeente: str,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Letter:
    """One letter, in ``language`` (by default that of the current request), with the round's
    dates as they are at ``now`` (by default the moment it is made: the moment of printing)."""
    language = language or current_language.get()
    code = codes.normalise(typed_code)
    if code is None:
        raise ValueError("not a letter code")
    shown = codes.display(code)
    url = voting_url(base_url, shown)
    return Letter(
        gemeente=gemeente,
        area=round_.area.name,
        round_title=round_.title,
        code=shown,
        url=url,
        qr_svg=qr_svg(url, gettext(QR_TITLE, language)),
        instructions=instructions(round_, base_url, shown, language, now or utcnow()),
        language=language,
    )


def voting_url(base_url: str, shown_code: str) -> str:
    return f"{base_url.rstrip('/')}/stem?code={quote(shown_code)}"


def qr_svg(url: str, title: str = QR_TITLE) -> str:
    """A QR code as inline SVG, QR_SIZE_MM wide on paper, with a title for screen readers."""
    qr = segno.make(url, error="m", micro=False)
    width, _ = qr.symbol_size(scale=1)
    svg = qr.svg_inline(
        scale=QR_SIZE_MM / width, unit="mm", title=title, svgclass="qr", lineclass=None
    )
    return str(svg).replace("<svg ", '<svg role="img" ', 1)


def instructions(
    round_: Round, base_url: str, shown_code: str, language: str, now: dt.datetime
) -> tuple[str, ...]:
    """Short sentences in plain language (B1), one step each."""
    site = base_url.rstrip("/").removeprefix("https://").removeprefix("http://")

    def say(message: str, **params: object) -> str:
        return gettext(message, language, **params)

    amount = format_decimal(round_.budget, locale=LOCALES[language])
    steps = [
        say(
            N_("U mag meebeslissen over {amount} euro voor {area}."),
            amount=amount,
            area=round_.area.name,
        ),
        say(N_("Scan de QR-code met de camera van uw telefoon.")),
        say(N_("Of ga naar {site}/stem en typ uw code: {code}."), site=site, code=shown_code),
        say(N_("Kies de plannen die u het belangrijkst vindt.")),
    ]
    steps += when(round_, language, now)
    steps += [
        say(
            N_(
                "U kunt één keer stemmen met deze code. "
                "Tot het einde mag u uw keuze nog veranderen."
            )
        ),
        say(N_("Geen internet? Vraag de gemeente om een stembiljet op papier. Zet uw code erop.")),
        say(N_("Geef deze code aan niemand anders. De code is alleen voor u.")),
        say(N_("Vragen? Neem contact op met de gemeente.")),
    ]
    return tuple(steps)


def when(round_: Round, language: str, now: dt.datetime) -> list[str]:
    """When voting opens and closes, as the round stands at ``now``: a round opened by hand
    before its date says it is open, and a date that has passed is not printed."""

    def say(message: str, **params: object) -> str:
        return gettext(message, language, **params)

    starts, ends = round_.voting_starts_at, round_.voting_ends_at
    out = []
    if round_.phase == Phase.STEMMEN:
        out.append(say(N_("Het stemmen is begonnen. U kunt nu stemmen.")))
    elif starts is not None and starts > now:
        out.append(say(N_("Stemmen kan vanaf {moment}."), moment=_moment(starts, language)))
    if ends is not None and ends > now:
        out.append(say(N_("Stem op tijd: het kan tot {moment}."), moment=_moment(ends, language)))
    return out


def _moment(value: dt.datetime, language: str) -> str:
    return format_moment(value, language, relative=False)
