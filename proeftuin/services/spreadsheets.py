"""Every table that leaves the system as a file: for staff as CSV that Dutch Excel opens, or as
XLSX; for open data as standard CSV (docs/decisions.md, *Spreadsheets*).

- Staff CSV: ``;`` between cells and a UTF-8 byte order mark, which is what Excel with Dutch
  settings reads without its import wizard (with ``,`` it shows everything in one column).
- Staff XLSX (XlsxWriter): text cells are written as text, never read as a formula or a link.
- Open data: comma-separated UTF-8 without a BOM (RFC 4180), what programs expect.

In every CSV a text cell that starts with ``= + - @`` (or a tab or carriage return) gets a ``'``
in front, so a spreadsheet program shows it instead of running it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import xlsxwriter

Cell = str | int | float | None
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME_LIMIT = 31  # Excel's limit on a worksheet's name


@dataclass(frozen=True)
class Sheet:
    """A table: its (Dutch) column names and its rows."""

    title: str  # the worksheet's name in an XLSX file
    header: tuple[str, ...]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True)
class StaffFile:
    content: bytes
    media_type: str
    extension: str  # "csv" | "xlsx"


def csv_text(sheet: Sheet, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def safe_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def staff_csv(sheet: Sheet) -> bytes:
    return ("\ufeff" + csv_text(sheet, ";")).encode("utf-8")


def staff_xlsx(sheet: Sheet) -> bytes:
    out = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(out, options)
    worksheet = workbook.add_worksheet(sheet.title[:SHEET_NAME_LIMIT] or "Blad1")
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, sheet.header, bold)
    worksheet.freeze_panes(1, 0)
    for r, row in enumerate(sheet.rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                worksheet.write_string(r, c, value)  # text stays text: never a formula
            elif value is not None:
                worksheet.write_number(r, c, value)
    widths = [len(h) for h in sheet.header]
    for row in sheet.rows[:200]:
        for c, value in enumerate(row):
            widths[c] = max(widths[c], min(60, len(str(value or ""))))
    for c, width in enumerate(widths):
        worksheet.set_column(c, c, width + 2)
    workbook.close()
    return out.getvalue()


def staff_file(sheet: Sheet, format_: str) -> StaffFile:
    """The sheet as the staff member asked: ``xlsx``, else CSV for Dutch Excel."""
    if format_ == "xlsx":
        return StaffFile(staff_xlsx(sheet), XLSX_TYPE, "xlsx")
    return StaffFile(staff_csv(sheet), CSV_TYPE, "csv")


def open_data_csv(sheet: Sheet) -> bytes:
    return csv_text(sheet).encode("utf-8")
