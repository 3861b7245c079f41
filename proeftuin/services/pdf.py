"""The printed PDFs' shared parts (fpdf2): an A4 document, text that fits the PDF core fonts,
and a QR code drawn as vector squares.

The core fonts (Helvetica) need no font files, so the PDFs build the same everywhere; they cover
Windows-1252, which holds Dutch and English (é, ë, €, typographic quotes). A character outside it
prints as "?" rather than failing the whole print.
"""

from __future__ import annotations

import datetime as dt

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

ENCODING = "windows-1252"
FONT = "helvetica"
MARGIN_MM = 20


def document(title: str, language: str, created: dt.datetime) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
    pdf.set_title(fit(title))
    pdf.set_lang(language)
    pdf.set_creator("Proeftuin")
    # A fixed date: the same input gives the same file.
    pdf.set_creation_date(created)
    pdf.set_font(FONT, size=11)
    return pdf


def fit(text: str) -> str:
    """``text`` with what the core fonts cannot print replaced by "?"."""
    return text.encode(ENCODING, "replace").decode(ENCODING)


def line(pdf: FPDF, height: float, text: str) -> None:
    """A paragraph the width of the page, wrapped, the next one below it."""
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """A QR code for ``url``, ``size`` mm wide, its top left corner at (x, y)."""
    code = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in code.matrix_iter(scale=1, border=0)]
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # One rectangle per run of dark modules: fewer drawing operations per code.
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
