"""Staff CSV for Dutch Excel, staff XLSX, open-data CSV: the same rows, each as its reader needs."""

from __future__ import annotations

import csv
import io

import openpyxl

from proeftuin.services import spreadsheets
from proeftuin.services.spreadsheets import Sheet

SHEET = Sheet(
    "Logboek",
    ("Nummer", "Actie", "Details"),
    [(1, "plan.reject", '=HYPERLINK("x")'), (2, "Café; één", None), (3, "-1", "@som")],
)


def test_staff_csv_has_a_bom_and_semicolons_for_dutch_excel() -> None:
    content = spreadsheets.staff_csv(SHEET)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Nummer", "Actie", "Details"],
        ["1", "plan.reject", '\'=HYPERLINK("x")'],
        ["2", "Café; één", ""],
        ["3", "'-1", "'@som"],
    ]


def test_open_data_csv_is_plain_comma_separated_utf8() -> None:
    content = spreadsheets.open_data_csv(SHEET)
    assert not content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8").splitlines()[0] == "Nummer,Actie,Details"


def test_xlsx_keeps_text_as_text_and_numbers_as_numbers() -> None:
    found = spreadsheets.staff_file(SHEET, "xlsx")
    assert found.extension == "xlsx" and found.media_type == spreadsheets.XLSX_TYPE
    sheet = openpyxl.load_workbook(io.BytesIO(found.content)).active
    assert sheet is not None and sheet.title == "Logboek"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [
        ("Nummer", "Actie", "Details"),
        (1, "plan.reject", '=HYPERLINK("x")'),
        (2, "Café; één", None),
        (3, "-1", "@som"),
    ]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_anything_but_xlsx_is_the_staff_csv() -> None:
    assert spreadsheets.staff_file(SHEET, "").content == spreadsheets.staff_csv(SHEET)
    assert spreadsheets.staff_file(SHEET, "pdf").extension == "csv"
