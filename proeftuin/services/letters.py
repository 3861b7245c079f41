"""What goes on each printed A4 letter with a voting code: the gemeente, the round, the code, a QR
code that opens the voting page with the code filled in, and short instructions in plain Dutch.

The plain codes exist only in the request that generated them, so letters are built from the list
the caller still holds; nothing here reads or stores a code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

import segno
from sqlalchemy.orm import Session

from proeftuin.i18n import TIMEZONE, format_date
from proeftuin.models import Round
from proeftuin.services import codes, lookup, rounds
from proeftuin.services.permissions import Actor

QR_SIZE_MM = 30  # easy for any phone camera, small enough to leave room for the text
QR_TITLE = "QR-code: scan om te stemmen"


@dataclass(frozen=True)
class Letter:
    gemeente: str
    area: str
    round_title: str
    code: str  # 4-4-4
    url: str
    qr_svg: str  # inline <svg> markup, no XML declaration
    instructions: tuple[str, ...]


def letters_for_round(
    session: Session,
    actor: Actor,
    round_id: int,
    plain_codes: Iterable[str],
    base_url: str,
    gemeente: str,
) -> list[Letter]:
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    return [letter(round_, code, base_url, gemeente) for code in plain_codes]


def letter(round_: Round, typed_code: str, base_url: str, gemeente: str) -> Letter:
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
        qr_svg=qr_svg(url),
        instructions=instructions(round_, base_url, shown),
    )


def voting_url(base_url: str, shown_code: str) -> str:
    return f"{base_url.rstrip('/')}/stem?code={quote(shown_code)}"


def qr_svg(url: str) -> str:
    """A QR code as inline SVG, QR_SIZE_MM wide on paper, with a title for screen readers."""
    qr = segno.make(url, error="m", micro=False)
    width, _ = qr.symbol_size(scale=1)
    svg = qr.svg_inline(
        scale=QR_SIZE_MM / width, unit="mm", title=QR_TITLE, svgclass="qr", lineclass=None
    )
    return str(svg).replace("<svg ", '<svg role="img" ', 1)


def instructions(round_: Round, base_url: str, shown_code: str) -> tuple[str, ...]:
    """Short sentences in plain Dutch (B1), one step each."""
    site = base_url.rstrip("/").removeprefix("https://").removeprefix("http://")
    steps = [
        f"U mag meebeslissen over {rounds.euros(round_.budget)} euro voor {round_.area.name}.",
        "Scan de QR-code met de camera van uw telefoon.",
        f"Of ga naar {site}/stem en typ uw code: {shown_code}.",
        "Kies de plannen die u het belangrijkst vindt.",
    ]
    if round_.voting_starts_at is not None:
        steps.append(f"Stemmen kan vanaf {_moment(round_.voting_starts_at)}.")
    if round_.voting_ends_at is not None:
        steps.append(f"Stem op tijd: het kan tot {_moment(round_.voting_ends_at)}.")
    steps += [
        "U kunt één keer stemmen met deze code. Tot het einde mag u uw keuze nog veranderen.",
        "Geen internet? Vraag de gemeente om een stembiljet op papier. Zet uw code erop.",
        "Geef deze code aan niemand anders. De code is alleen voor u.",
        "Vragen? Neem contact op met de gemeente.",
    ]
    return tuple(steps)


def _moment(value: dt.datetime) -> str:
    local = value.astimezone(TIMEZONE)
    return f"{format_date(local.date(), 'nl')} om {local:%H:%M} uur"
