from __future__ import annotations

import io

import openpyxl
import pytest

from proeftuin.errors import Invalid
from proeftuin.services import address_list
from proeftuin.services.address_list import Address

HEADER = ("straat", "huisnummer", "postcode", "plaats")


def test_comma_and_semicolon_lists_with_a_bom_and_excels_code_page() -> None:
    comma = "\ufeffStraat,Huisnummer,Postcode,Plaats\nKerkweg,3,1234ab,Veenhoven\n".encode()
    semicolon = b"straat;huisnummer;postcode;plaats\r\nKerkweg;3;1234 AB;Veenhoven\r\n"
    windows = "straat;nummer;postcode;woonplaats\nHoofdstraat;3;1234 AB;Sint-Michiëlsgestel\n"
    expected = Address("Kerkweg", "3", "1234 AB", "Veenhoven")
    assert address_list.read("a.csv", comma) == [expected]
    assert address_list.read("a.csv", semicolon) == [expected]
    [read] = address_list.read("a.csv", windows.encode("cp1252"))
    assert read.town == "Sint-Michiëlsgestel" and read.pc4 == "1234"


def test_columns_in_another_order_and_empty_lines() -> None:
    rows = [
        ("plaats", "postcode", "huisnummer", "straat"),
        ("", "", "", ""),
        ("Dorp", "9999 ZZ", "1", "Laan"),
    ]
    assert address_list.parse(rows) == [Address("Laan", "1", "9999 ZZ", "Dorp")]


def test_an_excel_list_with_numbers_as_numbers() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(HEADER))
    sheet.append(["Kerkweg", 3, "1234 AB", "Veenhoven"])
    saved = io.BytesIO()
    book.save(saved)
    assert address_list.read("lijst.xlsx", saved.getvalue()) == [
        Address("Kerkweg", "3", "1234 AB", "Veenhoven")
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("", "3", "1234 AB", "Dorp"), "Regel {line}: de straat ontbreekt."),
        (("Laan", "", "1234 AB", "Dorp"), "Regel {line}: het huisnummer ontbreekt."),
        (("Laan", "3", "", "Dorp"), "Regel {line}: de postcode ontbreekt."),
        (("Laan", "3", "1234 AB", ""), "Regel {line}: de plaats ontbreekt."),
        (
            ("Laan", "3", "1234 A", "Dorp"),
            "Regel {line}: de postcode \u201c{postcode}\u201d klopt niet.",
        ),
        (
            ("L" * 101, "3", "1234 AB", "Dorp"),
            "Regel {line}: een veld is langer dan {limit} tekens.",
        ),
    ],
)
def test_a_bad_line_is_named(row: tuple[str, ...], message: str) -> None:
    good = ("Laan", "1", "1234 AB", "Dorp")
    with pytest.raises(Invalid) as refused:
        address_list.parse([HEADER, good, row])
    assert refused.value.message.startswith(message.split("{line}")[0])
    assert refused.value.params["line"] == "3"


def test_two_hundred_thousand_rows_are_refused_at_the_limit() -> None:
    rows = [HEADER, *((f"Laan {i}", "1", "1234 AB", "Dorp") for i in range(200_000))]
    with pytest.raises(Invalid) as refused:
        address_list.parse(rows)
    assert refused.value.params == {"line": "10.002", "limit": "10.000"}


def test_one_typed_address_names_its_field() -> None:
    typed = {"straat": "Laan", "huisnummer": "1", "postcode": "1234ab", "plaats": "Dorp"}
    assert address_list.one(typed) == Address("Laan", "1", "1234 AB", "Dorp")
    with pytest.raises(Invalid) as refused:
        address_list.one(typed | {"plaats": " "})
    assert refused.value.field == "plaats"
    with pytest.raises(Invalid) as refused:
        address_list.one(typed | {"postcode": "12345"})
    assert refused.value.field == "postcode"
