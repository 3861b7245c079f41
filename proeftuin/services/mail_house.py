"""Letters for the mail house, made from an address list: one code per address, a letter number
for each, a merge file (CSV) and print-ready letters (PDF), in one ZIP. See docs/decisions.md,
Letters for the mail house.

Codes, letter numbers and the PDF are made in one transaction: when anything fails, nothing is
kept, so there are never codes without letters. The addresses live only in this request: the
database keeps a letter's number, its code's id and the four digits of its postcode (for turnout
per postcode area), and the audit log the numbers and how many.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, _
from proeftuin.i18n import TIMEZONE
from proeftuin.models import Letter, Round, VotingCode
from proeftuin.services import audit, codes, letter_pdf, letters, lookup
from proeftuin.services.address_list import Address
from proeftuin.services.letter_pdf import Page
from proeftuin.services.permissions import Actor

MERGE_HEADER = ("briefnummer", "straat", "huisnummer", "postcode", "plaats", "code", "qr_url")
_LETTERS = cast(Table, Letter.__table__)
_CHUNK = 5_000  # bound parameters per query stay far below the databases' limits


@dataclass(frozen=True)
class Made:
    round: Round
    first: int
    last: int
    content: bytes
    filename: str
    media_type: str


def make_letters(
    session: Session,
    actor: Actor,
    round_id: int,
    addresses: Sequence[Address],
    pepper: str,
    base_url: str,
    gemeente: str,
    language: str,
    now: dt.datetime,
) -> Made:
    """A code and a letter for each address: a ZIP with the letters (PDF) and the merge file."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    pages = _issue(session, actor, round_, addresses, pepper, now)
    sender = letters.sender(session, gemeente)
    document = letter_pdf.render(round_, pages, base_url, sender, language, now)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("brieven.pdf", document)
        out.writestr("samenvoegbestand.csv", merge_file(pages, base_url))
    day = now.astimezone(TIMEZONE).date().isoformat()
    first, last = pages[0].number, pages[-1].number
    return Made(
        round_,
        first,
        last,
        archive.getvalue(),
        f"brieven-{round_.slug}-{day}-{first}-{last}.zip",
        "application/zip",
    )


def replace_letter(
    session: Session,
    actor: Actor,
    round_id: int,
    typed_number: str,
    address: Address,
    pepper: str,
    base_url: str,
    gemeente: str,
    language: str,
    now: dt.datetime,
) -> Made:
    """Revoke a lost letter's code and make a new letter for the address (typed again: it is
    not stored); the answer is the new letter as a PDF."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    lost = revoke_letter(session, actor, round_.id, typed_number)
    [page] = _issue(session, actor, round_, [address], pepper, now, replaces=lost.number)
    audit.record(
        session,
        actor.staff_id,
        "letter.replace",
        "round",
        round_.id,
        round_.area_id,
        number=page.number,
        replaces=lost.number,
    )
    sender = letters.sender(session, gemeente)
    document = letter_pdf.render(round_, [page], base_url, sender, language, now)
    filename = f"brief-{round_.slug}-{page.number}.pdf"
    return Made(round_, page.number, page.number, document, filename, "application/pdf")


def revoke_letter(session: Session, actor: Actor, round_id: int, typed_number: str) -> Letter:
    """Revoke the code of a letter found by its number (a lost letter), audited."""
    round_ = lookup.staff_round_by_id(session, actor, round_id)
    text = typed_number.strip().replace(".", "")
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise Invalid(
            "nummer", _("Vul het briefnummer in. Het staat rechtsboven en onderaan op de brief.")
        )
    letter = session.scalar(
        select(Letter).where(Letter.round_id == round_.id, Letter.number == int(text))
    )
    if letter is None:
        raise Invalid("nummer", _("Brief {number} hoort niet bij deze ronde."), number=int(text))
    row = session.get(VotingCode, letter.code_id)
    assert row is not None
    codes.revoke_row(session, actor, round_, row, "nummer", letter=letter.number)
    return letter


def merge_file(pages: Sequence[Page], base_url: str) -> bytes:
    """The mail house's merge file: semicolons and a byte order mark, as Dutch Excel reads it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(MERGE_HEADER)
    for page in pages:
        shown = codes.display(page.code)
        a = page.address
        url = letters.voting_url(base_url, shown)
        writer.writerow((page.number, a.street, a.number, a.postcode, a.town, shown, url))
    return out.getvalue().encode("utf-8-sig")


def _issue(
    session: Session,
    actor: Actor,
    round_: Round,
    addresses: Sequence[Address],
    pepper: str,
    now: dt.datetime,
    replaces: int | None = None,
) -> list[Page]:
    plain = codes.generate_for_round(session, actor, round_.id, len(addresses), pepper)
    ids = _code_ids(session, pepper, plain)
    first = (
        session.scalar(select(func.max(Letter.number)).where(Letter.round_id == round_.id)) or 0
    ) + 1
    pages = [
        Page(first + i, address, code, replaces)
        for i, (address, code) in enumerate(zip(addresses, plain, strict=True))
    ]
    rows = [
        {
            "round_id": round_.id,
            "number": page.number,
            "code_id": ids[page.code],
            "pc4": page.address.pc4,
            "replaces": replaces,
        }
        for page in pages
    ]
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(_LETTERS), rows[start : start + _CHUNK])
    audit.record(
        session,
        actor.staff_id,
        "letters.make",
        "round",
        round_.id,
        round_.area_id,
        count=len(pages),
        first=pages[0].number,
        last=pages[-1].number,
        postcode_areas=len({page.address.pc4 for page in pages}),
    )
    return pages


def _code_ids(session: Session, pepper: str, plain: Sequence[str]) -> dict[str, int]:
    by_hash = {codes.code_hash(pepper, code): code for code in plain}
    hashes = list(by_hash)
    found: dict[str, int] = {}
    for start in range(0, len(hashes), _CHUNK):
        chunk = hashes[start : start + _CHUNK]
        rows = session.execute(
            select(VotingCode.code_hash, VotingCode.id).where(VotingCode.code_hash.in_(chunk))
        )
        found.update({by_hash[h]: i for h, i in rows})
    return found
