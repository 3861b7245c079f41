"""Reading an address list for letters: CSV (comma or semicolon) or XLSX, with the columns
straat, huisnummer, postcode, plaats (no names). See docs/decisions.md, Letters for the mail house.

Nothing here stores or logs an address: the list lives in the request that makes the letters.
The first problem found is reported with its line (the header is line 1); nothing is made from a
list with a problem.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal

from proeftuin.errors import Invalid, _

# Addresses per upload; more is split over several uploads. Ten thousand letters take about a
# hundred seconds and 150 MB (benchmarks/letters.py); a web request should not take longer.
MAX_ROWS = 10_000
FIELD = "adressen"
COLUMNS = ("straat", "huisnummer", "postcode", "plaats")
# Headers people write for the same columns (lower case, without spaces, dots or dashes).
ALIASES = {
    "straat": "straat",
    "straatnaam": "straat",
    "street": "straat",
    "huisnummer": "huisnummer",
    "nummer": "huisnummer",
    "huisnr": "huisnummer",
    "number": "huisnummer",
    "postcode": "postcode",
    "plaats": "plaats",
    "woonplaats": "plaats",
    "town": "plaats",
    "city": "plaats",
}
POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Z]{2})$")
LONGEST = 100  # characters in one field: longer is not an address


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    number: str  # house number with any addition: "12", "12 A", "12-bis"
    postcode: str  # "1234 AB"
    town: str

    @property
    def pc4(self) -> str:
        return self.postcode[:4]


def read(filename: str, content: bytes) -> list[Address]:
    """The addresses in an uploaded file, or ``Invalid`` naming the first line with a problem."""
    if not content.strip():
        raise Invalid(FIELD, _("Het bestand is leeg. Kies een bestand met adressen."))
    if content.startswith(b"PK") or filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(content)
    else:
        rows = _csv_rows(content)
    return parse(rows)


def parse(rows: Iterable[Sequence[str]]) -> list[Address]:
    lines = iter(rows)
    header = next(lines, None)
    if header is None:
        raise Invalid(FIELD, _("Het bestand is leeg. Kies een bestand met adressen."))
    order = _columns(header)
    addresses: list[Address] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in enumerate(lines, start=2):
        cells = [_clean(cell) for cell in row]
        if not any(cells):
            continue
        if len(addresses) >= MAX_ROWS:
            raise Invalid(
                FIELD,
                _(
                    "Regel {line}: het bestand heeft meer dan {limit} adressen. Maak er "
                    "meerdere bestanden van, van hoogstens {limit} adressen elk."
                ),
                line=_number(line),
                limit=_number(MAX_ROWS),
            )
        address = _address(line, [cells[i] if i < len(cells) else "" for i in order])
        key = (address.street.casefold(), address.number.casefold(), address.postcode)
        if key in seen:
            raise Invalid(
                FIELD,
                _("Regel {line}: dit adres staat ook op regel {first}."),
                line=_number(line),
                first=_number(seen[key]),
            )
        seen[key] = line
        addresses.append(address)
    if not addresses:
        raise Invalid(FIELD, _("Er staan geen adressen in het bestand, alleen de kopregel."))
    return addresses


def _columns(header: Sequence[str]) -> list[int]:
    found = [ALIASES.get(re.sub(r"[\s.\-_]", "", _clean(cell).lower()), "") for cell in header]
    missing = [name for name in COLUMNS if name not in found]
    if missing:
        raise Invalid(
            FIELD,
            _(
                "Regel 1: de kopregel klopt niet. Die moet de kolommen straat, huisnummer, "
                "postcode en plaats hebben. Nu ontbreekt: {missing}."
            ),
            missing=", ".join(missing),
        )
    return [found.index(name) for name in COLUMNS]


def _address(line: int, cells: list[str]) -> Address:
    street, number, postcode, town = cells
    shown = _number(line)
    for value, message in (
        (street, _("Regel {line}: de straat ontbreekt.")),
        (number, _("Regel {line}: het huisnummer ontbreekt.")),
        (postcode, _("Regel {line}: de postcode ontbreekt.")),
        (town, _("Regel {line}: de plaats ontbreekt.")),
    ):
        if not value:
            raise Invalid(FIELD, message, line=shown)
    if any(len(value) > LONGEST for value in cells):
        raise Invalid(
            FIELD,
            _("Regel {line}: een veld is langer dan {limit} tekens. Is dit wel een adres?"),
            line=shown,
            limit=LONGEST,
        )
    normal = _postcode(postcode)
    if normal is None:
        raise Invalid(
            FIELD,
            _(
                "Regel {line}: de postcode \u201c{postcode}\u201d klopt niet. Een postcode is "
                "4 cijfers en 2 letters, bijvoorbeeld 1234 AB."
            ),
            line=shown,
            postcode=postcode,
        )
    return Address(street, number, normal, town)


def one(typed: Mapping[str, str]) -> Address:
    """One address typed on a form (for a replacement letter), its fields named as COLUMNS;
    a problem names its field."""
    street, number, postcode, town = (_clean(typed.get(name, "")) for name in COLUMNS)
    for name, value in zip(COLUMNS, (street, number, postcode, town), strict=True):
        if not value:
            raise Invalid(name, _("Vul dit in."))
        if len(value) > LONGEST:
            raise Invalid(name, _("Dit is te lang: hoogstens {limit} tekens."), limit=LONGEST)
    normal = _postcode(postcode)
    if normal is None:
        raise Invalid(
            "postcode",
            _(
                "Deze postcode klopt niet. Een postcode is 4 cijfers en 2 letters, "
                "bijvoorbeeld 1234 AB."
            ),
        )
    return Address(street, number, normal, town)


def _postcode(typed: str) -> str | None:
    """A Dutch postcode as "1234 AB", or None."""
    match = POSTCODE.match(typed.upper())
    return None if match is None else f"{match[1]} {match[2]}"


def _clean(cell: object) -> str:
    return "" if cell is None else " ".join(str(cell).split())


def _number(value: int) -> str:
    return format_decimal(value, locale="nl_NL")


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in its own code page.
        text = content.decode("cp1252", errors="replace")
    text = text.replace("\x00", "")  # no address holds one; the csv module refuses it
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise Invalid(
            FIELD,
            _("Dit bestand kunnen we niet lezen. Kies een CSV- of Excel-bestand (.xlsx)."),
        ) from None
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield [_xlsx_cell(cell) for cell in row]
    book.close()


def _xlsx_cell(cell: object) -> str:
    # Excel keeps a house number as a number: 12, not "12.0".
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return _clean(cell)
