"""The demo's paper ballots that do not count: a few blank and invalid ones in the published
round, typed in by the admin as staff do, so its proces-verbaal and turnout show them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from proeftuin.services import paper
from proeftuin.services.permissions import Actor

# (reason, how many): a key of vocabulary.VOID_REASONS each.
VOID_BALLOTS = (("blanco", 3), ("te-veel-geld", 2), ("onleesbaar", 1), ("meer-kruisjes", 1))


def enter_void_ballots(
    session: Session,
    actor: Actor,
    round_id: int,
    letter_codes: Sequence[str],
    pepper: str,
    day: dt.date,
) -> int:
    """Enter the blank and invalid paper ballots with unused codes; returns how many."""
    reasons = [reason for reason, times in VOID_BALLOTS for _ in range(times)]
    for code, reason in zip(letter_codes, reasons, strict=False):
        paper.enter_void_ballot(session, actor, round_id, code, reason, pepper, day)
    return min(len(letter_codes), len(reasons))


# An address list to try the letters with in the demo's voting round (Centrum-Oost, postcodes
# 9401-9403): made-up addresses, in the shape a gemeente exports them (semicolons).
SAMPLE_ADDRESSES = "\n".join(
    [
        "straat;huisnummer;postcode;plaats",
        *(
            f"{street};{number};{postcode};Proeftuin"
            for street, postcode in (
                ("Havenstraat", "9401 AB"),
                ("Kerkplein", "9401 CD"),
                ("Molenweg", "9402 EF"),
                ("Burgemeester de Vriesstraat", "9403 GH"),
            )
            for number in (1, 3, 5, "7 a")
        ),
    ]
)
