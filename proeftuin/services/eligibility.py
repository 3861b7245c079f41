"""Who may vote, and how: the rules of a round's eligibility that do not need a letter code.

A letter code is its own proof: the gemeente sent it to an address on its list. A resident who
votes with a verified e-mail address instead must live in the round's area, which is decided by
the postcode (PC4) they gave.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from proeftuin.errors import NotAllowed, _
from proeftuin.models import Area, Eligibility, Resident, Round, VoterDeclaration

EMAIL_ELIGIBILITIES = (Eligibility.EMAIL, Eligibility.CODES_OR_EMAIL)


def postcode_in_area(area_postcodes: str, postcode: str) -> bool:
    """Is a postcode ("9401 AB") inside an area's PC4 ranges ("9401-9403,9410")? An area without
    ranges takes everyone in the gemeente; a resident without a postcode is in no area."""
    digits = postcode.strip()[:4]
    if not (digits.isascii() and digits.isdigit()) or len(digits) != 4:
        return False
    ranges = [part.strip() for part in area_postcodes.split(",") if part.strip()]
    if not ranges:
        return True
    number = int(digits)
    for part in ranges:
        low, _sep, high = part.partition("-")
        try:
            if int(low) <= number <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def email_problem(
    round_: Round, resident: Resident, *, any_area: bool = False
) -> NotAllowed | None:
    """Why this resident cannot vote in this round by e-mail, or None when they can.
    ``any_area``: the round's voting event lets residents choose their area (no postcode check)."""
    if round_.eligibility not in EMAIL_ELIGIBILITIES:
        return NotAllowed(_("In deze ronde kunt u alleen stemmen met de code uit uw brief."))
    if resident.verified_at is None:
        return NotAllowed(
            _("Uw e-mailadres is nog niet bevestigd. Log opnieuw in met de link uit uw e-mail.")
        )
    if not resident.postcode:
        return NotAllowed(
            _("Vul eerst uw postcode in bij uw gegevens. Dan weten we of u hier mag stemmen.")
        )
    area: Area = round_.area
    if not any_area and not postcode_in_area(area.postcodes, resident.postcode):
        return NotAllowed(
            _("Uw postcode hoort niet bij {area}. Daarom kunt u hier niet stemmen."),
            area=area.name,
        )
    return None


# -- The declaration of an e-mail voter (docs/decisions.md, Who may vote) --------------------


def require_declaration(round_: Round, declared: bool) -> None:
    """An e-mail voter declares that they live in the area and, when the round has a minimum
    age, that they are that old: a letter code needs no declaration (the gemeente's list)."""
    if declared:
        return
    if round_.min_age:
        raise NotAllowed(
            _("Verklaar eerst dat u {age} jaar of ouder bent en in {area} woont."),
            age=round_.min_age,
            area=round_.area.name,
        )
    raise NotAllowed(_("Verklaar eerst dat u in {area} woont."), area=round_.area.name)


def record_declaration(session: Session, round_: Round, voter_key: str, today: dt.date) -> None:
    """The declaration, once per (round, voter key): no name, address or time of day."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "round_id": round_.id,
        "voter_key": voter_key,
        "min_age": round_.min_age,
        "declared_on": today,
    }
    statement = dialect.insert(VoterDeclaration).values(**values).on_conflict_do_nothing()
    session.execute(statement)
